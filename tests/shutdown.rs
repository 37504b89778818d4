//! The shutdown sequence (grace period), the SIGTERM delay and pause mode,
//! as PID 1 and as a subreaper. Time is only ever bounded from below (it
//! cannot be faster than the delay) or far from above (well before the
//! grace period a test sets very long), never asserted tightly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

mod common;

use common::*;
use std::time::{Duration, Instant};

/// PID 1, and not PID 1 (a subreaper). Under qemu-user rinit cannot
/// become a subreaper (EINVAL), so a straggler is not its descendant
/// there: PID 1 only.
fn modes() -> Vec<Opts> {
    let mut m = if emulated() {
        vec![]
    } else {
        vec![Opts::default()]
    };
    if can_pid1() {
        m.insert(0, pid1());
    }
    m
}

fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A straggler that exits on SIGTERM: rinit returns as soon as it is gone,
/// long before the (60 s) grace period, with the main child's status.
#[test]
fn straggler_that_exits_on_term_ends_the_grace_period_early() {
    for mode in ["exits-on-term", "setsid"] {
        for opts in modes() {
            let start = Instant::now();
            let end = run(
                &["-vv", "-t", "60s", "--", &testee(), "straggler", mode, "7"],
                opts,
            );
            assert_eq!(end.code, 7, "{}", end.stderr);
            assert!(
                end.stderr.contains("every remaining process exited"),
                "{}",
                end.stderr
            );
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "waited for the grace period"
            );
        }
    }
}

/// A straggler that ignores SIGTERM is SIGKILLed when the grace ends.
#[test]
fn straggler_that_ignores_term_is_killed_at_the_deadline() {
    for opts in modes() {
        let pid1 = opts.pid1;
        let start = Instant::now();
        let end = run(
            &[
                "-vv",
                "-t",
                "300ms",
                "--",
                &testee(),
                "straggler",
                "ignores-term",
                "5",
            ],
            opts,
        );
        assert_eq!(end.code, 5, "{}", end.stderr);
        assert!(start.elapsed() >= Duration::from_millis(300));
        assert!(
            end.stderr
                .contains("grace period of 300ms over: sending SIGKILL"),
            "{}",
            end.stderr
        );
        if !pid1 {
            let pid: i32 = end.lines[0]
                .strip_prefix("straggler ")
                .unwrap()
                .parse()
                .unwrap();
            wait_until("the straggler to be gone", || !alive(pid));
        }
    }
}

