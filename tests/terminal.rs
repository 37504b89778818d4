//! rinit and the terminal: the child gets the foreground (Ctrl-C reaches
//! it, not rinit), rinit hands it back, and never steals it when started
//! in the background. Each test runs in a new session on a fresh pty whose
//! controlling process is a small holder (the testee's `tty-run`), as a
//! shell would be.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

mod common;

use common::*;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Instant;

struct Pty {
    master: File,
    lines: Receiver<String>,
    holder: Child,
}

impl Pty {
    /// Runs `setsid --ctty CMD...` on a new pty.
    fn run(cmd: &[&str]) -> Pty {
        let (mut m, mut s) = (0, 0);
        // SAFETY: openpty writes two descriptors; no name,
        // termios or window size are passed.
        let r = unsafe {
            libc::openpty(
                &mut m,
                &mut s,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(r, 0, "openpty");
        // SAFETY: openpty just returned these descriptors.
        let (master, slave) = unsafe { (OwnedFd::from_raw_fd(m), OwnedFd::from_raw_fd(s)) };
        let slave = File::from(slave);
        let holder = Command::new("setsid")
            .arg("--ctty")
            .args(cmd)
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave))
            .spawn()
            .unwrap();
        let master = File::from(master);
        let mut reader = master.try_clone().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let mut pending = String::new();
            // EIO once every slave is closed.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                pending.push_str(&String::from_utf8_lossy(&buf[..n]));
                while let Some(i) = pending.find('\n') {
                    let line = pending[..i].trim_end_matches('\r').to_string();
                    pending.drain(..=i);
                    if tx.send(line).is_err() {
                        return;
                    }
                }
            }
        });
        Pty {
            master,
            lines,
            holder,
        }
    }

    /// Reads lines until one contains `needle`; returns the text after it.
    fn after(&self, needle: &str) -> String {
        let end = Instant::now() + DEADLINE;
        let mut seen = Vec::new();
        loop {
            match self
                .lines
                .recv_timeout(end.saturating_duration_since(Instant::now()))
            {
                Ok(l) => {
                    if let Some(i) = l.find(needle) {
                        return l[i + needle.len()..].trim().to_string();
                    }
                    seen.push(l);
                }
                Err(e) => panic!("no {needle:?} on the terminal ({e}); saw {seen:?}"),
            }
        }
    }

    fn type_byte(&mut self, b: u8) {
        self.master.write_all(&[b]).unwrap();
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// "pid P pgid G sid S" → (P, G, S)
fn ids(text: &str) -> (i32, i32, i32) {
    let v: Vec<i32> = text.split(' ').filter_map(|w| w.parse().ok()).collect();
    (v[0], v[1], v[2])
}

/// "fg F pgid G" → (F, G)
fn fg_and_group(text: &str) -> (i32, i32) {
    let v: Vec<i32> = text.split(' ').filter_map(|w| w.parse().ok()).collect();
    (v[0], v[1])
}

#[test]
fn ctrl_c_reaches_the_child_and_the_terminal_comes_back() {
    let t = testee();
    let script = format!("{t} state; exec sleep 100");
    let r = rinit_argv(None);
    let mut cmd = vec![t.as_str(), "tty-run", "fg"];
    cmd.extend(r.iter().map(String::as_str));
    cmd.extend(["--", "sh", "-c", &script]);
    let mut pty = Pty::run(&cmd);
    // The state comes from a child of the shell rinit started, so its
    // group is the shell's: not the holder's (the session's).
    let (_, pgid, sid) = ids(&pty.after("pid "));
    assert_ne!(pgid, sid, "the child has its own group");
    let fg: i32 = pty.after("fg ").parse().unwrap();
    assert_eq!(fg, pgid, "the child's group has the foreground");
    pty.after("cwd ");
    pty.type_byte(0x03); // Ctrl-C
    assert_eq!(pty.after("exit "), "Some(130)");
    let (fg, holder_group) = fg_and_group(&pty.after("after fg "));
    assert_eq!(fg, holder_group, "rinit handed the foreground back");
}

#[test]
fn a_background_rinit_never_steals_the_terminal() {
    for r in [rinit(), personality("tini")] {
        background_no_steal(&r, &[]);
    }
    // Also as PID 1 of a new PID namespace, where the kernel, not the
    // group ids (all 0 there), says it is in the background.
    if can_pid1() {
        background_no_steal(&rinit(), &["unshare", "--pid", "--fork", "--mount-proc"]);
    }
}

fn background_no_steal(r: &std::path::Path, wrapper: &[&str]) {
    let t = testee();
    let r = rinit_argv(Some(r));
    let mut cmd = vec![t.as_str(), "tty-run", "bg"];
    cmd.extend(wrapper);
    cmd.extend(r.iter().map(String::as_str));
    cmd.extend(["--", &t, "state"]);
    let pty = Pty::run(&cmd);
    let (_, child_group, _) = ids(&pty.after("pid "));
    let fg: i32 = pty.after("fg ").parse().unwrap();
    assert_ne!(
        fg, child_group,
        "a background rinit gave its child the foreground"
    );
    assert_eq!(pty.after("exit "), "Some(0)");
    let (fg, holder_group) = fg_and_group(&pty.after("after fg "));
    assert_eq!(fg, holder_group, "the holder lost the foreground");
}

fn state_of(pid: i32) -> char {
    status_field(pid, "State:")
        .and_then(|s| s.chars().next())
        .unwrap_or('?')
}

/// As dumb-init (setsid mode), a TSTP from the terminal stops the child
/// (sent as STOP to its group) and then rinit itself; a CONT to rinit's
/// group (a shell's `fg`) resumes both.
#[test]
fn dumb_init_job_control_on_a_terminal() {
    let t = testee();
    let link = personality("dumb-init");
    let r = rinit_argv(Some(&link));
    let mut cmd = vec![t.as_str(), "tty-run", "fg-ignore-tstp"];
    cmd.extend(r.iter().map(String::as_str));
    cmd.extend(["--", &t, "signals", "--exit-on-term"]);
    let pty = Pty::run(&cmd);
    pty.after("ready");
    let mut rinit_pid = 0;
    wait_until("rinit under the holder", || {
        rinit_pid = children_of(pty.holder.id() as i32)
            .first()
            .copied()
            .unwrap_or(0);
        rinit_pid > 0
    });
    let child = {
        let mut c = 0;
        wait_until("the child", || {
            c = children_of(rinit_pid).first().copied().unwrap_or(0);
            c > 0
        });
        c
    };
    let mut pty = pty;
    pty.type_byte(0x1a); // Ctrl-Z
    wait_until("the child to stop", || state_of(child) == 'T');
    wait_until("rinit to stop", || state_of(rinit_pid) == 'T');
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(-(pty.holder.id() as i32), libc::SIGCONT) };
    assert_eq!(pty.after("sig "), "18");
    assert_ne!(state_of(child), 'T');
    // SAFETY: as above.
    unsafe { libc::kill(rinit_pid, libc::SIGTERM) };
    assert_eq!(pty.after("sig "), "15");
    assert_eq!(pty.after("exit "), "Some(0)");
}

