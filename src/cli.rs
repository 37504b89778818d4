//! The command line and its environment fallbacks, turned into a `Config`.
//!
//! Every option is declared once, in [`OPTIONS`]: its letters, its long
//! name, what value it takes, its environment variables, the personalities
//! that have it, and its help. Three readers derive from that table: the
//! small parser that reads the usual command lines at start-up (`Fast`),
//! clap's `Command` ([`command`]: help, usage errors and the man page),
//! and the environment lookups ([`VARIABLES`], `Inputs`). What the table
//! cannot say (how `-g`, `-c` and `DUMB_INIT_SETSID` combine, the
//! personalities' defaults) is in `build`, which both parsers feed. A flag
//! always wins over its variable; errors are one line.

use std::borrow::Cow;
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
/// rinit's version, for tools outside the crate (the man page).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
const LICENSE: &str = include_str!("../LICENSE");

/// How an option takes its value on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// On when given (`-g`).
    Switch,
    /// Counted (`-vv`).
    Count,
    /// One value, named so in the help; the last one given wins (`-t 5s`).
    Value(&'static str),
    /// A repeatable value; every one counts (`-r A:B -r C:D`).
    List(&'static str),
    /// Prints something on stdout and exits 0 (`-V`, `-l`).
    Print,
    /// No flag at all: only its environment variables set it.
    EnvOnly,
}

/// How an environment variable sets its option. An empty value counts
/// as unset, except for `Present`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// `1` is on, `0` is off.
    Switch,
    /// On whenever the variable is set, whatever its value (tini's).
    Present,
    /// A value read as the flag's is (a list: comma-separated).
    Value,
    /// `1` stands for this value; any other value is ignored (dumb-init's
    /// `DUMB_INIT_DEBUG=1`, its `-v`).
    OneMeans(&'static str),
}

/// An environment variable of an option.
#[derive(Debug)]
pub struct Var {
    pub name: &'static str,
    pub rule: Rule,
    /// The personalities that read it (`Personality::bit`s).
    pub only: u8,
    /// What the help shows after the name (`=1`, `=N`).
    pub hint: &'static str,
}

/// One option: everything the parsers, the help and the environment
/// lookups know about it.
#[derive(Debug)]
pub struct Opt {
    /// clap's id.
    pub id: &'static str,
    /// Its place in `OPTIONS` (a unit test checks), where `Fast` keeps it.
    pub slot: usize,
    /// Its letters, each with the personalities it exists in; the first
    /// available one is the flag, the others aliases.
    pub shorts: &'static [(char, u8)],
    pub long: Option<&'static str>,
    pub kind: Kind,
    /// The option whose later flag turns this one off (`-g` and `-c`).
    pub overrides: Option<&'static str>,
    /// Its variables, in order: the first one set decides (all are checked).
    pub vars: &'static [Var],
    pub help: &'static str,
}

/// Every personality.
const ALL: u8 = 0xff;
const DUMB: u8 = Personality::DumbInit.bit();
const CATATONIT: u8 = Personality::Catatonit.bit();

const fn var(name: &'static str, rule: Rule, hint: &'static str) -> Var {
    Var {
        name,
        rule,
        only: ALL,
        hint,
    }
}

/// dumb-init's switch: `1` its default (new session, group signals),
/// `0` as `-c`.
const DUMB_INIT_SETSID: Var = Var {
    name: "DUMB_INIT_SETSID",
    rule: Rule::Switch,
    only: DUMB,
    hint: "=0|1",
};

const PGROUP: Opt = Opt {
    id: "pgroup",
    slot: 0,
    shorts: &[('g', ALL)],
    long: Some("pgroup"),
    kind: Kind::Switch,
    overrides: Some("single_child"),
    vars: &[
        var("RINIT_KILL_PROCESS_GROUP", Rule::Switch, "=1"),
        DUMB_INIT_SETSID,
        var("TINI_KILL_PROCESS_GROUP", Rule::Present, ""),
    ],
    help: "Forward signals to the child's whole process group",
};
const SINGLE_CHILD: Opt = Opt {
    id: "single_child",
    slot: 1,
    shorts: &[('c', ALL)],
    long: Some("single-child"),
    kind: Kind::Switch,
    overrides: Some("pgroup"),
    vars: &[],
    help: "Forward signals to the child only (the default except as dumb-init)",
};
const SUBREAPER: Opt = Opt {
    id: "subreaper",
    slot: 2,
    shorts: &[('s', ALL)],
    long: Some("subreaper"),
    kind: Kind::Switch,
    overrides: None,
    vars: &[
        var("RINIT_SUBREAPER", Rule::Switch, "=1"),
        var("TINI_SUBREAPER", Rule::Present, ""),
    ],
    help: "Become a child subreaper when not PID 1",
};
const PDEATHSIG: Opt = Opt {
    id: "pdeathsig",
    slot: 3,
    shorts: &[('p', ALL)],
    long: Some("pdeathsig"),
    kind: Kind::Value("SIG"),
    overrides: None,
    vars: &[var("RINIT_PDEATHSIG", Rule::Value, "")],
    help: "Get SIG when rinit's own parent dies",
};
const REWRITE: Opt = Opt {
    id: "rewrite",
    slot: 4,
    shorts: &[('r', ALL)],
    long: Some("rewrite"),
    kind: Kind::List("FROM:TO"),
    overrides: None,
    vars: &[var("RINIT_REWRITE", Rule::Value, "=A:B,C:D")],
    help: "Forward FROM as TO; TO=0 drops it; repeatable",
};
const REMAP_EXIT: Opt = Opt {
    id: "remap_exit",
    slot: 5,
    shorts: &[('e', ALL)],
    long: Some("remap-exit"),
    kind: Kind::List("CODE"),
    overrides: None,
    vars: &[var("RINIT_REMAP_EXIT", Rule::Value, "=A,B")],
    help: "Exit 0 where the exit code would be CODE; repeatable",
};
const GRACE: Opt = Opt {
    id: "grace",
    slot: 6,
    shorts: &[('t', ALL)],
    long: Some("grace"),
    kind: Kind::Value("DURATION"),
    overrides: None,
    vars: &[var("RINIT_GRACE", Rule::Value, "")],
    help: "After the child exits, SIGTERM what is left and SIGKILL it after DURATION; 0 = exit at once (default 5s; 0 as tini, dumb-init, catatonit)",
};
const TERM_DELAY: Opt = Opt {
    id: "term_delay",
    slot: 7,
    shorts: &[('d', ALL)],
    long: Some("term-delay"),
    kind: Kind::Value("DURATION"),
    overrides: None,
    vars: &[var("RINIT_TERM_DELAY", Rule::Value, "")],
    help: "Hold each SIGTERM for DURATION before forwarding it",
};
const WARN_ON_REAP: Opt = Opt {
    id: "warn_on_reap",
    slot: 8,
    shorts: &[('w', ALL)],
    long: Some("warn-on-reap"),
    kind: Kind::Switch,
    overrides: None,
    vars: &[var("RINIT_WARN_ON_REAP", Rule::Switch, "=1")],
    help: "Warn about every reaped process other than the child",
};
const PAUSE: Opt = Opt {
    id: "pause",
    slot: 9,
    shorts: &[('P', ALL)],
    long: Some("pause"),
    kind: Kind::Switch,
    overrides: None,
    vars: &[],
    help: "Run no command: only reap, and exit 0 on SIGTERM or SIGINT",
};
const VERBOSE: Opt = Opt {
    id: "verbose",
    slot: 10,
    shorts: &[('v', ALL)],
    long: Some("verbose"),
    kind: Kind::Count,
    overrides: None,
    vars: &[
        var("RINIT_VERBOSITY", Rule::Value, "=N"),
        var("TINI_VERBOSITY", Rule::Value, "=N"),
        Var {
            name: "DUMB_INIT_DEBUG",
            rule: Rule::OneMeans("2"),
            only: DUMB,
            hint: "=1",
        },
    ],
    help: "More logging on stderr; repeatable",
};
const VERSION_OPT: Opt = Opt {
    id: "version",
    slot: 11,
    shorts: &[('V', ALL)],
    long: Some("version"),
    kind: Kind::Print,
    overrides: None,
    vars: &[],
    help: "Print the version and exit",
};
const LICENSE_OPT: Opt = Opt {
    id: "license",
    slot: 12,
    shorts: &[('l', ALL), ('L', CATATONIT)],
    long: Some("license"),
    kind: Kind::Print,
    overrides: None,
    vars: &[],
    help: "Print the license and exit",
};
const REAP: Opt = Opt {
    id: "reap",
    slot: 13,
    shorts: &[],
    long: None,
    kind: Kind::EnvOnly,
    overrides: None,
    vars: &[var("RINIT_REAP", Rule::Value, "=auto|wait")],
    help: "Who releases exited processes: the kernel where it can (auto), or rinit (wait)",
};

/// Every option, in the order of the help.
pub const OPTIONS: [&Opt; 14] = [
    &PGROUP,
    &SINGLE_CHILD,
    &SUBREAPER,
    &PDEATHSIG,
    &REWRITE,
    &REMAP_EXIT,
    &GRACE,
    &TERM_DELAY,
    &WARN_ON_REAP,
    &PAUSE,
    &VERBOSE,
    &VERSION_OPT,
    &LICENSE_OPT,
    &REAP,
];

const fn variable_count() -> usize {
    let (mut n, mut i) = (0, 0);
    while i < OPTIONS.len() {
        n += OPTIONS[i].vars.len();
        i += 1;
    }
    n
}

/// Every environment variable rinit reads, from `OPTIONS` (tests and
/// fuzzing pick from it).
pub const VARIABLES: [&str; variable_count()] = {
    let mut out = [""; variable_count()];
    let (mut n, mut i) = (0, 0);
    while i < OPTIONS.len() {
        let mut j = 0;
        while j < OPTIONS[i].vars.len() {
            out[n] = OPTIONS[i].vars[j].name;
            n += 1;
            j += 1;
        }
        i += 1;
    }
    out
};

/// Every name in `VARIABLES` starts with one of these: when no variable in
/// the environment does, rinit skips the lookups altogether.
pub const VARIABLE_PREFIXES: [&[u8]; 3] = [b"RINIT_", b"TINI_", b"DUMB_INIT_"];

/// The clap definition of the command line in `personality`, from
/// `OPTIONS` (also the source of the man page, as rinit).
pub fn command(personality: Personality) -> Command {
    let bit = personality.bit();
    let mut command = Command::new("rinit")
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
        .args_override_self(true);
    for opt in OPTIONS {
        let action = match opt.kind {
            Kind::Switch | Kind::Print => ArgAction::SetTrue,
            Kind::Count => ArgAction::Count,
            Kind::Value(_) => ArgAction::Set,
            Kind::List(_) => ArgAction::Append,
            Kind::EnvOnly => continue,
        };
        let mut arg = Arg::new(opt.id).action(action).help(help(opt, bit));
        let mut shorts = opt.shorts.iter().filter(|(_, only)| only & bit != 0);
        if let Some(&(short, _)) = shorts.next() {
            arg = arg.short(short);
        }
        for &(alias, _) in shorts {
            arg = arg.visible_short_alias(alias);
        }
        if let Some(long) = opt.long {
            arg = arg.long(long);
        }
        if let Kind::Value(name) | Kind::List(name) = opt.kind {
            arg = arg.value_name(name);
        }
        if let Some(other) = opt.overrides {
            arg = arg.overrides_with(other);
        }
        command = command.arg(arg);
    }
    command.arg(
        Arg::new("command")
            .value_name("COMMAND")
            .num_args(1..)
            .trailing_var_arg(true)
            .value_parser(clap::builder::ValueParser::os_string()),
    )
}

/// An option's help line: its text, then its variables.
fn help(opt: &Opt, bit: u8) -> String {
    let mut text = opt.help.to_string();
    let mut vars = opt.vars.iter().filter(|v| v.only & bit != 0);
    if let Some(first) = vars.next() {
        text.push_str(&format!(" [{}{}", first.name, first.hint));
        for v in vars {
            text.push_str(&format!(", {}{}", v.name, v.hint));
        }
        text.push(']');
    }
    text
}

/// How `parse` reads an environment variable.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// Parses `args` (with `argv[0]`) and the environment as seen through `env`.
pub fn parse(
    args: Vec<OsString>,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Request, UsageError> {
    parse_env(args, Some(env))
}

/// `parse`, where `None` says that no variable rinit reads is set (rinit
/// checks `environ` for their prefixes once): then no lookup is made.
pub fn parse_env(args: Vec<OsString>, env: Option<Lookup<'_>>) -> Result<Request, UsageError> {
    // The usual command lines (`rinit -- CMD`, Docker's `docker-init --
    // CMD`, `rinit -g -t 10s CMD`) are read by `Fast`: building and running
    // clap's parser would be nearly all of rinit's start-up. Whatever
    // `Fast` is unsure of (help, version, a malformed or unusual flag) goes
    // to clap, which then also words the error.
    let personality = personality(&args);
    if let Some(fast) = Fast::parse(args.get(1..).unwrap_or_default(), personality) {
        return build(personality, &fast, env)
            .map(Request::Run)
            .map_err(UsageError);
    }
    clap_env(args, env)
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
    clap_env(args, Some(env))
}

fn clap_env(args: Vec<OsString>, env: Option<Lookup<'_>>) -> Result<Request, UsageError> {
    let personality = personality(&args);
    let matches = match command(personality).try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::DisplayHelp => {
            return Ok(Request::Print(
                command(personality).render_help().to_string(),
            ));
        }
        Err(e) => return Err(UsageError(first_line(&e.to_string()))),
    };
    if matches.flag(&VERSION_OPT) {
        return Ok(Request::Print(version(personality)));
    }
    if matches.flag(&LICENSE_OPT) {
        return Ok(Request::Print(LICENSE.to_string()));
    }
    build(personality, &matches, env)
        .map(Request::Run)
        .map_err(UsageError)
}

/// The `--version` line, the one message whose wording differs between
/// personalities here. Docker's `docker info` splits it at ` - git.` and
/// reads the part after `tini version ` as the version; catatonit prints
/// a `tini version` line too, for the same parsers.
pub fn version(personality: Personality) -> String {
    let v = VERSION;
    match personality {
        Personality::Tini | Personality::Catatonit => {
            format!("tini version {v}-rinit - git.{GIT_HASH}\n")
        }
        Personality::Rinit | Personality::DumbInit => {
            format!("rinit version {v} - git.{GIT_HASH}\n")
        }
    }
}

fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or("invalid arguments");
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}

