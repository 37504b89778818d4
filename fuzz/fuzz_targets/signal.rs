//! `signals::parse` (`-p`, `RINIT_PDEATHSIG`, both sides of `-r`): every
//! accepted signal is 1-64, spelling is case-insensitive, a `SIG` prefix
//! changes nothing, names round-trip through `Display`, and numbers and
//! `RTMIN+N`/`RTMAX-N` follow arithmetic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rinit::signals::{RTMAX, RTMIN, Signal, parse};

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The numeric value of a digit string, saturating (no overflow).
fn value(s: &str) -> u64 {
    s.bytes().fold(0u64, |v, b| {
        v.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let got = parse(text);
    match &got {
        Ok(n) => assert!((1..=RTMAX).contains(n), "{text:?} -> {n}"),
        Err(e) => assert!(!e.is_empty()),
    }
    // Case does not matter.
    // (Errors quote the input, so compare the values only.)
    let value_of = |t: &str| parse(t).ok();
    assert_eq!(
        value_of(&text.to_ascii_lowercase()),
        got.clone().ok(),
        "{text:?}"
    );
    assert_eq!(
        value_of(&text.to_ascii_uppercase()),
        got.clone().ok(),
        "{text:?}"
    );
    // A SIG prefix does not matter (for names: `SIG15` is not a number).
    let upper = text.to_ascii_uppercase();
    if !digits(text) && !upper.starts_with("SIG") {
        assert_eq!(
            value_of(&format!("SIG{text}")),
            got.clone().ok(),
            "{text:?}"
        );
    }
    // Numbers.
    if digits(text) {
        let v = value(text);
        let want = (1..=RTMAX as u64).contains(&v).then_some(v as i32);
        assert_eq!(got.clone().ok(), want, "{text:?}");
    }
    // Real-time offsets.
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    for (prefix, base, sign, op) in [("RTMIN", RTMIN, 1, '+'), ("RTMAX", RTMAX, -1, '-')] {
        if let Some(n) = name
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix(op))
            .filter(|n| digits(n))
        {
            let v = value(n);
            let want = (v <= (RTMAX - RTMIN) as u64).then(|| base + sign * v as i32);
            assert_eq!(got.clone().ok(), want, "{text:?}");
        }
    }
    // Whatever parses prints as a name that parses back to it.
    if let Ok(n) = got {
        let shown = Signal(n).to_string();
        if !(32..RTMIN).contains(&n) {
            assert_eq!(parse(&shown), Ok(n), "{text:?} -> {shown}");
        }
    }
});
