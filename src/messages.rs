//! What rinit says, and the few details of behaviour that go with a
//! personality's words: one table per personality (SPEC, Personalities).
//!
//! Code that has something to say builds a [`Msg`], a plain value, and
//! hands it to `log::say`; the personality's table decides whether it is
//! said at all, at which verbosity, and in which words. A personality
//! stands in for a program whose users (and test suites) match its lines,
//! so its table speaks as that program does where they match, and as
//! rinit everywhere else.
//!
//! Adding a personality is one [`Style`] and one arm in [`style`].

use std::fmt::{self, Write};

use crate::config::Personality;
use crate::exit::Outcome;
use crate::log::{DEBUG, ERROR, INFO, WARN};
use crate::signals::Signal;

/// Something rinit may say. Plain data: no wording here.
#[derive(Clone, Copy, Debug)]
pub enum Msg<'a> {
    /// A line of rinit's own, already worded (setup failures, the
    /// shutdown sequence): said as is, at `level`, by every personality
    /// (dumb-init, which says little, keeps rinit's info lines for `-vv`).
    Text { level: u8, args: fmt::Arguments<'a> },
    /// The main child was started.
    Started { program: &'a str, pid: i32 },
    /// The child's new session exists (dumb-init's setsid mode).
    SessionStarted,
    /// The main child could not be started: `reason` is the errno text.
    CannotRun { program: &'a str, reason: &'a str },
    /// rinit is neither PID 1 nor a subreaper.
    NotAReaper,
    /// rinit read a signal.
    Received { sig: i32 },
    /// A SIGHUP or SIGCONT the kernel sent rinit for giving up its
    /// terminal (dumb-init's setsid mode, as a session leader), not passed on.
    HandOffIgnored { sig: i32 },
    /// A signal was sent on (`target`: a pid, or `-pgid`), or sending it
    /// failed with errno `failed`.
    Forwarded {
        sig: i32,
        target: i32,
        failed: Option<i32>,
    },
    /// A signal was rewritten to 0 and dropped.
    Dropped { sig: i32 },
    /// A job-control signal: rinit stops itself.
    StoppingSelf,
    /// The main child ended.
    MainExited { pid: i32, outcome: Option<Outcome> },
    /// Another process was reaped; `warn` is `-w`.
    Reaped {
        pid: i32,
        outcome: Option<Outcome>,
        warn: bool,
    },
    /// rinit exits with `code`.
    Exiting { code: u8 },
}

/// Receives each line a message becomes: its level and its words.
pub type Say<'s> = dyn FnMut(u8, fmt::Arguments) + 's;

/// A personality's words and the behaviour that goes with them.
#[derive(Debug)]
pub struct Style {
    /// A command file without `#!` that the kernel refuses (ENOEXEC) runs
    /// through `/bin/sh`, as `execvp` does (tini, dumb-init, catatonit);
    /// rinit itself reports it (126) rather than guess an interpreter.
    pub sh_fallback: bool,
    /// The highest signal number `-r` may name, on either side (dumb-init
    /// takes only 1-31).
    rewrite_max: i32,
    /// Writes the start of a line said at a verbosity level.
    prefix: fn(u8, &mut dyn Write) -> fmt::Result,
    /// The table: calls `say(level, words)` for each line `msg` becomes.
    words: fn(&Msg, &mut Say),
    /// A usage error: the text for stderr and the exit code.
    usage: fn(argv0: &str, problem: &str) -> (String, u8),
    /// Whether `usage` words use `argv[0]` (then rinit keeps a copy).
    pub usage_names_argv0: bool,
}

pub fn style(personality: Personality) -> &'static Style {
    match personality {
        Personality::Rinit => &RINIT,
        Personality::Tini => &TINI,
        Personality::DumbInit => &DUMB_INIT,
        Personality::Catatonit => &CATATONIT,
    }
}

impl Style {
    pub fn prefix(&self, level: u8, out: &mut dyn Write) -> fmt::Result {
        (self.prefix)(level, out)
    }

    pub fn words(&self, msg: &Msg, say: &mut Say) {
        (self.words)(msg, say)
    }

    /// A usage error if `rewrite` names a signal this personality's `-r`
    /// does not take.
    pub fn check_rewrites(&self, rewrite: &crate::signals::Rewrite) -> Result<(), String> {
        if self.rewrite_max >= crate::signals::RTMAX {
            return Ok(());
        }
        for from in 1..=crate::signals::RTMAX {
            let to = rewrite.get(from);
            if to != from && (from > self.rewrite_max || to > self.rewrite_max) {
                return Err(format!(
                    "--rewrite: {from}:{to} names a signal above {}",
                    self.rewrite_max
                ));
            }
        }
        Ok(())
    }

