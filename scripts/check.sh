#!/usr/bin/env bash
# What every change must pass: formatting, clippy (rinit and xtask), every
# test (the PID 1 tests need root: they skip, saying so, without it), and
# the man page being up to date with the clap definitions.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test
cargo run -q -p xtask -- man --check
