//! `exit::Remap::add` (`-e CODE`, `RINIT_REMAP_EXIT=A,B`): accepted exactly
//! for decimal 0-255 (leading zeros allowed, no sign, no spaces), and then
//! that code, and only that one, is remapped.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rinit::exit::{self, Outcome, Remap};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut remap = Remap::default();
    for part in text.split(',') {
        let before = remap;
        let digits = !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        let significant = part.trim_start_matches('0');
        let want = (digits && significant.len() <= 3)
            .then(|| significant.parse::<u16>().unwrap_or(0))
            .filter(|&v| v <= 255)
            .map(|v| v as u8);
        match (remap.add(part), want) {
            (Ok(()), Some(code)) => {
                for c in 0..=255u8 {
                    assert_eq!(
                        remap.contains(c),
                        c == code || before.contains(c),
                        "{part:?}"
                    );
                }
                assert_eq!(exit::code(Outcome::Exited(code), &remap), 0);
            }
            (Err(e), None) => {
                assert!(e.contains(part), "{e}");
                assert_eq!(remap, before);
            }
            (got, want) => panic!("{part:?}: got {got:?}, model says {want:?}"),
        }
    }
    for sig in 1..=64 {
        let code = exit::code(Outcome::Signaled(sig), &remap);
        assert!(code == 0 || code == (128 + sig) as u8);
    }
});
