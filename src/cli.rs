//! The command line and its environment fallbacks, turned into a `Config`.
//!
//! clap does the flag syntax; this module adds what clap cannot know: the
//! personality from `argv[0]`, the `RINIT_*`/`TINI_*`/`DUMB_INIT_*`
//! variables (a flag always wins over its variable), and one-line errors.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;

use clap::error::ErrorKind;
use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::config::{ChildSignals, Config, ForwardTo, Mode, Personality, Reap, parse_duration};
use crate::exit::Remap;
use crate::signals::{self, Rewrite};

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    Run(Config),
    /// `--help`, `--version`, `--license`: print this on stdout, exit 0.
    Print(String),
}

/// A usage error: one line naming the problem (without the `rinit: `).
#[derive(Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

const GIT_HASH: &str = env!("RINIT_GIT_HASH");
/// Every environment variable rinit reads (tests and fuzzing pick from it).
pub const VARIABLES: [&str; 14] = [
    "RINIT_KILL_PROCESS_GROUP",
    "TINI_KILL_PROCESS_GROUP",
    "DUMB_INIT_SETSID",
    "RINIT_SUBREAPER",
    "TINI_SUBREAPER",
    "RINIT_PDEATHSIG",
    "RINIT_REWRITE",
    "RINIT_REMAP_EXIT",
    "RINIT_GRACE",
    "RINIT_TERM_DELAY",
    "RINIT_WARN_ON_REAP",
    "RINIT_VERBOSITY",
    "TINI_VERBOSITY",
    "RINIT_REAP",
];

/// Every name in `VARIABLES` starts with one of these: when no variable in
/// the environment does, rinit skips the lookups altogether.
pub const VARIABLE_PREFIXES: [&[u8]; 3] = [b"RINIT_", b"TINI_", b"DUMB_INIT_"];

/// rinit's version, for tools outside the crate (the man page).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
const LICENSE: &str = include_str!("../LICENSE");

/// The clap definition of the command line (also the source of the man page).
pub fn command() -> Command {
    Command::new("rinit")
        .about("A minimal PID 1 for containers: runs COMMAND, forwards signals, reaps zombies.")
        .override_usage("rinit [OPTIONS] [--] COMMAND [ARG]...\n       rinit [OPTIONS] --pause")
        .after_help(
            "Every option can also come from its environment variable; a flag wins.\n\
             Signals: TERM, SIGTERM, 15, RTMIN+3. Durations: 500ms, 5s, 2m (bare = seconds).\n\
             Exit: the child's code, 128+N if signal N killed it, 125 rinit failed,\n\
             126 COMMAND cannot be executed, 127 COMMAND not found.\n\
             On Linux 6.15+ the kernel releases exited processes without waking rinit;\n\
             RINIT_REAP=wait (or -w, -vv) makes rinit reap each one itself.",
        )
        .disable_version_flag(true)
        .args_override_self(true)
        .arg(flag("pgroup", 'g', "Forward signals to the child's whole process group [RINIT_KILL_PROCESS_GROUP=1]").overrides_with("single_child"))
        .arg(flag("single_child", 'c', "Forward signals to the child only (the default except as dumb-init) [DUMB_INIT_SETSID=0]").long("single-child").overrides_with("pgroup"))
        .arg(flag("subreaper", 's', "Become a child subreaper when not PID 1 [RINIT_SUBREAPER=1]"))
        .arg(value("pdeathsig", 'p', "SIG", "Get SIG when rinit's own parent dies [RINIT_PDEATHSIG]"))
        .arg(value("rewrite", 'r', "FROM:TO", "Forward FROM as TO; TO=0 drops it; repeatable [RINIT_REWRITE=A:B,C:D]").action(ArgAction::Append))
        .arg(value("remap_exit", 'e', "CODE", "Exit 0 where the exit code would be CODE; repeatable [RINIT_REMAP_EXIT]").long("remap-exit").action(ArgAction::Append))
        .arg(value("grace", 't', "DURATION", "After the child exits, SIGTERM what is left and SIGKILL it after DURATION; 0 = exit at once [RINIT_GRACE; default 5s]"))
        .arg(value("term_delay", 'd', "DURATION", "Hold each SIGTERM for DURATION before forwarding it [RINIT_TERM_DELAY]").long("term-delay"))
        .arg(flag("warn_on_reap", 'w', "Warn about every reaped process other than the child [RINIT_WARN_ON_REAP=1]").long("warn-on-reap"))
        .arg(Arg::new("pause").long("pause").action(ArgAction::SetTrue).help("Run no command: only reap, and exit 0 on SIGTERM or SIGINT"))
        .arg(flag("verbose", 'v', "More logging on stderr; repeatable [RINIT_VERBOSITY=N]").action(ArgAction::Count))
        .arg(flag("version", 'V', "Print the version and exit"))
        .arg(flag("license", 'l', "Print the license and exit"))
        .arg(
            Arg::new("command")
                .value_name("COMMAND")
                .num_args(1..)
                .trailing_var_arg(true)
                .value_parser(clap::builder::ValueParser::os_string()),
        )
}

