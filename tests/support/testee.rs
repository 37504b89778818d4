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
//! testee orphans-counted WAVES N
//!                           the same, then print `wakeups D`: how often
//!                           rinit was scheduled meanwhile
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

/// Processes other than us whose parent is our parent (rinit), in any
/// state: the orphans it has not reaped yet.
fn siblings() -> usize {
    // SAFETY: plain getters.
    let (parent, me) = unsafe { (libc::getppid(), libc::getpid()) };
    let mut n = 0;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let ppid = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .nth(1);
        if pid != me && ppid == Some(parent.to_string().as_str()) {
            n += 1;
        }
    }
    n
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

/// How often our parent (rinit) has been scheduled off a CPU so far:
/// every wake-up ends in one of these.
fn parent_switches() -> u64 {
    // SAFETY: a plain getter.
    let parent = unsafe { libc::getppid() }.to_string();
    ["voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:"]
        .iter()
        .map(|f| status_field(&parent, f).parse::<u64>().unwrap())
        .sum()
}

fn orphans(waves: usize, per_wave: usize) {
    orphans_made(waves, per_wave);
    wait_reaped();
}

/// Makes `waves` middle processes in turn, each leaving `per_wave`
/// orphans for rinit, and waits until every orphan is gone.
fn orphans_made(waves: usize, per_wave: usize) {
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
}

fn wait_reaped() {
    // Wait until rinit has reaped every orphan: none is left among its
    // children, zombie or (not yet exited) alive. Counting only zombies
    // would race with an orphan that has not exited yet.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let z = siblings();
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
        ["orphans-counted", waves, n] => {
            let before = parent_switches();
            orphans(waves.parse().unwrap(), n.parse().unwrap());
            say(&format!("wakeups {}", parent_switches() - before));
        }
        ["straggler", mode, code] => straggler(mode, code.parse().unwrap()),
        ["grandchildren", n] => grandchildren(n.parse().unwrap()),
        ["launch", block, ignore, cmd @ ..] => launch(block, ignore, cmd),
        ["tty-run", mode, cmd @ ..] => tty_run(mode, cmd),
        ["storm-child"] => storm_child(),
        ["orphan-storm", warm, total, per_wave, par] => orphan_storm(
            warm.parse().unwrap(),
            total.parse().unwrap(),
            per_wave.parse().unwrap(),
            par.parse().unwrap(),
        ),
        ["orphans-then-signals", waves, n] => {
            let n: usize = n.parse().unwrap();
            make_orphans(waves.parse::<usize>().unwrap() * n, n, 1);
            wait_no_zombies();
            say("zombies 0");
            signals(true, false)
        }
        ["close-fds", list, cmd @ ..] => close_fds(list, cmd),
        ["open-fds", n, high, cmd @ ..] => open_fds(n.parse().unwrap(), high.parse().unwrap(), cmd),
        ["rlimit", res, n, cmd @ ..] => rlimit(res, n.parse().unwrap(), cmd),
        ["as-user", uid, cmd @ ..] => as_user(uid.parse().unwrap(), cmd),
        other => panic!("testee: unknown command {other:?}"),
    }
}

// Subcommands for tests/stress.rs and tests/faults.rs:
//
// testee storm-child         block everything, print `ready PID`, then
//                            report each signal as `sig N` while a thread
//                            keeps making orphans for rinit; on SIGTERM
//                            print `forked N` (orphans made) and exit 0
// testee orphan-storm WARM TOTAL PER_WAVE PAR
//                            print `ready`; make WARM orphans, wait until
//                            rinit reaped them all, print `warm N`; wait
//                            for SIGUSR1; make TOTAL orphans in waves of
//                            PAR middle processes with PER_WAVE orphans
//                            each, wait until none is left as a zombie,
//                            print `done N MS` (N made, in MS ms); exit 0
//                            on SIGTERM
// testee orphans-then-signals WAVES N
//                            make WAVES*N orphans (N at a time), wait until
//                            none is left, print `zombies 0`, then
//                            `signals --exit-on-term`
// testee close-fds LIST CMD...   close the fds in LIST (a,b,c), exec CMD
// testee open-fds N HIGH CMD...  open N more fds and fd HIGH (no
//                            close-on-exec), exec CMD
// testee rlimit RES N CMD...     set RLIMIT_RES (nofile, nproc, sigpending)
//                            to N, exec CMD
// testee as-user UID CMD...      drop to UID (and its gid), exec CMD

