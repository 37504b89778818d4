#!/usr/bin/env bash
# End-to-end tests of rinit under a real Docker engine.
#
#   tests/docker/e2e.sh
#
# Builds the static binary if it is missing, builds the repository's
# Dockerfile and a FROM-scratch test image (static busybox + rinit, nothing
# pulled), then runs containers under the engine that `docker` talks to:
# docker stop, docker kill -s, exit codes, zombie reaping, the grace
# shutdown, and Docker's own `--init` with rinit as the daemon's init-path
# (in a second, private dockerd that the script starts and stops).
#
# Prints PASS/FAIL per check and ends with the line `N passed, N failed`;
# exits 1 if any check failed. If no Docker engine answers it prints
# `SKIP: ...` and exits 0. Needs root: the private dockerd runs in a network
# namespace of its own (`unshare --net`, so that it cannot touch the main
# engine's docker0), and busybox-static is apt-get installed when no static
# busybox is present. Warns when the binary is older than the sources; it
# does not rebuild it then. Takes about 30 s.
#
# Environment:
#   RINIT_BIN  test this binary instead of target/x86_64-unknown-linux-musl/
#              release/rinit (then nothing is built)
#   BUSYBOX    a static busybox to put in the test image (default /bin/busybox)
#   DOCKERD    the dockerd to start for the --init test (default: dockerd)

