#!/usr/bin/env bash
# The stress tests (tests/stress.rs, #[ignore]d in a plain `cargo test`):
# an orphan storm past pid_max with rinit's memory read before and after a
# million reaps, a signal storm of hundreds of thousands of standard and
# real-time signals while the child forks, and hundreds of SIGTERMs within
# rinit's first millisecond per mode. Each is bounded and stops by itself;
# figures are printed. Needs root (PID namespaces); skips loudly without.
#   scripts/stress.sh
# Sizes: RINIT_STRESS_REAPS (1000000), RINIT_STRESS_SIGNALS (300000),
# RINIT_STRESS_TRIALS (1000). RINIT_BIN runs them against another binary,
# e.g. the static release build that ships:
#   RINIT_BIN=$PWD/target/x86_64-unknown-linux-musl/release/rinit scripts/stress.sh
# (the harness and the test helper are the debug builds `cargo test` made).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --examples
cargo test --test stress -- --ignored --nocapture --test-threads 1