/// Execs `cmd` (PATH search) or panics.
fn exec(cmd: &[&str]) -> ! {
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

extern "C" fn exit_at_once(_: *mut libc::c_void) -> libc::c_int {
    0
}

/// In a forked middle process: start `n` children that exit at once
/// (`clone` with `CLONE_VM | CLONE_VFORK`, as posix_spawn does: no page
/// tables to copy, so a million of them take seconds, not minutes), then
/// exit so they all become orphans. Exit 0 if all `n` were made; a
/// transient EAGAIN (the pid table momentarily full) is retried.
///
/// # Safety
/// Only in a freshly forked, single-threaded child; never returns.
unsafe fn middle(n: usize, stack: &mut [u8]) -> ! {
    // SAFETY: the stack is ours (a copy after fork); CLONE_VFORK suspends
    // us until the child exited, so it is never used by two at once.
    unsafe {
        let top = stack.as_mut_ptr().add(stack.len());
        let top = (top as usize & !15) as *mut libc::c_void;
        let flags = libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD;
        for _ in 0..n {
            let mut tries = 0u32;
            while libc::clone(exit_at_once, top, flags, std::ptr::null_mut()) < 0 {
                tries += 1;
                if *libc::__errno_location() != libc::EAGAIN || tries > 100_000 {
                    libc::_exit(1);
                }
                libc::sched_yield();
            }
        }
        libc::_exit(0);
    }
}

/// Makes `total` orphans for our parent (rinit) in waves of `par` middle
/// processes with up to `per_wave` orphans each. Returns how many.
fn make_orphans(total: usize, per_wave: usize, par: usize) -> usize {
    let mut stack = vec![0u8; 64 * 1024];
    let mut made = 0;
    while made < total {
        let mut middles = Vec::new();
        let mut planned = 0;
        for _ in 0..par {
            let n = per_wave.min(total - made - planned);
            if n == 0 {
                break;
            }
            // SAFETY: the child only runs `middle`, which never returns.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                // SAFETY: a freshly forked child of a single-threaded process.
                unsafe { middle(n, &mut stack) };
            }
            if pid < 0 {
                break;
            }
            middles.push((pid, n));
            planned += n;
        }
        assert!(
            !middles.is_empty(),
            "fork: {}",
            std::io::Error::last_os_error()
        );
        for (pid, n) in middles {
            let mut status = 0;
            // SAFETY: waiting for our own child.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            assert!(
                libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
                "a middle process failed: {status:#x}"
            );
            made += n;
        }
    }
    made
}

