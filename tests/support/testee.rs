//! The program the integration tests run under rinit. It reports what it
//! sees on stdout, one line at a time, and always says `ready` once it
//! can be signalled, so tests never have to sleep.
//!
//! testee signals [--exit-on-term] [--orphan-on-usr2]
//!                           block everything, print `ready`, then `sig N`
//!                           for each signal
//! testee state              print the signal state, groups and cwd, exit 0
//! testee orphans WAVES N    make WAVES*N orphans, wait until no zombie is
//!                           left in this /proc, print `zombies 0`, exit 0
//! testee straggler MODE CODE
//!                           start a straggler (MODE: exits-on-term,
//!                           ignores-term, setsid, reports: runs
//!                           `signals`), print `straggler PID`,
//!                           then exit CODE at once
//! testee grandchildren N    start N children running `signals`, print
//!                           `ready` when all are, report own signals as
//!                           `m sig N`; on SIGTERM end them and exit
//! testee launch BLOCK IGN CMD...
//!                           exec CMD with that mask and those ignores
//! testee tty-run MODE CMD...
//!                           run CMD in our group (fg) or a new one (bg),
//!                           then report who has the terminal
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::panic
)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rinit::{signals, sys};

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").unwrap();
    out.flush().unwrap();
}

fn status_field(pid: &str, name: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
        .unwrap_or_default()
}

/// Everything the kernel lets us block, read from a signalfd.
fn signals(exit_on_term: bool, orphan_on_usr2: bool) -> ! {
    let mask = signals::blocked_mask() & !signals::bit(signals::SIGCHLD);
    sys::sigprocmask(libc::SIG_BLOCK, mask).unwrap();
    let fd = sys::signalfd(mask).unwrap();
    say(&format!("ready {}", std::process::id()));
    let mut buf = [sys::zeroed_siginfo(); 16];
    loop {
        let got = sys::read_signals(&fd, &mut buf).unwrap();
        for s in got {
            say(&format!("sig {}", s.ssi_signo));
            if exit_on_term && s.ssi_signo as i32 == signals::SIGTERM {
                std::process::exit(0);
            }
            if orphan_on_usr2 && s.ssi_signo == libc::SIGUSR2 as u32 {
                // An orphan for rinit to reap, and proof that it did.
                orphans(1, 1);
            }
        }
    }
}

fn state() {
    let me = std::process::id().to_string();
    say(&format!("blk {}", status_field(&me, "SigBlk:")));
    say(&format!("ign {}", status_field(&me, "SigIgn:")));
    // SAFETY: plain getters.
    let (pid, pgid, sid) = unsafe { (libc::getpid(), libc::getpgrp(), libc::getsid(0)) };
    say(&format!("pid {pid} pgid {pgid} sid {sid}"));
    say(&format!("fg {}", sys::foreground_group().unwrap_or(-1)));
    say(&format!(
        "cwd {}",
        std::env::current_dir().unwrap().display()
    ));
}

/// Zombies whose parent is our parent (rinit): the ones it must reap.
fn zombies() -> usize {
    // SAFETY: a plain getter.
    let parent = unsafe { libc::getppid() };
    let mut n = 0;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name();
        if name
            .to_str()
            .is_some_and(|s| s.bytes().all(|b| b.is_ascii_digit()))
        {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            let rest: Vec<&str> = stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            if rest.first() == Some(&"Z") && rest.get(1) == Some(&parent.to_string().as_str()) {
                n += 1;
            }
        }
    }
    n
}

