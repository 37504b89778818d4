#!/usr/bin/env bash
# Builds the static release binary for TARGET (default x86_64 musl), checks
# it (no ELF interpreter, so it runs FROM scratch; the ELF class, byte order
# and machine of TARGET; the size budget), and copies it with its sha256 to
# target/static/rinit-ARCH, ARCH being Docker's name (amd64, arm64, armv7,
# armv6, 386, ppc64le, riscv64, s390x). For the native target it runs the
# integration tests again against it (unless RINIT_NO_TESTS is set);
# scripts/cross-test.sh tests the rest under qemu-user.
#
#   scripts/static.sh [TARGET|all]      (all: every target below, in turn)
#     x86_64-unknown-linux-musl        aarch64-unknown-linux-musl
#     armv7-unknown-linux-musleabihf   arm-unknown-linux-musleabi
#     i686-unknown-linux-musl          powerpc64le-unknown-linux-musl
#     riscv64gc-unknown-linux-musl     s390x-unknown-linux-musl
#
# How each is built ("route", printed and kept in target/static/ARCH.route):
#   rustup     rustup's prebuilt standard library for TARGET (GitHub's
#              runners have it for every musl target above).
#   build-std  where rustup has no std for TARGET (s390x everywhere, as
#              Rust ships no s390x musl std; armv7, armv6, ppc64le where
#              rustup's mirror lacks them): the pinned nightly
#              ($RINIT_NIGHTLY) builds std from rust-src against Debian's
#              musl for that architecture (multiarch musl-dev:DEBARCH).
#              s390x this way is 532 KB; static glibc would be 1,127 KB.
#   crt-static glibc linked statically (-C target-feature=+crt-static),
#              where neither rustup's musl std nor Debian's musl exist:
#              riscv64 on bookworm; s390x on an Ubuntu runner, whose
#              archive serves no foreign architectures (1,127 KB).
# Installs what it needs: the Rust target or nightly rust-src, the cross
# gcc (gcc-*-linux-gnu*), and multiarch musl-dev where build-std needs it.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-x86_64-unknown-linux-musl}
all_targets="x86_64-unknown-linux-musl aarch64-unknown-linux-musl armv7-unknown-linux-musleabihf
  arm-unknown-linux-musleabi i686-unknown-linux-musl powerpc64le-unknown-linux-musl
  riscv64gc-unknown-linux-musl s390x-unknown-linux-musl"
if [ "$target" = all ]; then
  for t in $all_targets; do
    start=$SECONDS
    "$0" "$t"
    echo "static: $t built and checked in $((SECONDS - start)) s"
  done
  exit 0
fi
nightly=${RINIT_NIGHTLY:-nightly-2026-05-20}

# Per target: Docker's arch name, Debian's arch and cross-gcc triple, and
# what readelf -h must say (class, data, machine).
case $target in
  x86_64-unknown-linux-musl) arch=amd64 deb=amd64 gnu=x86_64-linux-gnu elf="ELF64|little|X86-64" ;;
  aarch64-unknown-linux-musl) arch=arm64 deb=arm64 gnu=aarch64-linux-gnu elf="ELF64|little|AArch64" ;;
  armv7-unknown-linux-musleabihf) arch=armv7 deb=armhf gnu=arm-linux-gnueabihf elf="ELF32|little|ARM" ;;
  arm-unknown-linux-musleabi) arch=armv6 deb=armel gnu=arm-linux-gnueabi elf="ELF32|little|ARM" ;;
  i686-unknown-linux-musl) arch=386 deb=i386 gnu=i686-linux-gnu elf="ELF32|little|Intel 80386" ;;
  powerpc64le-unknown-linux-musl) arch=ppc64le deb=ppc64el gnu=powerpc64le-linux-gnu elf="ELF64|little|PowerPC64" ;;
  riscv64gc-unknown-linux-musl) arch=riscv64 deb=riscv64 gnu=riscv64-linux-gnu elf="ELF64|little|RISC-V" ;;
  s390x-unknown-linux-musl) arch=s390x deb=s390x gnu=s390x-linux-gnu elf="ELF64|big|IBM S/390" ;;
  *)
    echo "static.sh: unknown target '$target' (see the list at the top of $0)" >&2
    exit 2
    ;;
esac
host=$(uname -m)

apt_install() {
  apt-get update -qq && apt-get install -y -qq "$@" >/dev/null
}

# The cross C compiler links the binary (and, for build-std, musl's crt).
if [ "$gnu" != "$host-linux-gnu" ] && ! command -v "$gnu-gcc" >/dev/null; then
  apt_install "gcc-$gnu"
fi

# Whether Debian offers musl for this architecture (multiarch).
debian_musl() {
  dpkg -s "musl-dev:$deb" >/dev/null 2>&1 && return 0
  command -v dpkg >/dev/null || return 1
  local added=
  if ! dpkg --print-foreign-architectures | grep -qx "$deb"; then
    dpkg --add-architecture "$deb"
    added=1
  fi
  apt-cache show "musl-dev:$deb" >/dev/null 2>&1 && return 0
  apt-get update -qq >/dev/null 2>&1 || true
  apt-cache show "musl-dev:$deb" >/dev/null 2>&1 && return 0
  # Not served here (an Ubuntu archive has no foreign architectures): take
  # the architecture back out, or every later apt-get update fails on it.
  if [ -n "$added" ]; then
    dpkg --remove-architecture "$deb"
    apt-get update -qq >/dev/null 2>&1 || true
  fi
  return 1
}

# Choose the route.
build_target=$target
# RINIT_STATIC_ROUTE=crt-static forces the glibc route (to try it where
# musl exists).
if [ "${RINIT_STATIC_ROUTE:-}" = crt-static ]; then
  build_target=${target/musl/gnu}
  rustup target add "$build_target" >/dev/null
  route=crt-static