# Functions called only through wait_until, a trap or a variable look
# unreachable to shellcheck.
# shellcheck disable=SC2317

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
target=x86_64-unknown-linux-musl
bin=${RINIT_BIN:-$repo/target/$target/release/rinit}
[[ $bin == /* ]] || bin=$PWD/$bin
busybox=${BUSYBOX:-/bin/busybox}
dockerd=${DOCKERD:-dockerd}

script_start=${EPOCHREALTIME/./}
passed=0
failed=0
id="$$-$RANDOM"
prefix="rinit-e2e-$id"            # container names
img="rinit-e2e-app:$id"           # the test image (busybox + rinit)
dist="rinit-e2e-dist:$id"         # the repository's Dockerfile
work=""
d2dir=""
d2pid=""
d2sock=""

# ---------------------------------------------------------------- helpers

pass() { passed=$((passed + 1)); printf 'PASS: %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL: %s\n' "$*"; }
info() { printf '      %s\n' "$*"; }
section() { printf '\n== %s\n' "$*"; }

finish() {
	local us=$((${EPOCHREALTIME/./} - script_start))
	printf '\nrinit e2e took %s s\n' "$(fmt_us "$us")"
	printf '%d passed, %d failed\n' "$passed" "$failed"
	if ((failed > 0)); then exit 1; fi
	exit 0
}

# A setup step failed: nothing after it can run.
die() {
	fail "$*"
	finish
}

now_us() { printf '%s' "${EPOCHREALTIME/./}"; }

# fmt_us MICROSECONDS -> "1.23"
fmt_us() { printf '%d.%02d' $(($1 / 1000000)) $((($1 % 1000000) / 10000)); }

# wait_until SECONDS CMD...: run CMD every 50 ms until it succeeds (0) or
# SECONDS have passed (1).
wait_until() {
	local end=$((${EPOCHREALTIME/./} + $1 * 1000000))
	shift
	while :; do
		"$@" && return 0
		((${EPOCHREALTIME/./} >= end)) && return 1
		sleep 0.05
	done
}

# Every docker call has a deadline, so a wedged engine fails the run
# instead of hanging it.
dk() { timeout 60 docker "$@"; }
dk2() { timeout 60 docker -H "unix://$d2sock" "$@"; }

cname() { printf '%s-%s' "$prefix" "$1"; }

# logs_have DOCKER-FUNC CONTAINER LINE
logs_have() { "$1" logs "$2" 2>&1 | grep -qxF -- "$3"; }
exists() { [[ -e $1 ]]; }
running() { [[ $("${2:-dk}" inspect -f '{{.State.Running}}' "$1" 2>/dev/null) == true ]]; }
# The container's PID 1 (seen from here) has blocked the signals it reads
# from its signalfd: it is ready for them.
pid1_ready() {
	local pid
	pid=$(dk inspect -f '{{.State.Pid}}' "$1" 2>/dev/null) && [[ $pid != 0 ]] &&
		grep -qE '^SigBlk:[[:space:]]*0*[1-9a-f]' "/proc/$pid/status" 2>/dev/null
}
# The container runs rinit and its child: `docker top` lists both.
has_child() { (($(dk top "$1" 2>/dev/null | wc -l) >= 3)); }
has_child2() { (($(dk2 top "$1" 2>/dev/null | wc -l) >= 3)); }
logs_match() { dk logs "$1" 2>&1 | grep -q -- "$2"; }

# exit_code DOCKER-FUNC CONTAINER: wait for it to end, print its exit code.
exit_code() {
	local code
	code=$("$1" wait "$2" 2>/dev/null) || code="none (docker wait: timed out or failed)"
	printf '%s' "$code"
}

is_static_elf() {
	local hdrs
	[[ -f $1 && -x $1 ]] || return 1
	hdrs=$(readelf -lW "$1" 2>/dev/null) || return 1
	! grep -qw INTERP <<<"$hdrs"
}

d2_alive() { [[ -n $d2pid ]] && kill -0 "$d2pid" 2>/dev/null; }
d2_gone() { ! d2_alive; }
d2_answers() { d2_alive && dk2 version >/dev/null 2>&1; }
d2_settled() { d2_answers || d2_gone; }

stop_dockerd2() {
	[[ -n $d2pid ]] || return 0
	if kill -0 "$d2pid" 2>/dev/null; then
		kill -TERM "$d2pid" 2>/dev/null
		if ! wait_until 30 d2_gone; then
			printf 'e2e: dockerd %s ignored SIGTERM for 30 s: SIGKILL\n' "$d2pid" >&2
			kill -KILL "$d2pid" 2>/dev/null
		fi
	fi
	wait "$d2pid" 2>/dev/null
	d2pid=""
	# Its containerd and shims stop with it; anything left that still runs
	# from our private directories was started by this script: end it by pid.
	local pids=() p
	for p in /proc/[0-9]*; do
		if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "$d2dir"; then
			pids+=("${p#/proc/}")
		fi
	done
	if ((${#pids[@]})); then
		printf 'e2e: ending leftover processes of the private dockerd: %s\n' "${pids[*]}" >&2
		kill -KILL "${pids[@]}" 2>/dev/null
	fi
}

# Unmount whatever is still mounted under $1 (deepest first).
unmount_under() {
	local m
	awk -v dir="$1" '$5 == dir || index($5, dir "/") == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
}

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	local c
	if ((rc == 130 || rc == 143)); then
		printf '\ne2e: interrupted: cleaning up\n' >&2
	fi
	for c in $(docker ps -aq --filter "name=^$prefix-" 2>/dev/null); do
		timeout 30 docker rm -f "$c" >/dev/null 2>&1
	done
	timeout 60 docker rmi -f "$img" "$dist" >/dev/null 2>&1
	stop_dockerd2
	if [[ -n $work && -d $work ]]; then
		unmount_under "$work"
		rm -rf --one-file-system "$work"
	fi
	exit "$rc"
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- binary

section "static binary"
if [[ -n ${RINIT_BIN:-} ]]; then
	[[ -x $bin ]] || die "RINIT_BIN=$bin is not an executable file"
elif [[ ! -x $bin ]]; then
	printf 'building %s\n' "$bin"
	if command -v rustup >/dev/null; then
		rustup target add "$target" >/dev/null 2>&1 || info "rustup target add $target failed; trying the build anyway"
	fi
	(cd "$repo" && cargo build --release --target "$target") || die "cargo build --release --target $target"
	[[ -x $bin ]] || die "cargo build made no $bin"
else
	newer=$(find "$repo/src" "$repo/Cargo.toml" "$repo/Cargo.lock" "$repo/build.rs" -newer "$bin" -print -quit 2>/dev/null)
	if [[ -n $newer ]]; then
		info "WARNING: $newer is newer than the binary: testing the old build"
		info "(rebuild: cargo build --release --target $target)"
	fi
fi
version=$("$bin" --version 2>&1) || die "$bin --version failed: $version"
info "$bin: $version"
hash=${version##* - git.}
if is_static_elf "$bin"; then
	pass "no PT_INTERP: $(file -b "$bin" | cut -d, -f1,4)"
else
	fail "$bin is not a static executable: $(readelf -lW "$bin" 2>&1 | grep -i interp)"
fi

# ---------------------------------------------------------------- engine

if ! command -v docker >/dev/null; then
	printf '\n%s\nSKIP: no Docker engine answers: the docker CLI is not installed\n%s\n' "$(printf '#%.0s' {1..72})" "$(printf '#%.0s' {1..72})"
	((failed == 0)) || exit 1
	exit 0
fi
if ! engine=$(timeout 30 docker info --format '{{.ServerVersion}}' 2>&1) || [[ -z $engine ]]; then
	printf '\n%s\nSKIP: no Docker engine answers: %s\n%s\n' "$(printf '#%.0s' {1..72})" \
		"$(tail -n 1 <<<"${engine:-empty answer from docker info}")" "$(printf '#%.0s' {1..72})"
	((failed == 0)) || exit 1
	exit 0
fi
info "Docker engine $engine"

work=$(mktemp -d /tmp/rinit-e2e.XXXXXX) || die "mktemp"
chmod 755 "$work"

# ---------------------------------------------------------------- images

section "images"
if ! is_static_elf "$busybox"; then
	if [[ -z ${BUSYBOX:-} && $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
		printf 'installing busybox-static\n'
		{ timeout 300 apt-get update -qq && timeout 300 apt-get install -y -qq busybox-static; } >"$work/apt.log" 2>&1 ||
			{ tail -n 5 "$work/apt.log"; }
	fi
	is_static_elf "$busybox" || die "need a static busybox at $busybox (apt-get install busybox-static)"
fi

# The repository's Dockerfile, with the repository as the context (and its
# .dockerignore), as a user builds it; elsewhere a copy of the layout.
rel=${bin#"$repo"/}
if [[ $rel == "$bin" || ! -f $repo/.dockerignore ]] || ! grep -qxF "!$rel" "$repo/.dockerignore"; then
	distctx=$work/dist
	rel=target/$target/release/rinit
	mkdir -p "$distctx/${rel%/*}"
	cp "$repo/Dockerfile" "$repo/LICENSE" "$distctx/"
	cp "$bin" "$distctx/$rel"
else
	distctx=$repo
fi
if dk build --force-rm -q -f "$repo/Dockerfile" --build-arg "RINIT_BIN=$rel" -t "$dist" "$distctx" >"$work/build-dist.log" 2>&1; then
	pass "docker build of ./Dockerfile (context $distctx)"
else
	tail -n 15 "$work/build-dist.log"
	die "docker build of ./Dockerfile"
fi
out=$(dk run --rm --entrypoint /sbin/rinit "$dist" --version 2>&1)
if [[ $out == "$version" ]]; then
	pass "the image's /sbin/rinit --version: $out"
else
	fail "the image's /sbin/rinit --version: want '$version', got '$out'"
fi

# The test image: FROM scratch, a static busybox with all its applets in
# /bin, the test scripts in /e2e, and rinit taken from the image above
# the way the README tells users to.
ctx=$work/app
root=$ctx/rootfs
mkdir -p "$root/bin" "$root/tmp" "$root/e2e" "$root/out"
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
	[[ $applet == busybox || $applet == */* ]] || ln -s busybox "$root/bin/$applet"