/// The environment, with the parsing rules rinit's variables share.
struct Env<'a> {
    /// `None`: none of rinit's variables is set.
    get: Option<Lookup<'a>>,
}

impl Env<'_> {
    fn raw(&self, name: &str) -> Option<OsString> {
        self.get.and_then(|get| get(name))
    }

    /// A variable's value; an empty value counts as unset.
    fn text(&self, name: &str) -> Result<Option<String>, String> {
        match self.raw(name) {
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
}

/// The flags as `build` reads them: clap's matches, or `Fast`'s.
trait Flags {
    fn flag(&self, opt: &Opt) -> bool;
    fn value(&self, opt: &Opt) -> Option<&str>;
    fn values(&self, opt: &Opt) -> Option<Vec<&str>>;
    fn count(&self, opt: &Opt) -> u8;
    /// The command and its arguments, in order.
    fn command(&self) -> Args<'_>;
}

/// The command and its arguments from either parser, without an
/// allocation (one is ~250 instructions at start-up in musl).
enum Args<'a> {
    Fast(std::slice::Iter<'a, OsString>),
    Clap(clap::parser::ValuesRef<'a, OsString>),
}

impl<'a> Iterator for Args<'a> {
    type Item = &'a OsString;
    fn next(&mut self) -> Option<&'a OsString> {
        match self {
            Args::Fast(args) => args.next(),
            Args::Clap(args) => args.next(),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Args::Fast(args) => args.size_hint(),
            Args::Clap(args) => args.size_hint(),
        }
    }
}

// The `try_` getters: an id the personality's command lacks is "not
// given", never a panic.
impl Flags for ArgMatches {
    fn flag(&self, opt: &Opt) -> bool {
        matches!(self.try_get_one::<bool>(opt.id), Ok(Some(true)))
    }
    fn value(&self, opt: &Opt) -> Option<&str> {
        self.try_get_one::<String>(opt.id)
            .ok()
            .flatten()
            .map(String::as_str)
    }
    fn values(&self, opt: &Opt) -> Option<Vec<&str>> {
        self.try_get_many::<String>(opt.id)
            .ok()
            .flatten()
            .map(|v| v.map(String::as_str).collect())
    }
    fn count(&self, opt: &Opt) -> u8 {
        self.try_get_one::<u8>(opt.id)
            .ok()
            .flatten()
            .copied()
            .unwrap_or(0)
    }
    fn command(&self) -> Args<'_> {
        match self.try_get_many::<OsString>("command") {
            Ok(Some(args)) => Args::Clap(args),
            _ => Args::Fast([].iter()),
        }
    }
}

