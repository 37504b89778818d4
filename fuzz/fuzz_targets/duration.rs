//! `config::parse_duration` (`-t`, `-d`, `RINIT_GRACE`, `RINIT_TERM_DELAY`)
//! against an independent model: the grammar `DIGITS[.DIGITS][ms|s|m|h]`,
//! the value computed in floating point, and the 24 h ceiling.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rinit::config::parse_duration;
use std::time::Duration;

const DAY_MICROS: f64 = 86_400_000_000.0;

/// The value in microseconds the grammar gives `text`, or None when it is
/// not a duration at all.
fn model(text: &str) -> Option<f64> {
    let (number, unit) = ["ms", "s", "m", "h", ""]
        .iter()
        .find_map(|u| text.strip_suffix(u).map(|n| (n, *u)))?;
    let micros_per_unit = match unit {
        "ms" => 1e3,
        "" | "s" => 1e6,
        "m" => 60e6,
        _ => 3600e6,
    };
    let (whole, fraction) = match number.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (number, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return None;
    }
    Some(number.parse::<f64>().ok()? * micros_per_unit)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let got = parse_duration(text);
    if let Err(e) = &got {
        assert!(!e.is_empty());
    }
    if let Ok(d) = got {
        assert!(d <= Duration::from_secs(86_400), "{text:?} -> {d:?}");
    }
    match (model(text), &got) {
        (None, Ok(d)) => panic!("{text:?} is not a duration but parsed as {d:?}"),
        (None, Err(_)) => {}
        (Some(micros), Ok(d)) => {
            let diff = (d.as_micros() as f64 - micros).abs();
            // Rounded to the microsecond; f64 is exact far below that here.
            assert!(
                diff <= 0.5 + micros * 1e-12,
                "{text:?}: {d:?} vs {micros} us"
            );
        }
        (Some(micros), Err(e)) => {
            // Only the ceiling may refuse a well-formed duration.
            let allowed = micros > DAY_MICROS - 1.0;
            assert!(allowed, "{text:?} ({micros} us) refused: {e}");
        }
    }
});