/// Grace 0 exits at once, as tini does, and leaves stragglers to the
/// kernel (PID 1) or alone (subreaper).
#[test]
fn grace_zero_exits_at_once() {
    for opts in modes() {
        let pid1 = opts.pid1;
        let end = run(
            &[
                "-vv",
                "-t",
                "0",
                "--",
                &testee(),
                "straggler",
                "ignores-term",
                "3",
            ],
            opts,
        );
        assert_eq!(end.code, 3, "{}", end.stderr);
        assert!(!end.stderr.contains("SIGTERM"), "{}", end.stderr);
        if !pid1 {
            let pid: i32 = end.lines[0]
                .strip_prefix("straggler ")
                .unwrap()
                .parse()
                .unwrap();
            assert!(alive(pid), "grace 0 must not touch the straggler");
            // SAFETY: our own straggler.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// Not PID 1, rinit signals only its own descendants: an unrelated
/// process of the same user survives the whole shutdown untouched.
#[test]
fn shutdown_never_signals_outside_the_tree() {
    if emulated() {
        // The straggler is rinit's only as a subreaper, which qemu-user refuses.
        eprintln!("SKIPPED under a runner: needs PR_SET_CHILD_SUBREAPER");
        return;
    }
    let mut bystander = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let end = run(
        &[
            "-vv",
            "-t",
            "200ms",
            "--",
            &testee(),
            "straggler",
            "ignores-term",
            "0",
        ],
        Opts::default(),
    );
    assert_eq!(end.code, 0, "{}", end.stderr);
    assert!(
        end.stderr
            .contains("sent SIGKILL to 1 remaining descendant"),
        "{}",
        end.stderr
    );
    assert_eq!(
        bystander.try_wait().unwrap(),
        None,
        "rinit signalled a process outside its tree"
    );
    bystander.kill().unwrap();
    bystander.wait().unwrap();
}

/// With nothing left, no shutdown at all: exit at once.
#[test]
fn nothing_left_means_no_shutdown() {
    for opts in modes() {
        let end = run(&["-vv", "--", "sh", "-c", "exit 9"], opts);
        assert_eq!(end.code, 9);
        assert!(!end.stderr.contains("SIGTERM"), "{}", end.stderr);
    }
}

#[test]
fn grace_from_the_environment_and_flag_precedence() {
    let t = testee();
    // Not PID 1 the straggler is rinit's as a subreaper, which qemu-user
    // refuses: under a runner rinit is PID 1 here.
    let opts = || if emulated() { pid1() } else { Opts::default() };
    let end = run(
        &["-vv", "--", &t, "straggler", "ignores-term", "0"],
        Opts {
            env: env(&[("RINIT_GRACE", "250ms")]),
            ..opts()
        },
    );
    assert!(
        end.stderr.contains("grace period of 250ms over"),
        "{}",
        end.stderr
    );
    let end = run(
        &[
            "-vv",
            "-t",
            "150ms",
            "--",
            &t,
            "straggler",
            "ignores-term",
            "0",
        ],
        Opts {
            env: env(&[("RINIT_GRACE", "60s")]),
            ..opts()
        },
    );
    assert!(
        end.stderr.contains("grace period of 150ms over"),
        "{}",
        end.stderr
    );
}

/// Signals that arrive during the grace period go to what is left.
#[test]
fn signals_during_grace_reach_the_stragglers() {
    if !can_pid1() {
        return;
    }
    // The main child leaves a straggler that reports its signals and
    // exits 4: the straggler gets the shutdown's SIGTERM, then what we send
    // (USR2 rewritten to KILL ends it, and so the grace period).
    let init = Init::start(
        &[
            "-t",
            "60s",
            "-r",
            "USR2:KILL",
            "--",
            &testee(),
            "straggler",
            "reports",
            "4",
        ],
        pid1(),
    );
    // Under a runner SigBlk is the emulator's; the lines below come after
    // rinit blocked its signals anyway (it blocks them before it forks).
    if !emulated() {
        init.wait_blocked();
    }
    // The reporter says `ready` and its parent `straggler`, in either order;
    // the shutdown's SIGTERM comes after both.
    let mut first = vec![init.line(), init.line()];
    first.sort();
    // Natively the reporter is pid 3; qemu-user's own threads take pids
    // in the namespace too, so under a runner any pid, the same in both.
    let pid = if emulated() {
        first[0].trim_start_matches("ready ").to_string()
    } else {
        "3".to_string()
    };
    assert_eq!(first, [format!("ready {pid}"), format!("straggler {pid}")]);
    assert_eq!(init.line(), "sig 15");
    init.signal(libc::SIGHUP);
    assert_eq!(init.line(), "sig 1");
    init.signal(libc::SIGUSR2);
    let end = init.wait();
    assert_eq!(end.code, 4, "{}", end.stderr);
}

#[test]
fn term_delay_holds_sigterm_but_not_sigint() {
    if !can_pid1() {
        return;
    }
    let t = testee();
    // The held SIGTERM arrives no sooner than the delay.
    let init = Init::start(
        &["-d", "400ms", "--", &t, "signals", "--exit-on-term"],
        pid1(),
    );
    init.ready();
    let start = Instant::now();
    init.signal(libc::SIGTERM);
    assert_eq!(init.line(), "sig 15");
    assert!(start.elapsed() >= Duration::from_millis(400));
    assert_eq!(init.wait().code, 0);

    // With a long delay: other signals pass, zombies are reaped meanwhile,
    // and a SIGINT ends the wait at once.
    let init = Init::start(
        &["-d", "60s", "--", &t, "signals", "--orphan-on-usr2"],
        Opts {
            env: env(&[]),
            ..pid1()
        },
    );
    init.ready();
    init.signal(libc::SIGTERM);
    init.signal(libc::SIGHUP);
    assert_eq!(init.line(), "sig 1");
    init.signal(libc::SIGUSR2);
    assert_eq!(init.line(), "sig 12");
    assert_eq!(init.line(), "zombies 0");
    let start = Instant::now();
    init.signal(libc::SIGINT);
    let mut got = vec![init.line(), init.line()];
    got.sort();
    assert_eq!(got, ["sig 15", "sig 2"]);
    assert!(start.elapsed() < Duration::from_secs(30));
    drop(init);

    // A second SIGTERM ends the wait too; RINIT_TERM_DELAY works like -d.
    let init = Init::start(
        &["--", &t, "signals", "--exit-on-term"],
        Opts {
            env: env(&[("RINIT_TERM_DELAY", "60s")]),
            ..pid1()
        },
    );
    init.ready();
    init.signal(libc::SIGTERM);
    init.signal(libc::SIGUSR1);
    assert_eq!(init.line(), "sig 10");
    init.signal(libc::SIGTERM);
    assert_eq!(init.line(), "sig 15");
    assert_eq!(init.wait().code, 0);
}

#[test]
fn pause_mode() {
    if !can_pid1() {
        return;
    }
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let init = Init::start(&["--pause"], pid1());
        init.wait_blocked();
        init.signal(libc::SIGHUP);
        init.signal(libc::SIGUSR1);
        init.signal(sig);
        let end = init.wait();
        assert_eq!(end.code, 0, "{}", end.stderr);
    }
    let end = run(&["--pause", "true"], Opts::default());
    assert_eq!(end.code, 125);
}

/// In a PID namespace whose /proc is still the parent namespace's (no
/// `--mount-proc`), rinit that is not PID 1 must not trust /proc's pids:
/// it warns and signals nothing rather than signalling whatever those
/// numbers mean here.
#[test]
fn foreign_proc_means_no_signals() {
    if !can_pid1() {
        return;
    }
    if emulated() {
        // rinit here is not PID 1: the straggler is its own only as a
        // subreaper, which qemu-user refuses.
        eprintln!("SKIPPED under a runner: needs PR_SET_CHILD_SUBREAPER");
        return;
    }
    let wrapper = [
        "unshare",
        "--pid",
        "--fork",
        "sh",
        "-c",
        "\"$@\"; exit $?",
        "sh",
    ]
    .map(String::from)
    .to_vec();
    let end = run(
        &[
            "-t",
            "200ms",
            "--",
            &testee(),
            "straggler",
            "ignores-term",
            "4",
        ],
        Opts {
            wrapper,
            ..Opts::default()
        },
    );
    assert_eq!(end.code, 4, "{}", end.stderr);
    assert!(
        end.stderr
            .contains("/proc belongs to another PID namespace"),
        "{}",
        end.stderr
    );
}

/// A process that joined rinit's namespace from outside, as `docker
/// exec`, `kubectl exec` and `nsenter` do: its parent (`nsenter`) stays
/// outside, so rinit gets no SIGCHLD for it.
struct Joined {
    proc: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Joined {
    /// Runs `sh -c script` in the PID and mount namespaces of `pid`.
    fn start(pid: i32, script: &str) -> Joined {
        use std::io::BufRead;
        let mut proc = std::process::Command::new("nsenter")
            .args(["-t", &pid.to_string(), "-p", "-m", "sh", "-c", script])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("nsenter");
        let out = proc.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Joined { proc, lines }
    }

    fn line(&self) -> Option<String> {
        self.lines.recv_timeout(DEADLINE).ok()
    }

    /// How the joined process ended (128 + N for a signal), and every
    /// line it wrote after the ones already read.
    fn wait(mut self) -> (i32, Vec<String>) {
        use std::os::unix::process::ExitStatusExt;
        let end = Instant::now() + DEADLINE;
        let status = loop {
            if let Some(s) = self.proc.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < end, "the joined process never ended");
            std::thread::sleep(Duration::from_millis(2));
        };
        let lines = self.lines.try_iter().collect();
        let code = status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
        (code, lines)
    }
}

impl Drop for Joined {
    fn drop(&mut self) {
        let _ = self.proc.kill();
        let _ = self.proc.wait();
    }
}

/// rinit as PID 1 whose main child ends on SIGTERM (143), with a joined
/// process running `script` (which says `joined` once its traps are set);
/// `args` go before the command. Returns rinit's end and the joined one's.
fn shutdown_with_joined(args: &[&str], mode: &str, script: &str) -> (Ended, i32, Vec<String>) {
    shutdown_with_joined_under(args, "echo ready; exec sleep 100", mode, script)
}

/// As `shutdown_with_joined`, with the main child running `sh -c main`
/// (which says `ready`).
fn shutdown_with_joined_under(
    args: &[&str],
    main: &str,
    mode: &str,
    script: &str,
) -> (Ended, i32, Vec<String>) {
    let mut argv = vec!["-v"];
    argv.extend_from_slice(args);
    argv.extend(["--", "sh", "-c", main]);
    let init = Init::start(
        &argv,
        Opts {
            env: env(&[("RINIT_REAP", mode)]),
            ..pid1()
        },
    );
    init.ready();
    let joined = Joined::start(init.pid, script);
    assert_eq!(joined.line().as_deref(), Some("joined"));
    init.signal(libc::SIGTERM);
    let end = init.wait();
    let (code, lines) = joined.wait();
    (end, code, lines)
}

/// A joined process gets the shutdown's SIGTERM and its grace period:
/// rinit waits while it cleans up for 0.6 s, exits as soon as it is gone
/// (long before the 60 s grace), and keeps the main child's status.
#[test]
fn a_joined_process_gets_sigterm_and_time_to_clean_up() {
    if !can_pid1() {
        return;
    }
    let script = "trap 'echo got TERM; sleep 0.6; echo cleanup done; exit 0' TERM; \
                  echo joined; while :; do sleep 0.1; done";
    for mode in ["auto", "wait"] {
        let start = Instant::now();
        let (end, code, lines) = shutdown_with_joined(&["-t", "60s"], mode, script);
        assert_eq!(end.code, 143, "{mode}: {}", end.stderr);
        assert_eq!(
            lines,
            ["got TERM", "cleanup done"],
            "{mode}: {}",
            end.stderr
        );
        assert_eq!(code, 0, "{mode}: {}", end.stderr);
        assert!(
            end.stderr.contains("every remaining process exited"),
            "{mode}: {}",
            end.stderr
        );
        assert!(!end.stderr.contains("SIGKILL"), "{mode}: {}", end.stderr);
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{mode}: waited for the grace period"
        );
        let wakeups = end.stderr.lines().find(|l| l.contains("woke up"));
        eprintln!("RINIT_REAP={mode}, joined process cleaning up: {wakeups:?}");
    }
}

/// A straggler of rinit's own that ends at once on SIGTERM does not end
/// the shutdown while a joined process is still cleaning up: rinit waits
/// for the joined one too (not only for its own children, whose exit
/// alone it hears of through SIGCHLD).
#[test]
fn a_joined_process_outlives_rinits_own_stragglers() {
    if !can_pid1() {
        return;
    }
    let script = "trap 'echo got TERM; sleep 0.6; echo cleanup done; exit 0' TERM; \
                  echo joined; while :; do sleep 0.1; done";
    // The main shell dies of SIGTERM in `wait`; its `sleep` is left to rinit.
    let main = "sleep 100 & echo ready; wait";
    for mode in ["auto", "wait"] {
        let (end, code, lines) = shutdown_with_joined_under(&["-t", "60s"], main, mode, script);
        assert_eq!(end.code, 143, "{mode}: {}", end.stderr);
        assert!(
            end.stderr.contains("sending SIGTERM to what is left"),
            "{mode}: no straggler left: {}",
            end.stderr
        );
        assert_eq!(
            lines,
            ["got TERM", "cleanup done"],
            "{mode}: {}",
            end.stderr
        );
        assert_eq!(code, 0, "{mode}: {}", end.stderr);
        assert!(!end.stderr.contains("SIGKILL"), "{mode}: {}", end.stderr);
    }
}

/// A joined process that ignores SIGTERM is SIGKILLed at the deadline;
/// rinit keeps the main child's status.
#[test]
fn a_joined_process_that_ignores_sigterm_is_killed_at_the_deadline() {
    if !can_pid1() {
        return;
    }
    let script = "trap '' TERM; echo joined; while :; do sleep 0.1; done";
    for mode in ["auto", "wait"] {
        let start = Instant::now();
        let (end, code, lines) = shutdown_with_joined(&["-t", "500ms"], mode, script);
        assert_eq!(end.code, 143, "{mode}: {}", end.stderr);
        assert!(start.elapsed() >= Duration::from_millis(500), "{mode}");
        assert!(
            end.stderr
                .contains("grace period of 500ms over: sending SIGKILL"),
            "{mode}: {}",
            end.stderr
        );
        assert_eq!(code, 128 + libc::SIGKILL, "{mode}: {lines:?}");
        // Killed by rinit before rinit exited, not by the kernel after.
        assert!(
            end.stderr.contains("every remaining process exited"),
            "{mode}: {}",
            end.stderr
        );
    }
}

/// With grace 0 (tini's behaviour) rinit exits at once: it neither waits
/// for nor signals a joined process, and the kernel kills it.
#[test]
fn grace_zero_leaves_a_joined_process_to_the_kernel() {
    if !can_pid1() {
        return;
    }
    let script = "trap 'echo got TERM' TERM; echo joined; while :; do sleep 0.1; done";
    for mode in ["auto", "wait"] {
        let (end, code, lines) = shutdown_with_joined(&["-t", "0"], mode, script);
        assert_eq!(end.code, 143, "{mode}: {}", end.stderr);
        assert!(lines.is_empty(), "{mode}: {lines:?}");
        assert_eq!(code, 128 + libc::SIGKILL, "{mode}");
        assert!(
            !end.stderr.contains("SIGTERM to what is left"),
            "{mode}: {}",
            end.stderr
        );
        assert!(!end.stderr.contains("woke up"), "{mode}: {}", end.stderr);
    }
}

/// In the dumb-init personality the child's group gets SIGTERM when the
/// child exits. Where the kernel has already released the child, its
/// pid (the group's id) may be anyone's by then: rinit signals the group
/// through the child's pidfd, which it keeps for that, never by number.
/// Seen with strace (rinit only, not its child); skipped without strace
/// or a kernel that reaps.
#[test]
fn the_group_is_signalled_through_the_kept_pidfd() {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let kernel = rinit::sys::release_at_least(release.trim().as_bytes(), (6, 15));
    let strace = std::process::Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !kernel || !strace || std::env::var_os("RINIT_RUNNER").is_some_and(|r| !r.is_empty()) {
        eprintln!("SKIPPED: needs strace, Linux 6.15 or later, and no RINIT_RUNNER");
        return;
    }
    let dir = temp_dir("pidfd-group");
    let log = dir.join("strace");
    let wrapper = [
        "strace",
        "-o",
        path_str(&log),
        "-e",
        "trace=pidfd_send_signal,kill,rt_sigaction",
    ]
    .map(String::from)
    .to_vec();
    let t = testee();
    // No -v: dumb-init's -v narrates every SIGCHLD and every reap, so it
    // has rinit reap itself (see Config::kernel_may_reap).
    let init = Init::start(
        &["--", &t, "signals", "--exit-on-term"],
        Opts {
            wrapper,
            argv0: Some(personality("dumb-init")),
            env: env(&[("RINIT_REAP", "auto")]),
            ..Opts::default()
        },
    );
    init.line_starting("ready");
    init.signal(libc::SIGTERM);
    let end = init.wait();
    assert_eq!(end.code, 0, "{}", end.stderr);
    let trace = std::fs::read_to_string(&log).unwrap();
    // The kernel released the child: SA_NOCLDWAIT set, and never cleared
    // by a fall-back.
    let sigchld: Vec<&str> = trace
        .lines()
        .filter(|l| l.starts_with("rt_sigaction(SIGCHLD, {"))
        .collect();
    assert!(
        sigchld.last().is_some_and(|l| l.contains("SA_NOCLDWAIT")),
        "the kernel did not reap: {trace}"
    );
    // The forwarded SIGTERM, then the group's SIGTERM after the exit: both
    // through the pidfd, the second with PIDFD_SIGNAL_PROCESS_GROUP.
    let group_sends = trace
        .lines()
        .filter(|l| l.starts_with("pidfd_send_signal(") && l.contains("SIGTERM"))
        .filter(|l| l.contains("PIDFD_SIGNAL_PROCESS_GROUP") || l.contains(", 0x4)"))
        .count();
    assert!(group_sends >= 2, "{trace}");
    assert!(
        !trace.lines().any(|l| l.starts_with("kill(-")),
        "signalled a group by number: {trace}"
    );
}

/// `-p SIG` as PID 1 of a new namespace, where `getppid()` is always 0:
/// a parent that dies before rinit's `prctl(PR_SET_PDEATHSIG)` still
/// means SIG. strace holds the prctl for 3 s (test-only; `.ci/run`
/// installs strace); the launcher is SIGKILLed meanwhile. Here /proc is
/// the host's (no `--mount-proc`), which is where rinit can see its
/// parent (README "Usage", `-p`); skipped without strace.
#[test]
fn pdeathsig_as_pid1_sees_a_parent_that_died_before_prctl() {
    let strace = std::process::Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !strace || !can_pid1() || std::env::var_os("RINIT_RUNNER").is_some_and(|r| !r.is_empty()) {
        eprintln!("SKIPPED: needs strace, root for unshare, and no RINIT_RUNNER");
        return;
    }
    let wrapper = [
        "strace",
        "-f",
        "-o",
        "/dev/null",
        "-e",
        "trace=prctl",
        "-e",
        "inject=prctl:delay_enter=3000000",
        "unshare",
        "--pid",
        "--fork",
    ]
    .map(String::from)
    .to_vec();
    let init = Init::start(
        &["-v", "-p", "TERM", "--", "sleep", "100"],
        Opts {
            wrapper,
            ..Opts::default()
        },
    );
    // /proc/PID/syscall numbers the call as rinit's own ABI does: a
    // 32-bit build (i686 on x86_64, armv7 on arm64) calls prctl 172.
    let elf = std::fs::read(rinit()).unwrap();
    let nr = if elf[4] == 1 { 172 } else { libc::SYS_prctl };
    let prctl = format!("{nr} ");
    wait_until("rinit to be held in prctl", || {
        std::fs::read_to_string(format!("/proc/{}/syscall", init.pid))
            .is_ok_and(|s| s.starts_with(&prctl))
    });
    let parent: i32 = status_field(init.pid, "PPid:").unwrap().parse().unwrap();
    // SAFETY: kill has no memory-safety preconditions; `parent` is the
    // unshare this test started.
    assert_eq!(unsafe { libc::kill(parent, libc::SIGKILL) }, 0);
    wait_until("rinit to exit", || !alive(init.pid));
    // What rinit wrote is in the pipe already; the reader may lag.
    wait_until("rinit's log of the main child's end", || {
        init.stderr_now().contains("exiting with status")
    });
    let stderr = init.stderr_now();
    assert!(
        stderr.contains("the parent died before -p took effect: raising SIGTERM"),
        "{stderr}"
    );
    assert!(stderr.contains("killed by SIGTERM"), "{stderr}");
}