/// As dumb-init started as the session leader of a terminal (Docker's
/// `-t`), rinit gives the terminal up and the child's new session takes
/// it as its controlling terminal; the SIGHUP and SIGCONT the kernel sends
/// rinit for giving it up are not passed on.
#[test]
fn dumb_init_child_takes_the_terminal() {
    let link = personality("dumb-init");
    let t = testee();
    let r = rinit_argv(Some(&link));
    let mut cmd: Vec<&str> = r.iter().map(String::as_str).collect();
    cmd.extend(["--", &t, "state"]);
    let pty = Pty::run(&cmd);
    let (pid, pgid, sid) = ids(&pty.after("pid "));
    assert_eq!((pid, pgid), (sid, sid), "the child leads a new session");
    let fg: i32 = pty.after("fg ").parse().unwrap();
    assert_eq!(fg, pgid, "the child's session did not take the terminal");
    pty.after("cwd ");
}

/// An interactive bash on a fresh pty (its session leader, with job
/// control), driven by typing into the master as a user would. Needles
/// are computed by the shell (`$((40+2))`), so the echo of what was typed
/// never matches them.
struct Shell {
    pty: Pty,
}

impl Shell {
    fn start() -> Shell {
        let path = std::env::var("PATH").unwrap_or_default();
        let mut shell = Shell {
            pty: Pty::run(&[
                "env",
                "-i",
                &format!("PATH={path}"),
                "TERM=dumb",
                "PS1=$ ",
                "bash",
                "--norc",
                "--noprofile",
                "-i",
            ]),
        };
        // -b: job notices at once, not at the next prompt.
        shell.type_line("set -b; echo shell-$((1+1))");
        shell.pty.after("shell-2");
        shell
    }