done

# signals.sh: trap the signals of test b and say so on stdout; exit 42 on
# SIGTERM.
cat >"$root/e2e/signals.sh" <<'EOF'
#!/bin/sh
trap 'echo got HUP' HUP
trap 'echo got USR1' USR1
trap 'echo got WINCH' WINCH
# busybox sh knows no real-time names; Docker's RTMIN+3 is 34 + 3.
trap 'echo got RTMIN+3' 37
# A fault signal sent with kill (docker kill -s ABRT for a core dump).
trap 'echo got ABRT' ABRT
trap 'echo got TERM; exit 42' TERM
echo ready
# A foreground sleep: the shell runs a trap as soon as it returns.
while :; do sleep 0.1; done
EOF

# zombies.sh N SECONDS: make N orphans and print how many zombies are left
# once they have all exited (waiting up to SECONDS for the count to reach
# 0). Exits 0 if none is left.
cat >"$root/e2e/zombies.sh" <<'EOF'
#!/bin/sh
n=$1
tries=$(($2 * 20))
i=0
# Each ( ... & ) subshell exits at once: its background sleep is
# re-parented to PID 1 and is a zombie there when it ends.
while [ "$i" -lt "$n" ]; do
	(sleep 0.01 &)
	i=$((i + 1))
done
while :; do
	# [s]: the grep itself is not an orphan.
	live=$(ps -o stat,args | grep -v '^Z' | grep -c '[s]leep 0.01')
	zombies=$(ps -o stat | grep -c '^Z')
	if [ "$live" -eq 0 ] && [ "$zombies" -eq 0 ]; then break; fi
	tries=$((tries - 1))
	if [ "$tries" -le 0 ]; then break; fi
	sleep 0.05
