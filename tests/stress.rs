//! Stress: rinit as PID 1 under orphan storms, signal storms and early
//! signals. Each test is bounded in count and time and stops by itself;
//! all are `#[ignore]`d so a plain `cargo test` stays fast. scripts/stress.sh
//! runs them (about 90 s on 2 cores):
//!
//!     cargo build --examples
//!     cargo test --test stress -- --ignored --nocapture --test-threads 1
//!
//! With RINIT_BIN=path they stress that binary (the static release build).
//!
//! Sizes can be changed with RINIT_STRESS_REAPS (orphans reaped between
//! the two memory readings, default 1,000,000), RINIT_STRESS_SIGNALS
//! (signals in the storm, default 300,000) and RINIT_STRESS_TRIALS (early
//! SIGTERM trials per mode, default 1000). Figures are printed on stderr.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

mod common;

use common::*;
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// RLIMIT_SIGPENDING for rinit and its child in the signal storm.
const SIGPENDING: u64 = 4096;

fn pid_max() -> usize {
    std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn kill(pid: i32, sig: i32) -> std::io::Result<()> {
    // SAFETY: kill has no memory-safety preconditions.
    if unsafe { libc::kill(pid, sig) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Zombies whose parent is `pid`, seen from the host.
fn zombie_children(pid: i32) -> usize {
    children_of(pid)
        .into_iter()
        .filter(|&c| status_field(c, "State:").is_some_and(|s| s.starts_with('Z')))
        .count()
}

/// Orphans in waves, far past pid_max, then a million more between two
/// readings of rinit's memory: every one is reaped (no zombie left) and
/// rinit's resident memory does not grow. Both ways of reaping.
#[test]
#[ignore = "stress: run with --ignored"]
fn orphan_storm_leaves_no_zombie_and_flat_memory() {
    if !can_pid1() {
        return;
    }
    let total = setting("RINIT_STRESS_REAPS", 1_000_000);
    let warm = 20_000;
    // The kernel reaping (the default where it can), and rinit's own.
    for mode in ["auto", "wait"] {
        let opts = Opts {
            env: vec![("RINIT_REAP".into(), mode.into())],
            ..pid1()
        };
        orphan_storm(mode, warm, total, opts);
    }
}

fn orphan_storm(mode: &str, warm: usize, total: usize, opts: Opts) {
    let init = Init::start(
        &[
            "--",
            &testee(),
            "orphan-storm",
            &warm.to_string(),
            &total.to_string(),
            "1000",
            "2",
        ],
        opts,
    );
    init.ready();
    init.line_starting_within("warm ", Duration::from_secs(120));
    let rss_before = status_kb(init.pid, "VmRSS:");
    let anon_before = status_kb(init.pid, "RssAnon:");
    init.signal(libc::SIGUSR1);
    let done = init.line_starting_within("done ", Duration::from_secs(600));
    let rss_after = status_kb(init.pid, "VmRSS:");
    let anon_after = status_kb(init.pid, "RssAnon:");
    let mut fields = done.split(' ').skip(1).map(|f| f.parse::<usize>().unwrap());
    let (made, ms) = (fields.next().unwrap(), fields.next().unwrap());
    eprintln!(
        "orphan storm, RINIT_REAP={mode}: {made} orphans reaped in {ms} ms ({} x pid_max {}), \
         rinit VmRSS {rss_before} -> {rss_after} kB, RssAnon {anon_before} -> {anon_after} kB",
        made / pid_max(),
        pid_max()
    );
    assert!(made >= total, "only {made} orphans made");
    // The testee saw no zombie left; from the host, rinit's only child is
    // the testee, and none of its children is a zombie.
    assert_eq!(zombie_children(init.pid), 0);
    assert_eq!(
        children_of(init.pid).len(),
        1,
        "{:?}",
        children_of(init.pid)
    );
    // Flat: a page or two of slack for the kernel's accounting, nothing
    // that grows with the number of reaps (a leak of even 8 bytes per
    // reap would be 8 MB here).
    assert!(
        anon_after <= anon_before + 16,
        "RssAnon grew from {anon_before} to {anon_after} kB over {made} reaps"
    );
    // VmRSS also counts the binary's own pages, some first touched after
    // the warm-up: a looser bound.
    assert!(
        rss_after <= rss_before + 512,
        "VmRSS grew from {rss_before} to {rss_after} kB over {made} reaps"
    );
    init.signal(libc::SIGTERM);
    let end = init.wait();
    assert_eq!(end.code, 0, "{}", end.stderr);
}

/// Standard signals (which coalesce) and real-time ones (which queue)
/// `kill`ed at rinit as fast as the test can, while the child forks all
/// the time. rinit stays up; the child gets every kind; no real-time
/// signal is lost or duplicated while fewer than the queue's limit are in
/// flight; one in flight at a time arrive in exactly the order sent.
#[test]
#[ignore = "stress: run with --ignored"]
fn signal_storm_mixed_standard_and_realtime() {
    if !can_pid1() {
        return;
    }
    let total = setting("RINIT_STRESS_SIGNALS", 300_000);
    // A real-time queue limit of its own for rinit and the child, so the
    // flood hits it (and the kernel refuses signals) without taking the
    // whole machine's root quota from other processes.
    let wrapper = [&testee(), "rlimit", "sigpending", &SIGPENDING.to_string()]
        .map(String::from)
        .to_vec();
    let init = Init::start(
        &["--", &testee(), "storm-child"],
        Opts { wrapper, ..pid1() },
    );
    init.ready();
    let rinit = init.pid;
    let started = Instant::now();
    // Every catchable signal but TERM (which ends the child) goes in;
    // CHLD only makes rinit reap, it is never forwarded.
    let standard: Vec<i32> = (1..=31).filter(|n| ![9, 15, 19].contains(n)).collect();
    let realtime: Vec<i32> = (32..=64).collect();

    // Counts per signal the child reported.
    let mut got: BTreeMap<i32, u64> = BTreeMap::new();
    let mut rt_seq: Vec<i32> = Vec::new();

    // 1. Flood: standard and real-time signals mixed, no pacing at all.
    // Past the queue limit the kernel keeps a kill()ed real-time signal
    // only as a pending bit (it coalesces like a standard one; sigqueue()
    // would get EAGAIN instead), at rinit and again when rinit forwards
    // to the child. So here: every kind arrives, none more often than it
    // was sent.
    let flood = total / 2;
    let mut sent: BTreeMap<i32, u64> = BTreeMap::new();
    let mut refused = 0u64;
    let mixed: Vec<i32> = standard.iter().chain(&realtime).copied().collect();
    for i in 0..flood {
        let sig = mixed[i % mixed.len()];
        match kill(rinit, sig) {
            Ok(()) => *sent.entry(sig).or_default() += 1,
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => refused += 1,
            Err(e) => panic!("kill({rinit}, {sig}) after {i} signals: {e}"),
        }
    }
    // The child reports until everything in flight has arrived: quiet for
    // a whole second means the pipeline is empty (an upper bound is all
    // that is asserted, so a late straggler cannot make this flaky).
    while let Some(line) = init.line_within(Duration::from_secs(1)) {
        take(line, &mut got, &mut rt_seq);
    }
    for &sig in &mixed {
        if sig == libc::SIGCHLD {
            continue;
        }
        let (s, g) = (
            sent.get(&sig).copied().unwrap_or(0),
            got.get(&sig).copied().unwrap_or(0),
        );
        assert!(g >= 1, "the child never got signal {sig} (sent {s})");
        assert!(g <= s, "signal {sig}: got {g}, sent only {s}");
    }
    let flood_rt_sent: u64 = realtime.iter().map(|s| sent[s]).sum();
    let flood_rt_got: u64 = realtime
        .iter()
        .map(|s| got.get(s).copied().unwrap_or(0))
        .sum();
    let flood_std_got: u64 = got.iter().filter(|(s, _)| **s < 32).map(|(_, n)| n).sum();
    eprintln!(
        "signal storm, flood: {flood} kill()s in {:?} ({refused} refused), real-time \
         {flood_rt_got}/{flood_rt_sent} delivered (the rest coalesced past the queue limit of \
         {SIGPENDING}), standard {flood_std_got} delivered (they coalesce)",
        started.elapsed()
    );
    assert_eq!(kill(rinit, 0).ok(), Some(()), "rinit is gone");

    // 2. Real-time signals with at most WINDOW in flight (below the queue
    // limit even if all of them waited at rinit and at the child, plus one
    // of each standard signal), standard ones flooding alongside from
    // another thread: every real-time signal arrives exactly once.
    const WINDOW: u64 = 256;
    let stop = Arc::new(AtomicBool::new(false));
    let std_sent = Arc::new(AtomicU64::new(0));
    let flooder = {
        let (stop, std_sent, standard) = (stop.clone(), std_sent.clone(), standard.clone());
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                kill(rinit, standard[i % standard.len()]).unwrap();
                std_sent.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        })
    };
    let paced = total - flood;
    let windowed = paced - paced / 10;
    let base: u64 = realtime
        .iter()
        .map(|s| got.get(s).copied().unwrap_or(0))
        .sum();
    let rt_got = |got: &BTreeMap<i32, u64>| -> u64 {
        realtime
            .iter()
            .map(|s| got.get(s).copied().unwrap_or(0))
            .sum::<u64>()
            - base
    };
    let mut rt_sent_counts: BTreeMap<i32, u64> = BTreeMap::new();
    let got_before: BTreeMap<i32, u64> = got.clone();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut rt_sent = 0u64;
    while rt_sent < windowed as u64 {
        while rt_sent < windowed as u64 && rt_sent - rt_got(&got) < WINDOW {
            let sig = realtime[rt_sent as usize % realtime.len()];
            kill(rinit, sig).unwrap();
            *rt_sent_counts.entry(sig).or_default() += 1;
            rt_sent += 1;
        }
        let line = init
            .line_within(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|| {
                panic!(
                    "real-time signals lost: {} of {rt_sent} arrived",
                    rt_got(&got)
                )
            });
        take(line, &mut got, &mut rt_seq);
    }
    while rt_got(&got) < rt_sent {
        let line = init
            .line_within(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|| {
                panic!(
                    "real-time signals lost: {} of {rt_sent} arrived",
                    rt_got(&got)
                )
            });
        take(line, &mut got, &mut rt_seq);
    }
    for &sig in &realtime {
        assert_eq!(
            got.get(&sig).copied().unwrap_or(0) - got_before.get(&sig).copied().unwrap_or(0),
            rt_sent_counts[&sig],
            "real-time signal {sig}: lost or duplicated"
        );
    }

    // 3. One in flight at a time: the order is exactly the order sent
    // (standard signals still flooding).
    let ordered = paced / 10;
    let start = rt_seq.len();
    for i in 0..ordered {
        // Descending, so that "lowest number first" reordering would show.
        let sig = realtime[realtime.len() - 1 - i % realtime.len()];
        kill(rinit, sig).unwrap();
        loop {
            let line = init
                .line_within(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|| panic!("real-time signal {sig} lost (ordered phase, #{i})"));
            take(line, &mut got, &mut rt_seq);
            if rt_seq.len() > start + i {
                break;
            }
        }
        assert_eq!(rt_seq[start + i], sig, "ordered phase #{i}: out of order");
    }
    stop.store(true, Ordering::Relaxed);
    flooder.join().unwrap();
    let std_flooded = std_sent.load(Ordering::Relaxed);

    // rinit is alive and responsive: a final TERM ends the child, and
    // rinit exits with its code.
    init.signal(libc::SIGTERM);
    let forked = init.line_starting_within("forked ", Duration::from_secs(60));
    let end = init.wait();
    assert_eq!(end.code, 0, "{}", end.stderr);
    let forked: u64 = forked.strip_prefix("forked ").unwrap().parse().unwrap();
    assert!(forked > 0, "the child never forked");
    let kills = flood as u64 + std_flooded + rt_sent + ordered as u64;
    eprintln!(
        "signal storm: {kills} kill()s at rinit in {:?}: flood {flood}, windowed real-time {rt_sent} \
         (all delivered exactly once, window {WINDOW}), ordered real-time {ordered} (in order), \
         standard alongside {std_flooded}; the child made {forked} orphans meanwhile",
        started.elapsed()
    );
    assert!(kills >= total as u64);
}

/// Counts one `sig N` line of the storm child.
fn take(line: String, got: &mut BTreeMap<i32, u64>, rt_seq: &mut Vec<i32>) {
    let n: i32 = line
        .strip_prefix("sig ")
        .unwrap_or_else(|| panic!("unexpected line {line:?}"))
        .parse()
        .unwrap();
    *got.entry(n).or_default() += 1;
    if n >= 32 {
        rt_seq.push(n);
    }
}

/// One trial: start rinit as PID 1, SIGTERM it the moment it has blocked
/// its signals (plus `delay_us` of busy waiting), and return its exit code
/// and whether the TERM went out before rinit had a child.
fn early_term_trial(
    rinit: &str,
    args: &[&str],
    delay_us: u64,
    log: &std::path::Path,
) -> (i32, bool) {
    let mut proc = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", rinit])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let unshare = proc.id() as i32;
    let end = Instant::now() + Duration::from_secs(10);
    // No sleeping: the point is to hit the first few hundred microseconds.
    let pid = loop {
        if let Some(&c) = children_of(unshare).first() {
            let blocked = status_field(c, "SigBlk:")
                .and_then(|m| u64::from_str_radix(&m, 16).ok())
                .is_some_and(|m| m == ready_mask());
            if blocked {
                break c;
            }
        }
        assert!(Instant::now() < end, "rinit never blocked its signals");
        std::hint::spin_loop();
    };
    let t = Instant::now();
    while t.elapsed() < Duration::from_micros(delay_us) {
        std::hint::spin_loop();
    }
    let before_child = children_of(pid).is_empty();
    kill(pid, libc::SIGTERM).unwrap();
    let status = loop {
        if let Some(s) = proc.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > end {
            let _ = kill(pid, libc::SIGKILL);
            let _ = proc.kill();
            let _ = proc.wait();
            panic!(
                "{args:?}, TERM after {delay_us} us: rinit hung (the TERM was lost); stderr: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_micros(200));
    };
    (status.code().unwrap_or(-1), before_child)
}

/// A SIGTERM within the first millisecond, hundreds of times per mode
/// (child, group, dumb-init), at delays spread over rinit's start-up: it
/// is never lost (rinit never hangs) and the child always ends by it.
#[test]
#[ignore = "stress: run with --ignored"]
fn early_sigterm_is_never_lost() {
    if !can_pid1() {
        return;
    }
    let trials = setting("RINIT_STRESS_TRIALS", 1000);
    let t = testee();
    let rinit_path = rinit();
    let dumb = personality("dumb-init");
    let log = temp_dir("early").join("stderr");
    let delays = [0u64, 0, 10, 25, 50, 100, 200, 400, 700, 1000];
    for (mode, bin, extra) in [
        ("child", rinit_path.to_str().unwrap(), &[][..]),
        ("group", rinit_path.to_str().unwrap(), &["-g"][..]),
        ("dumb-init", dumb.to_str().unwrap(), &[][..]),
    ] {
        let mut args = extra.to_vec();
        args.extend(["-t", "0", "--", &t, "signals", "--exit-on-term"]);
        let (mut early, mut codes) = (0, BTreeMap::<i32, usize>::new());
        let start = Instant::now();
        for i in 0..trials {
            let (code, before_child) = early_term_trial(bin, &args, delays[i % delays.len()], &log);
            // 0: the child read the TERM; 143: it came before the child
            // had blocked it, and its default action ended the child.
            assert!(
                code == 0 || code == 143,
                "{mode} trial {i}: exit {code}: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            early += usize::from(before_child);
            *codes.entry(code).or_default() += 1;
        }
        eprintln!(
            "early SIGTERM, {mode}: {trials} trials in {:?}, none lost; {early} sent while rinit had no child yet; \
             exit codes {codes:?}",
            start.elapsed()
        );
    }
}