    fn type_line(&mut self, line: &str) {
        self.pty.master.write_all(line.as_bytes()).unwrap();
        self.pty.master.write_all(b"\n").unwrap();
    }

    /// The pid in the reader's `ready-PID-pid` line.
    fn ready_pid(&self) -> i32 {
        let text = self.pty.after("ready-");
        let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
        digits
            .parse()
            .unwrap_or_else(|_| panic!("no pid in {text:?}"))
    }

    /// The shell still reads its terminal and runs commands.
    fn alive(&mut self) {
        self.type_line("echo alive-$((3+4))");
        self.pty.after("alive-7");
    }
}

impl Drop for Shell {
    /// A failed test leaves stopped jobs behind that no hangup reaches
    /// (a background job's stopped child): kill the whole session.
    fn drop(&mut self) {
        let sid = self.pty.holder.id() as i32;
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            // SAFETY: getsid and kill have no memory-safety preconditions.
            unsafe {
                if pid != sid && libc::getsid(pid) == sid {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }
    }
}

fn parent_of(pid: i32) -> i32 {
    status_field(pid, "PPid:").unwrap().parse().unwrap()
}

/// The child of `rinit` reads a line from the terminal and echoes it.
const READER: &str = "echo rea\"\"dy-$$-pid; read x; echo go\"\"t-$x-$((40+2))";

/// Case 1: as PID 1 of a new PID namespace, where every group outside
/// reads as 0, rinit still asks the kernel whether it is in the
/// foreground, and its child gets the terminal instead of stopping on
/// SIGTTIN.
#[test]
fn pid1_of_a_new_namespace_gives_its_child_the_terminal() {
    if !can_pid1() {
        return;
    }
    let mut sh = Shell::start();
    let r = rinit_shell();
    sh.type_line(&format!(
        "unshare --pid --fork --mount-proc {} -- sh -c '{READER}'",
        r.as_str()
    ));
    sh.pty.after("ready-");
    sh.type_line("hello");
    assert_eq!(sh.pty.after("got-"), "hello-42");
    sh.alive();
}

/// Case 2: started with `&`, the child stops on SIGTTIN when it reads,
/// and rinit stops with it, so the shell sees its job stopped; `fg` gives
/// rinit's group the terminal and sends it SIGCONT, and rinit hands the
/// terminal on to the child.
#[test]
fn fg_hands_the_terminal_on_to_the_child() {
    let mut sh = Shell::start();
    let r = rinit_shell();
    sh.type_line(&format!("{} -- sh -c '{READER}' &", r.as_str()));
    let child = sh.ready_pid();
    wait_until("the child to stop on SIGTTIN", || state_of(child) == 'T');
    sh.pty.after("Stopped");
    sh.type_line("fg");
    sh.type_line("hello");
    assert_eq!(sh.pty.after("got-"), "hello-42");
    sh.alive();
}

/// Case 3: Ctrl-Z stops the child (it has the foreground) and so rinit,
/// and the shell takes the terminal back; `bg` lets both go on, and rinit
/// must not take the terminal from the shell when its child ends (bash's
/// readline would get EIO and the shell would exit).
#[test]
fn bg_then_child_exit_leaves_the_shell_its_terminal() {
    let dir = temp_dir("tty-bg");
    let fifo = dir.join("go");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid C path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let mut sh = Shell::start();
    let r = rinit_shell();
    sh.type_line(&format!(
        "{} -- sh -c 'echo rea\"\"dy-$$-pid; read x < {}'",
        r.as_str(),
        fifo.display()
    ));
    let child = sh.ready_pid();
    let rinit_pid = parent_of(child);
    sh.pty.type_byte(0x1a); // Ctrl-Z
    sh.pty.after("Stopped");
    sh.type_line("bg");
    wait_until("rinit to go on", || state_of(rinit_pid) != 'T');
    // The child's read returns; it exits, and so does rinit.
    std::fs::write(&fifo, "go\n").unwrap();
    wait_until("rinit to exit", || !alive(rinit_pid));
    sh.alive();
}

/// Case 4: an init under an init. The outer rinit runs under strace,
/// which delays each of its ioctls by 300 ms: a `tcsetpgrp` from the
/// parent's side would land after the inner rinit handed the terminal on
/// to `sh`, and take it back from `sh`. The child takes the terminal
/// itself, before it execs, so nothing comes late.
#[test]
fn an_init_under_an_init_keeps_the_terminal_with_the_grandchild() {
    let strace = Command::new("strace")
        .arg("-V")
        .stdout(Stdio::null())
        .status();
    if !strace.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: no strace (.ci/run installs it)");
        return;
    }
    let mut sh = Shell::start();
    let r = rinit_shell();
    sh.type_line(&format!(
        "strace -o /dev/null -e inject=ioctl:delay_enter=300000 {r} -- {r} -- sh -c '{READER}'",
        r = r.as_str()
    ));
    let child = sh.ready_pid();
    let outer = parent_of(parent_of(child));
    // Once the outer rinit has closed its exec-report pipe (the only pipe
    // it has that strace, which leaks one of its own, does not), it is
    // past every terminal call it makes while starting the child.
    let pipes = |pid: i32| -> Vec<String> {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|fds| {
                fds.flatten()
                    .filter_map(|fd| std::fs::read_link(fd.path()).ok())
                    .map(|l| l.to_string_lossy().into_owned())
                    .filter(|l| l.starts_with("pipe:"))
                    .collect()
            })
            .unwrap_or_default()
    };
    let strace = parent_of(outer);
    wait_until("the outer rinit to finish starting its child", || {
        let theirs = pipes(strace);
        pipes(outer).iter().all(|p| theirs.contains(p))
    });
    sh.type_line("hello");
    assert_eq!(sh.pty.after("got-"), "hello-42");
    sh.alive();
}

/// Case 2, the end of it: the terminal closes (its shell gets SIGHUP)
/// while rinit's child is stopped in the background. The shell passes the
/// hangup to its jobs, with a SIGCONT to the stopped ones; since rinit's
/// job reads as stopped, that reaches the child, and neither is left
/// behind.
#[test]
fn a_hangup_ends_a_stopped_background_rinit_and_its_child() {
    let mut sh = Shell::start();
    let r = rinit_shell();
    sh.type_line(&format!("{} -- sh -c '{READER}' &", r.as_str()));
    let child = sh.ready_pid();
    let rinit_pid = parent_of(child);
    sh.pty.after("Stopped");
    // SAFETY: kill has no memory-safety preconditions; bash is ours.
    unsafe { libc::kill(sh.pty.holder.id() as i32, libc::SIGHUP) };
    wait_until("the child and rinit to end", || {
        !alive(child) && !alive(rinit_pid)
    });
}