/// What the command line said about one option.
#[derive(Debug, Default)]
struct Slot<'a> {
    /// How often it was given.
    count: u8,
    /// When it was last given (its position among the flags).
    last: usize,
    /// Its last value, borrowed from the arguments.
    value: Option<&'a str>,
    /// Every value of a repeatable option (no allocation for the others:
    /// one is ~250 instructions at start-up).
    values: Vec<&'a str>,
}

/// The flags of an ordinary command line, read without clap from
/// `OPTIONS`. `parse` accepts only what clap accepts and reads it the same
/// way (the unit tests and the `argv` fuzz target compare the two);
/// anything else is `None`, and clap takes over.
#[derive(Debug)]
struct Fast<'a> {
    /// One per entry of `OPTIONS`.
    slots: [Slot<'a>; OPTIONS.len()],
    /// Flags seen so far.
    seen: usize,
    command: &'a [OsString],
}

impl<'a> Fast<'a> {
    /// Reads `args` (without `argv[0]`) up to `--` or the first argument
    /// that is not an option.
    fn parse(args: &'a [OsString], personality: Personality) -> Option<Fast<'a>> {
        let bit = personality.bit();
        let mut fast = Fast {
            slots: Default::default(),
            seen: 0,
            command: &[],
        };
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
                let at = OPTIONS
                    .iter()
                    .position(|o| o.long.is_some_and(|l| l.as_bytes() == name))?;
                let took_value = fast.set(at, inline, args, &mut next)?;
                if inline.is_some() && !took_value {
                    return None;
                }
                continue;
            }
            for (at, &short) in arg.iter().enumerate().skip(1) {
                let index = OPTIONS.iter().position(|o| {
                    o.shorts
                        .iter()
                        .any(|&(c, only)| c as u32 == u32::from(short) && only & bit != 0)
                })?;
                // A value option takes the rest of the cluster (`-t5s`),
                // or else the next argument.
                let rest = &arg[at + 1..];
                let inline = (!rest.is_empty()).then_some(rest);
                if fast.set(index, inline, args, &mut next)? {
                    break;
                }
            }
        }
        fast.command = &args[next..];
        Some(fast)
    }

    /// Records `OPTIONS[index]`: a switch, or a value option with its
    /// value, `inline` or else the argument at `*next`. Returns whether it
    /// took a value, and `None` for anything clap should judge.
    fn set(
        &mut self,
        index: usize,
        inline: Option<&'a [u8]>,
        args: &'a [OsString],
        next: &mut usize,
    ) -> Option<bool> {
        let kind = OPTIONS.get(index)?.kind;
        let list = matches!(kind, Kind::List(_));
        let slot = self.slots.get_mut(index)?;
        slot.count = slot.count.saturating_add(1);
        self.seen += 1;
        slot.last = self.seen;
        match kind {
            Kind::Switch | Kind::Count => return Some(false),
            Kind::Value(_) | Kind::List(_) => {}
            Kind::Print | Kind::EnvOnly => return None,
        }
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
        let value = std::str::from_utf8(value).ok()?;
        slot.value = Some(value);
        if list {
            slot.values.push(value);
        }
        Some(true)
    }
}