fn orphans(waves: usize, per_wave: usize) {
    for _ in 0..waves {
        // SAFETY: the child only forks and _exits.
        unsafe {
            let middle = libc::fork();
            if middle == 0 {
                for _ in 0..per_wave {
                    if libc::fork() == 0 {
                        libc::_exit(0);
                    }
                }
                // Our children, dead or alive, become rinit's.
                libc::_exit(0);
            }
            let mut status = 0;
            libc::waitpid(middle, &mut status, 0);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let z = zombies();
        if z == 0 || Instant::now() > deadline {
            say(&format!("zombies {z}"));
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn straggler(mode: &str, code: i32) -> ! {
    let (read, write) = sys::pipe().unwrap();
    // SAFETY: the child sets up its signals and waits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: plain syscalls in the forked child.
        unsafe {
            match mode {
                "setsid" => {
                    libc::setsid();
                }
                "ignores-term" => {
                    libc::signal(libc::SIGTERM, libc::SIG_IGN);
                }
                "reports" => {
                    let mask = signals::blocked_mask() & !signals::bit(signals::SIGCHLD);
                    sys::sigprocmask(libc::SIG_BLOCK, mask).unwrap();
                    libc::write(
                        std::os::fd::AsRawFd::as_raw_fd(&write),
                        b"x".as_ptr().cast(),
                        1,
                    );
                    signals(false, false);
                }
                _ => {}
            }
            libc::write(
                std::os::fd::AsRawFd::as_raw_fd(&write),
                b"x".as_ptr().cast(),
                1,
            );
            loop {
                libc::pause();
            }
        }
    }
    drop(write);
    let mut b = [0u8; 1];
    sys::read_full(&read, &mut b).unwrap();
    say(&format!("straggler {pid}"));
    std::process::exit(code);
}

fn grandchildren(n: usize) {
    let mask = signals::blocked_mask() & !signals::bit(signals::SIGCHLD);
    sys::sigprocmask(libc::SIG_BLOCK, mask).unwrap();
    let fd = sys::signalfd(mask).unwrap();
    let me = std::env::current_exe().unwrap();
    let mut kids = Vec::new();
    let mut pids = Vec::new();
    for _ in 0..n {
        let mut child = Command::new(&me)
            .args(["signals", "--exit-on-term"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = lines.next().unwrap().unwrap();
        pids.push(ready.trim_start_matches("ready ").to_string());
        // Pass the grandchild's reports on, prefixed with its index.
        let i = kids.len();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                say(&format!("{i} {line}"));
            }
        });
        kids.push(child);
    }
    say(&format!("ready {}", pids.join(" ")));
    // Report our own signals; on SIGTERM make sure the children go too.
    let mut buf = [sys::zeroed_siginfo(); 16];
    'outer: loop {
        for s in sys::read_signals(&fd, &mut buf).unwrap() {
            say(&format!("m sig {}", s.ssi_signo));
            if s.ssi_signo as i32 == signals::SIGTERM {
                break 'outer;
            }
        }
    }
    for mut k in kids {
        let _ = sys::kill(k.id() as i32, libc::SIGTERM);
        let _ = k.wait();
    }
}

/// Starts `cmd` as a launcher would: every disposition back to default,
/// then the signals in `ignore` (comma-separated numbers) ignored and
/// `block` (a hex kernel mask) blocked. Execs directly: std's Command
/// would reset the mask and SIGPIPE.
fn launch(block: &str, ignore: &str, cmd: &[&str]) -> ! {
    let ignored: Vec<i32> = ignore
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|n| n.parse().unwrap())
        .collect();
    for sig in (1..=64).filter(|&n| signals::catchable(n)) {
        let handler = if ignored.contains(&sig) {
            libc::SIG_IGN
        } else {
            libc::SIG_DFL
        };
        let act = [handler as u64, 0, 0, 0];
        // SAFETY: a kernel sigaction with only a disposition.
        unsafe { libc::syscall(libc::SYS_rt_sigaction, sig, act.as_ptr(), 0usize, 8) };
    }
    sys::sigprocmask(libc::SIG_SETMASK, u64::from_str_radix(block, 16).unwrap()).unwrap();
    let args: Vec<std::ffi::CString> = cmd
        .iter()
        .map(|a| std::ffi::CString::new(*a).unwrap())
        .collect();
    let mut ptrs: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: NUL-terminated strings and a NULL-terminated argv.
    unsafe { libc::execvp(ptrs[0], ptrs.as_ptr()) };
    panic!("exec {cmd:?}: {}", std::io::Error::last_os_error());
}

/// Run as a session leader with the terminal as controlling tty: start
/// `cmd` in our process group (`fg`) or a new one (`bg`), wait for it,
/// and report its exit and who holds the terminal's foreground after.
fn tty_run(mode: &str, cmd: &[&str]) {
    use std::os::unix::process::CommandExt;
    let mut c = Command::new(cmd[0]);
    c.args(&cmd[1..]);
    match mode {
        "bg" => {
            c.process_group(0);
        }
        "fg-ignore-tstp" => {
            // SAFETY: a disposition change; the holder must
            // not stop itself when Ctrl-Z hits its group.
            unsafe { libc::signal(libc::SIGTSTP, libc::SIG_IGN) };
        }
        _ => {}
    }
    let status = c.status().unwrap();
    // SAFETY: a plain getter.
    let pgid = unsafe { libc::getpgrp() };
    say(&format!("exit {:?}", status.code()));
    say(&format!(
        "after fg {} pgid {pgid}",
        sys::foreground_group().unwrap_or(-1)
    ));
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["signals", flags @ ..] => signals(
            flags.contains(&"--exit-on-term"),
            flags.contains(&"--orphan-on-usr2"),
        ),
        ["state"] => state(),
        ["orphans", waves, n] => orphans(waves.parse().unwrap(), n.parse().unwrap()),
        ["straggler", mode, code] => straggler(mode, code.parse().unwrap()),
        ["grandchildren", n] => grandchildren(n.parse().unwrap()),
        ["launch", block, ignore, cmd @ ..] => launch(block, ignore, cmd),
        ["tty-run", mode, cmd @ ..] => tty_run(mode, cmd),
        other => panic!("testee: unknown command {other:?}"),
    }
}
