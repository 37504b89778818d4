#!/usr/bin/env bash
# Runs the integration tests against each foreign static build
# (target/static/rinit-ARCH, from `scripts/static.sh TARGET`) under
# qemu-user (i386 natively: it runs on any x86_64 kernel), in the default
# reaping mode, and times each architecture.
#
#   scripts/cross-test.sh ARCH|all
#     ARCH: arm64 armv7 armv6 386 ppc64le riscv64 s390x (Docker's names)
#
# What runs where (README "Architectures"): the whole integration suite
# (core, descriptors, faults, personalities, reaping, shutdown, terminal)
# on every architecture, under qemu-ARCH-static, i386 natively. Measured
# (scripts/cross-test.sh all, 2 shared cores): about 20 s an architecture
# under qemu, so the whole suite costs little more than a subset would.
# A test that cannot hold under qemu-user says "SKIPPED under a runner"
# with the measured reason (tests/common/mod.rs: emulated()).
#   RINIT_CROSS_SUBSET=1  only the named subset below on every ARCH but
#             arm64 (a quick local check): exit codes, death by signal,
#             forwarding from outside (every signal qemu can carry,
#             real-time ones included), exec errors, reaping as PID 1 in
#             both modes, the zombie main child, the grace shutdown
#             (stragglers and a joined process).
# The harness runs natively (it is plain Rust); only rinit is emulated
# (RINIT_BIN and RINIT_RUNNER, tests/common/mod.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

all="arm64 armv7 armv6 386 ppc64le riscv64 s390x"
full=(core shutdown reaping personalities faults descriptors terminal)
# The subset: test binaries, then exact test names in them.
subset_bins=(core reaping shutdown)
subset_names=(
  exit_codes_as_pid1               # exit codes, death by signal, -e
  exec_errors                      # 126 / 127, found by rinit itself
  forwards_every_signal_once       # every signal, real-time ones too, -g
  early_sigterm_is_never_lost      # a signal before the child exists
  warn_on_reap                     # orphans reaped as PID 1
  the_same_exit_codes_either_way   # both reaping modes, orphans, straggler
  the_main_childs_exit_shows_whether_the_kernel_releases
  under_qemu_user_a_zombie_main_child_is_reaped
  straggler_that_exits_on_term_ends_the_grace_period_early
  straggler_that_ignores_term_is_killed_at_the_deadline
  signals_during_grace_reach_the_stragglers
  a_joined_process_gets_sigterm_and_time_to_clean_up
)

runner_of() {
  case $1 in
    arm64) echo qemu-aarch64-static ;;
    armv7 | armv6) echo qemu-arm-static ;;
    386) echo "" ;;
    ppc64le) echo qemu-ppc64le-static ;;
    riscv64) echo qemu-riscv64-static ;;
    s390x) echo qemu-s390x-static ;;
    *)
      echo "cross-test.sh: unknown architecture '$1' (one of: $all, or all)" >&2
      exit 2
      ;;
  esac
}

if [ $# -ne 1 ]; then
  echo "usage: scripts/cross-test.sh ARCH|all   (ARCH: $all)" >&2
  exit 2
fi
arches=$1
[ "$arches" = all ] && arches=$all
for arch in $arches; do runner_of "$arch" >/dev/null; done

if ! command -v qemu-aarch64-static >/dev/null; then
  apt-get update -qq && apt-get install -y -qq qemu-user-static >/dev/null
fi

# Build the harness once (natively); every run below reuses it.
if ! out=$(cargo test --no-run "${full[@]/#/--test=}" 2>&1); then
  echo "$out" >&2
  exit 1
fi

# Every subset name must exist: a typo would otherwise run nothing.
listed=$(for bin in "${subset_bins[@]}"; do cargo test -q --test "$bin" -- --list 2>/dev/null; done)
for name in "${subset_names[@]}"; do
  grep -qx "$name: test" <<<"$listed" || {
    echo "cross-test.sh: no test named $name" >&2
    exit 1
  }
done

summary=()
failed=()
for arch in $arches; do
  bin=$PWD/target/static/rinit-$arch
  if [ ! -x "$bin" ]; then
    echo "cross-test.sh: no $bin: run scripts/static.sh for it first" >&2
    exit 1
  fi
  runner=$(runner_of "$arch")
  start=$SECONDS
  tests=()
  if [ -n "${RINIT_CROSS_SUBSET:-}" ] && [ "$arch" != arm64 ]; then
    what="subset (${#subset_names[@]} tests)"
    for t in "${subset_bins[@]}"; do tests+=(--test "$t"); done
    filter=(--exact "${subset_names[@]}")
  else
    what="full suite (${full[*]})"
    for t in "${full[@]}"; do tests+=(--test "$t"); done
    filter=()
  fi
  echo
  echo "=== $arch: $what, ${runner:-natively}"
  # Every architecture runs, whatever an earlier one did; the end says.
  result=passed
  RINIT_BIN=$bin RINIT_RUNNER=$runner cargo test -q --no-fail-fast "${tests[@]}" -- "${filter[@]}" ||
    { result=FAILED; failed+=("$arch"); }
  took=$((SECONDS - start))
  summary+=("$arch: $result, $what, ${runner:-native}: ${took} s")
done

echo
echo "=== cross tests"
printf '  %s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "cross-test.sh: FAILED on ${failed[*]}" >&2
  exit 1
fi
