#!/usr/bin/env bash
# Builds and tests with the oldest Rust that Cargo.toml's rust-version
# promises, so the promise is checked, not guessed. Uses its own target
# directory so the main build's artefacts stay warm.
set -euo pipefail
cd "$(dirname "$0")/.."
msrv=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
rustup toolchain install "$msrv" --profile minimal >/dev/null
CARGO_TARGET_DIR=target/msrv cargo "+$msrv" test --locked
