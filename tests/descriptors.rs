//! Descriptors and socket activation (SPEC "Descriptors and
//! environment"): what rinit inherits is the child's, so rinit closes its
//! own copies once the child runs; `LISTEN_PID` naming rinit reaches the
//! child as the child's own pid. And the catatonit personality as podman
//! runs it (`/catatonit -P`, `-V`, `-L`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

mod common;

use std::io::Read;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, channel};

use common::*;

/// A FIFO and a thread that opens it for reading and sends everything
/// read, once every writer has closed it (EOF).
fn fifo_reader(tag: &str) -> (PathBuf, Receiver<String>) {
    let path = temp_dir(tag).join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .unwrap();
    assert!(made.success());
    let (tx, rx) = channel();
    let reader = path.clone();
    std::thread::spawn(move || {
        let mut text = String::new();
        let mut file = std::fs::File::open(&reader).unwrap();
        file.read_to_string(&mut text).unwrap();
        let _ = tx.send(text);
    });
    (path, rx)
}

/// The launcher opens the FIFO as fd 7 and execs rinit; the child writes
/// through its copy, closes it, and lives on. The reader must see EOF
/// while the child still runs: rinit must not hold a copy.
fn inherited_pipe_reaches_eof(pid1: bool, tag: &str) {
    let (fifo, read) = fifo_reader(tag);
    // As PID 1, the shell that opens the FIFO runs inside the namespace
    // and becomes rinit: `unshare` itself must not hold a copy.
    let unshare = ["unshare", "--pid", "--fork", "--mount-proc"];
    let mut wrapper: Vec<String> = if pid1 {
        unshare.map(String::from).to_vec()
    } else {
        Vec::new()
    };
    wrapper.extend(["sh", "-c", "exec \"$@\" 7>\"$0\"", path_str(&fifo)].map(String::from));
    let opts = Opts {
        wrapper,
        ..Opts::default()
    };
    let init = Init::start(
        &[
            "--",
            "sh",
            "-c",
            "echo hello >&7; exec 7>&-; echo ready; exec sleep 60",
        ],
        opts,
    );
    init.ready();
    let got = read.recv_timeout(DEADLINE);
    let rinit_fds: Vec<String> = std::fs::read_dir(format!("/proc/{}/fd", init.pid))
        .map(|d| {
            d.filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default();
    init.signal(libc::SIGTERM);
    let end = init.wait();
    assert_eq!(
        got.as_deref(),
        Ok("hello\n"),
        "the reader saw no EOF: rinit still holds the pipe (its fds: {rinit_fds:?}; stderr: {})",
        end.stderr
    );
}

#[test]
fn an_inherited_pipe_closes_when_the_child_closes_it_as_pid1() {
    if !can_pid1() {
        return;
    }
    inherited_pipe_reaches_eof(true, "fd-pid1");
}

#[test]
fn an_inherited_pipe_closes_when_the_child_closes_it() {
    inherited_pipe_reaches_eof(false, "fd");
}

/// In pause mode nothing needs what rinit inherited: it holds none of it.
#[test]
fn pause_mode_keeps_no_inherited_descriptor() {
    let (fifo, read) = fifo_reader("fd-pause");
    let opts = Opts {
        wrapper: ["sh", "-c", "exec \"$@\" 7>\"$0\"", path_str(&fifo)]
            .map(String::from)
            .to_vec(),
        ..Opts::default()
    };
    let init = Init::start(&["-P"], opts);
    init.wait_blocked();
    let got = read.recv_timeout(DEADLINE);
    init.signal(libc::SIGTERM);
    let end = init.wait();
    assert_eq!(got.as_deref(), Ok(""), "stderr: {}", end.stderr);
    assert_eq!(end.code, 0);
}

/// The child's `LISTEN_PID`, its own pid, `LISTEN_FDS` and
/// `LISTEN_FDNAMES`, as it reports them.
fn listen_vars(opts: Opts) -> Vec<String> {
    let end = run(
        &[
            "--",
            "sh",
            "-c",
            "echo \"ready $LISTEN_PID $$ $LISTEN_FDS $LISTEN_FDNAMES\"",
        ],
        opts,
    );
    assert_eq!(end.code, 0, "{}", end.stderr);
    let line = end
        .lines
        .iter()
        .find(|l| l.starts_with("ready"))
        .unwrap_or_else(|| panic!("no report: {:?} {}", end.lines, end.stderr));
    line.split(' ').skip(1).map(String::from).collect()
}

fn listen_env(pid: &str) -> Vec<(String, String)> {
    [
        ("LISTEN_PID", pid),
        ("LISTEN_FDS", "1"),
        ("LISTEN_FDNAMES", "web"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// systemd names the process it starts (rinit, PID 1 here): the child
/// must see its own pid, or `sd_listen_fds()` ignores its sockets.
#[test]
fn listen_pid_of_rinit_becomes_the_childs_as_pid1() {
    if !can_pid1() {
        return;
    }
    let seen = listen_vars(Opts {
        env: listen_env("1"),
        ..pid1()
    });
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert_eq!(seen[0], seen[1], "LISTEN_PID is not the child's pid");
    assert_ne!(seen[0], "1");
    assert_eq!(&seen[2..], ["1", "web"]);
}

#[test]
fn listen_pid_of_rinit_becomes_the_childs() {
    // The launcher names its own pid, which rinit keeps when it execs.
    let seen = listen_vars(Opts {
        wrapper: ["sh", "-c", "LISTEN_PID=$$ exec \"$@\"", "sh"]
            .map(String::from)
            .to_vec(),
        env: listen_env("0"),
        ..Opts::default()
    });
    assert_eq!(seen[0], seen[1], "LISTEN_PID is not the child's pid");
    assert_eq!(&seen[2..], ["1", "web"]);
}

/// A `LISTEN_PID` meant for someone else passes through untouched.
#[test]
fn another_listen_pid_passes_through() {
    if !can_pid1() {
        return;
    }
    let seen = listen_vars(Opts {
        env: listen_env("4000000"),
        ..pid1()
    });
    assert_eq!(seen[0], "4000000");
    assert_ne!(seen[1], "4000000");
}

/// podman's pause container: `/catatonit -P`, ended by SIGTERM with 0.
#[test]
fn catatonit_pauses_and_stops_with_zero() {
    if !can_pid1() {
        return;
    }
    let init = Init::start(
        &["-P"],
        Opts {
            argv0: Some(personality("catatonit")),
            ..pid1()
        },
    );
    init.wait_blocked();
    init.signal(libc::SIGTERM);
    let end = init.wait();
    assert_eq!(end.code, 0, "{}", end.stderr);
    assert!(end.stderr.is_empty(), "{}", end.stderr);
}

/// Named catatonit: `-V` is one `tini version` line, `-L` the license.
#[test]
fn catatonit_version_and_license() {
    let opts = || Opts {
        argv0: Some(personality("catatonit")),
        ..Opts::default()
    };
    let end = run(&["-V"], opts());
    assert_eq!(end.code, 0, "{}", end.stderr);
    assert_eq!(end.lines.len(), 1, "{:?}", end.lines);
    assert!(end.lines[0].starts_with("tini version "), "{:?}", end.lines);
    let end = run(&["-L"], opts());
    assert_eq!(end.code, 0, "{}", end.stderr);
    assert!(end.lines.iter().any(|l| l.contains("MIT License")));
}

/// Named catatonit, a usage error names catatonit: one line, exit 125,
/// nothing started.
#[test]
fn catatonit_usage_errors_name_catatonit() {
    let end = run(
        &["-x", "--", "sh", "-c", "echo started"],
        Opts {
            argv0: Some(personality("catatonit")),
            ..Opts::default()
        },
    );
    assert_eq!(end.code, 125, "{}", end.stderr);
    assert!(end.lines.is_empty(), "{:?}", end.lines);
    assert_eq!(end.stderr.lines().count(), 1, "{}", end.stderr);
    assert!(end.stderr.starts_with("catatonit: "), "{}", end.stderr);
    assert!(end.stderr.contains("'-x'"), "{}", end.stderr);
}

/// Not PID 1, catatonit becomes a subreaper by itself: an orphan of the
/// child is re-parented to rinit, not to the launcher's init.
#[test]
fn catatonit_is_a_subreaper_when_not_pid1() {
    if emulated() {
        // qemu-user refuses PR_SET_CHILD_SUBREAPER (EINVAL): rinit must
        // say so, and no orphan can come to it.
        let end = run(
            &["--", "true"],
            Opts {
                argv0: Some(personality("catatonit")),
                ..Opts::default()
            },
        );
        assert!(end.stderr.contains(NO_SUBREAPER), "{}", end.stderr);
        eprintln!("SKIPPED re-parenting under a runner: qemu-user refuses the subreaper");
        return;
    }
    let init = Init::start(
        &[
            "--",
            "sh",
            "-c",
            "(sleep 60 & echo \"ready $!\"); exec sleep 60",
        ],
        Opts {
            argv0: Some(personality("catatonit")),
            ..Opts::default()
        },
    );
    let line = init.ready();
    let orphan: i32 = line.split(' ').nth(1).unwrap().parse().unwrap();
    let rinit = init.pid.to_string();
    let mut ppid = None;
    wait_until("the orphan is re-parented", || {
        ppid = status_field(orphan, "PPid:");
        ppid.as_deref() == Some(rinit.as_str())
    });
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(orphan, libc::SIGKILL) };
    init.signal(libc::SIGTERM);
    let end = init.wait();
    assert_eq!(ppid.as_deref(), Some(rinit.as_str()), "{}", end.stderr);
}