impl Flags for Fast<'_> {
    fn flag(&self, opt: &Opt) -> bool {
        let Some(slot) = self.slots.get(opt.slot).filter(|s| s.count > 0) else {
            return false;
        };
        // Of two options that override each other, the later one counts.
        let other = opt
            .overrides
            .and_then(|id| OPTIONS.iter().find(|o| o.id == id))
            .and_then(|o| self.slots.get(o.slot));
        other.is_none_or(|o| o.count == 0 || o.last < slot.last)
    }
    fn value(&self, opt: &Opt) -> Option<&str> {
        self.slots.get(opt.slot)?.value
    }
    fn values(&self, opt: &Opt) -> Option<Vec<&str>> {
        let slot = self.slots.get(opt.slot)?;
        (!slot.values.is_empty()).then(|| slot.values.clone())
    }
    fn count(&self, opt: &Opt) -> u8 {
        self.slots.get(opt.slot).map_or(0, |s| s.count)
    }
    fn command(&self) -> Args<'_> {
        Args::Fast(self.command.iter())
    }
}

/// The flags and the environment, read through `OPTIONS`: a flag wins;
/// else the option's variables (those of this personality), each checked,
/// the first one set deciding.
struct Inputs<'a> {
    flags: &'a dyn Flags,
    env: Env<'a>,
    bit: u8,
}

