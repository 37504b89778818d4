//! Runs the built rinit as a real PID 1 (in a new PID namespace, via
//! `unshare`) or as a plain process, and talks to it like docker does:
//! signals from outside, to its host pid, only once it is ready.
//!
//! No test sleeps to synchronise: readiness is rinit's `SigBlk` in
//! `/proc` and the child's `ready` line; every wait has a deadline.
//!
//! `RINIT_BIN` picks the binary (a static or foreign build) and
//! `RINIT_RUNNER` a program that runs it: `RINIT_RUNNER=qemu-arm-static`
//! starts every rinit as `qemu-arm-static RINIT_BIN ARGS` (inside
//! `unshare` for PID 1 tests), so the suite tests a foreign build under
//! qemu-user. What changes under a runner is said where it changes:
//! [`is_rinit`], [`Init::wait_blocked`], [`Init::ready`], [`emulated`].
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const DEADLINE: Duration = Duration::from_secs(20);

pub fn rinit() -> PathBuf {
    // RINIT_BIN lets CI run the same tests against the static release build.
    std::env::var_os("RINIT_BIN").map_or_else(|| env!("CARGO_BIN_EXE_rinit").into(), PathBuf::from)
}

/// The program named by `RINIT_RUNNER` (an emulator such as
/// `qemu-aarch64-static`), as an absolute path: found on `PATH` when given
/// by name. `None` when rinit runs natively.
pub fn runner() -> Option<PathBuf> {
    let name = std::env::var_os("RINIT_RUNNER").filter(|r| !r.is_empty())?;
    let name = PathBuf::from(name);
    let found = if name.components().count() > 1 {
        Some(name.clone())
    } else {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(&name))
                .find(|p| p.is_file())
        })
    };
    let found = found.unwrap_or_else(|| panic!("RINIT_RUNNER={name:?}: not found"));
    Some(std::fs::canonicalize(&found).unwrap())
}

/// Whether rinit runs under an emulator (`RINIT_RUNNER` is set). A test
/// that cannot hold there says why where it checks this.
pub fn emulated() -> bool {
    runner().is_some()
}

/// The command line that starts rinit: `[RUNNER] RINIT_BIN` (or `path`,
/// a personality link, in place of RINIT_BIN).
pub fn rinit_argv(path: Option<&Path>) -> Vec<String> {
    let mut argv: Vec<String> = runner()
        .map(|r| r.to_str().unwrap().to_string())
        .into_iter()
        .collect();
    let bin = path.map_or_else(rinit, Path::to_path_buf);
    argv.push(bin.to_str().unwrap().to_string());
    argv
}

/// A `Command` that runs rinit (through the runner, if any), for tests
/// that build their own command line. Under a runner `arg0` is not
/// rinit's argv[0]: use a personality link instead.
pub fn rinit_command() -> Command {
    let argv = rinit_argv(None);
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]);
    cmd
}

/// rinit's command line as a shell word list (`[RUNNER] RINIT_BIN`), for
/// tests that type it into a shell. The paths hold no shell syntax.
pub fn rinit_shell() -> String {
    rinit_argv(None).join(" ")
}

/// A `Command` that runs rinit through `path` (a personality link), under
/// the runner if any.
pub fn rinit_command_as(path: &Path) -> Command {
    let argv = rinit_argv(Some(path));
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]);
    cmd
}

/// The warning rinit gives when it is not PID 1 and the kernel refuses
/// it the subreaper role, as qemu-user does (it answers
/// `PR_SET_CHILD_SUBREAPER` with EINVAL).
pub const NO_SUBREAPER: &str = "cannot become a subreaper";

/// rinit's stderr from a run that is not PID 1, less the one warning a
/// runner brings: under qemu-user rinit cannot become a subreaper and
/// must say so (checked here); natively it must not.
pub fn not_pid1_stderr(stderr: &str) -> String {
    let (warned, rest): (Vec<&str>, Vec<&str>) = stderr
        .split_inclusive('\n')
        .partition(|l| l.contains(NO_SUBREAPER));
    assert_eq!(
        warned.len(),
        usize::from(emulated()),
        "the subreaper warning, once under a runner and never natively: {stderr}"
    );
    rest.concat()
}