    /// The usage error `problem` (rinit's one-line wording) as this
    /// personality reports it, and the exit code.
    pub fn usage(&self, argv0: &str, problem: &str) -> (String, u8) {
        (self.usage)(argv0, problem)
    }
}

// ---------------------------------------------------------------- rinit

pub static RINIT: Style = Style {
    sh_fallback: false,
    rewrite_max: crate::signals::RTMAX,
    prefix: |_, out| out.write_str("rinit: "),
    words: rinit_words,
    usage: rinit_usage,
    usage_names_argv0: false,
};

fn rinit_usage(_argv0: &str, problem: &str) -> (String, u8) {
    (format!("rinit: {problem}\n"), crate::exit::RINIT_FAILED)
}

fn rinit_words(msg: &Msg, say: &mut Say) {
    match *msg {
        Msg::Text { level, args } => say(level, args),
        Msg::Started { program, pid } => {
            say(INFO, format_args!("started {program:?} as pid {pid}"))
        }
        Msg::SessionStarted => {}
        Msg::CannotRun { program, reason } => {
            say(ERROR, format_args!("cannot run '{program}': {reason}"))
        }
        Msg::NotAReaper => say(
            WARN,
            format_args!(
                "not running as PID 1 and not a subreaper (-s): zombies will not be reaped"
            ),
        ),
        // Every reap is told already (-vv); a line per SIGCHLD would
        // double what a storm of orphans writes.
        Msg::Received { sig } if sig == crate::signals::SIGCHLD => {}
        Msg::Received { sig } => say(DEBUG, format_args!("received {}", Signal(sig))),
        Msg::HandOffIgnored { sig } => say(
            DEBUG,
            format_args!(
                "not passing on {}: sent for giving up the terminal",
                Signal(sig)
            ),
        ),
        Msg::Forwarded {
            sig,
            target,
            failed: None,
        } => say(INFO, format_args!("forwarded {} to {target}", Signal(sig))),
        Msg::Forwarded {
            sig,
            target,
            failed: Some(errno),
        } => say(
            DEBUG,
            format_args!(
                "cannot forward {} to {target}: {}",
                Signal(sig),
                std::io::Error::from_raw_os_error(errno)
            ),
        ),
        Msg::Dropped { sig } => say(
            INFO,
            format_args!("dropping {} (rewritten to 0)", Signal(sig)),
        ),
        Msg::StoppingSelf => say(INFO, format_args!("stopping rinit itself (job control)")),
        Msg::MainExited { pid, outcome } => say(
            INFO,
            format_args!("main child {pid} {}", Described(outcome)),
        ),
        Msg::Reaped { pid, outcome, warn } => say(
            if warn { WARN } else { DEBUG },
            format_args!("reaped process {pid} ({})", Described(outcome)),
        ),
        Msg::Exiting { code } => say(INFO, format_args!("exiting with status {code}")),
    }
}

// ----------------------------------------------------------------- tini

/// tini's words where its users and its test suite look for them: the
/// `-w` reap line and the warning when zombies will not be reaped. Its
/// lines start with the level and the process, as tini's do.
pub static TINI: Style = Style {
    sh_fallback: true,
    rewrite_max: crate::signals::RTMAX,
    prefix: |level, out| {
        let tag = match level {
            ERROR => "FATAL",
            WARN => "WARN ",
            INFO => "INFO ",
            _ => "DEBUG",
        };
        write!(out, "[{tag} tini ({})] ", crate::sys::getpid())
    },
    words: tini_words,
    usage: rinit_usage,
    usage_names_argv0: false,
};

fn tini_words(msg: &Msg, say: &mut Say) {
    match *msg {
        Msg::NotAReaper => say(
            WARN,
            format_args!(
                "Tini (rinit) is not PID 1 and not a child subreaper, so zombie reaping won't work: \
                 pass -s, set TINI_SUBREAPER, or run it as PID 1."
            ),
        ),
        Msg::Reaped {
            pid, warn: true, ..
        } => say(WARN, format_args!("Reaped zombie process with pid={pid}")),
        Msg::CannotRun { program, reason } => {
            say(ERROR, format_args!("exec {program} failed: {reason}"))
        }
        _ => rinit_words(msg, say),
    }
}

