#!/usr/bin/env bash
# A Kubernetes-style pod on the Docker engine (what shareProcessNamespace
# gives): an infra container runs `rinit --pause` as PID 1 of the pod's PID
# namespace; app containers join it with `--pid=container:INFRA` and run
# rinit as their entrypoint, so rinit is not PID 1 there but a subreaper.
# Checks: an app's orphans are re-parented to its own rinit and reaped; when
# an app's main process ends, its rinit signals only its own tree (a
# neighbour container's process survives); no zombie is left; `docker stop`
# of the infra exits 0.
#
#   tests/docker/pod.sh
#
# Builds a FROM-scratch image (static busybox + the static rinit; nothing
# pulled). Prints `SKIP:` and exits 0 only if no Docker engine answers.
# Ends with `N passed, N failed`; exits 1 on failure.
#
# Environment:
#   RINIT_BIN  the binary to test (default: the static x86_64 musl build)
#   BUSYBOX    a static busybox (default /bin/busybox)
#   PREFIX     prefix of image and container names (default rinit-pod)
# Functions called through a trap or wait_for look unreachable; single
# quotes hold scripts for the container's shell.
# shellcheck disable=SC2317,SC2016,SC2015

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=${RINIT_BIN:-$repo/target/x86_64-unknown-linux-musl/release/rinit}
[[ $bin == /* ]] || bin=$PWD/$bin
busybox=${BUSYBOX:-/bin/busybox}
p=${PREFIX:-rinit-pod}-$$
img=$p-img:latest
# shellcheck source=tests/e2e-lib.sh
source "$repo/tests/e2e-lib.sh"
if ! docker version >/dev/null 2>&1; then
	echo "SKIP: no Docker engine answers"
	echo "0 passed, 0 failed"
	exit 0
fi
if ! ldd "$busybox" 2>&1 | grep -q 'not a dynamic'; then
	apt-get update -qq && apt-get install -y -qq busybox-static >/dev/null
	busybox=/bin/busybox
fi
if [[ ! -x $bin ]]; then
	(cd "$repo" && cargo build --release --locked --target x86_64-unknown-linux-musl) || die "build rinit"
fi

work=$(mktemp -d /tmp/rinit-pod.XXXXXX)
cleanup() {
	docker rm -f "$p-infra" "$p-a" "$p-b" "$p-c" >/dev/null 2>&1
	docker rmi -f "$img" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/rootfs/bin" "$work/rootfs/sbin"
cp "$busybox" "$work/rootfs/bin/busybox"
for a in sh sleep cat echo cut grep ps kill true; do ln -s busybox "$work/rootfs/bin/$a"; done
cp "$bin" "$work/rootfs/sbin/rinit"
printf 'FROM scratch\nCOPY rootfs/ /\n' >"$work/Dockerfile"
docker build -q -t "$img" "$work" >/dev/null || die "docker build"

in_infra() { docker exec "$p-infra" "$@"; }
# Every process of the pod's PID namespace as "PID STATE COMM".
procs() { in_infra sh -c 'for s in /proc/[0-9]*/stat; do cut -d" " -f1-3 "$s" 2>/dev/null; done'; }
no_zombies() { ! procs | grep -q ' Z$'; }
logs_have() { docker logs "$1" 2>&1 | grep -q "$2"; }

echo "== the infra container: rinit --pause"
docker run -d --name "$p-infra" "$img" /sbin/rinit --pause >/dev/null || die "start the infra"
check "the infra is PID 1 of the pod" "1 (rinit) S" "$(procs | grep rinit | head -1)"

echo "== an app joins the pod; its orphans go to its own rinit"
# The main child starts a subshell that leaves an orphan behind and exits;
# the orphan reports its parent once re-parented, then exits (a would-be
# zombie); the main child reports its own parent (the app's rinit).
docker run -d --name "$p-a" --pid="container:$p-infra" "$img" /sbin/rinit -- sh -c '
	( sh -c "while [ \$(cut -d\" \" -f4 /proc/\$\$/stat) = $$ ]; do sleep 0.02; done
	         echo orphan-parent \$(cut -d\" \" -f4 /proc/\$\$/stat)" & )
	echo main-parent $PPID
	exec sleep 1000' >/dev/null || die "start app a"
wait_for 20 logs_have "$p-a" orphan-parent || fail "the orphan never reported"
main=$(docker logs "$p-a" 2>&1 | grep main-parent | cut -d' ' -f2)
orphan=$(docker logs "$p-a" 2>&1 | grep orphan-parent | cut -d' ' -f2)
check "the orphan is re-parented to its app's rinit (a subreaper), not the infra" "$main" "$orphan"
if wait_for 20 no_zombies; then pass "the orphan is reaped: no zombie in the pod"; else
	fail "zombies: $(procs | grep ' Z$' | tr '\n' ' ')"
fi

echo "== an app's main process ends: only its own tree is signalled"
docker run -d --name "$p-b" --pid="container:$p-infra" "$img" /sbin/rinit -- sh -c \
	'echo ready-b; exec sleep 1000' >/dev/null || die "start app b"
wait_for 20 logs_have "$p-b" ready-b || fail "app b never started"
# App c: a straggler that reports SIGTERM, then the main process exits 5.
docker run -d --name "$p-c" --pid="container:$p-infra" "$img" /sbin/rinit -t 10s -- sh -c '
	sh -c "trap \"echo straggler-term; exit 0\" TERM; : >/ready-c; while :; do sleep 0.05; done" &
	while ! [ -e /ready-c ]; do sleep 0.02; done
	exit 5' >/dev/null || die "start app c"
check "app c exits with its main process's 5" 5 "$(docker wait "$p-c")"
logs_have "$p-c" straggler-term && pass "app c's straggler got SIGTERM" || fail "app c's straggler got no SIGTERM"
check "the neighbour app b still runs" true "$(docker inspect -f '{{.State.Running}}' "$p-b")"
check "the infra still runs" true "$(docker inspect -f '{{.State.Running}}' "$p-infra")"
if wait_for 20 no_zombies; then pass "no zombie left in the pod"; else
	fail "zombies: $(procs | grep ' Z$' | tr '\n' ' ')"
fi

echo "== docker stop of the infra"
docker stop -t 30 "$p-infra" >/dev/null
check "the infra exits 0 on SIGTERM" 0 "$(docker inspect -f '{{.State.ExitCode}}' "$p-infra")"
finish
