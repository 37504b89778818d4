//! `Config`: what rinit was asked to do, typed and validated.
//!
//! Every user error (a bad flag, a bad variable, a missing command) is
//! found while building this, before rinit makes its first syscall, so a
//! usage error never leaves a half-started child behind.

use std::ffi::CString;
use std::time::Duration;

use crate::exit::Remap;
use crate::signals::Rewrite;

/// Which program rinit stands in for, from the basename of `argv[0]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Personality {
    Rinit,
    /// `tini`, `tini-static`, `docker-init`.
    Tini,
    /// `dumb-init`.
    DumbInit,
    /// `catatonit` (podman's init, and its pause binary as `catatonit -P`).
    Catatonit,
}

impl Personality {
    pub fn from_argv0(argv0: &[u8]) -> Personality {
        let base = argv0.rsplit(|&b| b == b'/').next().unwrap_or(argv0);
        match base {
            b"tini" | b"tini-static" | b"docker-init" => Personality::Tini,
            b"dumb-init" => Personality::DumbInit,
            b"catatonit" => Personality::Catatonit,
            _ => Personality::Rinit,
        }
    }

    /// This personality's bit in an option's set of personalities
    /// (`cli::OPTIONS`).
    pub const fn bit(self) -> u8 {
        1 << self as u8
    }

    /// The grace period when neither `-t` nor `RINIT_GRACE` says otherwise.
    pub fn default_grace(self) -> Duration {
        match self {
            Personality::Rinit => Duration::from_secs(5),
            Personality::Tini | Personality::DumbInit | Personality::Catatonit => Duration::ZERO,
        }
    }
}

/// Where forwarded signals go while the main child runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForwardTo {
    /// The main child's pid only.
    Child,
    /// The main child's process group (`kill(-pgid)`).
    Group,
}

/// What rinit runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Run this command (argv, never empty) as the main child.
    Command(Vec<CString>),
    /// `--pause`: no child; reap, and exit 0 on SIGTERM or SIGINT.
    Pause,
}

/// The signal state the child starts with (SPEC "Signals").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildSignals {
    /// rinit: an empty mask, and exactly the ignores rinit inherited.
    Clean,
    /// tini: the mask rinit inherited, and the ignores it inherited.
    InheritedMask,
    /// dumb-init: an empty mask and every disposition back to default.
    AllDefault,
}

/// Who releases the processes that exit (`RINIT_REAP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reap {
    /// The kernel, where it keeps the main child's exit status for rinit
    /// (Linux 6.15 and later) and no one asked to hear of every reap;
    /// rinit otherwise.
    Auto,
    /// rinit itself: `waitpid` on every SIGCHLD.
    Wait,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub personality: Personality,
    pub mode: Mode,
    pub forward: ForwardTo,
    /// The child starts a new session (dumb-init) rather than only a group.
    pub setsid: bool,
    pub child_signals: ChildSignals,
    /// `-s`: become a child subreaper when not PID 1.
    pub subreaper: bool,
    pub pdeathsig: Option<i32>,
    pub rewrite: Rewrite,
    pub remap: Remap,
    pub grace: Duration,
    pub term_delay: Duration,
    pub warn_on_reap: bool,
    pub verbosity: u8,
    pub reap: Reap,
}

impl Config {
    /// Whether the kernel may release rinit's children without telling it
    /// which (`Reap::Auto`, and neither `-w` nor verbosity 3, `-vv`, wants
    /// each one).
    pub fn kernel_may_reap(&self) -> bool {
        self.reap == Reap::Auto
            && !self.warn_on_reap
            && self.verbosity < crate::log::DEBUG
            // dumb-init's -v tells of every SIGCHLD and every child reaped.
            && !(self.personality == Personality::DumbInit && self.verbosity >= crate::log::INFO)
    }
}

/// Parses a duration: `500ms`, `5s`, `2m`, `1h`, or a bare number of
/// seconds. Fractions are allowed (`1.5s`, up to microseconds); at most
/// one day. Integer arithmetic only: float parsing would cost the static
/// binary about 15 KB.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("'{text}' is not a duration (use e.g. 500ms, 5s, 2m)");
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let micros_per_unit: u128 = match unit {
        "" | "s" => 1_000_000,
        "ms" => 1_000,
        "m" => 60_000_000,
        "h" => 3_600_000_000,
        _ => return Err(bad()),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (number.contains('.') && !digits(fraction)) {
        return Err(bad());
    }
    // Keep 12 fractional digits at most: finer than a microsecond of an hour.
    let fraction = &fraction[..fraction.len().min(12)];
    let too_long = || format!("'{text}' is too long (at most 24h)");
    // Leading zeros say nothing about the size (`007` is 7).
    let significant = whole.trim_start_matches('0');
    let whole: u128 = if significant.len() > 12 {
        return Err(too_long());
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let frac_value: u128 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().map_err(|_| bad())?
    };
    let scale = 10u128.pow(fraction.len() as u32);
    let micros = whole * micros_per_unit + (frac_value * micros_per_unit + scale / 2) / scale;
    if micros > 86_400_000_000 {
        return Err(too_long());
    }
    Ok(Duration::from_micros(micros as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for (text, ms) in [
            ("0", 0),
            ("5", 5000),
            ("5s", 5000),
            ("500ms", 500),
            ("2m", 120_000),
            ("1h", 3_600_000),
            ("1.5s", 1500),
            ("0.25", 250),
            ("24h", 86_400_000),
            ("0.001", 1),
            ("1.25m", 75_000),
            ("007", 7000),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
        }
        for bad in [
            "", "s", "-1", "5x", "5 s", "1.", ".5", "1..2", "5S", "25h", "1e3", "ms5",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} accepted");
        }
        assert!(parse_duration("5x").unwrap_err().contains("'5x'"));
    }

    /// Found by fuzzing (fuzz/fuzz_targets/duration.rs): leading zeros
    /// counted towards the 12-digit limit, so `0000000000001` (1 s) was
    /// refused as "too long".
    #[test]
    fn leading_zeros_do_not_make_a_duration_too_long() {
        assert_eq!(parse_duration("0000000000001"), Ok(Duration::from_secs(1)));
        assert_eq!(
            parse_duration("000000000000000000500ms"),
            Ok(Duration::from_millis(500))
        );
        assert_eq!(parse_duration("0000000000000"), Ok(Duration::ZERO));
        assert!(
            parse_duration("1000000000000")
                .unwrap_err()
                .contains("too long")
        );
    }

    #[test]
    fn personality_from_basename() {
        for (argv0, p) in [
            (&b"rinit"[..], Personality::Rinit),
            (b"/sbin/rinit", Personality::Rinit),
            (b"/sbin/docker-init", Personality::Tini),
            (b"tini", Personality::Tini),
            (b"/usr/bin/tini-static", Personality::Tini),
            (b"/usr/bin/dumb-init", Personality::DumbInit),
            (b"dumb-init-x", Personality::Rinit),
            (b"/usr/libexec/podman/catatonit", Personality::Catatonit),
            (b"/catatonit", Personality::Catatonit),
            (b"catatonit-rinit", Personality::Rinit),
            (b"/tini/rinit", Personality::Rinit),
            (b"", Personality::Rinit),
        ] {
            assert_eq!(Personality::from_argv0(argv0), p, "{argv0:?}");
        }
    }
}