// ------------------------------------------------------------ catatonit

/// catatonit's prefix (`ERROR (catatonit:PID): `) on rinit's words: its
/// users match no message of catatonit's, only its flags and behaviour.
pub static CATATONIT: Style = Style {
    sh_fallback: true,
    rewrite_max: crate::signals::RTMAX,
    prefix: |level, out| {
        let tag = match level {
            ERROR => "ERROR",
            WARN => "WARN",
            INFO => "INFO",
            _ => "DEBUG",
        };
        write!(out, "{tag} (catatonit:{}): ", crate::sys::getpid())
    },
    words: rinit_words,
    usage: catatonit_usage,
    usage_names_argv0: false,
};

/// Named as catatonit, a usage error names catatonit (exit 125 still).
fn catatonit_usage(_argv0: &str, problem: &str) -> (String, u8) {
    (format!("catatonit: {problem}\n"), crate::exit::RINIT_FAILED)
}

// ------------------------------------------------------------ dumb-init

/// dumb-init's words: its usage and argument errors, its exec error, and
/// its `-v` narration, which its users and its test suite match line by
/// line. rinit's own informational lines wait for `-vv` here, so `-v`
/// reads as dumb-init's does.
pub static DUMB_INIT: Style = Style {
    sh_fallback: true,
    rewrite_max: 31,
    prefix: |_, out| out.write_str("[dumb-init] "),
    words: dumb_init_words,
    usage: dumb_init_usage,
    usage_names_argv0: true,
};

fn dumb_init_words(msg: &Msg, say: &mut Say) {
    match *msg {
        Msg::Text { level, args } => say(if level >= INFO { DEBUG } else { level }, args),
        Msg::Started { pid, .. } => say(INFO, format_args!("Child spawned with PID {pid}.")),
        Msg::SessionStarted => say(INFO, format_args!("setsid complete.")),
        Msg::CannotRun { program, reason } => say(ERROR, format_args!("{program}: {reason}")),
        Msg::NotAReaper => {}
        Msg::Received { sig } => say(INFO, format_args!("Received signal {sig}.")),
        Msg::HandOffIgnored { sig } => {
            say(INFO, format_args!("Ignoring tty hand-off signal {sig}."))
        }
        // Said whether or not anyone was left to receive it.
        Msg::Forwarded { sig, .. } => {
            say(INFO, format_args!("Forwarded signal {sig} to children."))
        }
        Msg::Dropped { sig } => say(
            INFO,
            format_args!("Not forwarding signal {sig} to children (ignored)."),
        ),
        Msg::StoppingSelf => say(INFO, format_args!("Suspending self due to TTY signal.")),
        Msg::MainExited { pid, outcome } | Msg::Reaped { pid, outcome, .. } => match outcome {
            Some(Outcome::Signaled(s)) => say(
                INFO,
                format_args!("A child with PID {pid} was terminated by signal {s}."),
            ),
            Some(Outcome::Exited(n)) => say(
                INFO,
                format_args!("A child with PID {pid} exited with exit status {n}."),
            ),
            None => {}
        },
        Msg::Exiting { code } => say(
            INFO,
            format_args!("Child exited with status {code}. Goodbye."),
        ),
    }
}

/// dumb-init reports a bad command line in three shapes (no command, an
/// unknown option, a bad `-r`) and exits 1; rinit's one-line wording says
/// which it is.
fn dumb_init_usage(argv0: &str, problem: &str) -> (String, u8) {
    let text = match usage_kind(problem) {
        UsageKind::NoCommand => {
            format!("Usage: {argv0} [option] program [args]\nTry {argv0} --help for full usage.\n")
        }
        UsageKind::UnknownOption(option) => {
            format!("{argv0}: unrecognized option '{option}'\n")
        }
        UsageKind::Rewrite => "Usage: -r option takes <signum>:<signum>, where <signum> \
             is between 1 and 31.\nThis option can be specified multiple times.\n\
             Use --help for full usage.\n"
            .to_string(),
        UsageKind::Other => format!("[dumb-init] {problem}\n"),
    };
    (text, 1)
}

#[derive(Debug, PartialEq, Eq)]
enum UsageKind<'a> {
    NoCommand,
    UnknownOption(&'a str),
    Rewrite,
    Other,
}