fn flag(id: &'static str, short: char, help: &'static str) -> Arg {
    Arg::new(id)
        .short(short)
        .long(id)
        .action(ArgAction::SetTrue)
        .help(help)
}

fn value(id: &'static str, short: char, name: &'static str, help: &'static str) -> Arg {
    Arg::new(id)
        .short(short)
        .long(id)
        .value_name(name)
        .action(ArgAction::Set)
        .help(help)
}

/// Parses `args` (with `argv[0]`) and the environment as seen through `env`.
pub fn parse(
    args: Vec<OsString>,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Request, UsageError> {
    // The usual command lines (`rinit -- CMD`, Docker's `docker-init --
    // CMD`, `rinit -g -t 10s CMD`) are read by `Fast`: building and running
    // clap's parser would be nearly all of rinit's start-up. Whatever
    // `Fast` is unsure of (help, version, a malformed or unusual flag) goes
    // to clap, which then also words the error.
    if let Some(fast) = Fast::parse(args.get(1..).unwrap_or_default()) {
        return build(personality(&args), &fast, &Env { get: env })
            .map(Request::Run)
            .map_err(UsageError);
    }
    parse_clap(args, env)
}

fn personality(args: &[OsString]) -> Personality {
    Personality::from_argv0(args.first().map(|a| a.as_bytes()).unwrap_or_default())
}

/// `parse` without the fast path: every command line through clap. Also
/// for the tests and the fuzz target that check that the two agree.
pub fn parse_clap(
    args: Vec<OsString>,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Request, UsageError> {
    let personality = personality(&args);
    let matches = match command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::DisplayHelp => {
            return Ok(Request::Print(command().render_help().to_string()));
        }
        Err(e) => return Err(UsageError(first_line(&e.to_string()))),
    };
    if matches.get_flag("version") {
        return Ok(Request::Print(version(personality)));
    }
    if matches.get_flag("license") {
        return Ok(Request::Print(LICENSE.to_string()));
    }
    build(personality, &matches, &Env { get: env })
        .map(Request::Run)
        .map_err(UsageError)
}

/// The `--version` line. Docker's `docker info` splits it at ` - git.`.
pub fn version(personality: Personality) -> String {
    let v = VERSION;
    match personality {
        // Docker also reads the part after "tini version " as the version.
        Personality::Tini => format!("tini version {v}-rinit - git.{GIT_HASH}\n"),
        _ => format!("rinit version {v} - git.{GIT_HASH}\n"),
    }
}

fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or("invalid arguments");
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}

/// The environment, with the parsing rules rinit's variables share.
struct Env<'a> {
    get: &'a dyn Fn(&str) -> Option<OsString>,
}

impl Env<'_> {
    /// A variable's value; an empty value counts as unset.
    fn text(&self, name: &str) -> Result<Option<String>, String> {
        match (self.get)(name) {
            None => Ok(None),
            Some(v) if v.is_empty() => Ok(None),
            Some(v) => v
                .into_string()
                .map(Some)
                .map_err(|v| format!("{name}={} is not valid UTF-8", v.to_string_lossy())),
        }
    }

    /// A variable that must be `0` or `1`.
    fn switch(&self, name: &str) -> Result<Option<bool>, String> {
        match self.text(name)?.as_deref() {
            None => Ok(None),
            Some("1") => Ok(Some(true)),
            Some("0") => Ok(Some(false)),
            Some(other) => Err(format!("{name}='{other}' must be 0 or 1")),
        }
    }

    /// A tini variable that turns its option on merely by being set.
    fn present(&self, name: &str) -> bool {
        (self.get)(name).is_some()
    }

    /// Parses a variable with `parse`, naming the variable in the error.
    fn parsed<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, String> {
        match self.text(name)? {
            None => Ok(None),
            Some(text) => parse(&text).map(Some).map_err(|e| format!("{name}: {e}")),
        }
    }
}

/// The flags as `build` reads them: clap's matches, or none at all.
trait Flags {
    fn flag(&self, id: &str) -> bool;
    fn value(&self, id: &str) -> Option<&String>;
    fn values(&self, id: &str) -> Option<Vec<&String>>;
    fn count(&self, id: &str) -> u8;
    fn command(&self) -> Option<Vec<&OsString>>;
}

impl Flags for ArgMatches {
    fn flag(&self, id: &str) -> bool {
        self.get_flag(id)
    }
    fn value(&self, id: &str) -> Option<&String> {
        self.get_one::<String>(id)
    }
    fn values(&self, id: &str) -> Option<Vec<&String>> {
        self.get_many::<String>(id).map(Iterator::collect)
    }
    fn count(&self, id: &str) -> u8 {
        self.get_count(id)
    }
    fn command(&self) -> Option<Vec<&OsString>> {
        self.get_many::<OsString>("command").map(Iterator::collect)
    }
}