/// Waits (bounded) until rinit has reaped every orphan we gave it.
fn wait_no_zombies() {
    let deadline = Instant::now() + Duration::from_secs(120);
    while zombies() != 0 {
        assert!(Instant::now() < deadline, "zombies left: {}", zombies());
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Blocks every catchable signal but CHLD; returns a signalfd for them.
fn block_all() -> std::os::fd::OwnedFd {
    let mask = signals::blocked_mask() & !signals::bit(signals::SIGCHLD);
    sys::sigprocmask(libc::SIG_BLOCK, mask).unwrap();
    sys::signalfd(mask).unwrap()
}

/// Reads signals until `sig` arrives.
fn wait_for(fd: &std::os::fd::OwnedFd, sig: i32) {
    let mut buf = [sys::zeroed_siginfo(); 16];
    loop {
        if sys::read_signals(fd, &mut buf)
            .unwrap()
            .iter()
            .any(|s| s.ssi_signo as i32 == sig)
        {
            return;
        }
    }
}

fn orphan_storm(warm: usize, total: usize, per_wave: usize, par: usize) {
    let fd = block_all();
    say("ready");
    let n = make_orphans(warm, per_wave, par);
    wait_no_zombies();
    say(&format!("warm {n}"));
    wait_for(&fd, libc::SIGUSR1);
    let start = Instant::now();
    let n = make_orphans(total, per_wave, par);
    wait_no_zombies();
    say(&format!("done {n} {}", start.elapsed().as_millis()));
    wait_for(&fd, libc::SIGTERM);
}

fn storm_child() -> ! {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    // Blocked before the thread starts, so it inherits the mask.
    let fd = block_all();
    let stop = Arc::new(AtomicBool::new(false));
    let forked = Arc::new(AtomicUsize::new(0));
    let (started, thread_ready) = std::sync::mpsc::channel();
    let forker = {
        let (stop, forked) = (stop.clone(), forked.clone());
        std::thread::spawn(move || {
            // glibc's pthread_create leaves its own signals (32 and 33)
            // unblocked, whatever was blocked before: block them again with
            // the raw mask, or a forwarded signal 32 would kill us (its
            // default action) instead of reaching the signalfd.
            let mask = signals::blocked_mask() & !signals::bit(signals::SIGCHLD);
            sys::sigprocmask(libc::SIG_BLOCK, mask).unwrap();
            started.send(()).unwrap();
            let mut stack = vec![0u8; 64 * 1024];
            while !stop.load(Ordering::Relaxed) {
                // SAFETY: the child only runs `middle` (clone and _exit,
                // async-signal-safe), which never returns.
                let pid = unsafe { libc::fork() };
                if pid == 0 {
                    // SAFETY: a freshly forked child; only this thread exists.
                    unsafe { middle(4, &mut stack) };
                }
                if pid > 0 {
                    let mut status = 0;
                    // SAFETY: waiting for our own child.
                    unsafe { libc::waitpid(pid, &mut status, 0) };
                    forked.fetch_add(4, Ordering::Relaxed);
                }
            }
        })
    };
    thread_ready.recv().unwrap();
    // Likewise pthread_create gave this thread 32 and 33 back: block again.
    let mask = signals::blocked_mask() & !signals::bit(signals::SIGCHLD);
    sys::sigprocmask(libc::SIG_BLOCK, mask).unwrap();
    say(&format!("ready {}", std::process::id()));
    let mut buf = [sys::zeroed_siginfo(); 64];
    let mut out = String::new();
    loop {
        let got = sys::read_signals(&fd, &mut buf).unwrap();
        out.clear();
        let mut term = false;
        for s in got {
            use std::fmt::Write as _;
            writeln!(out, "sig {}", s.ssi_signo).unwrap();
            term |= s.ssi_signo as i32 == signals::SIGTERM;
        }
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(out.as_bytes()).unwrap();
        stdout.flush().unwrap();
        drop(stdout);
        if term {
            stop.store(true, Ordering::Relaxed);
            forker.join().unwrap();
            say(&format!("forked {}", forked.load(Ordering::Relaxed)));
            std::process::exit(0);
        }
    }
}

fn close_fds(list: &str, cmd: &[&str]) -> ! {
    for fd in list.split(',').filter(|s| !s.is_empty()) {
        // SAFETY: closing a descriptor number; nothing of ours uses it.
        unsafe { libc::close(fd.parse().unwrap()) };
    }
    exec(cmd)
}

fn open_fds(n: usize, high: i32, cmd: &[&str]) -> ! {
    let mut last = -1;
    for _ in 0..n {
        // SAFETY: a valid C string; the descriptor is left open on purpose.
        last = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY) };
        assert!(last >= 0, "open: {}", std::io::Error::last_os_error());
    }
    // SAFETY: duplicating a descriptor we own onto a free number.
    assert!(unsafe { libc::dup2(last, high) } == high, "dup2");
    exec(cmd)
}

fn rlimit(res: &str, n: u64, cmd: &[&str]) -> ! {
    let resource = match res {
        "nofile" => libc::RLIMIT_NOFILE,
        "nproc" => libc::RLIMIT_NPROC,
        "sigpending" => libc::RLIMIT_SIGPENDING,
        other => panic!("unknown resource {other}"),
    };
    let lim = libc::rlimit {
        rlim_cur: n,
        rlim_max: n,
    };
    // SAFETY: a valid rlimit struct.
    assert_eq!(unsafe { libc::setrlimit(resource, &lim) }, 0, "setrlimit");
    exec(cmd)
}

fn as_user(uid: u32, cmd: &[&str]) -> ! {
    // SAFETY: plain credential changes, groups first while we may.
    unsafe {
        assert_eq!(libc::setgroups(0, std::ptr::null()), 0, "setgroups");
        assert_eq!(libc::setgid(uid), 0, "setgid");
        assert_eq!(libc::setuid(uid), 0, "setuid");
    }
    exec(cmd)
}
