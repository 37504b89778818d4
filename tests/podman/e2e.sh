#!/usr/bin/env bash
# End-to-end tests of rinit under podman: `podman run --init` with rinit
# as containers.conf's init_path (exit codes, podman stop, podman kill -s),
# and a pod whose pause image podman builds from rinit installed as the
# helper directory's `catatonit` (pod create, pod start, infra running as
# `/catatonit -P`, pod stop exits 0).
#
#   tests/podman/e2e.sh
#
# Everything is private to a temporary directory: containers.conf (passed
# through CONTAINERS_CONF), storage root and runroot (vfs driver), the
# helper directory, a FROM-scratch busybox image built offline. Nothing is
# pulled. Needs root. Installs podman, runc and busybox-static with apt-get
# where they are missing; prints `SKIP:` and exits 0 only if podman cannot
# be installed at all. Ends with `N passed, N failed`; exits 1 on failure.
#
# Environment:
#   RINIT_BIN  the binary to test (default: the static x86_64 musl build,
#              built when missing)
#   BUSYBOX    a static busybox for the image (default /bin/busybox)
#   PREFIX     prefix of image, container and pod names (default rinit-podman)
# Functions called through a trap or wait_for look unreachable; single
# quotes hold scripts for the container's shell.
# shellcheck disable=SC2317,SC2016,SC2015

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=${RINIT_BIN:-$repo/target/x86_64-unknown-linux-musl/release/rinit}
[[ $bin == /* ]] || bin=$PWD/$bin
busybox=${BUSYBOX:-/bin/busybox}
tag=${PREFIX:-rinit-podman}-$$

# shellcheck source=tests/e2e-lib.sh
source "$repo/tests/e2e-lib.sh"

# ------------------------------------------------------------ setup
need=()
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || command -v crun >/dev/null || need+=(runc)
[[ -x $busybox ]] && ldd "$busybox" 2>&1 | grep -q 'not a dynamic' || need+=(busybox-static)
if ((${#need[@]})); then
	apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! command -v podman >/dev/null; then
	echo "SKIP: podman is not installed and cannot be installed (apt-get install podman failed)"
	echo "0 passed, 0 failed"
	exit 0
fi
[[ -x $busybox ]] || busybox=/bin/busybox
if [[ ! -x $bin ]]; then
	(cd "$repo" && cargo build --release --locked --target x86_64-unknown-linux-musl) || die "build rinit"
fi

work=$(mktemp -d /tmp/rinit-podman.XXXXXX)
mkdir -p "$work/helpers" "$work/ctx/rootfs/bin"
cp "$bin" "$work/rinit"
# podman builds its pause image from the helper directory's `catatonit`.
cp "$bin" "$work/helpers/catatonit"
# crun refuses hybrid cgroup hierarchies; runc takes them.
runtime=runc
command -v runc >/dev/null || runtime=crun
cat >"$work/containers.conf" <<CONF
[containers]
# The podman default (nofile=1048576) is refused on some hosts.
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
init_path = "$work/rinit"
[engine]
runtime = "$runtime"
helper_binaries_dir = ["$work/helpers", "/usr/lib/podman", "/usr/libexec/podman"]
CONF
export CONTAINERS_CONF=$work/containers.conf
pm() { podman --root "$work/root" --runroot "$work/run" --storage-driver vfs "$@"; }
cleanup() {
	pm pod rm -f -a >/dev/null 2>&1
	pm rm -f -a >/dev/null 2>&1
	pm rmi -f -a >/dev/null 2>&1
	rm -rf "$work" 2>/dev/null || { umount -R "$work"/* 2>/dev/null; rm -rf "$work"; }
}
trap cleanup EXIT

cp "$busybox" "$work/ctx/rootfs/bin/busybox"
for a in sh sleep cat echo tr true kill; do ln -s busybox "$work/ctx/rootfs/bin/$a"; done
printf 'FROM scratch\nCOPY rootfs/ /\n' >"$work/ctx/Containerfile"
img=localhost/$tag:latest
pm build -q -t "$img" "$work/ctx" >/dev/null || die "podman build of the busybox image"
run() { pm run --pull=never --network none "$@"; }

# ------------------------------------------------------------ podman --init
echo "== podman run --init (init_path = rinit)"
out=$(run --rm --init "$img" sh -c 'tr "\0" " " </proc/1/cmdline; exit 7')
code=$?
check "exit code 7 passes through" 7 "$code"
case $out in
/run/podman-init\ --\ sh*) pass "PID 1 is rinit as /run/podman-init" ;;
*) fail "PID 1 is not the init: $out" ;;
esac
run --rm --init "$img" sh -c 'kill -KILL $$'
check "killed by SIGKILL: 137" 137 "$?"

run -d --init --name "$tag-stop" "$img" sleep 1000 >/dev/null
pm stop -t 30 "$tag-stop" >/dev/null
check "podman stop: SIGTERM reaches the app (143, not a SIGKILL's 137)" 143 \
	"$(pm inspect -f '{{.State.ExitCode}}' "$tag-stop")"

run -d --init --name "$tag-kill" "$img" sh -c \
	'trap "echo got-usr1; exit 3" USR1; echo ready; while :; do sleep 0.05; done' >/dev/null
for _ in $(seq 200); do pm logs "$tag-kill" 2>/dev/null | grep -q ready && break; sleep 0.05; done
pm kill -s USR1 "$tag-kill" >/dev/null
check "podman kill -s USR1: forwarded, the app exits 3" 3 "$(pm wait "$tag-kill")"
pm logs "$tag-kill" | grep -q got-usr1 && pass "the app saw SIGUSR1" || fail "the app did not see SIGUSR1"

# ------------------------------------------------------------ pods
echo "== podman pod (rinit as the helper directory's catatonit)"
pod=$tag-pod
if pm pod create --name "$pod" --network none >/dev/null; then pass "pod create"; else fail "pod create"; fi
if pm pod start "$pod" >/dev/null; then pass "pod start"; else fail "pod start"; fi
infra=$(pm pod inspect -f '{{.InfraContainerID}}' "$pod")
check "the infra container is running" running "$(pm inspect -f '{{.State.Status}}' "$infra" 2>&1)"
check "the infra runs /catatonit -P" "/catatonit -P" \
	"$(pm inspect -f '{{.Config.Entrypoint}}' "$infra")"
run -d --init --pod "$pod" --name "$tag-app" "$img" sleep 1000 >/dev/null
check "an app container runs in the pod" running "$(pm inspect -f '{{.State.Status}}' "$tag-app")"
start=${EPOCHREALTIME/./}
pm pod stop -t 30 "$pod" >/dev/null
ms=$(((${EPOCHREALTIME/./} - start) / 1000))
check "pod stop: the infra exits 0" 0 "$(pm inspect -f '{{.State.ExitCode}}' "$infra")"
echo "      pod stop took $ms ms (a stop timeout would be 30000)"
if ((ms < 15000)); then pass "pod stop needs no stop timeout"; else fail "pod stop took $ms ms"; fi

finish
