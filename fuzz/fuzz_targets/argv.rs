//! The whole argv + environment → `Config` path (`cli::parse`), with any
//! arguments (any bytes but NUL), any argv[0] and any environment: never a
//! panic; a usage error is one non-empty line (unless the input itself
//! brought a newline in); a configuration always has a command or is
//! `--pause`; parsing is deterministic; and the fast path that reads the
//! usual command lines without clap gives exactly what clap gives
//! (`cli::parse_clap`), a configuration or an error.
//!
//! The input format is `rinit_fuzz::Input` (see `fuzz/src/lib.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rinit::cli::{Request, UsageError, parse, parse_clap};
use rinit::config::Mode;
use rinit_fuzz::Input;

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

    assert_eq!(
        got,
        parse_clap(input.argv.clone(), &env),
        "the fast path and clap disagree"
    );
});
