//! Signal names and numbers, the set rinit blocks, and the rewrite table.
//!
//! Everything here is pure: no syscalls. Numbers are the Linux generic
//! ones (identical on x86_64 and aarch64). Real-time signals are named
//! relative to `RTMIN = 34`, the value glibc, Docker (`docker kill -s
//! RTMIN+3`) and procps use, so `RTMIN+3` means 37 whichever C library
//! rinit itself was linked with (musl's own `SIGRTMIN()` is 35).

use std::fmt;

pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGKILL: i32 = 9;
pub const SIGTERM: i32 = 15;
pub const SIGCHLD: i32 = 17;
pub const SIGCONT: i32 = 18;
pub const SIGSTOP: i32 = 19;
pub const SIGTSTP: i32 = 20;
pub const SIGTTIN: i32 = 21;
pub const SIGTTOU: i32 = 22;

/// The first real-time signal as glibc and Docker number it.
pub const RTMIN: i32 = 34;
/// The last signal the kernel knows.
pub const RTMAX: i32 = 64;

/// Standard signal names, indexed by number - 1.
const NAMES: [&str; 31] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

/// Other spellings people use for the same numbers.
const ALIASES: [(&str, i32); 4] = [("IOT", 6), ("POLL", 29), ("CLD", 17), ("UNUSED", 31)];

/// A signal number, 1..=64, printed the way people read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signal(pub i32);

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        match n {
            1..=31 => write!(f, "SIG{}", NAMES[(n - 1) as usize]),
            RTMIN => f.write_str("SIGRTMIN"),
            RTMAX => f.write_str("SIGRTMAX"),
            35..=48 => write!(f, "SIGRTMIN+{}", n - RTMIN),
            49..=63 => write!(f, "SIGRTMAX-{}", RTMAX - n),
            _ => write!(f, "signal {n}"),
        }
    }
}

/// Parses a signal as a user writes it: `TERM`, `SIGTERM`, `sigterm`, `15`,
/// `RTMIN`, `RTMIN+3`, `SIGRTMAX-1`. The error names what was wrong.
pub fn parse(text: &str) -> Result<i32, String> {
    let bad = || format!("'{text}' is not a signal (use a name like TERM, a number, or RTMIN+N)");
    if text.is_empty() {
        return Err(bad());
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<i32>() {
            Ok(n) if (1..=RTMAX).contains(&n) => Ok(n),
            _ => Err(format!("signal number {text} is out of range (1-{RTMAX})")),
        };
    }
    let upper = text.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(i) = NAMES.iter().position(|n| *n == name) {
        return Ok(i as i32 + 1);
    }
    if let Some((_, n)) = ALIASES.iter().find(|(a, _)| *a == name) {
        return Ok(*n);
    }
    let rt = |rest: &str, base: i32, sign: i32| -> Result<i32, String> {
        let offset = match rest {
            "" => 0,
            _ => {
                let digits = rest
                    .strip_prefix(if sign > 0 { '+' } else { '-' })
                    .ok_or_else(bad)?;
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                digits.parse::<i32>().map_err(|_| bad())?
            }
        };
        let n = base + sign * offset;
        if (RTMIN..=RTMAX).contains(&n) {
            Ok(n)
        } else {
            Err(format!(
                "'{text}' is outside the real-time range (RTMIN-RTMAX, {RTMIN}-{RTMAX})"
            ))
        }
    };
    if let Some(rest) = name.strip_prefix("RTMIN") {
        return rt(rest, RTMIN, 1);
    }
    if let Some(rest) = name.strip_prefix("RTMAX") {
        return rt(rest, RTMAX, -1);
    }
    Err(bad())
}

/// The signals rinit blocks and reads from its signalfd: every signal the
/// kernel lets a process block (all but KILL and STOP), as a raw kernel
/// mask with bit `n - 1` for signal `n`.
pub const fn blocked_mask() -> u64 {
    !(bit(SIGKILL) | bit(SIGSTOP))
}

/// The kernel mask bit of signal `n` (1..=64).
pub const fn bit(n: i32) -> u64 {
    1u64 << (n - 1)
}

/// Whether a signal can be caught (so blocked, read and forwarded).
pub fn catchable(n: i32) -> bool {
    (1..=RTMAX).contains(&n) && n != SIGKILL && n != SIGSTOP
}

/// The `-r FROM:TO` table: what each received signal is forwarded as.
/// `0` means "drop". The default maps every signal to itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Rewrite([u8; RTMAX as usize + 1]);

