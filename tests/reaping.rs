//! Who reaps: the kernel (`SA_NOCLDWAIT`, the main child's status read
//! from its pidfd) where it keeps that status (Linux 6.15 and later), or
//! rinit itself (`RINIT_REAP=wait`, `-w`, `-vv`, older kernels). Both
//! paths must give the same exit codes, reap every orphan and end the
//! shutdown as soon as the last process is gone; only the kernel's never
//! wakes rinit for an orphan.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

mod common;

use common::*;

/// Whether this kernel lets rinit hand reaping to it; if not, the tests
/// of that path say so loudly and check only rinit's own.
fn kernel_reaps() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let yes = rinit::sys::release_at_least(release.trim().as_bytes(), (6, 15));
    if !yes {
        eprintln!(
            "SKIPPED (kernel reaping): Linux {} keeps no exit status on a pidfd; \
             only rinit's own reaping is tested",
            release.trim()
        );
    }
    yes
}

/// rinit as PID 1 with `RINIT_REAP` set to `mode`.
fn as_pid1(mode: &str) -> Opts {
    Opts {
        env: vec![("RINIT_REAP".into(), mode.into())],
        ..pid1()
    }
}

const MODES: [&str; 2] = ["auto", "wait"];

#[test]
fn the_same_exit_codes_either_way() {
    if !can_pid1() {
        return;
    }
    for mode in MODES {
        for (args, want) in [
            (&["--", "true"][..], 0),
            (&["--", "sh", "-c", "exit 7"], 7),
            (&["--", "sh", "-c", "kill -TERM $$"], 143),
            (&["--", "sh", "-c", "kill -KILL $$"], 137),
            (&["-e", "143", "--", "sh", "-c", "kill -TERM $$"], 0),
            // Orphans exiting around the main child's own exit.
            (
                &[
                    "--",
                    "sh",
                    "-c",
                    "for i in 1 2 3 4 5 6 7 8; do true & done; exit 5",
                ],
                5,
            ),
            // A straggler that goes on SIGTERM: the shutdown must see it go
            // at once, not at the end of the grace period (past `run`'s
            // deadline).
            (&["-t", "60s", "--", "sh", "-c", "sleep 60 & exit 9"], 9),
        ] {
            let end = run(args, as_pid1(mode));
            assert_eq!(end.code, want, "{mode} {args:?}: {}", end.stderr);
        }
    }
}

/// With `-v`, rinit says when the kernel reaps; `RINIT_REAP=wait` and `-w`
/// (which must hear of every reap) keep rinit reaping.
#[test]
fn who_reaps_is_chosen_as_documented() {
    if !can_pid1() {
        return;
    }
    let says_kernel = |args: &[&str], mode: &str| {
        let end = run(args, as_pid1(mode));
        assert_eq!(end.code, 0, "{args:?}: {}", end.stderr);
        end.stderr.contains("the kernel releases exited processes")
    };
    let kernel = kernel_reaps();
    assert_eq!(says_kernel(&["-v", "--", "true"], "auto"), kernel);
    assert!(!says_kernel(&["-v", "--", "true"], "wait"));
    assert!(!says_kernel(&["-v", "-w", "--", "true"], "auto"));
}

/// 2,000 orphans in 400 waves: rinit reaping them is woken over and over;
/// the kernel reaping them leaves rinit asleep (its child counts rinit's
/// context switches meanwhile). Either way none is left.
#[test]
fn the_kernel_reaps_orphans_without_waking_rinit() {
    if !can_pid1() {
        return;
    }
    let t = testee();
    let wakeups = |mode: &str| {
        let end = run(&["--", &t, "orphans-counted", "400", "5"], as_pid1(mode));
        assert_eq!(end.code, 0, "{mode}: {}", end.stderr);
        assert_eq!(end.lines[0], "zombies 0", "{mode}: {:?}", end.lines);
        let n: u64 = end.lines[1]
            .strip_prefix("wakeups ")
            .unwrap()
            .parse()
            .unwrap();
        eprintln!("RINIT_REAP={mode}: rinit scheduled {n} times for 2,000 orphans");
        n
    };
    // Each wave's orphans come after the last one's are gone, so rinit
    // reaping wakes at least once a wave (far more than 50 times).
    assert!(wakeups("wait") >= 50);
    if emulated() {
        // qemu-user keeps SA_NOCLDWAIT to itself: rinit falls back to
        // reaping (the_main_childs_exit_shows_whether_the_kernel_releases).
        eprintln!("SKIPPED (kernel reaping wake-ups) under a runner: rinit reaps itself there");
    } else if kernel_reaps() {
        assert!(wakeups("auto") <= 5);
    }
}

