# shellcheck shell=bash
# What every end-to-end script under tests/ shares: its counters, its
# verdict line ('N passed, N failed', which CI reads) and a bounded wait.
# Sourced, not run.

passed=0
failed=0
pass() { passed=$((passed + 1)); printf 'PASS: %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL: %s\n' "$*"; }

# The verdict; exits 1 if anything failed.
finish() {
	printf '%d passed, %d failed\n' "$passed" "$failed"
	((failed == 0))
	exit $?
}

# A setup step failed: nothing after it can run.
die() {
	fail "$*"
	finish
}

check() { # check NAME WANT GOT
	if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1: want '$2', got '$3'"; fi
}

# wait_for SECONDS CMD...: until CMD succeeds (0), or 1 after SECONDS.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < end)) || return 1
		sleep 0.05
	done
}