impl fmt::Debug for Rewrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let changed = (1..=RTMAX)
            .filter(|&n| self.get(n) != n)
            .map(|n| (n, self.get(n)));
        f.debug_map().entries(changed).finish()
    }
}

impl Default for Rewrite {
    fn default() -> Self {
        let mut table = [0u8; RTMAX as usize + 1];
        for (n, slot) in table.iter_mut().enumerate() {
            *slot = n as u8;
        }
        Rewrite(table)
    }
}

impl Rewrite {
    /// The signal to forward when `n` arrives (0 = drop it).
    pub fn get(&self, n: i32) -> i32 {
        self.0.get(n as usize).copied().map_or(n, i32::from)
    }

    /// Applies one `FROM:TO` spec. `TO` may be `0` (drop) or any signal,
    /// including KILL; `FROM` must be one rinit can receive and forward.
    pub fn add(&mut self, spec: &str) -> Result<(), String> {
        let (from, to) = spec
            .split_once(':')
            .ok_or_else(|| format!("'{spec}' is not a rewrite (use FROM:TO, e.g. TERM:QUIT)"))?;
        let from = parse(from)?;
        if !catchable(from) || from == SIGCHLD {
            return Err(format!(
                "{} cannot be rewritten: rinit never forwards it",
                Signal(from)
            ));
        }
        let to = if to == "0" { 0 } else { parse(to)? };
        self.0[from as usize] = to as u8;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling() {
        for (text, n) in [
            ("TERM", 15),
            ("SIGTERM", 15),
            ("sigterm", 15),
            ("term", 15),
            ("15", 15),
            ("1", 1),
            ("64", 64),
            ("HUP", 1),
            ("SYS", 31),
            ("PWR", 30),
            ("IOT", 6),
            ("RTMIN", 34),
            ("RTMIN+0", 34),
            ("RTMIN+3", 37),
            ("SIGRTMIN+30", 64),
            ("rtmax", 64),
            ("RTMAX-1", 63),
            ("RTMAX-30", 34),
        ] {
            assert_eq!(parse(text), Ok(n), "{text}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_signal() {
        for text in [
            "",
            "0",
            "65",
            "-1",
            "+3",
            "SIGFOO",
            "RTMIN+",
            "RTMIN+31",
            "RTMAX-31",
            "RTMIN-1",
            "RTMAX+1",
            "RTMIN+x",
            "SIG",
            "TERM ",
            "99999999999",
        ] {
            assert!(parse(text).is_err(), "{text:?} accepted");
        }
        assert!(parse("SIGFOO").unwrap_err().contains("'SIGFOO'"));
    }

    #[test]
    fn names_round_trip() {
        for n in (1..=RTMAX).filter(|n| !(32..RTMIN).contains(n)) {
            assert_eq!(parse(&Signal(n).to_string()), Ok(n), "{}", Signal(n));
        }
        // The C libraries' reserved signals have no name, only a number.
        assert_eq!(Signal(32).to_string(), "signal 32");
        assert_eq!(Signal(15).to_string(), "SIGTERM");
        assert_eq!(Signal(37).to_string(), "SIGRTMIN+3");
        assert_eq!(Signal(63).to_string(), "SIGRTMAX-1");
    }

    #[test]
    fn blocks_everything_but_kill_and_stop() {
        let mask = blocked_mask();
        assert_eq!(mask.count_ones(), 62);
        assert_eq!(mask & bit(SIGKILL), 0);
        assert_eq!(mask & bit(SIGSTOP), 0);
        for n in (1..=RTMAX).filter(|&n| catchable(n)) {
            assert_ne!(mask & bit(n), 0, "{n}");
        }
    }

    #[test]
    fn rewrite_table() {
        let mut table = Rewrite::default();
        assert_eq!(table.get(15), 15);
        table.add("TERM:QUIT").unwrap();
        table.add("10:0").unwrap();
        table.add("RTMIN+2:USR1").unwrap();
        table.add("INT:KILL").unwrap();
        assert_eq!(table.get(15), 3);
        assert_eq!(table.get(10), 0);
        assert_eq!(table.get(36), 10);
        assert_eq!(table.get(2), 9);
        assert_eq!(table.get(1), 1);
        for bad in [
            "TERM",
            "TERM:",
            ":TERM",
            "KILL:TERM",
            "STOP:1",
            "CHLD:TERM",
            "TERM:65",
            "x:y",
        ] {
            assert!(Rewrite::default().add(bad).is_err(), "{bad}");
        }
    }
}