/// In a PID namespace of its own, rinit is not PID 1 here but a subreaper:
/// orphans still come to it and are released, and the shutdown still sees
/// the last descendant go.
#[test]
fn a_subreaper_reaps_the_same_way() {
    if emulated() {
        // qemu-user refuses PR_SET_CHILD_SUBREAPER.
        eprintln!("SKIPPED under a runner: needs PR_SET_CHILD_SUBREAPER");
        return;
    }
    let t = testee();
    for mode in MODES {
        let opts = Opts {
            env: vec![("RINIT_REAP".into(), mode.into())],
            ..Opts::default()
        };
        let end = run(&["--", &t, "orphans", "20", "5"], opts);
        assert_eq!(end.code, 0, "{mode}: {}", end.stderr);
        assert_eq!(end.lines, ["zombies 0"], "{mode}");
        let opts = Opts {
            env: vec![("RINIT_REAP".into(), mode.into())],
            ..Opts::default()
        };
        let end = run(&["--", "sh", "-c", "sleep 60 & exit 4"], opts);
        assert_eq!(end.code, 4, "{mode}: {}", end.stderr);
    }
}

/// Where the kernel reaps, the main child's exit shows whether it really
/// released it: natively it must (a wrong `struct sigaction` layout, as
/// the 32-bit build once had, would leave it a zombie: run this against
/// `RINIT_BIN=target/i686-unknown-linux-musl/release/rinit`); under an
/// emulator it does not, and rinit must say so and reap it, not hang.
#[test]
fn the_main_childs_exit_shows_whether_the_kernel_releases() {
    let t = testee();
    let mut modes = vec![Opts::default()];
    if can_pid1() {
        modes.push(pid1());
    }
    for opts in modes {
        let pid1 = opts.pid1;
        // The child exits only when told, so SA_NOCLDWAIT is set by then.
        let init = Init::start(&["-v", "--", &t, "signals", "--exit-on-term"], opts);
        init.ready();
        init.signal(libc::SIGTERM);
        let end = init.wait();
        assert_eq!(end.code, 0, "pid1 {pid1}: {}", end.stderr);
        let fell_back = end.stderr.contains("not released under SA_NOCLDWAIT");
        if !kernel_reaps() {
            assert!(!fell_back, "{}", end.stderr);
        } else if emulated() {
            assert!(fell_back, "pid1 {pid1}: {}", end.stderr);
        } else {
            assert!(
                end.stderr.contains("the kernel releases exited processes") && !fell_back,
                "pid1 {pid1}: the kernel did not release the main child: {}",
                end.stderr
            );
        }
    }
}

/// The aarch64 build under qemu-user (as `docker run --platform
/// linux/arm64` runs it on an x86_64 host): qemu reports the host's
/// kernel but drops SA_NOCLDWAIT, so the main child stays a zombie.
/// rinit must see it, reap it and exit with its status, as PID 1 too.
/// Runs where `qemu-aarch64-static` and the aarch64 build exist
/// (`scripts/static.sh aarch64-unknown-linux-musl`, or
/// `RINIT_AARCH64_BIN`); skipped loudly elsewhere.
#[test]
fn under_qemu_user_a_zombie_main_child_is_reaped() {
    // Under a runner (scripts/cross-test.sh), the build and emulator
    // under test; natively, the aarch64 build beside this one.
    let (qemu, bin) = match runner() {
        Some(r) => (r.to_str().unwrap().to_string(), rinit()),
        None => (
            "qemu-aarch64-static".to_string(),
            std::env::var_os("RINIT_AARCH64_BIN").map_or_else(
                || {
                    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("target/aarch64-unknown-linux-musl/release/rinit")
                },
                std::path::PathBuf::from,
            ),
        ),
    };
    let found = std::process::Command::new(&qemu)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found || !bin.exists() {
        eprintln!(
            "SKIPPED: needs {qemu} and {} (scripts/static.sh aarch64-unknown-linux-musl)",
            bin.display()
        );
        return;
    }
    let bin = bin.to_str().unwrap().to_string();
    let mut wrappers = vec![vec![qemu.clone(), bin.clone()]];
    if can_pid1() {
        wrappers.push(
            ["unshare", "--pid", "--fork", "--mount-proc", &qemu, &bin]
                .map(String::from)
                .to_vec(),
        );
    }
    for argv in wrappers {
        let start = std::time::Instant::now();
        use std::os::unix::process::CommandExt;
        let mut child = std::process::Command::new(&argv[0])
            .args(&argv[1..])
            .process_group(0)
            .args(["-v", "--", "sh", "-c", "sleep 0.2; exit 3"])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > DEADLINE {
                // SAFETY: kill has no memory-safety preconditions.
                unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
                let _ = child.kill();
                panic!("{argv:?}: rinit hung on a zombie main child");
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert_eq!(status.code(), Some(3), "{argv:?}: {stderr}");
        if kernel_reaps() {
            assert!(
                stderr.contains("not released under SA_NOCLDWAIT"),
                "{argv:?}: {stderr}"
            );
        }
    }
}