/// Signals a test cannot send to rinit from outside under qemu-user:
/// qemu takes the synchronous fault signals as its own (measured with
/// qemu 7.2: a `kill -BUS` or `-SEGV` never reaches the guest, and a
/// `kill -ILL` crashes qemu itself), and signals 32 and 33 belong to the
/// C library qemu is linked with. Natively: none.
pub fn not_forwardable_here() -> &'static [i32] {
    if emulated() {
        &[
            libc::SIGILL,
            libc::SIGTRAP,
            libc::SIGBUS,
            libc::SIGFPE,
            libc::SIGSEGV,
            32,
            33,
        ]
    } else {
        &[]
    }
}

pub fn testee() -> String {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_rinit"));
    let path = bin.parent().unwrap().join("examples/testee");
    assert!(
        path.exists(),
        "{} missing: run the tests with `cargo test`",
        path.display()
    );
    path.to_str().unwrap().to_string()
}

/// Whether this process may create PID namespaces; if not, PID 1 tests
/// are skipped with a loud message.
pub fn can_pid1() -> bool {
    let ok = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIPPED: cannot create a PID namespace here (needs root and `unshare`)");
    }
    ok
}

/// A fresh empty directory for one test.
pub fn temp_dir(tag: &str) -> PathBuf {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    // Under target/tmp: `cargo clean` removes them, and /tmp stays clean.
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = root.join(format!("rinit-test-{tag}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A directory with rinit linked under `name` (a personality).
pub fn personality(name: &str) -> PathBuf {
    let dir = temp_dir(name);
    let link = dir.join(name);
    std::os::unix::fs::symlink(rinit(), &link).unwrap();
    link
}

#[derive(Default)]
pub struct Opts {
    pub pid1: bool,
    pub argv0: Option<PathBuf>,
    pub env: Vec<(String, String)>,
    pub cwd: Option<PathBuf>,
    /// Wrap the whole command (e.g. a launcher or `setsid --ctty`).
    pub wrapper: Vec<String>,
    pub stdin: Option<Stdio>,
}

pub struct Init {
    proc: Child,
    /// rinit's pid as the host sees it.
    pub pid: i32,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    /// Says when stderr reached EOF.
    stderr_done: Receiver<()>,
}

pub struct Ended {
    pub code: i32,
    pub stderr: String,
    pub lines: Vec<String>,
}

/// The kernel signal mask rinit blocks once it is ready.
pub fn ready_mask() -> u64 {
    rinit::signals::blocked_mask()
}

pub fn status_field(pid: i32, name: &str) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
}

pub fn alive(pid: i32) -> bool {
    status_field(pid, "State:").is_some_and(|s| !s.starts_with('Z'))
}

pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + DEADLINE;
    while !cond() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

pub fn children_of(pid: i32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Whether `pid` runs rinit; `None` when its `/proc` entry cannot be read
/// (it is exiting, or in the middle of an exec).
///
/// Under a runner `/proc/PID/exe` is the emulator, so that is what is
/// matched, and rinit's own forked child (the emulator too, until it
/// execs) looks the same: callers walk parents before children, so the
/// first match from the top is rinit.
fn is_rinit(pid: i32) -> Option<bool> {
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    let target = runner().unwrap_or_else(|| std::fs::canonicalize(rinit()).unwrap());
    Some(exe == target)
}

/// Whether the `SigBlk` mask that `/proc` shows for rinit means rinit has
/// blocked its signals.
///
/// Natively it is exactly [`ready_mask`]. Under qemu-user `/proc` shows
/// the emulator's host mask, not the guest's. Measured with qemu 7.2
/// (`qemu-aarch64-static rinit -- sleep 3`, sampling
/// `/proc/PID/status`): the mask is 0 until rinit blocks; then qemu keeps
/// the guest's mask on the host, without SIGBUS and SIGSEGV (qemu never
/// blocks those: it needs them itself) and without signals 32 and 33
/// (its C library's own); and around its own signal calls qemu blocks
/// everything for a moment, SIGBUS and SIGSEGV included. So under a runner
/// rinit is ready when every standard signal rinit blocks (but BUS and
/// SEGV) is blocked on the host, and SIGSEGV is not. A signal sent then
/// stays pending in the host kernel until rinit's signalfd reads it; one
/// sent earlier is not dropped either (qemu has a host handler for every
/// signal) but meets the guest's default action.
fn blocked_now(mask: u64) -> bool {
    if !emulated() {
        return mask == ready_mask();
    }
    let bit = |sig: i32| 1u64 << (sig - 1);
    let qemu_own = bit(libc::SIGBUS) | bit(libc::SIGSEGV);
    let standard = ready_mask() & 0x7fff_ffff & !qemu_own;
    mask & standard == standard && mask & bit(libc::SIGSEGV) == 0
}

impl Init {
    pub fn start(args: &[&str], opts: Opts) -> Init {
        let mut argv: Vec<String> = opts.wrapper.clone();
        if opts.pid1 {
            argv.extend(["unshare", "--pid", "--fork", "--mount-proc"].map(String::from));
        }
        argv.extend(rinit_argv(opts.argv0.as_deref()));
        argv.extend(args.iter().map(|s| s.to_string()));
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(opts.stdin.unwrap_or(Stdio::null()));
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        if let Some(dir) = &opts.cwd {
            cmd.current_dir(dir);
        }
        let mut proc = cmd.spawn().unwrap();
        let (tx, lines) = channel();
        let out = proc.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut err = proc.stderr.take().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let (done, stderr_done) = channel();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
            let _ = done.send(());
        });
        let mut init = Init {
            pid: 0,
            proc,
            lines,
            stderr,
            stderr_done,
        };
        init.pid = init.find_rinit();
        init
    }

    /// rinit's host pid: the spawned process or a descendant running rinit.
    fn find_rinit(&mut self) -> i32 {
        let root = self.proc.id() as i32;
        let end = Instant::now() + DEADLINE;
        loop {
            // Parents before children, and never past a process that
            // could not be read: rinit's own child also runs rinit until
            // it execs, and must not be taken for rinit.
            let mut frontier = vec![root];
            while let Some(p) = frontier.pop() {
                match is_rinit(p) {
                    Some(true) => return p,
                    Some(false) => frontier.extend(children_of(p)),
                    None => break,
                }
            }
            if let Ok(Some(_)) = self.proc.try_wait() {
                return 0; // it already exited (a usage error, say)
            }
            assert!(Instant::now() < end, "rinit never started");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Waits until rinit blocks its signals, so a signal sent now is never
    /// dropped by the kernel.
    pub fn wait_blocked(&self) {
        let pid = self.pid;
        let end = Instant::now() + DEADLINE;
        loop {
            let blocked = status_field(pid, "SigBlk:");
            if blocked
                .as_deref()
                .and_then(|m| u64::from_str_radix(m, 16).ok())
                .is_some_and(blocked_now)
            {
                return;
            }
            if Instant::now() > end {
                let stderr = self.stderr.lock().unwrap().clone();
                panic!(
                    "timed out waiting for rinit (pid {pid}) to block its signals: \
                     SigBlk {blocked:?}, exe {:?}, stderr {stderr:?}",
                    std::fs::read_link(format!("/proc/{pid}/exe"))
                );
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// The main child's host pid.
    pub fn child_pid(&self) -> i32 {
        let mut kids = Vec::new();
        wait_until("rinit's child", || {
            kids = children_of(self.pid);
            !kids.is_empty()
        });
        kids[0]
    }

    /// Kills the process the test started (a wrapper around rinit).
    pub fn kill_launcher(&self) {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(self.proc.id() as i32, libc::SIGKILL) };
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill has no memory-safety preconditions.
        let r = unsafe { libc::kill(self.pid, sig) };
        assert_eq!(r, 0, "kill({}, {sig})", self.pid);
    }

    /// The next stdout line, within the deadline.
    pub fn line(&self) -> String {
        self.lines
            .recv_timeout(DEADLINE)
            .unwrap_or_else(|e| panic!("no line from the child: {e}"))
    }

    /// Reads lines until one starts with `prefix`; returns it.
    pub fn line_starting(&self, prefix: &str) -> String {
        let end = Instant::now() + DEADLINE;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l.starts_with(prefix) => return l,
                Ok(_) => {}
                Err(e) => panic!("no line starting with {prefix:?}: {e}"),
            }
        }
    }

    /// The child's `ready` line (and rinit ready too). The line alone
    /// proves rinit is ready, under any runner: rinit blocks its signals
    /// before it forks the child that prints it. The mask is checked too
    /// where it can be read exactly (natively).
    pub fn ready(&self) -> String {
        if !emulated() {
            self.wait_blocked();
        }
        self.line_starting("ready")
    }

    pub fn wait(mut self) -> Ended {
        let end = Instant::now() + DEADLINE;
        let status = loop {
            if let Some(s) = self.proc.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > end {
                // Kill rinit too: under unshare, killing unshare alone would
                // leave rinit (a namespace's init) running.
                if self.pid > 0 {
                    // SAFETY: kill has no memory-safety preconditions.
                    unsafe { libc::kill(self.pid, libc::SIGKILL) };
                }
                let _ = self.proc.kill();
                let _ = self.stderr_done.recv_timeout(Duration::from_secs(2));
                let stderr = self.stderr.lock().unwrap().clone();
                panic!("rinit did not exit in time; its stderr:\n{stderr}");
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        // A straggler that outlives rinit may hold stderr open: everything
        // rinit wrote is in the pipe already, so wait for EOF only briefly.
        let _ = self.stderr_done.recv_timeout(Duration::from_secs(2));
        let stderr = self.stderr.lock().unwrap().clone();
        // Likewise stdout: read to EOF, or briefly if a straggler holds it.
        let mut lines = Vec::new();
        let eof = Instant::now() + Duration::from_secs(2);
        while let Ok(line) = self
            .lines
            .recv_timeout(eof.saturating_duration_since(Instant::now()))
        {
            lines.push(line);
        }
        use std::os::unix::process::ExitStatusExt;
        let code = status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
        Ended {
            code,
            stderr,
            lines,
        }
    }
}

impl Drop for Init {
    fn drop(&mut self) {
        if let Ok(None) = self.proc.try_wait() {
            if self.pid > 0 {
                // SAFETY: kill has no memory-safety preconditions.
                unsafe { libc::kill(self.pid, libc::SIGKILL) };
            }
            let _ = self.proc.kill();
            let _ = self.proc.wait();
        }
    }
}

/// Runs rinit to completion with no signalling; for short commands.
pub fn run(args: &[&str], opts: Opts) -> Ended {
    Init::start(args, opts).wait()
}

pub fn pid1() -> Opts {
    Opts {
        pid1: true,
        ..Opts::default()
    }
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

pub fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

/// Runs rinit from a launcher that sets the given blocked mask and
/// ignores; the child (grep, a C program that changes nothing) reports
/// its SigBlk and SigIgn.
pub fn child_signal_state(argv0: Option<PathBuf>, block: &str, ignore: &str) -> (String, String) {
    let wrapper = [&testee(), "launch", block, ignore]
        .map(String::from)
        .to_vec();
    let end = run(
        &["--", "grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"],
        Opts {
            wrapper,
            argv0,
            ..Opts::default()
        },
    );
    assert_eq!(end.code, 0, "{}", end.stderr);
    let field = |name: &str| {
        end.lines
            .iter()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("{:?}", end.lines))
            .trim()
            .to_string()
    };
    (field("SigBlk:"), field("SigIgn:"))
}

// Helpers for tests/stress.rs and tests/faults.rs.

impl Init {
    /// The next stdout line if one comes within `within`.
    pub fn line_within(&self, within: Duration) -> Option<String> {
        self.lines.recv_timeout(within).ok()
    }

    /// Reads lines until one starts with `prefix`, for at most `within`.
    pub fn line_starting_within(&self, prefix: &str, within: Duration) -> String {
        let end = Instant::now() + within;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l.starts_with(prefix) => return l,
                Ok(_) => {}
                Err(e) => panic!("no line starting with {prefix:?} within {within:?}: {e}"),
            }
        }
    }

    /// What rinit wrote to stderr so far.
    pub fn stderr_now(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

/// A `/proc/PID/status` size field (`VmRSS:`, `RssAnon:`) in kB.
pub fn status_kb(pid: i32, name: &str) -> u64 {
    let v = status_field(pid, name).unwrap_or_else(|| panic!("no {name} for {pid}"));
    v.trim_end_matches("kB").trim().parse().unwrap()
}
