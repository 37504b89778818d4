#!/usr/bin/env python3
"""rinit against tini, tini-static, dumb-init and catatonit.

Run through bench/run.sh, which installs the peers, builds the static rinit
and the C helper (bench/rbench.c), then calls this. Needs root (PID
namespaces). Every measurement runs the inits interleaved in one run (A B C
D A B C D ...) or side by side at the same time; each init's figure is
reported with its ratio to the best peer (tini, tini-static, dumb-init,
catatonit). rinit has a second column, "rinit (wait)": the same binary with
RINIT_REAP=wait, its classic waitpid reaping instead of the kernel's. Every
wait has a deadline. Not a test: nothing here asserts.
"""

import argparse
import datetime
import json
import random
import os
import platform
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import time

ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
USR1 = 10
PEERS = ["tini", "tini-static", "dumb-init", "catatonit"]
# rinit's second column: the same binary, forced onto the classic reaping
# path (a waitpid loop on every SIGCHLD) instead of its default.
WAIT = "rinit (wait)"


class Init:
    """One column: a binary, its one-flag variant (the flag that sends
    signals to the process group, or dumb-init's nearest one-flag
    equivalent), and the variables it gets on top of ENV. `same_as` names
    the column whose binary this one shares (no size row of its own, and
    only the reaping targets)."""

    def __init__(self, binary, flag="-g", env=None, same_as=None):
        self.binary, self.flag, self.env, self.same_as = binary, flag, dict(env or {}), same_as

    def argv(self, *flags):
        """The argv prefix before the command."""
        return [self.binary, *flags, "--"]

    def environ(self, **extra):
        return dict(ENV, **self.env, **extra)


def inits(rinit):
    return {
        "rinit": Init(rinit),
        WAIT: Init(rinit, env={"RINIT_REAP": "wait"}, same_as="rinit"),
        "tini": Init("/usr/bin/tini"),
        "tini-static": Init("/usr/bin/tini-static"),
        # dumb-init already sends signals to the group by default (its child
        # leads a session); -c (single child) is its nearest one flag.
        "dumb-init": Init("/usr/bin/dumb-init", flag="-c"),
        "catatonit": Init("/usr/bin/catatonit"),
    }


# ------------------------------------------------------------------ helpers


def pct(xs, p):
    """The p-th percentile (nearest rank on sorted data, p in 0..100)."""
    s = sorted(xs)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def read_until(fd, n, deadline):
    """Reads exactly n bytes from fd before time.monotonic() > deadline."""
    out = b""
    while len(out) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no reply in time")
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        chunk = os.read(fd, n - len(out))
        if not chunk:
            raise EOFError("pipe closed")
        out += chunk
    return out


def read_line(fd, deadline):
    out = b""
    while not out.endswith(b"\n"):
        out += read_until(fd, 1, deadline)
    return out.decode()


