#!/usr/bin/env bash
# End-to-end test of systemd socket activation through rinit:
# `systemd-socket-activate -l 127.0.0.1:PORT rinit -- APP` with a real TCP
# socket. The app (python3) must see LISTEN_PID = its own pid (rinit
# rewrites the value that named rinit itself), LISTEN_FDS=1, and accept a
# connection on fd 3; rinit must not keep the listener open after the app
# closed it.
#
#   tests/socket/activate.sh
#
# Installs systemd (for systemd-socket-activate) and python3 with apt-get
# where missing; prints `SKIP:` and exits 0 only if that fails. Ends with
# `N passed, N failed`; exits 1 on failure. RINIT_BIN picks the binary.
# Functions called through a trap or wait_for look unreachable; single
# quotes hold scripts for the container's shell.
# shellcheck disable=SC2317,SC2016,SC2015

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=${RINIT_BIN:-$repo/target/x86_64-unknown-linux-musl/release/rinit}
[[ $bin == /* ]] || bin=$PWD/$bin
# shellcheck source=tests/e2e-lib.sh
source "$repo/tests/e2e-lib.sh"

need=()
command -v systemd-socket-activate >/dev/null || need+=(systemd)
command -v python3 >/dev/null || need+=(python3)
if ((${#need[@]})); then
	apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! command -v systemd-socket-activate >/dev/null || ! command -v python3 >/dev/null; then
	echo "SKIP: systemd-socket-activate or python3 missing and not installable"
	echo "0 passed, 0 failed"
	exit 0
fi
if [[ ! -x $bin ]]; then
	(cd "$repo" && cargo build --release --locked --target x86_64-unknown-linux-musl) || {
		fail "build rinit"
		finish
	}
fi

work=$(mktemp -d /tmp/rinit-socket.XXXXXX)
activator=""
cleanup() {
	[[ -n $activator ]] && kill "$activator" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# The app: reports what it sees to the client, then closes the listener
# and says so on a second connection's absence (the client checks that
# the port refuses once nobody holds the socket).
cat >"$work/app.py" <<'PY'
import os, socket, sys
seen = "LISTEN_PID=%s pid=%d LISTEN_FDS=%s" % (
    os.environ.get("LISTEN_PID"), os.getpid(), os.environ.get("LISTEN_FDS"))
listener = socket.socket(fileno=3)
conn, _ = listener.accept()
conn.sendall((seen + "\n").encode())
conn.close()
listener.close()
# Stay alive until told: rinit must have let go of the socket by now.
sys.stdin.read()
PY
cat >"$work/client.py" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
end = time.time() + 20
while True:
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=20)
        break
    except OSError:
        if time.time() > end:
            raise
        time.sleep(0.05)
print(c.makefile().readline().strip())
PY

port=$((20000 + RANDOM % 20000))
mkfifo "$work/stdin"
systemd-socket-activate -l "127.0.0.1:$port" "$bin" -- python3 "$work/app.py" \
	<"$work/stdin" 2>"$work/err" &
activator=$!
exec 9>"$work/stdin"
seen=$(timeout 30 python3 "$work/client.py" "$port")
echo "      the app saw: $seen"
read -r lp pid fds <<<"$seen"
lp=${lp#LISTEN_PID=}
pid=${pid#pid=}
if [[ -n $pid && $lp == "$pid" ]]; then
	pass "the app sees LISTEN_PID = its own pid"
else
	fail "LISTEN_PID is '$lp', the app's pid '$pid'"
fi
[[ $fds == LISTEN_FDS=1 ]] && pass "LISTEN_FDS=1 passes through" || fail "LISTEN_FDS: '$fds'"
[[ $seen == *LISTEN_PID* ]] && pass "the app accepted a connection on fd 3" || fail "no answer on the socket"

# The app closed the listener and lives on: with nobody else holding it,
# the port now refuses connections.
refused=0
python3 - "$port" <<'PY' && refused=1
import socket, sys, time
end = time.time() + 10
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.2).close()
    except ConnectionRefusedError:
        sys.exit(0)
    except OSError:
        pass
    time.sleep(0.05)
sys.exit(1)
PY
((refused)) && pass "the listener is closed once the app closed it (rinit holds no copy)" ||
	fail "the port still accepts: rinit holds the listening socket"

exec 9>&-
wait "$activator"
code=$?
activator=""
[[ $code == 0 ]] && pass "the app and rinit exit 0" || fail "exit $code: $(cat "$work/err")"
finish
