//! Every environment variable rinit reads, with any value, in each
//! personality, against the README's rules: an empty value counts as unset
//! (but a `TINI_*` switch is on whenever it is set at all), a value is
//! accepted exactly when the matching flag would accept it, and a refused
//! value gives a usage error that names the variable.
//!
//! Input: byte 0 picks the variable, byte 1 the personality, the rest is
//! the value (any bytes, also invalid UTF-8).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rinit::cli::{Request, UsageError, parse};
use rinit::config::{Config, ForwardTo, Reap, parse_duration};
use rinit::exit::Remap;
use rinit::signals::{self, Rewrite};
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

/// Every variable rinit reads, and one it does not.
fn vars() -> Vec<&'static str> {
    let mut v = rinit::cli::VARIABLES.to_vec();
    v.push("RINIT_NOT_A_VARIABLE");
    v
}
const PERSONALITIES: [&str; 5] = [
    "/sbin/rinit",
    "tini",
    "/usr/bin/dumb-init",
    "docker-init",
    "/catatonit",
];

fn config(argv0: &str, var: &str, value: Option<&OsString>) -> Result<Config, String> {
    let args = vec![OsString::from(argv0), OsString::from("app")];
    let env = |name: &str| (name == var).then(|| value.cloned()).flatten();
    match parse(args, &env) {
        Ok(Request::Run(c)) => Ok(c),
        Ok(Request::Print(p)) => panic!("printed {p:?}"),
        Err(UsageError(e)) => Err(e),
    }
}

fn switch(v: &str) -> bool {
    v == "0" || v == "1"
}

fuzz_target!(|data: &[u8]| {
    let (Some(&v), Some(&p)) = (data.first(), data.get(1)) else {
        return;
    };
    let vars = vars();
    let var = vars[usize::from(v) % vars.len()];
    let argv0 = PERSONALITIES[usize::from(p) % PERSONALITIES.len()];
    let raw = OsString::from_vec(data[2..].to_vec());
    let got = config(argv0, var, Some(&raw));
    let unset = config(argv0, var, None).expect("the defaults must parse");
    let dumb = argv0.ends_with("dumb-init");
    let catatonit = argv0.ends_with("catatonit");

    // What the rules say about this value.
    let text = raw.to_str();
    let accepted = match (var, text) {
        // Presence switches and unknown variables accept anything.
        ("TINI_KILL_PROCESS_GROUP" | "TINI_SUBREAPER" | "RINIT_NOT_A_VARIABLE", _) => true,
        // dumb-init's debug switch, read only as dumb-init: `1` is its -v,
        // any other text is ignored.
        ("DUMB_INIT_DEBUG", _) if !dumb => true,
        ("DUMB_INIT_SETSID", _) if !dumb => true,
        (_, Some("")) => true,
        (_, None) => false,
        ("RINIT_KILL_PROCESS_GROUP" | "DUMB_INIT_SETSID" | "RINIT_SUBREAPER", Some(t))
        | ("RINIT_WARN_ON_REAP", Some(t)) => switch(t),
        ("RINIT_PDEATHSIG", Some(t)) => signals::parse(t).is_ok(),
        ("RINIT_REWRITE", Some(t)) => {
            let mut table = Rewrite::default();
            t.split(',').all(|s| table.add(s).is_ok())
        }
        ("RINIT_REMAP_EXIT", Some(t)) => {
            let mut remap = Remap::default();
            t.split(',').all(|s| remap.add(s).is_ok())
        }
        ("RINIT_GRACE" | "RINIT_TERM_DELAY", Some(t)) => parse_duration(t).is_ok(),
        ("RINIT_VERBOSITY" | "TINI_VERBOSITY", Some(t)) => t.parse::<u8>().is_ok(),
        ("RINIT_REAP", Some(t)) => t == "auto" || t == "wait",
        ("DUMB_INIT_DEBUG", Some(_)) => true,
        _ => unreachable!(),
    };
    match (&got, accepted) {
        (Ok(_), true) => {}
        (Err(e), false) => assert!(e.contains(var), "{var}: error does not name it: {e}"),
        (got, _) => panic!("{argv0} {var}={raw:?}: got {got:?}, rules say accepted={accepted}"),
    }
    let Ok(c) = got else { return };

    // An empty value counts as unset, except for tini's presence switches.
    if text == Some("") && !var.starts_with("TINI_") || var == "RINIT_NOT_A_VARIABLE" {
        assert_eq!(c, unset, "{var}={raw:?} is not the same as unset");
    }
    // The value lands where it should.
    let t = text.unwrap_or("");
    match var {
        "TINI_SUBREAPER" => assert!(c.subreaper),
        "TINI_KILL_PROCESS_GROUP" if !dumb => assert_eq!(c.forward, ForwardTo::Group),
        // catatonit is a subreaper whatever the variable says.
        "RINIT_SUBREAPER" if !t.is_empty() => assert_eq!(c.subreaper, t == "1" || catatonit),
        "RINIT_WARN_ON_REAP" if !t.is_empty() => assert_eq!(c.warn_on_reap, t == "1"),
        "RINIT_KILL_PROCESS_GROUP" if !t.is_empty() => {
            assert_eq!(c.forward == ForwardTo::Group, t == "1")
        }
        "RINIT_GRACE" if !t.is_empty() => assert_eq!(Ok(c.grace), parse_duration(t)),
        "RINIT_TERM_DELAY" if !t.is_empty() => assert_eq!(Ok(c.term_delay), parse_duration(t)),
        "RINIT_PDEATHSIG" if !t.is_empty() => assert_eq!(c.pdeathsig, signals::parse(t).ok()),
        "RINIT_VERBOSITY" if !t.is_empty() => assert_eq!(Ok(c.verbosity), t.parse::<u8>()),
        "TINI_VERBOSITY" if !t.is_empty() => assert_eq!(Ok(c.verbosity), t.parse::<u8>()),
        "RINIT_REAP" if !t.is_empty() => assert_eq!(c.reap == Reap::Wait, t == "wait"),
        "DUMB_INIT_DEBUG" => {
            let want = if dumb && text == Some("1") {
                2
            } else {
                unset.verbosity
            };
            assert_eq!(c.verbosity, want, "DUMB_INIT_DEBUG={raw:?}");
        }
        _ => {}
    }
});