def status_fields(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    return fields


def kib(fields, key):
    return int(fields.get(key, "0 kB").split()[0])


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def cpu_ns(pid):
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def switches(pid):
    """Voluntary + involuntary context switches: how often pid was woken
    (or preempted)."""
    st = status_fields(pid)
    return int(st["voluntary_ctxt_switches"]) + int(st["nonvoluntary_ctxt_switches"])


def proc_state(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rpartition(")")[2].split()[0]


def is_static(path):
    """True when the ELF file has no PT_INTERP program header."""
    with open(path, "rb") as f:
        data = f.read(1 << 16)
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return None
    phoff = struct.unpack_from("<Q", data, 0x20)[0]
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        if struct.unpack_from("<I", data, phoff + i * phentsize)[0] == 3:
            return False
    return True


class Pid1:
    """ARGV as PID 1 of a new PID namespace (via `rbench ns`)."""

    def __init__(self, rbench, argv, pass_fds=(), stdin=None, env=None):
        r, w = os.pipe()
        self.proc = subprocess.Popen(
            [rbench, "ns", str(w)] + argv,
            pass_fds=(w,) + tuple(pass_fds),
            stdin=stdin,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env or ENV,
        )
        os.close(w)
        try:
            self.pid = int(read_line(r, time.monotonic() + 10))
        finally:
            os.close(r)

    def stop(self, sig=signal.SIGTERM, timeout=3.0):
        """Signals the init, waits; SIGKILLs it (and its namespace) after timeout."""
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.kill()
            return self.proc.wait(5)


# ------------------------------------------------------------ measurements


def measure_size(cfg):
    rows = {}
    for name, init in cfg.items():
        if not init.same_as:
            rows[name] = (os.stat(init.binary).st_size, is_static(init.binary))
    return rows


def measure_startup(rbench, cfg, rounds):
    """Paired per round: (INIT -- /bin/true) - (bare /bin/true), same mode."""
    args = [rbench, "startup", str(rounds), "--"]
    for ns in (1, 0):
        args += [f"bare/{ns}", str(ns), "/bin/true", ";"]
        for name, init in cfg.items():
            env = [f"{k}={v}" for k, v in init.env.items()]
            args += [f"{name}/{ns}", str(ns)] + env + init.argv() + ["/bin/true", ";"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60 + rounds, check=True).stdout
    samples, bad = {}, {}
    for line in out.splitlines():
        name, ns_, status = line.split("\t")
        if status != "0":
            bad[name] = bad.get(name, 0) + 1
            samples.setdefault(name, []).append(None)
            continue
        samples.setdefault(name, []).append(int(ns_))
    res = {}
    for ns in (1, 0):
        bare = samples[f"bare/{ns}"]
        d = {"bare": [x for x in bare if x is not None]}
        for name in cfg:
            mine = samples[f"{name}/{ns}"]
            d[name] = [a - b for a, b in zip(mine, bare) if a is not None and b is not None]
        res[str(ns)] = d
    return res, bad


def measure_instructions(rbench, cfg, pid1_only):
    """callgrind's instruction count (deterministic) for INIT -- /bin/true
    (as PID 1: "1", not: "0") and INIT FLAG -- /bin/true (as PID 1: "flag"),
    with the same small environment for every init (plus the column's own
    variables: RINIT_REAP=wait for rinit (wait))."""
    res = {"1": {}, "0": {}, "flag": {}}
    for name, init in cfg.items():
        runs = [("1", 1, init.argv())] + ([] if pid1_only else [("0", 0, init.argv())])
        runs.append(("flag", 1, init.argv(init.flag)))
        for key, ns, prefix in runs:
            vg = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + prefix + ["/bin/true"]
            if ns:
                r, w = os.pipe()
                p = subprocess.run(
                    [rbench, "ns", str(w)] + vg,
                    pass_fds=(w,),
                    capture_output=True,
                    text=True,
                    timeout=120,
                    env=init.environ(),
                )
                os.close(w)
                os.close(r)
            else:
                p = subprocess.run(vg, capture_output=True, text=True, timeout=120, env=init.environ())
            m = re.search(r"Collected : (\d+)", p.stderr)
            res[key][name] = int(m.group(1)) if m else None
    return res


class SideBySide:
    """Every init as PID 1 of its own namespace over `rbench sigchild`, all
    running at once, plus (with `direct`) the same child without an init.
    Waits until every child said ready and every init can take SIGUSR1."""

    def __init__(self, rbench, cfg, direct=False):
        self.running, self.fds = {}, {}
        try:
            items = ([("direct", None)] if direct else []) + list(cfg.items())
            for name, init in items:
                r, w = os.pipe()
                if init is None:
                    self.running[name] = subprocess.Popen(
                        [rbench, "sigchild"], pass_fds=(w,), env=dict(ENV, RB_FD=str(w)),
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    )
                else:
                    self.running[name] = Pid1(rbench, init.argv() + [rbench, "sigchild"], pass_fds=(w,),
                                              env=init.environ(RB_FD=str(w)))
                os.close(w)
                self.fds[name] = r
            self.pids = {n: p.pid for n, p in self.running.items()}
            deadline = time.monotonic() + 10
            for name, r in self.fds.items():
                ready = struct.unpack("<q", read_until(r, 8, deadline))[0]
                if ready != -1:
                    raise RuntimeError(f"{name}: unexpected first record {ready}")
            # A PID 1 drops a signal it neither blocks nor handles: wait until
            # each init shows SIGUSR1 in SigBlk or SigCgt, or sleeps in
            # sigtimedwait (tini, dumb-init), which unblocks what it waits
            # for while it sleeps; the kernel still delivers it.
            for name in cfg:
                while True:
                    st = status_fields(self.pids[name])
                    if (int(st["SigBlk"], 16) | int(st["SigCgt"], 16)) & (1 << (USR1 - 1)):
                        break
                    with open(f"/proc/{self.pids[name]}/wchan") as f:
                        if "sigtimedwait" in f.read():
                            break
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{name} never blocked or caught SIGUSR1")
                    time.sleep(0.005)
        except BaseException:
            self.stop()
            raise

    def stop(self):
        for p in self.running.values():
            if isinstance(p, Pid1):
                p.stop()
            else:
                p.kill()
                p.wait(5)
        for r in self.fds.values():
            os.close(r)
        self.running, self.fds = {}, {}


def memory_of(pid):
    st = status_fields(pid)
    pss = None
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return {
        "rss": kib(st, "VmRSS"),
        "hwm": kib(st, "VmHWM"),
        "anon": kib(st, "RssAnon"),
        "file": kib(st, "RssFile"),
        "pss": pss,
    }


def measure_memory(rbench, cfg, rounds):
    """Idle memory of each init (its child asleep), side by side, `rounds`
    fresh starts (the figures move by a page or two from start to start:
    stack and heap placement); every sample is kept, the report shows the
    median."""
    res = {n: [] for n in cfg}
    for _ in range(rounds):
        group = SideBySide(rbench, cfg)
        try:
            time.sleep(0.05)
            for n in cfg:
                res[n].append(memory_of(group.pids[n]))
        finally:
            group.stop()
    return res


def measure_wakeups(rbench, cfg, window):
    """Context switches of each idle init (its child asleep) over `window`
    seconds, side by side, as wake-ups per minute."""
    group = SideBySide(rbench, cfg)
    try:
        time.sleep(0.2)

        def every():
            return {name: switches(group.pids[name]) for name in cfg}

        t0, before = time.monotonic(), every()
        time.sleep(window)
        t1, after = time.monotonic(), every()
        return {n: (after[n] - before[n]) * 60.0 / (t1 - t0) for n in cfg}
    finally:
        group.stop()


def measure_latency(rbench, cfg, rounds, groups):
    """Signal round trips, interleaved, in `groups` fresh side-by-side
    groups of rounds/groups rounds each: whether a wake-up lands on the
    sender's CPU or on an idle one that must be woken (about 30 us more on
    a VM) depends on the machine's load and on where each process happens
    to be placed, which sticks for a while; many short groups spread that
    luck evenly over the inits. The floor is the same child without an
    init, signalled directly."""
    lat, lost = {}, {}
    for _ in range(groups):
        group = SideBySide(rbench, cfg, direct=True)
        try:
            time.sleep(0.05)
            fds = group.fds
            targets = [f"{n}:{group.pids[n]}:{fds[n]}" for n in fds]
            out = subprocess.run(
                [rbench, "siglat", str(max(1, rounds // groups))] + targets,
                pass_fds=tuple(fds.values()),
                capture_output=True, text=True, timeout=60 + rounds // 100, check=True,
            ).stdout
        finally:
            group.stop()
        for line in out.splitlines():
            name, one_way, rtt = line.split("\t")
            if one_way == "-1":
                lost[name] = lost.get(name, 0) + 1
                continue
            lat.setdefault(name, []).append((int(one_way), int(rtt)))
    return lat, lost


def load_run(rbench, argv, env, load, n):
    """One init (argv prefix, its own variables `env`) as PID 1 over the
    load `rbench LOAD n` (orphans or burst). Returns the load's report (its
    numbers), the moment the init had no child left but the load, and the
    init's CPU time (ns) and context switches from just before "go" to then."""
    rep_r, rep_w = os.pipe()
    go_r, go_w = os.pipe()
    init = None
    try:
        init = Pid1(rbench, argv + [rbench, load, str(n)], pass_fds=(rep_w,), stdin=go_r,
                    env=dict(ENV, **env, RB_FD=str(rep_w)))
        os.close(rep_w)
        rep_w = None
        os.close(go_r)
        go_r = None
        if read_line(rep_r, time.monotonic() + 10) != "ready\n":
            raise RuntimeError(f"rbench {load} did not say ready")
        kids = children(init.pid)
        if len(kids) != 1:
            raise RuntimeError(f"the init has children {kids}, expected only the load")
        main = kids[0]
        # The load is running, so the init has started it; the init is done
        # starting once it sleeps (no signal for that: poll its state). Its
        # counters are read then, so its own start-up is not counted.
        deadline = time.monotonic() + 10
        while proc_state(init.pid) != "S":
            if time.monotonic() > deadline:
                raise TimeoutError("the init never went to sleep")
            time.sleep(0.001)
        cpu0, sw0 = cpu_ns(init.pid), switches(init.pid)
        os.write(go_w, b"g")
        line = read_line(rep_r, time.monotonic() + 180)
        if line.startswith("error"):
            raise RuntimeError(f"rbench {load}: {line.strip()}")
        # Zombies are listed among the init's children until they are
        # released; nothing signals "the last one is gone", so poll.
        deadline = time.monotonic() + 60
        while True:
            left = [c for c in children(init.pid) if c != main]
            t_zero = time.monotonic_ns()
            if not left:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(left)} zombies left after 60 s")
            time.sleep(0.0002)
        cpu1, sw1 = cpu_ns(init.pid), switches(init.pid)
        return [int(x) for x in line.split()], t_zero, cpu1 - cpu0, sw1 - sw0
    finally:
        os.close(go_w)
        for fd in (rep_r, rep_w, go_r):
            if fd is not None:
                os.close(fd)
        if init:
            init.stop(timeout=10)


def flood_once(rbench, argv, env, n):
    """`rbench orphans n`: n orphans as fast as one maker per CPU can clone
    them, each exiting at once: every CPU is busy, so what the init spends
    on reaping is taken from the makers."""
    (start, last, eagain), t_zero, cpu, sw = load_run(rbench, argv, env, "orphans", n)
    return {
        "rate": n / ((t_zero - start) / 1e9),
        "fork_rate": n / ((last - start) / 1e9),
        "lag_ms": (t_zero - last) / 1e6,
        "cpu_per_1000_ms": cpu / n * 1000 / 1e6,
        "switches_per_1000": sw / n * 1000,
        "eagain": eagain,
    }


def burst_once(rbench, argv, env, n):
    """`rbench burst n`: n zombies handed to the init at once, by the exit of
    the process they belong to; timed from its last timestamp before _exit."""
    (handover, dead, zombies, eagain), t_zero, cpu, sw = load_run(rbench, argv, env, "burst", n)
    return {
        "zombies": zombies,
        "rate": zombies / ((t_zero - handover) / 1e9),
        "ms": (t_zero - handover) / 1e6,
        "exit_ms": (dead - handover) / 1e6,
        "cpu_per_1000_ms": cpu / zombies * 1000 / 1e6,
        "switches_per_1000": sw / zombies * 1000,
        "eagain": eagain,
    }


def measure_reaping(rbench, cfg, n, rounds, once):
    """`rounds` rounds of every init plus the C floor, a fresh random order
    each round."""
    order = [("floor", [rbench, "reaper"], {})] + [(k, v.argv(), v.env) for k, v in cfg.items()]
    res = {name: [] for name, _, _ in order}
    rnd = random.Random(1)
    for _ in range(rounds):
        rnd.shuffle(order)
        for name, argv, env in order:
            res[name].append(once(rbench, argv, env, n))
    return res


def burst_size(wanted):
    """All the burst's zombies hold a pid at the same time (one in every
    namespace up to the host's): stay within half of what pid_max leaves."""
    with open("/proc/sys/kernel/pid_max") as f:
        pid_max = int(f.read())
    with open("/proc/loadavg") as f:
        tasks = int(f.read().split()[3].partition("/")[2])
    return max(1, min(wanted, (pid_max - tasks) // 2))


# ------------------------------------------------------------------ report


def fmt_int(x):
    return f"{x:,.0f}" if x is not None else "n/a"


def ratio(value, best):
    if value is None or best is None:
        return ""
    if best == 0:
        return "1.00×" if value == 0 else "∞"
    return f"{value / best:.2f}×"


def best_of(values, lower_is_better=True):
    vals = [v for k, v in values.items() if k in PEERS and v is not None]
    if not vals:
        return None
    return min(vals) if lower_is_better else max(vals)


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) // 1024 // 1024 + 1} GB RAM"
    except OSError:
        pass
    return f"{platform.machine()}, {cpu}, {os.cpu_count()} CPUs, {mem}, Linux {platform.release()}"


def versions(cfg, rinit):
    v = {}
    for name, init in cfg.items():
        if name in PEERS or init.same_as:
            continue
        try:
            v[name] = subprocess.run([init.binary, "--version"], capture_output=True, text=True, timeout=5).stdout.strip()
        except Exception:
            v[name] = "?"
    for pkg in ("tini", "dumb-init", "catatonit"):
        try:
            v[pkg] = subprocess.run(
                ["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True, timeout=5
            ).stdout.strip()
        except Exception:
            v[pkg] = "?"
    v["tini-static"] = v.get("tini", "?")
    return v


SECTIONS = ["size", "startup", "instructions", "memory", "wakeups", "latency", "reaping"]
# "reaping" is both of these; each can be asked for alone.
REAPING = ["flood", "burst"]


def report(raw, command):
    """The Markdown report (table and target checks) from the raw figures."""
    names = [n for n in raw["names"] if n not in PEERS] + [n for n in raw["names"] if n in PEERS]
    cols = names + ["floor"]
    rows, checks = [], []
    # Columns that share another's binary (rinit (wait)): they get the
    # reaping targets only, the rest are the same binary's.
    variants = raw.get("variants", {})

    def row(label, values, lower=True, fmt=fmt_int, extra=None):
        best = best_of(values, lower)
        cells = {}
        for n in cols:
            v = values.get(n)
            text = "" if v is None else fmt(v)
            if extra and n in extra:
                text += f" {extra[n]}"
            if v is not None and n in names:
                r = ratio(v, best)
                if r:
                    text += f" ({r})"
            cells[n] = text.strip()
        rows.append((label, cells))

    reap_cands = [n for n in names if n not in PEERS]
    cands = [n for n in reap_cands if n not in variants]

    def check(c, what, ok, detail):
        checks.append((c, what, "yes" if ok else "**NO**", detail))

    size = raw.get("size")
    static = raw.get("static") or {n: v[1] for n, v in (size or {}).items()}
    if size:
        row(
            "1. binary size, bytes",
            {n: size[n][0] for n in names if n in size},
            extra={n: ("static" if size[n][1] else "dynamic") for n in names if n in size},
        )
        for c in cands:
            check(
                c,
                # The budget scripts/static.sh enforces (README, "Size").
                "size ≤ 650,000 bytes (scripts/static.sh's budget), static musl",
                size[c][0] <= 650_000 and size[c][1],
                f"{size[c][0]:,} bytes, {'static' if size[c][1] else 'dynamic'}",
            )

    startup = raw.get("startup")
    if startup:
        for ns, label in (("1", "as PID 1"), ("0", "not PID 1")):
            d = startup[ns]
            vals = {n: med(d[n]) / 1000 for n in names}
            extra = {n: f"[{pct(d[n], 25) / 1000:.0f}–{pct(d[n], 75) / 1000:.0f}]" for n in names}
            vals["floor"] = med(d["bare"]) / 1000
            extra["floor"] = "= bare /bin/true itself"
            row(f"2. start-up overhead {label}, µs: median [IQR] of (INIT -- true) − true", vals,
                fmt=lambda v: f"{v:.0f}", extra=extra)
            if ns == "1":
                b = best_of(vals)
                for c in cands:
                    check(
                        c,
                        "start-up overhead as PID 1 ≤ 0.8× best peer",
                        vals[c] <= 0.8 * b,
                        f"{vals[c]:.0f} µs vs {b:.0f} µs = {vals[c] / b:.2f}×",
                    )

    instr = raw.get("instructions")
    if instr:
        for ns, label in (
            ("1", "`INIT -- /bin/true` as PID 1"),
            ("0", "`INIT -- /bin/true` not PID 1"),
            ("flag", "`INIT -g -- /bin/true` as PID 1, with one flag (-g; dumb-init -c)"),
        ):
            vals = {n: instr.get(ns, {}).get(n) for n in names}
            if any(v is not None for v in vals.values()):
                row(f"3. instructions (callgrind) for {label}", vals)
        for ns, what in (("1", "instructions"), ("flag", "instructions with one flag (-g)")):
            if not instr.get(ns):
                continue
            dyn = [instr[ns][n] for n in PEERS if static.get(n) is False and instr[ns].get(n)]
            for c in cands:
                ir = instr[ns].get(c)
                check(
                    c,
                    f"{what} ≤ 120,000 and below every dynamic peer",
                    ir is not None and ir <= 120_000 and all(ir < d for d in dyn),
                    f"{fmt_int(ir)} vs dynamic peers {', '.join(fmt_int(d) for d in dyn) or 'n/a'}",
                )

    mem = raw.get("memory")
    if mem:
        memory = {n: {k: med([s[k] for s in mem[n]]) for k in ("rss", "hwm", "pss", "anon")} for n in names}
        spread = {
            n: {k: f"[{min(s[k] for s in mem[n])}–{max(s[k] for s in mem[n])}]" for k in ("rss", "hwm", "pss", "anon")}
            for n in names
        }
        for key, label in (("rss", "RSS"), ("hwm", "peak RSS (VmHWM)"), ("pss", "PSS"), ("anon", "RssAnon")):
            row(f"4. idle {label}, KiB: median [range] of {len(mem['rinit'])} starts",
                {n: memory[n][key] for n in names}, extra={n: spread[n][key] for n in names})
        if static:
            static_anon = [memory[n]["anon"] for n in PEERS if static.get(n)]
            limit = min(static_anon) + 8
            for c in cands:
                check(
                    c,
                    "idle RssAnon ≤ static peers' + 8 KiB",
                    memory[c]["anon"] <= limit,
                    f"{memory[c]['anon']:.0f} KiB vs limit {limit:.0f} KiB",
                )

    wk = raw.get("wakeups")
    if wk:
        wakeups = wk["per_minute"]
        row(
            f"5. idle wake-ups per minute ({wk['window']} s window)",
            {n: wakeups[n] for n in names},
            fmt=lambda v: f"{v:.1f}",
        )
        for c in cands:
            check(c, "idle wake-ups 0", wakeups[c] == 0, f"{wakeups[c]:.1f}/min")

    latency = raw.get("latency")
    if latency:
        lat, lost = latency["samples"], latency["lost"]
        for label, idx, p in (("median", 0, 50), ("p99", 0, 99), ("round trip, median", 1, 50)):
            vals = {n: pct([s[idx] for s in lat.get(n, [])], p) / 1000 for n in names}
            vals["floor"] = pct([s[idx] for s in lat.get("direct", [])], p) / 1000
            extra = {"floor": "(kill the child directly)"}
            for n in names:
                if lost.get(n):
                    extra[n] = f"{lost[n]} lost"
            row(f"6. signal latency, kill(init) → child's handler, {label}, µs", vals,
                fmt=lambda v: f"{v:.1f}", extra=extra)
        for label, p in (("median", 50), ("p99", 99)):
            vals = {n: pct([s[0] for s in lat.get(n, [])], p) for n in names}
            b = best_of(vals)
            for c in cands:
                check(
                    c,
                    f"signal latency {label} ≤ 1.05× best peer",
                    vals[c] <= 1.05 * b,
                    f"{vals[c] / 1000:.1f} µs vs {b / 1000:.1f} µs = {vals[c] / b:.2f}×",
                )

    def reap_rows(runs, sect, reap_names):
        """Median (and range over the rounds) of one key of each init's runs."""

        def rmed(name, key):
            return med([r[key] for r in runs[name]])

        def rng(key, f):
            return {n: f"[{f(min(r[key] for r in runs[n]))}–{f(max(r[key] for r in runs[n]))}]" for n in reap_names}

        def add(label, key, fmt, lower=True, floor_note=None):
            if not all(key in r for n in reap_names for r in runs[n]):
                return None  # from an older raw file without this figure
            vals = {n: rmed(n, key) for n in reap_names}
            ext = rng(key, lambda v: fmt(v))
            if floor_note:
                ext["floor"] += f" {floor_note}"
            row(f"{sect} {label}", vals, lower=lower, fmt=fmt, extra=ext)
            return vals

        return add

    def reap_checks(what, rates, cpus, unit):
        if not rates or not cpus:
            return
        b = best_of(rates, lower_is_better=False)
        for c in reap_cands:
            check(
                c,
                f"{what} throughput ≥ best peer and ≥ 0.9× the C floor",
                rates[c] >= b and rates[c] >= 0.9 * rates["floor"],
                f"{rates[c]:,.0f}/s vs best peer {b:,.0f}/s ({rates[c] / b:.2f}×), "
                f"floor {rates['floor']:,.0f}/s ({rates[c] / rates['floor']:.2f}×)",
            )
        b = best_of(cpus)
        for c in reap_cands:
            check(
                c,
                f"{what} CPU per 1,000 {unit} ≤ best peer",
                cpus[c] <= b,
                f"{cpus[c]:.2f} ms vs {b:.2f} ms = {ratio(cpus[c], b) or 'n/a'} (floor {cpus['floor']:.2f} ms)",
            )

    ms1, ms2 = (lambda v: f"{v:.1f}"), (lambda v: f"{v:.2f}")
    reaping = raw.get("reaping")
    if reaping:
        runs, n_orphans, k = reaping["runs"], reaping["orphans"], reaping["rounds"]
        add = reap_rows(runs, "7. orphan flood, one maker per CPU:", names + ["floor"])
        rates = add(f"orphans reaped per second, {n_orphans:,} orphans: median [range] of {k}",
                    "rate", fmt_int, lower=False, floor_note="(C waitpid(-1) loop)")
        add(f"last fork → zero zombies, ms: median [range] of {k}", "lag_ms", ms1)
        cpus = add(f"init CPU time per 1,000 reaps, ms: median [range] of {k}", "cpu_per_1000_ms", ms2)
        add(f"init context switches per 1,000 reaps: median [range] of {k}", "switches_per_1000", fmt_int)
        row("7. orphan flood (the load): orphans made per second, median",
            {n: med([r["fork_rate"] for r in runs[n]]) for n in names + ["floor"]}, lower=False)
        reap_checks("flood reaping", rates, cpus, "reaps")

    burst = raw.get("burst")
    if burst:
        runs, n_burst, k = burst["runs"], burst["zombies"], burst["rounds"]
        add = reap_rows(runs, f"8. burst of {n_burst:,} zombies at once:", names + ["floor"])
        rates = add(f"zombies reaped per second (handover → zero zombies): median [range] of {k}",
                    "rate", fmt_int, lower=False, floor_note="(C waitpid(-1) loop)")
        add(f"handover → zero zombies, ms: median [range] of {k}", "ms", ms2)
        cpus = add(f"init CPU time per 1,000 reaps, ms: median [range] of {k}", "cpu_per_1000_ms", ms2)
        add(f"init context switches per 1,000 reaps: median [range] of {k}", "switches_per_1000", ms1)
        reap_checks("burst reaping", rates, cpus, "reaps")

    p = raw["params"]
    burst_runs = (
        f" and {p['burst_rounds']} round(s) of a {burst['zombies']:,}-zombie burst" if burst else ""
    )
    wait_note = (
        f" *{WAIT}*: the same rinit binary with `RINIT_REAP=wait` in its environment, which forces the classic "
        "reaping path (a `waitpid(-1, WNOHANG)` loop on each SIGCHLD); *rinit* is its default mode."
        if WAIT in names else ""
    )
    lines = [
        f"Date: {raw['date']}  ",
        f"Machine: {raw['machine']}; load average {raw.get('load_before', 0):.2f} before, "
        f"{raw.get('load_after', 0):.2f} after  ",
        f"Command: `{command}`  ",
        "Versions: " + ", ".join(f"{n} {raw['versions'].get(n, '?')}" for n in names if n not in variants) + "  ",
        f"Runs: start-up {p['startup_rounds']} rounds; signal latency {p['lat_rounds']} rounds in "
        f"{p.get('lat_groups', 1)} fresh groups; reaping {p['reap_rounds']} round(s) of {p['orphans']:,} orphans"
        f"{burst_runs}: interleaved, each round in a fresh random order. Memory ({p.get('mem_rounds', 1)} starts) "
        f"and wake-ups ({p['window']} s): side by side. Every init runs as PID 1 of its own PID namespace and "
        "session (as runc starts a container), except in the \"not PID 1\" rows.",
        "",
        "Cells: the figure (its ratio to the best of tini, tini-static, dumb-init and catatonit). Lower is better "
        "except orphans and zombies per second. *floor*: what the row costs without any init." + wait_note,
        "",
        "| measure | " + " | ".join(cols) + " |",
        "|---" * (len(cols) + 1) + "|",
    ]
    for label, cells in rows:
        lines.append(f"| {label} | " + " | ".join(cells.get(c, "") for c in cols) + " |")
    lines += ["", "| build | target | met | figure |", "|---|---|---|---|"]
    for c, what, ok, detail in sorted(checks, key=lambda x: reap_cands.index(x[0])):
        lines.append(f"| {c} | {what} | {ok} | {detail} |")
    notes = []
    if startup and raw.get("startup_bad"):
        notes.append("Failed start-up runs: " + ", ".join(f"{k}: {v}" for k, v in raw["startup_bad"].items()))
    if latency and any(latency["lost"].values()):
        notes.append("Signals without a reply within 1 s: "
                     + ", ".join(f"{k}: {v}" for k, v in latency["lost"].items() if v))
    for section, what in ((reaping, "flood"), (burst, "burst")):
        if section:
            eag = {n: sum(r["eagain"] for r in section["runs"][n]) for n in section["runs"]}
            if any(eag.values()):
                notes.append(f"{what}: fork() hit EAGAIN (process limit) and retried: "
                             + ", ".join(f"{k}: {v}" for k, v in eag.items() if v))
    if burst:
        short = {n: min(r["zombies"] for r in burst["runs"][n]) for n in burst["runs"]}
        if any(v < burst["zombies"] for v in short.values()):
            notes.append("burst: fewer zombies than asked for (out of pids; the rates use the real count): "
                         + ", ".join(f"{k}: {v:,}" for k, v in short.items() if v < burst["zombies"]))
    for n in notes:
        lines += ["", n]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer rounds: under a minute")
    ap.add_argument("--only", default=",".join(SECTIONS),
                    help="comma-separated: " + ",".join(SECTIONS) + " (reaping = " + ",".join(REAPING) + ")")
    ap.add_argument("--rinit", default="target/x86_64-unknown-linux-musl/release/rinit")
    ap.add_argument("--also", action="append", default=[], metavar="NAME=PATH",
                    help="another rinit build, measured in the same run as an extra column (repeatable); "
                         "name the file anything but tini*/dumb-init, so it keeps rinit's personality")
    ap.add_argument("--rbench", default="target/bench/rbench")
    ap.add_argument("--out", default="bench/results.md")
    ap.add_argument("--raw", default="target/bench/raw.json", help="every sample, as JSON")
    ap.add_argument("--report-from", help="only rebuild the report from this raw JSON file")
    ap.add_argument("--orphans", type=int, help="orphans per flood reaping run (default 20000, quick 3000)")
    ap.add_argument("--burst", type=int, default=5000,
                    help="zombies per burst (default 5000; at most half of the pids that pid_max leaves free)")
    ap.add_argument("--rounds", type=float, default=1.0, help="scale every round count by this factor")
    ap.add_argument("--command", default="bench/run.sh", help="the command line shown in the report")
    a = ap.parse_args()

    if a.report_from:
        with open(a.report_from) as f:
            raw = json.load(f)
    else:
        raw = collect(a)
    text = report(raw, a.command)
    print(text)
    with open(a.out, "w") as f:
        f.write("# rinit benchmark: latest results\n\n")
        f.write("Written by `bench/run.sh` (`bench/bench.py`); `bench/README.md` says what each row measures.\n\n")
        f.write(text)
    print(f"wrote {a.out}", file=sys.stderr)


def collect(a):
    quick = a.quick
    only = set(a.only.split(","))
    rinit = os.path.abspath(a.rinit)
    rbench = os.path.abspath(a.rbench)
    cfg = inits(rinit)
    for spec in a.also:
        name, _, path = spec.partition("=")
        path = os.path.abspath(path)
        cfg[name] = Init(path)
    scale = a.rounds
    p = {
        "orphans": a.orphans or (3000 if quick else 20000),
        "startup_rounds": max(1, int((100 if quick else 500) * scale)),
        "window": 5 if quick else 30,
        "lat_rounds": max(1, int((2000 if quick else 20000) * scale)),
        "mem_rounds": max(1, int((3 if quick else 9) * scale)),
        "lat_groups": max(1, int((8 if quick else 40) * scale)),
        "reap_rounds": max(1, int((1 if quick else 5) * scale)),
        "burst": burst_size(a.burst),
        "burst_rounds": max(1, int((3 if quick else 10) * scale)),
    }
    t_begin = time.monotonic()

    def say(msg):
        print(f"[{time.monotonic() - t_begin:6.1f}s] {msg}", file=sys.stderr, flush=True)

    raw = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "versions": versions(cfg, rinit),
        "names": list(cfg),
        "variants": {n: v.same_as for n, v in cfg.items() if v.same_as},
        "params": p,
        "load_before": os.getloadavg()[0],
    }
    # Static or dynamic, for the targets that name the dynamic (or static)
    # peers, whether or not the size row runs.
    raw["static"] = {n: v[1] for n, v in measure_size(cfg).items()}
    if "size" in only:
        raw["size"] = measure_size(cfg)
    if "startup" in only:
        say(f"start-up: {p['startup_rounds']} interleaved rounds, as PID 1 and not")
        raw["startup"], raw["startup_bad"] = measure_startup(rbench, cfg, p["startup_rounds"])
    if "instructions" in only:
        say("instructions (callgrind)")
        raw["instructions"] = measure_instructions(rbench, cfg, pid1_only=quick)
    if "memory" in only:
        say(f"idle memory: {p['mem_rounds']} side-by-side starts")
        raw["memory"] = measure_memory(rbench, cfg, p["mem_rounds"])
    if "wakeups" in only:
        say(f"idle wake-ups over {p['window']} s")
        raw["wakeups"] = {"per_minute": measure_wakeups(rbench, cfg, p["window"]), "window": p["window"]}
    if "latency" in only:
        say(f"signal latency: {p['lat_rounds']} rounds in {p['lat_groups']} groups")
        lat, lost = measure_latency(rbench, cfg, p["lat_rounds"], p["lat_groups"])
        raw["latency"] = {"samples": lat, "lost": lost, "groups": p["lat_groups"]}
    if only & {"reaping", "flood"}:
        say(f"reaping, flood: {p['reap_rounds']} interleaved round(s) of {p['orphans']} orphans")
        raw["reaping"] = {
            "runs": measure_reaping(rbench, cfg, p["orphans"], p["reap_rounds"], flood_once),
            "orphans": p["orphans"],
            "rounds": p["reap_rounds"],
        }
    if only & {"reaping", "burst"}:
        say(f"reaping, burst: {p['burst_rounds']} interleaved round(s) of {p['burst']}-zombie bursts")
        raw["burst"] = {
            "runs": measure_reaping(rbench, cfg, p["burst"], p["burst_rounds"], burst_once),
            "zombies": p["burst"],
            "rounds": p["burst_rounds"],
        }
    raw["load_after"] = os.getloadavg()[0]
    say("done")
    if a.raw:
        os.makedirs(os.path.dirname(os.path.abspath(a.raw)), exist_ok=True)
        with open(a.raw, "w") as f:
            json.dump(raw, f)
    return raw


if __name__ == "__main__":
    main()