impl<'a> Inputs<'a> {
    fn vars(&self, opt: &'static Opt) -> impl Iterator<Item = &'static Var> + use<> {
        let bit = self.bit;
        // Without variables in the environment, nothing to look up.
        let vars = if self.env.get.is_some() {
            opt.vars
        } else {
            &[]
        };
        vars.iter().filter(move |v| v.only & bit != 0)
    }

    /// A switch: on if its flag came last, off if the flag it overrides
    /// did, else what the first of its variables that is set says.
    fn switch(&self, opt: &'static Opt) -> Result<Option<bool>, String> {
        if self.flags.flag(opt) {
            return Ok(Some(true));
        }
        let other = opt
            .overrides
            .and_then(|id| OPTIONS.iter().find(|o| o.id == id));
        if other.is_some_and(|o| self.flags.flag(o)) {
            return Ok(Some(false));
        }
        for var in self.vars(opt) {
            let said = match var.rule {
                Rule::Present => self.env.raw(var.name).map(|_| true),
                Rule::Switch | Rule::Value | Rule::OneMeans(_) => self.env.switch(var.name)?,
            };
            if said.is_some() {
                return Ok(said);
            }
        }
        Ok(None)
    }

    /// A value option's text: its flag's last value, else the first of its
    /// variables that is set; with where it came from, for errors.
    fn text(&self, opt: &'static Opt) -> Result<Option<(Cow<'a, str>, Source)>, String> {
        if let Some(text) = self.flags.value(opt) {
            return Ok(Some((
                Cow::Borrowed(text),
                Source::Flag(opt.long.unwrap_or(opt.id)),
            )));
        }
        for var in self.vars(opt) {
            if let Some(text) = self.env.text(var.name)? {
                let text = match var.rule {
                    Rule::OneMeans(value) if text == "1" => Cow::Borrowed(value),
                    Rule::OneMeans(_) => continue,
                    _ => Cow::Owned(text),
                };
                return Ok(Some((text, Source::Var(var.name))));
            }
        }
        Ok(None)
    }

    /// A value option, parsed with `parse`; an error names the flag or
    /// the variable.
    fn value<T>(
        &self,
        opt: &'static Opt,
        parse: fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, String> {
        match self.text(opt)? {
            Some((text, from)) => parse(&text).map(Some).map_err(|e| from.error(e)),
            None => Ok(None),
        }
    }

    /// A repeatable option: every value of its flag, else the
    /// comma-separated items of its first variable that is set; each
    /// handed to `add`.
    fn list(
        &self,
        opt: &'static Opt,
        add: &mut dyn FnMut(&str) -> Result<(), String>,
    ) -> Result<(), String> {
        if let Some(items) = self.flags.values(opt) {
            let from = Source::Flag(opt.long.unwrap_or(opt.id));
            for item in items {
                add(item).map_err(|e| from.error(e))?;
            }
            return Ok(());
        }
        if let Some((list, from)) = self.text(opt)? {
            for item in list.split(',') {
                add(item).map_err(|e| from.error(e))?;
            }
        }
        Ok(())
    }
}

/// Where a value came from: a flag (its long name) or a variable.
#[derive(Clone, Copy)]
enum Source {
    Flag(&'static str),
    Var(&'static str),
}

impl Source {
    fn error(self, e: String) -> String {
        match self {
            Source::Flag(long) => format!("--{long}: {e}"),
            Source::Var(name) => format!("{name}: {e}"),
        }
    }
}

fn build(
    personality: Personality,
    flags: &dyn Flags,
    env: Option<Lookup<'_>>,
) -> Result<Config, String> {
    let dumb = personality == Personality::DumbInit;
    let inputs = Inputs {
        flags,
        env: Env { get: env },
        bit: personality.bit(),
    };

    // Where signals go: the last of -g/-c, else the variables; dumb-init
    // forwards to the group by default, and its child starts a session
    // unless -c or DUMB_INIT_SETSID=0 says otherwise.
    let group = inputs.switch(&PGROUP)?.unwrap_or(dumb);
    let forward = if group {
        ForwardTo::Group
    } else {
        ForwardTo::Child
    };
    let setsid = dumb
        && if flags.flag(&PGROUP) {
            true
        } else if flags.flag(&SINGLE_CHILD) {
            false
        } else {
            inputs.env.switch(DUMB_INIT_SETSID.name)?.unwrap_or(true)
        };

    // catatonit becomes a subreaper when not PID 1 without being asked.
    let subreaper =
        inputs.switch(&SUBREAPER)?.unwrap_or(false) || personality == Personality::Catatonit;
    let pdeathsig = inputs.value(&PDEATHSIG, signals::parse)?;

    let mut rewrite = Rewrite::default();
    inputs.list(&REWRITE, &mut |spec| rewrite.add(spec))?;
    let mut remap = Remap::default();
    inputs.list(&REMAP_EXIT, &mut |code| remap.add(code))?;

    let grace = inputs
        .value(&GRACE, parse_duration)?
        .unwrap_or(personality.default_grace());
    let term_delay = inputs
        .value(&TERM_DELAY, parse_duration)?
        .unwrap_or_default();
    let warn_on_reap = inputs.switch(&WARN_ON_REAP)?.unwrap_or(false);

    let count = flags.count(&VERBOSE);
    let verbosity = if count > 0 {
        // Each -v adds a level above warnings. dumb-init is silent by
        // default, but its one -v means "debug", which is the same level.
        count.saturating_add(1)
    } else {
        inputs
            .value(&VERBOSE, |t| {
                t.parse::<u8>()
                    .map_err(|_| format!("'{t}' is not a number"))
            })?
            .unwrap_or(if dumb { 0 } else { 1 })
    };

    let reap = inputs
        .value(&REAP, |text| match text {
            "auto" => Ok(Reap::Auto),
            "wait" => Ok(Reap::Wait),
            other => Err(format!("'{other}' must be auto or wait")),
        })?
        .unwrap_or(Reap::Auto);

    // Sized once: a `collect` through `Result` cannot know the length.
    let args = flags.command();
    let mut command: Vec<CString> = Vec::with_capacity(args.size_hint().0);
    for a in args {
        // Room for the NUL from the start: CString::new then does not
        // reallocate (an allocation is ~250 instructions in musl, and
        // start-up has one per argument).
        let mut bytes = Vec::with_capacity(a.len() + 1);
        bytes.extend_from_slice(a.as_bytes());
        command.push(
            CString::new(bytes)
                .map_err(|_| format!("argument '{}' contains a NUL byte", a.to_string_lossy()))?,
        );
    }
    let mode = match (flags.flag(&PAUSE), command.is_empty()) {
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
            Personality::Rinit | Personality::Catatonit => ChildSignals::Clean,
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
            let fast = Fast::parse(&os(argv)[1..], personality(&os(argv))).map(|f| f.command.len());
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
            assert!(
                Fast::parse(&os(argv)[1..], personality(&os(argv))).is_none(),
                "{argv:?}"
            );
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
            &["rinit", "-gc", "x"],
            &["rinit", "-cg", "x"],
            &["catatonit", "-P"],
            &["/catatonit", "-gP"],
            &["catatonit", "-L"],
            &["rinit", "-L"],
            &["tini", "-P", "x"],
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
            "-L",
            "-P",
            "-gP",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            let mut argv = vec![OsString::from(
                ["rinit", "tini", "dumb-init", "catatonit"][seed as usize % 4],
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
        for argv0 in ["rinit", "tini", "dumb-init", "catatonit"] {
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
        // DUMB_INIT_DEBUG=1 is dumb-init's -v; other values are ignored.
        for (value, level) in [("1", 2), ("0", 0), ("", 0), ("yes", 0)] {
            let c = run(&["dumb-init", "x"], &[("DUMB_INIT_DEBUG", value)]).unwrap();
            assert_eq!(c.verbosity, level, "DUMB_INIT_DEBUG={value:?}");
        }
        let c = run(&["rinit", "x"], &[("DUMB_INIT_DEBUG", "1")]).unwrap();
        assert_eq!(c.verbosity, 1);
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

    /// Each entry of `OPTIONS` sits at its own `slot`, ids and letters
    /// are unique per personality, and every variable has a known prefix.
    #[test]
    fn the_option_table_is_consistent() {
        let mut ids = std::collections::BTreeSet::new();
        for (i, opt) in OPTIONS.iter().enumerate() {
            assert_eq!(opt.slot, i, "{}", opt.id);
            assert!(ids.insert(opt.id), "{} twice", opt.id);
            assert!(
                opt.overrides
                    .is_none_or(|o| OPTIONS.iter().any(|other| other.id == o))
            );
        }
        for p in [
            Personality::Rinit,
            Personality::Tini,
            Personality::DumbInit,
            Personality::Catatonit,
        ] {
            let mut letters = std::collections::BTreeSet::new();
            for opt in OPTIONS {
                for &(c, only) in opt.shorts {
                    if only & p.bit() != 0 {
                        assert!(letters.insert(c), "-{c} twice as {p:?}");
                    }
                }
            }
            // clap agrees (it panics on a duplicate in debug builds).
            command(p).debug_assert();
        }
        assert_eq!(VARIABLES.len(), 15);
    }

    /// Named catatonit: podman's `/catatonit -P` pauses, `-L` prints the
    /// license, `-V` a `tini version` line, no grace, a subreaper.
    #[test]
    fn catatonit_personality() {
        let c = run(&["/catatonit", "-P"], &[]).unwrap();
        assert_eq!(
            (c.personality, c.mode),
            (Personality::Catatonit, Mode::Pause)
        );
        let c = run(&["catatonit", "-g", "--", "sh"], &[]).unwrap();
        assert_eq!(c.forward, ForwardTo::Group);
        assert_eq!(c.grace, Duration::ZERO);
        assert!(c.subreaper);
        assert_eq!(c.child_signals, ChildSignals::Clean);
        let print =
            |argv: &[&str]| match parse(argv.iter().map(OsString::from).collect(), &|_| None) {
                Ok(Request::Print(text)) => text,
                other => panic!("{argv:?}: {other:?}"),
            };
        let v = print(&["/usr/libexec/podman/catatonit", "-V"]);
        assert!(
            v.starts_with("tini version ") && v.lines().count() == 1,
            "{v}"
        );
        assert_eq!(print(&["catatonit", "--version"]), v);
        assert!(print(&["catatonit", "-L"]).contains("MIT License"));
        assert!(print(&["catatonit", "-h"]).contains("-P, --pause"));
        // -L is catatonit's; elsewhere it is a usage error.
        assert!(run(&["rinit", "-L"], &[]).unwrap_err().contains("-L"));
    }

    /// `-P` pauses in every personality.
    #[test]
    fn pause_letter_everywhere() {
        for argv0 in ["rinit", "tini", "docker-init", "dumb-init", "catatonit"] {
            let c = run(&[argv0, "-P"], &[]).unwrap();
            assert_eq!(c.mode, Mode::Pause, "{argv0}");
            assert!(run(&[argv0, "-P", "x"], &[]).is_err(), "{argv0}");
        }
    }
}