/// The flags of an ordinary command line, read without clap. `parse`
/// accepts only what clap accepts and reads it the same way (the unit
/// tests and the `argv` fuzz target compare the two); anything else is
/// `None`, and clap takes over.
#[derive(Debug, Default)]
struct Fast<'a> {
    /// The last of `-g` and `-c`: each overrides the other, as in clap.
    forward: Option<&'static str>,
    subreaper: bool,
    warn_on_reap: bool,
    pause: bool,
    verbose: u8,
    pdeathsig: Option<String>,
    grace: Option<String>,
    term_delay: Option<String>,
    rewrite: Vec<String>,
    remap_exit: Vec<String>,
    command: &'a [OsString],
}

impl<'a> Fast<'a> {
    /// Reads `args` (without `argv[0]`) up to `--` or the first argument
    /// that is not an option.
    fn parse(args: &'a [OsString]) -> Option<Fast<'a>> {
        let mut fast = Fast::default();
        let mut next = 0;
        while let Some(arg) = args.get(next).map(|a| a.as_bytes()) {
            if arg == b"--" {
                next += 1;
                break;
            }
            if arg.len() < 2 || arg[0] != b'-' {
                break;
            }
            next += 1;
            if let Some(long) = arg.strip_prefix(b"--") {
                let (name, inline) = match long.iter().position(|&b| b == b'=') {
                    Some(at) => (&long[..at], Some(&long[at + 1..])),
                    None => (long, None),
                };
                let id = match name {
                    b"pgroup" => "pgroup",
                    b"single-child" => "single_child",
                    b"subreaper" => "subreaper",
                    b"warn-on-reap" => "warn_on_reap",
                    b"pause" => "pause",
                    b"verbose" => "verbose",
                    b"pdeathsig" => "pdeathsig",
                    b"rewrite" => "rewrite",
                    b"remap-exit" => "remap_exit",
                    b"grace" => "grace",
                    b"term-delay" => "term_delay",
                    _ => return None,
                };
                let took_value = fast.set(id, inline, args, &mut next)?;
                if inline.is_some() && !took_value {
                    return None;
                }
                continue;
            }
            for (at, &short) in arg.iter().enumerate().skip(1) {
                let id = match short {
                    b'g' => "pgroup",
                    b'c' => "single_child",
                    b's' => "subreaper",
                    b'w' => "warn_on_reap",
                    b'v' => "verbose",
                    b'p' => "pdeathsig",
                    b'r' => "rewrite",
                    b'e' => "remap_exit",
                    b't' => "grace",
                    b'd' => "term_delay",
                    _ => return None,
                };
                // A value option takes the rest of the cluster (`-t5s`),
                // or else the next argument.
                let rest = &arg[at + 1..];
                let inline = (!rest.is_empty()).then_some(rest);
                if fast.set(id, inline, args, &mut next)? {
                    break;
                }
            }
        }
        fast.command = &args[next..];
        Some(fast)
    }

    /// Records option `id`: a switch, or a value option with its value,
    /// `inline` or else the argument at `*next`. Returns whether it took a
    /// value, and `None` for anything clap should judge.
    fn set(
        &mut self,
        id: &'static str,
        inline: Option<&[u8]>,
        args: &[OsString],
        next: &mut usize,
    ) -> Option<bool> {
        let slot = match id {
            "pgroup" | "single_child" => {
                self.forward = Some(id);
                return Some(false);
            }
            "subreaper" => {
                self.subreaper = true;
                return Some(false);
            }
            "warn_on_reap" => {
                self.warn_on_reap = true;
                return Some(false);
            }
            "pause" => {
                self.pause = true;
                return Some(false);
            }
            "verbose" => {
                self.verbose = self.verbose.saturating_add(1);
                return Some(false);
            }
            _ => id,
        };
        let value = match inline {
            Some(v) => v,
            None => {
                let v = args.get(*next)?.as_bytes();
                *next += 1;
                v
            }
        };
        // clap reads `-t=5s` as `5s` and refuses values that look like
        // flags or are empty; leave all of those to it.
        if value.is_empty() || value[0] == b'-' || value[0] == b'=' {
            return None;
        }
        let value = std::str::from_utf8(value).ok()?.to_string();
        match slot {
            "pdeathsig" => self.pdeathsig = Some(value),
            "grace" => self.grace = Some(value),
            "term_delay" => self.term_delay = Some(value),
            "rewrite" => self.rewrite.push(value),
            _ => self.remap_exit.push(value),
        }
        Some(true)
    }
}

impl Flags for Fast<'_> {
    fn flag(&self, id: &str) -> bool {
        match id {
            "pgroup" | "single_child" => self.forward == Some(id),
            "subreaper" => self.subreaper,
            "warn_on_reap" => self.warn_on_reap,
            "pause" => self.pause,
            _ => false,
        }
    }
    fn value(&self, id: &str) -> Option<&String> {
        match id {
            "pdeathsig" => self.pdeathsig.as_ref(),
            "grace" => self.grace.as_ref(),
            "term_delay" => self.term_delay.as_ref(),
            _ => None,
        }
    }
    fn values(&self, id: &str) -> Option<Vec<&String>> {
        let list = match id {
            "rewrite" => &self.rewrite,
            _ => &self.remap_exit,
        };
        (!list.is_empty()).then(|| list.iter().collect())
    }
    fn count(&self, _: &str) -> u8 {
        self.verbose
    }
    fn command(&self) -> Option<Vec<&OsString>> {
        (!self.command.is_empty()).then(|| self.command.iter().collect())
    }
}

