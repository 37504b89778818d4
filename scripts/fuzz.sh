#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for SECONDS each (default 25),
# starting from the committed corpus (fuzz/corpus/<target>, read-only:
# new inputs go to a temporary directory), and prints the executions per
# target. Fails, printing the input, on the first crash; the crashing
# input is kept in fuzz/artifacts/ (git-ignored).
#   scripts/fuzz.sh [SECONDS]
#   scripts/fuzz.sh --merge SECONDS   also merge what was found into the
#                                     committed corpus (only inputs that add
#                                     coverage; keep it small)
# Needs a nightly toolchain and cargo-fuzz (installed if missing).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
merge=no
if [ "${1:-}" = "--merge" ]; then
  merge=yes
  shift
fi
secs=${1:-25}
targets=(duration signal rewrite remap env argv)

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz@0.13.2

# -O: the release profile of fuzz/Cargo.toml (debug assertions and overflow
# checks on for rinit); -s none: no sanitizer (the parsers have no unsafe).
flags=(-O -s none)
cargo +nightly fuzz build "${flags[@]}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p artifacts
printf '%-10s %14s %10s %8s\n' target executions seconds corpus
for t in "${targets[@]}"; do
  mkdir -p "$work/$t"
  log="$work/$t.log"
  if ! cargo +nightly fuzz run "${flags[@]}" "$t" "$work/$t" "corpus/$t" -- \
    -max_total_time="$secs" -timeout=10 -dict="dict/$t.dict" \
    -artifact_prefix="$PWD/artifacts/$t-" >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "FUZZ FAILURE: $t (input saved in fuzz/artifacts/)" >&2
    exit 1
  fi
  runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 \2/p' "$log")
  printf '%-10s %14s %10s %8s\n' "$t" "${runs% *}" "${runs#* }" "$(find "corpus/$t" -type f | wc -l)"
  if [ "$merge" = yes ]; then
    cargo +nightly fuzz run "${flags[@]}" "$t" "corpus/$t" "$work/$t" -- -merge=1 >"$log.merge" 2>&1
  fi
done