done
echo "orphans=$n live=$live zombies=$zombies"
[ "$live" -eq 0 ] && [ "$zombies" -eq 0 ]
EOF

# grace.sh exit|stay: start a straggler in its own session that records
# SIGTERM in /out/marker (and then exits, or stays), then become the main
# process `sleep 1000`.
cat >"$root/e2e/grace.sh" <<'EOF'
#!/bin/sh
case $1 in
exit) action='echo straggler got TERM >>/out/marker; exit 0' ;;
stay) action='echo straggler got TERM and stays >>/out/marker' ;;
*) echo "usage: grace.sh exit|stay" >&2; exit 2 ;;
esac
setsid sh -c "trap '$action' TERM; echo up >/out/started; while :; do sleep 0.1; done" </dev/null >/dev/null 2>&1 &
exec sleep 1000
EOF
chmod 755 "$root"/e2e/*.sh

cat >"$ctx/Dockerfile" <<EOF
FROM scratch
COPY rootfs/ /
COPY --from=$dist /sbin/rinit /sbin/rinit
COPY --from=$dist /usr/share/doc/rinit/LICENSE /usr/share/doc/rinit/LICENSE
ENTRYPOINT ["/sbin/rinit", "--"]
EOF
if dk build --force-rm -q -t "$img" "$ctx" >"$work/build-app.log" 2>&1; then
	pass "test image FROM scratch with busybox and COPY --from=<rinit image>"
else
	tail -n 15 "$work/build-app.log"
	die "docker build of the test image"
fi
if dk run --rm "$img" cat /usr/share/doc/rinit/LICENSE | cmp -s - "$repo/LICENSE"; then
	pass "the image ships the LICENSE at /usr/share/doc/rinit/LICENSE"
else
	fail "/usr/share/doc/rinit/LICENSE in the image differs from ./LICENSE"
fi

# ---------------------------------------------------------------- a. stop

section "a. docker stop"
c=$(cname stop)
dk run -d --name "$c" "$img" sleep 1000 >/dev/null
if wait_until 15 has_child "$c"; then
	t0=$(now_us)
	dk stop "$c" >/dev/null
	with_us=$(($(now_us) - t0))
	code=$(exit_code dk "$c")
	if [[ $code == 143 ]] && ((with_us < 10000000)); then
		pass "docker stop with rinit: $(fmt_us "$with_us") s (timeout 10 s), exit code $code"
	else
		fail "docker stop with rinit: $(fmt_us "$with_us") s (timeout 10 s), exit code $code (want 143, under 10 s)"
	fi
else
	fail "docker stop: rinit's child never showed up in docker top"
	with_us=""
fi
dk rm -f "$c" >/dev/null 2>&1

c=$(cname stop-noinit)
dk run -d --name "$c" --entrypoint /bin/sleep "$img" 1000 >/dev/null
if wait_until 15 running "$c"; then
	t0=$(now_us)
	dk stop -t 2 "$c" >/dev/null
	without_us=$(($(now_us) - t0))
	code=$(exit_code dk "$c")
	info "without init (sleep is PID 1 and ignores SIGTERM): $(fmt_us "$without_us") s (timeout 2 s), exit code $code"
	if [[ -n $with_us ]]; then
		info "docker stop: with rinit $(fmt_us "$with_us") s, without $(fmt_us "$without_us") s (timeout 2 s)"
	fi
else
	info "the comparison container without init did not start"
fi
dk rm -f "$c" >/dev/null 2>&1

# --term-delay: rinit holds the SIGTERM for 1 s before forwarding it.
c=$(cname stop-delay)
dk run -d --name "$c" -e RINIT_TERM_DELAY=1s "$img" sleep 1000 >/dev/null
if wait_until 15 has_child "$c"; then
	t0=$(now_us)
	dk stop "$c" >/dev/null
	stop_us=$(($(now_us) - t0))
	code=$(exit_code dk "$c")
	if [[ $code == 143 ]] && ((stop_us >= 1000000 && stop_us < 10000000)); then
		pass "docker stop with RINIT_TERM_DELAY=1s: $(fmt_us "$stop_us") s, exit code $code"
	else
		fail "docker stop with RINIT_TERM_DELAY=1s: $(fmt_us "$stop_us") s (want 1 s to 10 s), exit code $code (want 143)"
	fi
else
	fail "term delay: rinit's child never showed up in docker top"
fi
dk rm -f "$c" >/dev/null 2>&1

# --pause: no command; SIGTERM ends it with 0.
c=$(cname pause)
dk run -d --name "$c" --entrypoint /sbin/rinit "$img" --pause >/dev/null
if wait_until 15 pid1_ready "$c"; then
	t0=$(now_us)
	dk stop "$c" >/dev/null
	stop_us=$(($(now_us) - t0))
	code=$(exit_code dk "$c")
	if [[ $code == 0 ]] && ((stop_us < 10000000)); then
		pass "docker stop of rinit --pause: $(fmt_us "$stop_us") s, exit code $code"
	else
		fail "docker stop of rinit --pause: $(fmt_us "$stop_us") s, exit code $code (want 0, under 10 s)"
	fi
else
	fail "rinit --pause never blocked its signals (or did not start); logs: $(dk logs "$c" 2>&1 | tail -n 3)"
fi
dk rm -f "$c" >/dev/null 2>&1

# ---------------------------------------------------------------- b. kill -s

section "b. docker kill -s"
# signals_case DOCKER-FUNC NAME "SIG..." RUN-ARGS...: run signals.sh, send
# each SIG with docker kill -s and wait for the app to report it, then
# docker stop: its TERM handler exits 42.
signals_case() {
	local dkf=$1 name=$2 sigs=$3 sig t0 c code
	shift 3
	c=$(cname "$name")
	"$dkf" run -d --name "$c" "$@" >/dev/null
	if ! wait_until 15 logs_have "$dkf" "$c" ready; then
		fail "$name: the app never printed 'ready'"
		"$dkf" logs "$c" 2>&1 | tail -n 10
		"$dkf" rm -f "$c" >/dev/null 2>&1
		return
	fi
	for sig in $sigs; do
		t0=$(now_us)
		if ! "$dkf" kill -s "$sig" "$c" >/dev/null; then
			fail "$name: docker kill -s $sig failed"
		elif wait_until 10 logs_have "$dkf" "$c" "got $sig"; then
			pass "docker kill -s $sig reached the app ($(fmt_us $(($(now_us) - t0))) s)"
		else
			fail "$name: docker kill -s $sig: the app did not report it within 10 s; logs:"
			"$dkf" logs "$c" 2>&1 | tail -n 10
		fi
	done
	if ! running "$c" "$dkf"; then
		fail "$name: the container ended after signals the app traps: exit code $(exit_code "$dkf" "$c")"
	else
		t0=$(now_us)
		"$dkf" stop "$c" >/dev/null
		t0=$(($(now_us) - t0))
		code=$(exit_code "$dkf" "$c")
		if [[ $code == 42 ]] && logs_have "$dkf" "$c" "got TERM"; then
			pass "docker stop: the app's TERM handler ran and its exit code came through: $code ($(fmt_us "$t0") s)"
		else
			fail "$name: docker stop: want 'got TERM' and exit code 42, got exit code $code; logs:"
			"$dkf" logs "$c" 2>&1 | tail -n 5
		fi
	fi
	"$dkf" rm -f "$c" >/dev/null 2>&1
}
signals_case dk signals "HUP USR1 WINCH RTMIN+3 ABRT" "$img" /e2e/signals.sh

# ---------------------------------------------------------------- c. exit codes

section "c. exit codes"
# check_exit DOCKER-FUNC NAME WANT [RUN-ARGS...]
check_exit() {
	local dkf=$1 name=$2 want=$3 code c
	shift 3
	c=$(cname "$name")
	if ! "$dkf" run -d --name "$c" "$@" >/dev/null 2>"$work/run.err"; then
		fail "$name: docker run failed: $(tail -n 1 "$work/run.err")"
		return
	fi
	code=$(exit_code "$dkf" "$c")
	if [[ $code == "$want" ]]; then
		pass "exit code of ${*: -1}: $code"
	else
		fail "exit code of ${*: -1}: want $want, got $code; logs:"
		"$dkf" logs "$c" 2>&1 | tail -n 5
	fi
	last_logs=$("$dkf" logs "$c" 2>&1)
	"$dkf" rm -f "$c" >/dev/null 2>&1
}
last_logs=""
check_exit dk exit0 0 "$img" sh -c 'exit 0'
check_exit dk exit3 3 "$img" sh -c 'exit 3'
check_exit dk exit255 255 "$img" sh -c 'exit 255'
check_exit dk killed 137 "$img" sh -c 'kill -KILL $$'
check_exit dk notfound 127 "$img" /no/such/command
if grep -qF "rinit: cannot run '/no/such/command'" <<<"$last_logs"; then
	pass "rinit says why: $(head -n 1 <<<"$last_logs")"
else
	fail "no 'rinit: cannot run' message for a missing command; logs: $last_logs"
fi
check_exit dk noexec 126 "$img" /usr/share/doc/rinit/LICENSE

# ---------------------------------------------------------------- d. zombies

section "d. zombies"
c=$(cname zombies)
dk run -d --name "$c" "$img" /e2e/zombies.sh 50 10 >/dev/null
code=$(exit_code dk "$c")
result=$(dk logs "$c" 2>&1 | grep '^orphans=')
if [[ $code == 0 ]]; then
	pass "rinit reaped every orphan: $result"
else
	fail "zombies under rinit: exit code $code, $result"
	dk logs "$c" 2>&1 | tail -n 5
fi
dk rm -f "$c" >/dev/null 2>&1

# The same app under a PID 1 that never reaps: proves the check sees zombies.
c=$(cname zombies-noinit)
dk run -d --name "$c" --entrypoint /bin/sh "$img" -c '/e2e/zombies.sh 50 1 & exec sleep 1000' >/dev/null
if wait_until 20 logs_match "$c" '^orphans='; then
	result=$(dk logs "$c" 2>&1 | grep '^orphans=')
	if [[ $result == *zombies=0 ]]; then
		fail "control without init found no zombies ($result): the zombie check cannot see them"
	else
		pass "control without init (sleep as PID 1): $result"
	fi
else
	fail "control without init: no result within 20 s"
fi
dk rm -f "$c" >/dev/null 2>&1

# ---------------------------------------------------------------- e. grace

section "e. grace shutdown"
# grace_case NAME MODE STOP-TIMEOUT [RUN-ARGS...]: run grace.sh MODE, wait
# for its straggler, docker stop it; sets stop_us, code, marker.
grace_case() {
	local name=$1 mode=$2 timeout=$3 dir
	shift 3
	c=$(cname "$name")
	dir=$work/$name
	mkdir -p "$dir"
	stop_us="" code="" marker=""
	dk run -d --name "$c" -v "$dir:/out" "$@" "$img" /e2e/grace.sh "$mode" >/dev/null
	if ! wait_until 15 exists "$dir/started"; then
		fail "$name: the straggler never started"
		dk logs "$c" 2>&1 | tail -n 5
		dk rm -f "$c" >/dev/null 2>&1
		return 1
	fi
	local t0
	t0=$(now_us)
	dk stop -t "$timeout" "$c" >/dev/null
	stop_us=$(($(now_us) - t0))
	code=$(exit_code dk "$c")
	marker=$(cat "$dir/marker" 2>/dev/null)
	dk rm -f "$c" >/dev/null 2>&1
}

if grace_case grace exit 10; then
	if [[ $marker == "straggler got TERM" && $code == 143 ]] && ((stop_us < 5000000)); then
		pass "straggler got SIGTERM after the main process ended and exited; stopped in $(fmt_us "$stop_us") s (grace 5 s), exit code $code"
	else
		fail "grace: marker '$marker', exit code $code (want 143), stop took $(fmt_us "$stop_us") s (want under the 5 s grace)"
	fi
fi
if grace_case grace-stay stay 8 -e RINIT_GRACE=1s; then
	if [[ $marker == "straggler got TERM and stays" && $code == 143 ]] &&
		((stop_us >= 900000 && stop_us < 8000000)); then
		pass "straggler that stays got SIGTERM, then SIGKILL after RINIT_GRACE=1s: stopped in $(fmt_us "$stop_us") s (docker's timeout 8 s), exit code $code"
	else
		fail "grace 1s, straggler stays: marker '$marker', exit code $code (want 143), stop took $(fmt_us "$stop_us") s (want 1 s to 8 s)"
	fi
fi

# ---------------------------------------------------------------- f. --init

section "f. dockerd --init-path rinit, docker run --init"
d2dir=$work/dockerd
mkdir -p "$d2dir/data" "$d2dir/exec"
printf '{}\n' >"$d2dir/daemon.json" # not /etc/docker/daemon.json: that is the main engine's
d2sock=$d2dir/docker.sock

if command -v "$dockerd" >/dev/null && command -v unshare >/dev/null; then
	t0=$(now_us)
	# In a network namespace of its own: with --bridge=none dockerd deletes
	# any interface called docker0, and the main engine's is in this one.
	unshare --net -- "$dockerd" --config-file "$d2dir/daemon.json" \
		--host "unix://$d2sock" \
		--data-root "$d2dir/data" --exec-root "$d2dir/exec" --pidfile "$d2dir/docker.pid" \
		--storage-driver vfs \
		--iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none \
		--init-path "$bin" \
		>"$d2dir/dockerd.log" 2>&1 &
	d2pid=$!
	wait_until 60 d2_settled
fi
if ! command -v "$dockerd" >/dev/null || ! command -v unshare >/dev/null; then
	fail "--init: need $dockerd and unshare (util-linux) to start a private engine"
elif ! d2_answers; then
	fail "--init: the private dockerd did not come up (pid ${d2pid}); its log ends:"
	tail -n 20 "$d2dir/dockerd.log"
else
	info "private dockerd up in $(fmt_us $(($(now_us) - t0))) s (pid $d2pid, $d2sock)"
	if dk save "$img" | dk2 load >"$d2dir/load.log" 2>&1; then
		pass "test image loaded into the private dockerd"
	else
		fail "docker save | docker load into the private dockerd: $(tail -n 3 "$d2dir/load.log")"
	fi

	# docker info runs `<init-path> --version` and shows the commit.
	d2info=$(dk2 info 2>&1)
	initline=$(grep -E '^ *Init Binary:' <<<"$d2info" | sed 's/^ *//')
	versionline=$(grep -E '^ *init version:' <<<"$d2info" | sed 's/^ *//')
	about_init='tini|rinit|docker-init|init[ -]?(path|binary|version)'
	info_warnings=$(grep -i 'warning' <<<"$d2info" | grep -iE "$about_init")
	log_warnings=$(grep -iE 'level=(warn|warning|error)' "$d2dir/dockerd.log" | grep -iE "$about_init")
	if [[ $initline == "Init Binary: $bin" && $versionline == "init version: $hash" &&
		-z $info_warnings && -z $log_warnings ]]; then
		pass "docker info: '$initline', '$versionline', no warning about the init"
	else
		fail "docker info: '$initline', '$versionline' (want init version: $hash)"
		[[ -z $info_warnings ]] || info "docker info warns: $info_warnings"
		[[ -z $log_warnings ]] || info "dockerd log warns: $log_warnings"
	fi

	run2=(run --rm --init --network none)
	out=$(dk2 "${run2[@]}" --entrypoint /bin/cat "$img" /proc/1/cmdline 2>&1 | tr '\0' ' ')
	if [[ $out == "/sbin/docker-init -- /bin/cat /proc/1/cmdline " ]]; then
		pass "PID 1 under --init: $out"
	else
		fail "PID 1 under --init: want '/sbin/docker-init -- /bin/cat /proc/1/cmdline', got '$out'"
	fi
	out=$(dk2 "${run2[@]}" --entrypoint /sbin/docker-init "$img" --version 2>&1)
	want="tini version ${version#rinit version }"
	want=${want/ - git./-rinit - git.}
	if [[ $out == "$want" ]]; then
		pass "/sbin/docker-init is rinit in its tini personality: $out"
	else
		fail "/sbin/docker-init --version: want '$want', got '$out'"
	fi

	signals_case dk2 init-signals "HUP RTMIN+3" --init --network none --entrypoint /e2e/signals.sh "$img"

	run2=(--init --network none --entrypoint /bin/sh "$img")
	check_exit dk2 init-exit0 0 "${run2[@]}" -c 'exit 0'
	check_exit dk2 init-exit7 7 "${run2[@]}" -c 'exit 7'
	check_exit dk2 init-killed 137 "${run2[@]}" -c 'kill -KILL $$'
	check_exit dk2 init-zombies 0 "${run2[@]}" -c '/e2e/zombies.sh 50 10'
	[[ -z $last_logs ]] || info "zombies under docker-init: $(grep '^orphans=' <<<"$last_logs")"

	c=$(cname init-stop)
	dk2 run -d --name "$c" --init --network none --entrypoint /bin/sleep "$img" 1000 >/dev/null
	if wait_until 15 has_child2 "$c"; then
		t0=$(now_us)
		dk2 stop "$c" >/dev/null
		stop_us=$(($(now_us) - t0))
		code=$(exit_code dk2 "$c")
		if [[ $code == 143 ]] && ((stop_us < 10000000)); then
			pass "docker stop under --init: $(fmt_us "$stop_us") s (timeout 10 s), exit code $code"
		else
			fail "docker stop under --init: $(fmt_us "$stop_us") s, exit code $code (want 143, under 10 s)"
		fi
	else
		fail "docker stop under --init: the child never showed up in docker top"
	fi
	dk2 rm -f "$c" >/dev/null 2>&1
fi
stop_dockerd2

# The private engine must leave the main one as it was.
if dk run --rm "$img" true >/dev/null 2>"$work/run.err"; then
	pass "the main engine still runs containers after the private dockerd stopped"
else
	fail "the main engine cannot run a container any more: $(head -n 1 "$work/run.err")"
fi

finish