elif rustup target add "$target" >/dev/null 2>&1; then
  route=rustup
elif debian_musl; then
  route=build-std
elif rustup target add "${target/musl/gnu}" >/dev/null 2>&1; then
  # No musl at all (riscv64 on bookworm; an Ubuntu runner, whose archive
  # has no foreign architectures, for s390x): glibc, linked statically.
  echo "static: no prebuilt std and no Debian musl for $target: glibc, statically" >&2
  build_target=${target/musl/gnu}
  route=crt-static
else
  echo "static: rustup has no std for $target or ${target/musl/gnu}, and Debian no musl-dev:$deb" >&2
  exit 1
fi

cargo=(cargo)
flags=()
linker=$gnu-gcc
case $route in
  build-std)
    # Debian's musl for this architecture, and the nightly's std source.
    dpkg -s "musl-dev:$deb" >/dev/null 2>&1 || apt-get install -y -qq "musl-dev:$deb" >/dev/null
    if ! rustup run "$nightly" rustc -V >/dev/null 2>&1 ||
      ! rustup component list --toolchain "$nightly" --installed | grep -q rust-src; then
      rustup toolchain install "$nightly" --profile minimal -c rust-src >/dev/null
    fi
    cargo=(cargo "+$nightly" -Z "build-std=std,panic_abort")
    # Link with musl's crt and libc (Debian's gcc wrapper and specs), not
    # the Rust sysroot's self-contained copy, which build-std lacks.
    linker=${gnu%-gnu*}-musl${gnu##*-gnu}-gcc
    # std asks for libunwind (it is in rustup's musl std, not in rust-src):
    # gcc's static unwinder, libgcc_eh, has the same _Unwind_* interface.
    # With panic = "abort" it only ever walks the stack for a backtrace.
    unwind=$PWD/target/static-unwind/$deb
    mkdir -p "$unwind"
    cp "$("$linker" -print-file-name=libgcc_eh.a)" "$unwind/libunwind.a"
    # On some architectures (ppc64le) Debian's libgcc_eh finds unwind
    # tables through glibc's _dl_find_object, which musl lacks. Answer
    # "not found": a backtrace then stops there, and rinit never unwinds.
    printf 'int _dl_find_object(void *pc, void *result) { (void)pc; (void)result; return -1; }\n' \
      >"$unwind/dl_find_object.c"
    "$linker" -O2 -c "$unwind/dl_find_object.c" -o "$unwind/dl_find_object.o"
    "$gnu-ar" rs "$unwind/libunwind.a" "$unwind/dl_find_object.o" 2>/dev/null
    flags=(--config "target.$target.rustflags=[\"-C\",\"link-self-contained=no\",\"-C\",\"target-feature=+crt-static\",\"-L\",\"native=$unwind\"]")
    ;;
  crt-static)
    flags=(--config "target.$build_target.rustflags=[\"-C\",\"target-feature=+crt-static\"]")
    ;;
esac
if [ "$gnu" = "$host-linux-gnu" ]; then
  linker=cc
fi
upper=$(echo "$build_target" | tr 'a-z-' 'A-Z_')
export "CARGO_TARGET_${upper}_LINKER=$linker"
echo "static: $target via $route (cargo ${cargo[*]:1} --target $build_target, linker $linker)"
"${cargo[@]}" build --release --locked --target "$build_target" "${flags[@]}"
bin=target/$build_target/release/rinit

fail() {
  echo "FAIL: $bin: $*" >&2
  exit 1
}
headers=$(readelf -lh "$bin")
if grep -q INTERP <<<"$headers"; then
  fail "dynamically linked (it has PT_INTERP)"
fi
grep -q 'Type:.*EXEC' <<<"$headers" || fail "not a static executable: $(grep Type: <<<"$headers")"
IFS='|' read -r class data machine <<<"$elf"
grep -q "Class:.*$class" <<<"$headers" || fail "not $class"
grep -q "Data:.*$data endian" <<<"$headers" || fail "not $data-endian"
grep -q "Machine:.*$machine" <<<"$headers" || fail "machine is not $machine: $(grep Machine: <<<"$headers")"
case $target in
  armv7-*) grep -q 'Flags:.*hard-float' <<<"$headers" || fail "not hard-float" ;;
  arm-*) grep -q 'Flags:.*soft-float' <<<"$headers" || fail "not soft-float" ;;
esac
size=$(stat -c %s "$bin")
# The size budget, per route: 650,000 bytes for every musl build (on x86_64
# that is below both static C peers, tini-static 708 KB and catatonit
# 699 KB; the largest today is x86_64 at 614 KB, README "Architectures").
# Static glibc is 270-580 KB heavier for the same code (riscv64 878 KB,
# s390x 1,127 KB), so the crt-static route, used only where no musl
# exists, gets 1,200,000.
case $route in
  crt-static) budget=1200000 ;;
  *) budget=650000 ;;
esac
if [ "$size" -gt "$budget" ]; then
  fail "$size bytes, over its $budget-byte budget"
fi
mkdir -p target/static
cp "$bin" "target/static/rinit-$arch"
echo "$target $route" >"target/static/rinit-$arch.route"
(cd target/static && sha256sum "rinit-$arch" >"rinit-$arch.sha256")
echo "static: rinit-$arch ($target via $route): $machine $class $data-endian, no PT_INTERP, $size bytes (budget $budget)"
cat "target/static/rinit-$arch.sha256"

if [ "$target" = "$host-unknown-linux-musl" ] && [ -z "${RINIT_NO_TESTS:-}" ]; then
  RINIT_BIN="$PWD/$bin" cargo test --test core --test shutdown --test personalities --test terminal --test faults
fi
