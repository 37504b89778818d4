//! The one table from "what happened" to rinit's exit code.
//!
//! 125/126/127 follow `docker run`, `env`, `timeout` and `nohup`, so a
//! caller can tell "rinit failed" from "the command failed".

/// rinit itself failed: a usage error, or a syscall it cannot go on without.
pub const RINIT_FAILED: u8 = 125;
/// The command was found but could not be executed.
pub const CANNOT_EXECUTE: u8 = 126;
/// The command was not found.
pub const NOT_FOUND: u8 = 127;

/// How the main child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It called `exit(n)`; only the low 8 bits survive `waitpid`.
    Exited(u8),
    /// A signal killed it.
    Signaled(i32),
}

impl Outcome {
    /// Decodes a raw `waitpid` status; `None` for stop/continue reports.
    pub fn from_wait_status(status: i32) -> Option<Outcome> {
        if libc::WIFEXITED(status) {
            Some(Outcome::Exited(libc::WEXITSTATUS(status) as u8))
        } else if libc::WIFSIGNALED(status) {
            Some(Outcome::Signaled(libc::WTERMSIG(status)))
        } else {
            None
        }
    }
}

/// The set of codes `-e` turns into 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Remap([u64; 4]);

impl Remap {
    pub fn insert(&mut self, code: u8) {
        self.0[usize::from(code / 64)] |= 1 << (code % 64);
    }

    pub fn contains(&self, code: u8) -> bool {
        self.0[usize::from(code / 64)] & (1 << (code % 64)) != 0
    }

    /// Parses one `-e` value: an integer 0-255.
    pub fn add(&mut self, text: &str) -> Result<(), String> {
        match text.parse::<u8>() {
            Ok(code) if !text.starts_with('+') => {
                self.insert(code);
                Ok(())
            }
            _ => Err(format!("'{text}' is not an exit code (0-255)")),
        }
    }
}

/// rinit's exit code for the main child's outcome.
pub fn code(outcome: Outcome, remap: &Remap) -> u8 {
    let computed = match outcome {
        Outcome::Exited(n) => n,
        // 128 + signal, wrapped like a shell's `$?` (signals go up to 64).
        Outcome::Signaled(sig) => (128 + sig) as u8,
    };
    if remap.contains(computed) {
        0
    } else {
        computed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let none = Remap::default();
        for (outcome, want) in [
            (Outcome::Exited(0), 0),
            (Outcome::Exited(1), 1),
            (Outcome::Exited(125), 125),
            (Outcome::Exited(255), 255),
            (Outcome::Signaled(1), 129),
            (Outcome::Signaled(9), 137),
            (Outcome::Signaled(15), 143),
            (Outcome::Signaled(64), 192),
        ] {
            assert_eq!(code(outcome, &none), want, "{outcome:?}");
        }
    }

    #[test]
    fn remap_applies_to_the_computed_code() {
        let mut remap = Remap::default();
        remap.add("143").unwrap();
        remap.add("255").unwrap();
        remap.add("0").unwrap();
        assert_eq!(code(Outcome::Signaled(15), &remap), 0);
        assert_eq!(code(Outcome::Exited(255), &remap), 0);
        assert_eq!(code(Outcome::Exited(143), &remap), 0);
        assert_eq!(code(Outcome::Exited(142), &remap), 142);
        assert_eq!(code(Outcome::Exited(254), &remap), 254);
        assert_eq!(code(Outcome::Signaled(9), &remap), 137);
        assert!(remap.contains(0) && !remap.contains(1) && !remap.contains(64));
    }

    #[test]
    fn remap_rejects_what_is_not_a_code() {
        for bad in ["", "256", "-1", "+1", "x", "1.0", " 1"] {
            assert!(Remap::default().add(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn wait_status_decoding() {
        assert_eq!(Outcome::from_wait_status(3 << 8), Some(Outcome::Exited(3)));
        assert_eq!(Outcome::from_wait_status(15), Some(Outcome::Signaled(15)));
        assert_eq!(
            Outcome::from_wait_status(0x80 | 6),
            Some(Outcome::Signaled(6))
        );
        // A stopped child (0x7f in the low byte) is not an outcome.
        assert_eq!(Outcome::from_wait_status((19 << 8) | 0x7f), None);
    }
}