/// Which kind of usage error rinit's wording of it names (the unit tests
/// below tie this to what `cli` really says).
fn usage_kind(problem: &str) -> UsageKind<'_> {
    if problem.starts_with("no command") {
        UsageKind::NoCommand
    } else if problem.contains("--rewrite") || problem.contains("RINIT_REWRITE") {
        UsageKind::Rewrite
    } else if let Some(rest) = problem.strip_prefix("unexpected argument '") {
        UsageKind::UnknownOption(rest.split('\'').next().unwrap_or(rest))
    } else {
        UsageKind::Other
    }
}

/// How a process ended, for rinit's lines. A `Display` value, not a
/// `String`: the reap path must not allocate.
struct Described(Option<Outcome>);

impl fmt::Display for Described {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(Outcome::Exited(n)) => write!(f, "exited with {n}"),
            Some(Outcome::Signaled(s)) => write!(f, "killed by {}", Signal(s)),
            None => f.write_str("changed state"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{UsageError, parse};
    use std::ffi::OsString;

    fn lines(p: Personality, msg: Msg, verbosity: u8) -> Vec<String> {
        let mut out = Vec::new();
        style(p).words(&msg, &mut |level, args| {
            if level <= verbosity {
                out.push(args.to_string());
            }
        });
        out
    }

    fn problem(argv: &[&str]) -> String {
        match parse(argv.iter().map(OsString::from).collect(), &|_| None) {
            Err(UsageError(e)) => e,
            other => panic!("{argv:?}: {other:?}"),
        }
    }

    #[test]
    fn usage_kinds_follow_what_cli_says() {
        assert_eq!(usage_kind(&problem(&["dumb-init"])), UsageKind::NoCommand);
        assert_eq!(
            usage_kind(&problem(&["dumb-init", "--yolo", "true"])),
            UsageKind::UnknownOption("--yolo")
        );
        for bad in [
            &["dumb-init", "-r"][..],
            &["dumb-init", "-r", "", "x"],
            &["dumb-init", "-r", "herp", "x"],
            &["dumb-init", "-r", "15:derp", "x"],
            &["dumb-init", "-r", "15::12", "x"],
        ] {
            assert_eq!(usage_kind(&problem(bad)), UsageKind::Rewrite, "{bad:?}");
        }
    }

    #[test]
    fn dumb_init_rewrites_stay_within_31() {
        let config =
            |argv: &[&str]| match parse(argv.iter().map(OsString::from).collect(), &|_| None) {
                Ok(crate::cli::Request::Run(c)) => c,
                other => panic!("{other:?}"),
            };
        let c = config(&["dumb-init", "-r", "15:12", "-r", "1:32", "x"]);
        let problem = DUMB_INIT.check_rewrites(&c.rewrite).unwrap_err();
        assert_eq!(usage_kind(&problem), UsageKind::Rewrite);
        assert!(
            DUMB_INIT
                .check_rewrites(&config(&["dumb-init", "-r", "31:0", "x"]).rewrite)
                .is_ok()
        );
        assert!(RINIT.check_rewrites(&c.rewrite).is_ok());
    }

    #[test]
    fn dumb_init_usage_texts() {
        let (text, code) = DUMB_INIT.usage("dumb-init", "no command given");
        assert_eq!(code, 1);
        assert!(text.starts_with("Usage: dumb-init [option] program [args]\n"));
        let (text, _) = DUMB_INIT.usage("dumb-init", "unexpected argument '--yolo' found");
        assert_eq!(text, "dumb-init: unrecognized option '--yolo'\n");
        let (text, code) = RINIT.usage("rinit", "no command given");
        assert_eq!((text.as_str(), code), ("rinit: no command given\n", 125));
    }

    #[test]
    fn each_personality_words_a_reap() {
        let reaped = Msg::Reaped {
            pid: 42,
            outcome: Some(Outcome::Exited(3)),
            warn: true,
        };
        assert_eq!(
            lines(Personality::Tini, reaped, WARN),
            ["Reaped zombie process with pid=42"]
        );
        assert_eq!(
            lines(Personality::Rinit, reaped, WARN),
            ["reaped process 42 (exited with 3)"]
        );
        assert_eq!(
            lines(Personality::DumbInit, reaped, INFO),
            ["A child with PID 42 exited with exit status 3."]
        );
        // dumb-init's -v (INFO) shows its narration, not rinit's own lines.
        let own = Msg::Text {
            level: INFO,
            args: format_args!("the kernel reaps"),
        };
        assert!(lines(Personality::DumbInit, own, INFO).is_empty());
        assert_eq!(lines(Personality::Rinit, own, INFO), ["the kernel reaps"]);
    }
}
