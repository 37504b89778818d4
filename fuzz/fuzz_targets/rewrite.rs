//! `signals::Rewrite::add` (`-r FROM:TO`, `RINIT_REWRITE=A:B,C:D`): each
//! spec is accepted exactly when FROM is a signal rinit forwards and TO is
//! `0` or a signal, and then the table maps FROM to TO and nothing else
//! changes; the table never holds anything outside 0-64.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rinit::signals::{self, RTMAX, Rewrite, Signal};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut table = Rewrite::default();
    // As RINIT_REWRITE splits its value.
    for spec in text.split(',') {
        let before = table.clone();
        let got = table.add(spec);
        let want = spec.split_once(':').and_then(|(from, to)| {
            let from = signals::parse(from).ok()?;
            if !signals::catchable(from) || from == signals::SIGCHLD {
                return None;
            }
            let to = if to == "0" {
                0
            } else {
                signals::parse(to).ok()?
            };
            Some((from, to))
        });
        match (got, want) {
            (Ok(()), Some((from, to))) => {
                for n in 1..=RTMAX {
                    let expect = if n == from { to } else { before.get(n) };
                    assert_eq!(table.get(n), expect, "{spec:?}: signal {n}");
                }
            }
            (Err(e), None) => {
                assert!(!e.is_empty());
                assert_eq!(table, before, "{spec:?} failed but changed the table");
            }
            (got, want) => panic!("{spec:?}: got {got:?}, model says {want:?}"),
        }
    }
    for n in [i32::MIN, -1, 0, 1, 15, 64, 65, 1000, i32::MAX] {
        let to = table.get(n);
        assert!((0..=RTMAX).contains(&to) || to == n, "{n} -> {to}");
        let _ = Signal(to).to_string();
    }
});
