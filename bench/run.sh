#!/usr/bin/env bash
# Benchmarks rinit against tini, tini-static, dumb-init and catatonit.
#
#   bench/run.sh           # the full run (about 4 minutes, plus the build)
#   bench/run.sh --quick   # fewer rounds (under a minute)
#
# Installs the peers (Debian packages tini, dumb-init, catatonit) and
# valgrind if missing, builds the static rinit and the C helper
# bench/rbench.c, then runs bench/bench.py, which prints the table and
# writes bench/results.md. Needs root (PID namespaces) and gcc. Not part of
# the test suite; nothing here asserts. Bounded: RINIT_BENCH_TIMEOUT
# seconds at most (default 900), and every wait inside has a deadline.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "bench/run.sh: needs root (it runs each init as PID 1 of a new PID namespace)" >&2
  exit 2
fi

missing=()
for pair in tini:/usr/bin/tini tini:/usr/bin/tini-static dumb-init:/usr/bin/dumb-init \
  catatonit:/usr/bin/catatonit valgrind:/usr/bin/valgrind gcc:/usr/bin/gcc \
  python3:/usr/bin/python3 libc6-dev:/usr/lib/x86_64-linux-gnu/libc.a; do
  [ -e "${pair#*:}" ] || missing+=("${pair%%:*}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench/run.sh: installing ${missing[*]}" >&2
  timeout 300 apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 600 \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

target=x86_64-unknown-linux-musl
cargo build --release --locked --target "$target"
mkdir -p target/bench
gcc -O2 -static -Wall -o target/bench/rbench bench/rbench.c

exec timeout --kill-after=10 "${RINIT_BENCH_TIMEOUT:-900}" \
  python3 bench/bench.py --rinit "target/$target/release/rinit" --rbench target/bench/rbench \
  --command "bench/run.sh${*:+ $*}" "$@"
