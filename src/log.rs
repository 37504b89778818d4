//! Verbosity-gated messages on stderr, worded by the personality's table
//! in `messages` (rinit's lines start `rinit: `).
//!
//! PID 1 must never block or die because of its own logging: stderr is
//! shared with the child and may be a pipe nobody reads. So a line is
//! formatted into a fixed buffer (no allocation), written only if `poll`
//! says stderr can take it now, and otherwise dropped and counted; the next
//! line that gets through says how many were lost. Write errors are ignored.

use std::fmt::{self, Write as _};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use crate::config::Personality;
use crate::messages::{self, Msg, Style};

/// 0 errors, 1 warnings (default), 2 signals and exits, 3 every reap.
static VERBOSITY: AtomicU8 = AtomicU8::new(1);
static DROPPED: AtomicU64 = AtomicU64::new(0);
/// Whose words (set once, before the child); rinit's until then.
static STYLE: OnceLock<&'static Style> = OnceLock::new();

pub const ERROR: u8 = 0;
pub const WARN: u8 = 1;
pub const INFO: u8 = 2;
pub const DEBUG: u8 = 3;

pub fn set_verbosity(level: u8) {
    VERBOSITY.store(level, Ordering::Relaxed);
}

pub fn set_personality(p: Personality) {
    let _ = STYLE.set(messages::style(p));
}

fn style() -> &'static Style {
    STYLE.get().copied().unwrap_or(&messages::RINIT)
}

pub fn enabled(level: u8) -> bool {
    level <= VERBOSITY.load(Ordering::Relaxed)
}

/// Lines dropped so far because stderr could not take them.
pub fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// A line buffer that truncates instead of failing. Under `PIPE_BUF`, so
/// a pipe that polls writable takes the whole line in one `write`.
struct Line {
    buf: [u8; 1024],
    len: usize,
}

impl fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.buf.len() - 1 - self.len; // keep one byte for '\n'
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Says `msg` in the personality's words, each line only if its level is
/// enabled.
pub fn say(msg: Msg) {
    let style = style();
    style.words(&msg, &mut |level, args| line(style, level, args));
}

/// A line of rinit's own wording (the macros below).
pub fn write(level: u8, args: fmt::Arguments) {
    say(Msg::Text { level, args });
}

fn line(style: &Style, level: u8, args: fmt::Arguments) {
    if !enabled(level) {
        return;
    }
    if !crate::sys::stderr_writable() {
        DROPPED.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let mut line = Line {
        buf: [0; 1024],
        len: 0,
    };
    let _ = style.prefix(level, &mut line);
    let _ = line.write_fmt(args);
    let dropped = DROPPED.swap(0, Ordering::Relaxed);
    if dropped > 0 {
        let _ = write!(
            line,
            " ({dropped} earlier messages dropped: stderr was full)"
        );
    }
    line.buf[line.len] = b'\n';
    crate::sys::write_stderr(&line.buf[..=line.len]);
}

#[macro_export]
macro_rules! error {
    ($($t:tt)*) => { $crate::log::write($crate::log::ERROR, format_args!($($t)*)) };
}
#[macro_export]
macro_rules! warn {
    ($($t:tt)*) => { $crate::log::write($crate::log::WARN, format_args!($($t)*)) };
}
#[macro_export]
macro_rules! info {
    ($($t:tt)*) => { $crate::log::write($crate::log::INFO, format_args!($($t)*)) };
}
#[macro_export]
macro_rules! debug {
    ($($t:tt)*) => { $crate::log::write($crate::log::DEBUG, format_args!($($t)*)) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_truncated_not_failed() {
        let mut line = Line {
            buf: [0; 1024],
            len: 0,
        };
        for _ in 0..100 {
            line.write_str("0123456789abcdef").unwrap();
        }
        assert_eq!(line.len, 1023);
    }
}
