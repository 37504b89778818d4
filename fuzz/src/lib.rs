//! How a fuzz input becomes an argv and an environment for
//! `rinit::cli::parse`. Shared by the `argv` fuzz target and
//! `tests/faults.rs`, which replays `corpus/argv/` against the real binary
//! (it includes this file by path, so it uses nothing but `std`).
//!
//! Format: `ARG0 \0 ARG1 \0 ... [\xff NAME=VALUE \0 NAME=VALUE ...]`.
//! Before the first 0xFF byte: the arguments, argv[0] first, separated by
//! NUL bytes (so no argument can contain NUL, as on a real command line).
//! After it: environment entries, NUL-separated, each split at its first
//! `=`; entries without `=` are skipped. Arguments and values may be any
//! other bytes, including invalid UTF-8.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// A decoded input: argv (with argv[0]) and environment entries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Input {
    pub argv: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
}

impl Input {
    pub fn decode(data: &[u8]) -> Input {
        let (args, env) = match data.iter().position(|&b| b == 0xff) {
            Some(i) => (&data[..i], Some(&data[i + 1..])),
            None => (data, None),
        };
        let argv = if args.is_empty() {
            Vec::new()
        } else {
            args.split(|&b| b == 0)
                .map(|a| OsString::from_vec(a.to_vec()))
                .collect()
        };
        let env = env
            .map(|e| {
                e.split(|&b| b == 0)
                    .filter_map(|entry| {
                        let eq = entry.iter().position(|&b| b == b'=')?;
                        Some((
                            OsString::from_vec(entry[..eq].to_vec()),
                            OsString::from_vec(entry[eq + 1..].to_vec()),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Input { argv, env }
    }

    /// The inverse of `decode` for inputs it can represent (no NUL or
    /// 0xFF in arguments, no NUL in names and values, no `=` in names).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, a) in self.argv.iter().enumerate() {
            if i > 0 {
                out.push(0);
            }
            out.extend_from_slice(a.as_bytes());
        }
        if !self.env.is_empty() {
            out.push(0xff);
            for (i, (k, v)) in self.env.iter().enumerate() {
                if i > 0 {
                    out.push(0);
                }
                out.extend_from_slice(k.as_bytes());
                out.push(b'=');
                out.extend_from_slice(v.as_bytes());
            }
        }
        out
    }

    /// The environment as `cli::parse` sees it: the first entry of that
    /// name, as a real `getenv` returns.
    pub fn var(&self, name: &str) -> Option<OsString> {
        self.env
            .iter()
            .find(|(k, _)| k.as_bytes() == name.as_bytes())
            .map(|(_, v)| v.clone())
    }
}