/// A flag's value if given, else its variable's, each parsed with `parse`.
fn option<T>(
    m: &dyn Flags,
    id: &str,
    flag: &str,
    env: &Env,
    var: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, String> {
    match m.value(id) {
        Some(text) => parse(text).map(Some).map_err(|e| format!("{flag}: {e}")),
        None => env.parsed(var, parse),
    }
}

fn build(personality: Personality, m: &dyn Flags, env: &Env) -> Result<Config, String> {
    let dumb = personality == Personality::DumbInit;

    // Where signals go. Flags: the last of -g/-c wins (clap overrides).
    let (forward, setsid) = if m.flag("pgroup") {
        (ForwardTo::Group, dumb)
    } else if m.flag("single_child") {
        (ForwardTo::Child, false)
    } else {
        let group_var = env.switch("RINIT_KILL_PROCESS_GROUP")?;
        let dumb_setsid = if dumb {
            env.switch("DUMB_INIT_SETSID")?
        } else {
            None
        };
        let group = group_var
            .or(dumb_setsid)
            .unwrap_or(dumb || env.present("TINI_KILL_PROCESS_GROUP"));
        let setsid = dumb && dumb_setsid.unwrap_or(true);
        (
            if group {
                ForwardTo::Group
            } else {
                ForwardTo::Child
            },
            setsid,
        )
    };

    let subreaper = m.flag("subreaper")
        || env.switch("RINIT_SUBREAPER")?.unwrap_or(false)
        || env.present("TINI_SUBREAPER");
    let pdeathsig = option(
        m,
        "pdeathsig",
        "--pdeathsig",
        env,
        "RINIT_PDEATHSIG",
        signals::parse,
    )?;

    let mut rewrite = Rewrite::default();
    match m.values("rewrite") {
        Some(specs) => {
            for spec in specs {
                rewrite.add(spec).map_err(|e| format!("--rewrite: {e}"))?;
            }
        }
        None => {
            if let Some(list) = env.text("RINIT_REWRITE")? {
                for spec in list.split(',') {
                    rewrite
                        .add(spec)
                        .map_err(|e| format!("RINIT_REWRITE: {e}"))?;
                }
            }
        }
    }

    let mut remap = Remap::default();
    match m.values("remap_exit") {
        Some(codes) => {
            for code in codes {
                remap.add(code).map_err(|e| format!("--remap-exit: {e}"))?;
            }
        }
        None => {
            if let Some(list) = env.text("RINIT_REMAP_EXIT")? {
                for code in list.split(',') {
                    remap
                        .add(code)
                        .map_err(|e| format!("RINIT_REMAP_EXIT: {e}"))?;
                }
            }
        }
    }

    let grace = option(m, "grace", "--grace", env, "RINIT_GRACE", parse_duration)?
        .unwrap_or(personality.default_grace());
    let term_delay = option(
        m,
        "term_delay",
        "--term-delay",
        env,
        "RINIT_TERM_DELAY",
        parse_duration,
    )?
    .unwrap_or_default();
    let warn_on_reap = m.flag("warn_on_reap") || env.switch("RINIT_WARN_ON_REAP")?.unwrap_or(false);

    let count = m.count("verbose");
    let verbosity = if count > 0 {
        // Each -v adds a level above warnings. dumb-init is silent by
        // default, but its one -v means "debug", which is the same level.
        count.saturating_add(1)
    } else {
        let level = |t: &str| {
            t.parse::<u8>()
                .map_err(|_| format!("'{t}' is not a number"))
        };
        env.parsed("RINIT_VERBOSITY", level)?
            .or(env.parsed("TINI_VERBOSITY", level)?)
            .unwrap_or(if dumb { 0 } else { 1 })
    };

    let reap = match env.text("RINIT_REAP")?.as_deref() {
        None | Some("auto") => Reap::Auto,
        Some("wait") => Reap::Wait,
        Some(other) => return Err(format!("RINIT_REAP='{other}' must be auto or wait")),
    };

    let command: Vec<CString> = match m.command() {
        Some(args) => args
            .into_iter()
            .map(|a| {
                // Room for the NUL from the start: CString::new then
                // does not reallocate (an allocation is ~250 instructions
                // in musl, and start-up has one per argument).
                let mut bytes = Vec::with_capacity(a.len() + 1);
                bytes.extend_from_slice(a.as_bytes());
                CString::new(bytes)
                    .map_err(|_| format!("argument '{}' contains a NUL byte", a.to_string_lossy()))
            })
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    let mode = match (m.flag("pause"), command.is_empty()) {
        (true, true) => Mode::Pause,
        (true, false) => return Err("--pause takes no command".into()),
        (false, true) => {
            return Err("no command given (usage: rinit [OPTIONS] [--] COMMAND [ARG]...)".into());
        }
        (false, false) => Mode::Command(command),
    };

    Ok(Config {
        personality,
        mode,
        forward,
        setsid,
        child_signals: match personality {
            Personality::Rinit => ChildSignals::Clean,
            Personality::Tini => ChildSignals::InheritedMask,
            Personality::DumbInit => ChildSignals::AllDefault,
        },
        subreaper,
        pdeathsig,
        rewrite,
        remap,
        grace,
        term_delay,
        warn_on_reap,
        verbosity,
        reap,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn run(argv: &[&str], vars: &[(&str, &str)]) -> Result<Config, String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let env = move |name: &str| {
            vars.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| OsString::from(v))
        };
        match parse(argv.iter().map(OsString::from).collect(), &env) {
            Ok(Request::Run(c)) => Ok(c),
            Ok(Request::Print(p)) => Err(format!("printed {p}")),
            Err(UsageError(e)) => Err(e),
        }
    }

    fn argv(c: &Config) -> Vec<&str> {
        match &c.mode {
            Mode::Command(v) => v.iter().map(|s| s.to_str().unwrap()).collect(),
            Mode::Pause => vec!["<pause>"],
        }
    }

    #[test]
    fn options_end_at_the_first_non_option() {
        let c = run(&["rinit", "echo", "-v", "hi"], &[]).unwrap();
        assert_eq!(argv(&c), ["echo", "-v", "hi"]);
        assert_eq!(c.verbosity, 1);
        let c = run(&["rinit", "-v", "--", "echo", "--help", "--"], &[]).unwrap();
        assert_eq!(argv(&c), ["echo", "--help", "--"]);
        assert_eq!(c.verbosity, 2);
        let c = run(&["rinit", "--", "-weird"], &[]).unwrap();
        assert_eq!(argv(&c), ["-weird"]);
        let c = run(&["rinit", "-g", "sh", "-c", "x", "-g"], &[]).unwrap();
        assert_eq!(argv(&c), ["sh", "-c", "x", "-g"]);
        assert_eq!(c.forward, ForwardTo::Group);
    }

    fn os(argv: &[&str]) -> Vec<OsString> {
        argv.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_fast_path_reads_the_usual_command_lines() {
        for argv in [
            &["rinit", "--", "x", "-v"][..],
            &["rinit", "x", "--", "-g"],
            &["/sbin/docker-init", "--", "sh", "-c", "exit 3"],
            &["rinit", "-g", "-t", "10s", "--", "x"],
            &["rinit", "-gsw", "-vv", "-t5s", "-d", "1", "x"],
            &["rinit", "--grace=5s", "--term-delay", "2s", "--pgroup", "x"],
            &["rinit", "-r", "TERM:QUIT", "-rUSR1:0", "-e", "143", "x"],
            &["dumb-init", "-c", "-r", "15:3", "x"],
            &["rinit", "--pause"],
            &[
                "rinit",
                "-p",
                "KILL",
                "--remap-exit=2",
                "--warn-on-reap",
                "x",
            ],
        ] {
            let fast = Fast::parse(&os(argv)[1..]).map(|f| f.command.len());
            assert!(fast.is_some(), "{argv:?} went to clap");
        }
        for argv in [
            &["rinit", "-h"][..],
            &["rinit", "--version"],
            &["rinit", "-gV", "x"],
            &["rinit", "--bogus", "x"],
            &["rinit", "-t"],
            &["rinit", "-t", "-5", "x"],
            &["rinit", "-t=5s", "x"],
            &["rinit", "--grace=", "x"],
            &["rinit", "--pgroup=1", "x"],
        ] {
            assert!(Fast::parse(&os(argv)[1..]).is_none(), "{argv:?}");
        }
    }

    /// Every command line gives the same result through the fast path as
    /// through clap: a fixed list, then 20,000 drawn from flag-like words.
    #[test]
    fn the_fast_path_agrees_with_clap() {
        let vars = [("RINIT_GRACE", "2s"), ("TINI_KILL_PROCESS_GROUP", "")];
        let env = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        };
        let check = |argv: Vec<OsString>| {
            let fast = parse(argv.clone(), &env);
            assert_eq!(fast, parse_clap(argv.clone(), &env), "{argv:?}");
        };
        for argv in [
            &["rinit", "--", "x", "-v"][..],
            &["rinit", "x", "--", "-g"],
            &["rinit", "--", "--"],
            &["rinit", ""],
            &["rinit", "-"],
            &["rinit"],
            &["rinit", "--"],
            &["rinit", "-v", "--"],
            &["/sbin/docker-init", "--", "sh", "-c", "exit 3"],
            &["dumb-init", "sh"],
            &["tini", "--", "-weird"],
            &["rinit", "-g", "-c", "x"],
            &["rinit", "-c", "-g", "x"],
            &["dumb-init", "-g", "-c", "x"],
            &["rinit", "-t", "1", "-t", "2", "x"],
            &["rinit", "-vvv", "-v", "--verbose", "x"],
            &["rinit", "-gt", "3s", "x"],
            &["rinit", "-t", "5x", "x"],
            &["rinit", "--pause", "x"],
            &["rinit", "-e", "1", "--remap-exit", "2", "-e3", "x"],
            &["rinit", "-s", "-w", "--subreaper", "x", "-s"],
        ] {
            check(os(argv));
        }
        let words = [
            "-g",
            "-c",
            "-s",
            "-w",
            "-v",
            "-vv",
            "-gsv",
            "-p",
            "-r",
            "-e",
            "-t",
            "-d",
            "-t5s",
            "-gt",
            "-r15:3",
            "-e143",
            "--pgroup",
            "--single-child",
            "--subreaper",
            "--warn-on-reap",
            "--pause",
            "--verbose",
            "--pdeathsig",
            "--rewrite",
            "--remap-exit",
            "--grace",
            "--term-delay",
            "--grace=1",
            "--rewrite=TERM:0",
            "--pause=1",
            "--bogus",
            "-x",
            "--",
            "-",
            "",
            "=",
            "-=",
            "-t=",
            "5s",
            "0",
            "KILL",
            "TERM:QUIT",
            "143",
            "x",
            "sh",
            "-h",
            "-V",
            "-l",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            let mut argv = vec![OsString::from(
                ["rinit", "tini", "dumb-init"][seed as usize % 3],
            )];
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            for i in 0..(seed % 7) {
                argv.push(OsString::from(
                    words[((seed >> (8 * i)) % words.len() as u64) as usize],
                ));
            }
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            check(argv);
        }
    }

    /// The environment fast path (`VARIABLE_PREFIXES`) must cover every
    /// variable, and `VARIABLES` must list every one `build` reads.
    #[test]
    fn variables_and_their_prefixes_agree() {
        for name in VARIABLES {
            assert!(
                VARIABLE_PREFIXES
                    .iter()
                    .any(|p| name.as_bytes().starts_with(p)),
                "{name}"
            );
        }
        // Record every name parsing asks the environment for.
        let asked = std::cell::RefCell::new(std::collections::BTreeSet::new());
        let env = |name: &str| {
            asked.borrow_mut().insert(name.to_string());
            None
        };
        for argv0 in ["rinit", "tini", "dumb-init"] {
            let args = [argv0, "--", "x"].map(OsString::from).to_vec();
            assert!(parse(args, &env).is_ok());
        }
        let read: std::collections::BTreeSet<String> = asked.into_inner();
        let listed: std::collections::BTreeSet<String> =
            VARIABLES.iter().map(|v| v.to_string()).collect();
        assert_eq!(read, listed);
    }

    #[test]
    fn rinit_defaults() {
        let c = run(&["rinit", "true"], &[]).unwrap();
        assert_eq!(c.personality, Personality::Rinit);
        assert_eq!(c.forward, ForwardTo::Child);
        assert!(!c.setsid && !c.subreaper && !c.warn_on_reap);
        assert_eq!(c.child_signals, ChildSignals::Clean);
        assert_eq!(c.grace, Duration::from_secs(5));
        assert_eq!(c.term_delay, Duration::ZERO);
        assert_eq!(c.pdeathsig, None);
        assert_eq!(c.verbosity, 1);
        assert_eq!(c.rewrite, Rewrite::default());
        assert_eq!(c.reap, Reap::Auto);
        assert!(c.kernel_may_reap());
    }

    #[test]
    fn who_reaps() {
        let c = run(&["rinit", "x"], &[("RINIT_REAP", "wait")]).unwrap();
        assert_eq!(c.reap, Reap::Wait);
        assert!(!c.kernel_may_reap());
        let c = run(&["tini", "x"], &[("RINIT_REAP", "auto")]).unwrap();
        assert!(c.kernel_may_reap());
        // Hearing of every reap needs rinit to do it.
        assert!(!run(&["rinit", "-w", "x"], &[]).unwrap().kernel_may_reap());
        assert!(!run(&["rinit", "-vv", "x"], &[]).unwrap().kernel_may_reap());
        assert!(run(&["rinit", "-v", "x"], &[]).unwrap().kernel_may_reap());
        let c = run(&["rinit", "x"], &[("RINIT_VERBOSITY", "3")]).unwrap();
        assert!(!c.kernel_may_reap());
    }

    #[test]
    fn every_flag() {
        let c = run(
            &[
                "rinit",
                "-g",
                "-s",
                "-p",
                "KILL",
                "-r",
                "TERM:QUIT",
                "--rewrite",
                "USR1:0",
                "-e",
                "143",
                "--remap-exit",
                "2",
                "-t",
                "500ms",
                "-d",
                "2s",
                "-w",
                "-vv",
                "cmd",
            ],
            &[],
        )
        .unwrap();
        assert_eq!(c.forward, ForwardTo::Group);
        assert!(c.subreaper && c.warn_on_reap);
        assert_eq!(c.pdeathsig, Some(9));
        assert_eq!((c.rewrite.get(15), c.rewrite.get(10)), (3, 0));
        assert!(c.remap.contains(143) && c.remap.contains(2) && !c.remap.contains(0));
        assert_eq!(c.grace, Duration::from_millis(500));
        assert_eq!(c.term_delay, Duration::from_secs(2));
        assert_eq!(c.verbosity, 3);
        let c = run(&["rinit", "--pgroup", "--single-child", "x"], &[]).unwrap();
        assert_eq!(c.forward, ForwardTo::Child);
        let c = run(&["rinit", "--pause"], &[]).unwrap();
        assert_eq!(c.mode, Mode::Pause);
    }

    #[test]
    fn environment_and_precedence() {
        let vars = [
            ("RINIT_KILL_PROCESS_GROUP", "1"),
            ("RINIT_SUBREAPER", "1"),
            ("RINIT_PDEATHSIG", "SIGUSR1"),
            ("RINIT_REWRITE", "TERM:INT,HUP:0"),
            ("RINIT_REMAP_EXIT", "1,3"),
            ("RINIT_GRACE", "2m"),
            ("RINIT_TERM_DELAY", "100ms"),
            ("RINIT_WARN_ON_REAP", "1"),
            ("RINIT_VERBOSITY", "3"),
        ];
        let c = run(&["rinit", "x"], &vars).unwrap();
        assert_eq!(c.forward, ForwardTo::Group);
        assert!(c.subreaper && c.warn_on_reap);
        assert_eq!(c.pdeathsig, Some(10));
        assert_eq!((c.rewrite.get(15), c.rewrite.get(1)), (2, 0));
        assert!(c.remap.contains(1) && c.remap.contains(3));
        assert_eq!(c.grace, Duration::from_secs(120));
        assert_eq!(c.term_delay, Duration::from_millis(100));
        assert_eq!(c.verbosity, 3);
        // Flags win over variables.
        let c = run(
            &[
                "rinit",
                "-c",
                "-p",
                "HUP",
                "-r",
                "TERM:QUIT",
                "-e",
                "7",
                "-t",
                "0",
                "-d",
                "1",
                "-v",
                "x",
            ],
            &vars,
        )
        .unwrap();
        assert_eq!(c.forward, ForwardTo::Child);
        assert_eq!(c.pdeathsig, Some(1));
        assert_eq!((c.rewrite.get(15), c.rewrite.get(1)), (3, 1));
        assert!(c.remap.contains(7) && !c.remap.contains(1));
        assert_eq!(c.grace, Duration::ZERO);
        assert_eq!(c.term_delay, Duration::from_secs(1));
        assert_eq!(c.verbosity, 2);
        // Empty counts as unset.
        let c = run(
            &["rinit", "x"],
            &[("RINIT_GRACE", ""), ("RINIT_SUBREAPER", "")],
        )
        .unwrap();
        assert_eq!(c.grace, Duration::from_secs(5));
        assert!(!c.subreaper);
    }

    #[test]
    fn tini_variables_count_when_present() {
        let c = run(
            &["tini", "x"],
            &[
                ("TINI_SUBREAPER", "0"),
                ("TINI_KILL_PROCESS_GROUP", ""),
                ("TINI_VERBOSITY", "0"),
            ],
        )
        .unwrap();
        assert!(c.subreaper);
        assert_eq!(c.forward, ForwardTo::Group);
        assert_eq!(c.verbosity, 0);
        assert_eq!(c.grace, Duration::ZERO);
        assert_eq!(c.child_signals, ChildSignals::InheritedMask);
    }

    #[test]
    fn dumb_init_defaults_and_switches() {
        let c = run(&["/usr/bin/dumb-init", "x"], &[]).unwrap();
        assert_eq!(
            (c.forward, c.setsid, c.verbosity),
            (ForwardTo::Group, true, 0)
        );
        assert_eq!(c.child_signals, ChildSignals::AllDefault);
        assert_eq!(c.grace, Duration::ZERO);
        let c = run(&["dumb-init", "-c", "x"], &[]).unwrap();
        assert_eq!((c.forward, c.setsid), (ForwardTo::Child, false));
        let c = run(&["dumb-init", "--single-child", "x"], &[]).unwrap();
        assert_eq!((c.forward, c.setsid), (ForwardTo::Child, false));
        let c = run(&["dumb-init", "x"], &[("DUMB_INIT_SETSID", "0")]).unwrap();
        assert_eq!((c.forward, c.setsid), (ForwardTo::Child, false));
        let c = run(&["dumb-init", "-r", "15:3", "-v", "x"], &[]).unwrap();
        assert_eq!((c.rewrite.get(15), c.verbosity), (3, 2));
        // Outside the dumb-init personality the variable changes nothing.
        let c = run(&["rinit", "x"], &[("DUMB_INIT_SETSID", "1")]).unwrap();
        assert_eq!((c.forward, c.setsid), (ForwardTo::Child, false));
    }

    #[test]
    fn usage_errors_name_the_problem() {
        for (argv, vars, needle) in [
            (&["rinit"][..], &[][..], "no command"),
            (&["rinit", "--pause", "x"], &[], "--pause"),
            (&["rinit", "--bogus", "x"], &[], "--bogus"),
            (&["rinit", "-t", "5x", "x"], &[], "'5x'"),
            (&["rinit", "-d", "soon", "x"], &[], "--term-delay"),
            (&["rinit", "-p", "SIGFOO", "x"], &[], "SIGFOO"),
            (&["rinit", "-r", "TERM", "x"], &[], "--rewrite"),
            (&["rinit", "-r", "KILL:TERM", "x"], &[], "SIGKILL"),
            (&["rinit", "-e", "256", "x"], &[], "'256'"),
            (&["rinit", "-t"], &[], "--grace"),
            (
                &["rinit", "x"],
                &[("RINIT_GRACE", "forever")],
                "RINIT_GRACE",
            ),
            (
                &["rinit", "x"],
                &[("RINIT_TERM_DELAY", "-1")],
                "RINIT_TERM_DELAY",
            ),
            (
                &["rinit", "x"],
                &[("RINIT_SUBREAPER", "yes")],
                "RINIT_SUBREAPER",
            ),
            (
                &["rinit", "x"],
                &[("RINIT_VERBOSITY", "loud")],
                "RINIT_VERBOSITY",
            ),
            (
                &["rinit", "x"],
                &[("RINIT_REWRITE", "TERM:QUIT,")],
                "RINIT_REWRITE",
            ),
            (
                &["rinit", "x"],
                &[("RINIT_REMAP_EXIT", "1;2")],
                "RINIT_REMAP_EXIT",
            ),
            (
                &["rinit", "x"],
                &[("RINIT_PDEATHSIG", "0")],
                "RINIT_PDEATHSIG",
            ),
            (
                &["rinit", "x"],
                &[("RINIT_KILL_PROCESS_GROUP", "on")],
                "RINIT_KILL_PROCESS_GROUP",
            ),
            (
                &["dumb-init", "x"],
                &[("DUMB_INIT_SETSID", "2")],
                "DUMB_INIT_SETSID",
            ),
            (&["rinit", "x"], &[("RINIT_REAP", "kernel")], "RINIT_REAP"),
        ] {
            let err = run(argv, vars).expect_err(needle);
            assert!(err.contains(needle), "{argv:?} {vars:?}: {err}");
            assert!(!err.contains('\n'), "not one line: {err:?}");
        }
    }

    #[test]
    fn help_version_license() {
        let print =
            |argv: &[&str]| match parse(argv.iter().map(OsString::from).collect(), &|_| None) {
                Ok(Request::Print(text)) => text,
                other => panic!("{argv:?}: {other:?}"),
            };
        assert!(print(&["rinit", "-h"]).contains("--pgroup"));
        assert!(print(&["rinit", "--help"]).contains("--term-delay"));
        let v = print(&["rinit", "-V"]);
        assert!(
            v.starts_with("rinit version ") && v.contains(" - git."),
            "{v}"
        );
        let v = print(&["/sbin/docker-init", "--version"]);
        assert!(
            v.starts_with("tini version ") && v.contains(" - git."),
            "{v}"
        );
        assert!(print(&["rinit", "-l"]).contains("MIT License"));
        // Help after the command belongs to the command.
        assert!(run(&["rinit", "ls", "--help"], &[]).is_ok());
    }
}
