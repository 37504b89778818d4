//! The whole argv + environment → `Config` path (`cli::parse`), with any
//! arguments (any bytes but NUL), any argv[0] and any environment: never a
//! panic; a usage error is one non-empty line (unless the input itself
//! brought a newline in); a configuration always has a command or is
//! `--pause`; parsing is deterministic; and the fast path that skips clap
//! when there are no flags agrees with clap (the same argv with a no-op
//! `-e 0` in front goes through clap).
//!
//! The input format is `rinit_fuzz::Input` (see `fuzz/src/lib.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rinit::cli::{Request, UsageError, parse};
use rinit::config::Mode;
use rinit_fuzz::Input;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

/// Whether `cli::parse` takes its no-flags fast path for this argv.
fn fast_path(argv: &[OsString]) -> bool {
    match argv.get(1).map(|a| a.as_bytes()) {
        Some(b"--") => argv.len() > 2,
        Some(a) => !a.starts_with(b"-"),
        None => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let input = Input::decode(data);
    let env = |name: &str| input.var(name);
    let got = parse(input.argv.clone(), &env);
    let again = parse(input.argv.clone(), &env);
    let brought_newline = data.contains(&b'\n') || data.contains(&b'\r');
    match (&got, &again) {
        (Ok(Request::Run(c)), Ok(Request::Run(d))) => {
            assert_eq!(c, d);
            match &c.mode {
                Mode::Command(argv) => assert!(!argv.is_empty()),
                Mode::Pause => {}
            }
        }
        (Ok(Request::Print(a)), Ok(Request::Print(b))) => {
            assert_eq!(a, b);
            assert!(!a.is_empty());
        }
        (Err(UsageError(a)), Err(UsageError(b))) => {
            assert_eq!(a, b);
            assert!(!a.trim().is_empty(), "empty usage error");
            if !brought_newline {
                assert!(!a.contains('\n'), "usage error is not one line: {a:?}");
            }
        }
        (a, b) => panic!("not deterministic: {a:?} then {b:?}"),
    }

    // `-e 0` changes nothing but the remap table (exit 0 stays 0), unless
    // RINIT_REMAP_EXIT is set (a flag wins over its variable).
    if fast_path(&input.argv) && input.var("RINIT_REMAP_EXIT").is_none() {
        let mut slow = input.argv.clone();
        slow.splice(1..1, [OsString::from("-e"), OsString::from("0")]);
        match (got, parse(slow, &env)) {
            (Ok(Request::Run(fast)), Ok(Request::Run(mut clap))) => {
                assert!(clap.remap.contains(0) && (1..=255).all(|c| !clap.remap.contains(c)));
                clap.remap = fast.remap;
                assert_eq!(fast, clap, "the fast path and clap disagree");
            }
            (Err(UsageError(a)), Err(UsageError(b))) => assert_eq!(a, b),
            (a, b) => panic!("the fast path gave {a:?}, clap {b:?}"),
        }
    }
});
