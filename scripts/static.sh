#!/usr/bin/env bash
# Builds the static release binary for TARGET (default x86_64 musl), checks
# that it has no ELF interpreter (so it runs FROM scratch), prints its size
# and sha256, and, for the native target, runs the integration tests again
# against it. Installs the Rust target (and for aarch64 a cross linker).
#   scripts/static.sh [x86_64|aarch64|i686]-unknown-linux-musl
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-x86_64-unknown-linux-musl}
rustup target add "$target"
case $target in
  aarch64-*)
    if ! command -v aarch64-linux-gnu-gcc >/dev/null; then
      apt-get update -qq && apt-get install -y -qq gcc-aarch64-linux-gnu
    fi
    export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=aarch64-linux-gnu-gcc
    ;;
  i686-*)
    if ! command -v i686-linux-gnu-gcc >/dev/null; then
      apt-get update -qq && apt-get install -y -qq gcc-i686-linux-gnu
    fi
    export CARGO_TARGET_I686_UNKNOWN_LINUX_MUSL_LINKER=i686-linux-gnu-gcc
    ;;
esac
cargo build --release --locked --target "$target"
bin=target/$target/release/rinit
if readelf -l "$bin" | grep -q INTERP; then
  echo "FAIL: $bin is dynamically linked (it has PT_INTERP)" >&2
  exit 1
fi
size=$(stat -c %s "$bin")
echo "static: $bin has no PT_INTERP; $size bytes"
# The size budget: below both static C peers (tini-static 708 KB,
# catatonit 699 KB). README "Size" says where the bytes go.
if [ "$size" -gt 600000 ]; then
  echo "FAIL: $bin is $size bytes, over the 600,000-byte budget" >&2
  exit 1
fi
(cd "$(dirname "$bin")" && sha256sum rinit >rinit.sha256 && cat rinit.sha256)
case $target in
  aarch64-*)
    # Where qemu-user is installed, run it once to prove it starts.
    if command -v qemu-aarch64-static >/dev/null; then
      qemu-aarch64-static "$bin" --version
    fi
    ;;
esac
if [ "$target" = "$(uname -m)-unknown-linux-musl" ]; then
  RINIT_BIN="$PWD/$bin" cargo test --test core --test shutdown --test reaping --test personalities --test terminal --test faults
fi
# Foreign builds for real: the 32-bit build natively on x86_64 (a wrong
# kernel struct layout once left its children zombies), the aarch64 build
# under qemu-user (which never passes SA_NOCLDWAIT on: rinit must fall
# back to reaping, not hang).
case $target in
  i686-*)
    if [ "$(uname -m)" = x86_64 ]; then
      RINIT_BIN="$PWD/$bin" cargo test --test core --test shutdown --test reaping
    fi
    ;;
  aarch64-*)
    if [ "$(uname -m)" != aarch64 ] && command -v qemu-aarch64-static >/dev/null; then
      RINIT_BIN="$PWD/$bin" RINIT_RUNNER=qemu-aarch64-static \
        cargo test --test core --test shutdown --test reaping
    fi
    ;;
esac
