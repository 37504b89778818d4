//! Thin wrappers over the syscalls rinit needs: the only module with
//! `unsafe`.
//!
//! Signal masks are raw 64-bit kernel masks passed straight to the
//! syscalls, not `sigset_t`s through libc: musl's and glibc's `sigaddset`
//! refuse the signals they reserve (32-34), and rinit must block, read and
//! forward those too, whichever libc it was linked with. rinit is
//! single-threaded, so nothing of the libc's needs those signals.

use std::ffi::{CStr, CString, c_char, c_int};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::signals;

unsafe extern "C" {
    static environ: *const *const c_char;
}

/// Whether the name of any environment variable starts with one of
/// `prefixes` (one pass over `environ`, no allocation, no lock).
pub fn env_has_prefix(prefixes: &[&[u8]]) -> bool {
    // SAFETY: environ is the NULL-terminated array of NUL-terminated
    // strings set up by the C runtime; rinit is single-threaded and does
    // not change its environment.
    unsafe {
        let mut entry = environ;
        if entry.is_null() {
            return false;
        }
        while !(*entry).is_null() {
            let text = CStr::from_ptr(*entry).to_bytes();
            if prefixes.iter().any(|p| text.starts_with(p)) {
                return true;
            }
            entry = entry.add(1);
        }
    }
    false
}

fn check(ret: c_int) -> io::Result<c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn check_long(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// `rt_sigprocmask(how, mask)`, returning the previous mask.
pub fn sigprocmask(how: c_int, mask: u64) -> io::Result<u64> {
    let mut old: u64 = 0;
    // SAFETY: both pointers are to live u64s, the size the kernel expects
    // for its 64-signal mask (sigsetsize = 8).
    check_long(unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            how,
            &mask as *const u64,
            &mut old as *mut u64,
            8,
        )
    })?;
    Ok(old)
}

/// Sets SIGCHLD to its default disposition for rinit itself and says
/// whether it was ignored. Ignored, the kernel would reap rinit's children
/// itself and send no SIGCHLD at all (an ignore survives `exec`), so the
/// main child's status would be lost. With `kernel_reaps`, the default
/// action gets `SA_NOCLDWAIT`: the kernel then releases every child of
/// rinit as it exits, in the exiting process, and still sends SIGCHLD.
pub fn set_sigchld(kernel_reaps: bool) -> io::Result<bool> {
    // Through the C library's sigaction, which knows each architecture's
    // kernel layout (it differs between 64- and 32-bit targets, and on
    // some in the order of its fields); handler SIG_DFL, empty mask.
    // SAFETY: sigaction is plain data; all-zero is SIG_DFL with no flags
    // and an empty mask on every Linux target.
    let mut new: libc::sigaction = unsafe { std::mem::zeroed() };
    new.sa_sigaction = libc::SIG_DFL;
    new.sa_flags = if kernel_reaps { libc::SA_NOCLDWAIT } else { 0 };
    // SAFETY: as above.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are to live sigaction structs of the C
    // library's own type.
    check(unsafe { libc::sigaction(signals::SIGCHLD, &new, &mut old) })?;
    Ok(old.sa_sigaction == libc::SIG_IGN)
}

/// Whether the running kernel keeps a process's exit status for the
/// holder of its pidfd after the kernel itself reaped it
/// (`PIDFD_INFO_EXIT`, Linux 6.15), which rinit needs before it lets the
/// kernel reap.
pub fn kernel_keeps_exit_status() -> bool {
    // SAFETY: utsname is plain bytes; all-zero is valid.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: a live utsname for uname to fill.
    if unsafe { libc::uname(&mut uts) } != 0 {
        return false;
    }
    let release: Vec<u8> = uts.release.iter().map(|&c| c as u8).collect();
    release_at_least(&release, (6, 15))
}

/// Whether a kernel release string (`6.18.44-fc`) is at least `want`.
/// Anything unreadable is "no".
pub fn release_at_least(release: &[u8], want: (u32, u32)) -> bool {
    let mut parts = release.split(|&b| b == b'.');
    let mut number = || -> Option<u32> {
        let part = parts.next()?;
        let digits = part.iter().take_while(|b| b.is_ascii_digit()).count();
        std::str::from_utf8(&part[..digits]).ok()?.parse().ok()
    };
    match (number(), number()) {
        (Some(major), Some(minor)) => (major, minor) >= want,
        _ => false,
    }
}

/// A close-on-exec signalfd for the signals in `mask`.
pub fn signalfd(mask: u64) -> io::Result<OwnedFd> {
    // SAFETY: the mask pointer is a live u64 of the size passed (8).
    let fd = check_long(unsafe {
        libc::syscall(
            libc::SYS_signalfd4,
            -1,
            &mask as *const u64,
            8,
            libc::SFD_CLOEXEC,
        )
    })?;
    // SAFETY: signalfd4 just returned this descriptor and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Reads as many queued signals as fit into `buf` (blocking if none).
/// Returns the signal numbers read.
pub fn read_signals<'a>(
    fd: &OwnedFd,
    buf: &'a mut [libc::signalfd_siginfo],
) -> io::Result<&'a [libc::signalfd_siginfo]> {
    let size = std::mem::size_of_val(buf);
    // SAFETY: buf is a writable slice of `size` bytes of plain-old-data
    // structs; the kernel writes whole signalfd_siginfo records into it.
    let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), size) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let count = n as usize / std::mem::size_of::<libc::signalfd_siginfo>();
    Ok(&buf[..count])
}

/// Waits until `fd` is readable or `timeout_ms` passes (-1: no timeout).
pub fn poll_readable(fd: &OwnedFd, timeout_ms: c_int) -> io::Result<bool> {
    let mut fds = [pollin(fd)];
    poll(&mut fds, timeout_ms)?;
    Ok(fds[0].revents & libc::POLLIN != 0)
}

/// A pollfd that waits for `POLLIN` on `fd` (a pidfd: its process exited).
pub fn pollin(fd: &OwnedFd) -> libc::pollfd {
    libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }
}

/// Replaces the set of signals an existing signalfd reports.
pub fn set_signalfd_mask(fd: &OwnedFd, mask: u64) -> io::Result<()> {
    // SAFETY: an existing signalfd, and a live u64 of the size passed (8).
    check_long(unsafe {
        libc::syscall(
            libc::SYS_signalfd4,
            fd.as_raw_fd(),
            &mask as *const u64,
            8,
            0,
        )
    })
    .map(drop)
}

/// Whether a short line written to stderr now would not block.
pub fn stderr_writable() -> bool {
    let mut pfd = libc::pollfd {
        fd: 2,
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd, count 1, zero timeout.
    let n = unsafe { libc::poll(&mut pfd, 1, 0) };
    // POLLERR: a pipe with no reader left; a write would raise SIGPIPE.
    n == 1 && pfd.revents & libc::POLLOUT != 0 && pfd.revents & (libc::POLLERR | libc::POLLHUP) == 0
}

/// One `write` to stderr; errors (a closed or broken stderr) are ignored.
pub fn write_stderr(bytes: &[u8]) {
    // SAFETY: the pointer and length describe a live byte slice.
    let _ = unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
}

pub fn getpid() -> i32 {
    // SAFETY: getpid has no preconditions.
    unsafe { libc::getpid() }
}

pub fn getppid() -> i32 {
    // SAFETY: getppid has no preconditions.
    unsafe { libc::getppid() }
}

/// Whether this process is a child subreaper (the bit survives `exec`, so
/// a launcher may have set it for rinit).
pub fn is_child_subreaper() -> bool {
    let mut bit: c_int = 0;
    // SAFETY: PR_GET_CHILD_SUBREAPER writes one int through the pointer.
    let r = unsafe { libc::prctl(libc::PR_GET_CHILD_SUBREAPER, &mut bit as *mut c_int) };
    r == 0 && bit != 0
}

pub fn set_child_subreaper() -> io::Result<()> {
    // SAFETY: PR_SET_CHILD_SUBREAPER takes one integer argument.
    check(unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong) }).map(drop)
}

pub fn set_pdeathsig(sig: i32) -> io::Result<()> {
    // SAFETY: PR_SET_PDEATHSIG takes one signal number; it affects only
    // the calling process.
    check(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong) }).map(drop)
}

/// `kill(pid, sig)`: pid > 0 a process, < 0 a group, -1 everything we may.
pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill has no memory-safety preconditions.
    check(unsafe { libc::kill(pid, sig) }).map(drop)
}

/// What one `waitpid(-1, WNOHANG)` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Wait {
    Reaped {
        pid: i32,
        status: i32,
    },
    /// Children exist, none has changed state.
    Running,
    /// No children at all (ECHILD).
    NoChildren,
}

pub fn wait_any(block: bool) -> io::Result<Wait> {
    let mut status = 0;
    let flags = if block { 0 } else { libc::WNOHANG };
    // SAFETY: status points to a live c_int.
    let pid = unsafe { libc::waitpid(-1, &mut status, flags) };
    match pid {
        0 => Ok(Wait::Running),
        p if p > 0 => Ok(Wait::Reaped { pid: p, status }),
        _ => match io::Error::last_os_error() {
            e if e.raw_os_error() == Some(libc::ECHILD) => Ok(Wait::NoChildren),
            e => Err(e),
        },
    }
}

/// The signal that stopped child `pid`, if it stopped since the last ask
/// (`waitid` with `WSTOPPED` only: an exit is left for the reaper).
pub fn stopped(pid: i32) -> Option<i32> {
    // SAFETY: siginfo_t is plain data; all-zero is valid (si_pid 0).
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: a live siginfo_t for waitid to fill.
    let r = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WSTOPPED | libc::WNOHANG,
        )
    };
    // SAFETY: waitid filled the struct (or left it zeroed).
    let (who, code, status) = unsafe { (info.si_pid(), info.si_code, info.si_status()) };
    (r == 0 && who == pid && code == libc::CLD_STOPPED).then_some(status)
}

/// Waits for one specific child (used only before the loop starts).
pub fn wait_pid(pid: i32) -> io::Result<i32> {
    let mut status = 0;
    loop {
        // SAFETY: status points to a live c_int.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            return Ok(status);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

pub fn setpgid(pid: i32, pgid: i32) -> io::Result<()> {
    // SAFETY: setpgid has no memory-safety preconditions.
    check(unsafe { libc::setpgid(pid, pgid) }).map(drop)
}

/// Whether stdin is a terminal.
pub fn stdin_is_tty() -> bool {
    // SAFETY: isatty only reads the descriptor's state.
    unsafe { libc::isatty(0) == 1 }
}

/// The foreground process group of the terminal on stdin, if stdin is a
/// terminal and that group is visible here. In a new PID namespace a
/// group from outside reads as 0, so `None` does not mean "no terminal".
pub fn foreground_group() -> Option<i32> {
    if !stdin_is_tty() {
        return None;
    }
    // SAFETY: tcgetpgrp only reads the terminal's state.
    let pgrp = unsafe { libc::tcgetpgrp(0) };
    (pgrp > 0).then_some(pgrp)
}

/// Whether this process's group is the foreground group of the terminal
/// on stdin, as the kernel sees it. Comparing `getpgrp()` with
/// `tcgetpgrp()` cannot tell: as PID 1 of a new PID namespace both read 0
/// when the groups live outside it. A zero-byte `read` on the terminal
/// can: with SIGTTIN blocked (rinit blocks it before anything else) the
/// kernel fails it with EIO for a background group only, and reads
/// nothing either way. Not a terminal: `false`.
pub fn in_foreground() -> bool {
    if !stdin_is_tty() {
        return false;
    }
    let mut byte = 0u8;
    // SAFETY: a zero-length read into a live byte; nothing is consumed.
    let n = unsafe { libc::read(0, (&raw mut byte).cast(), 0) };
    if n == 0 {
        return true;
    }
    match io::Error::last_os_error().raw_os_error() {
        Some(libc::EIO) => false,
        // Opened write-only, say: fall back to comparing the groups.
        _ => foreground_group().is_some_and(|g| g == getpgrp()),
    }
}

pub fn getpgrp() -> i32 {
    // SAFETY: getpgrp has no preconditions.
    unsafe { libc::getpgrp() }
}

/// Makes `pgid` the foreground group of the terminal on stdin. rinit has
/// SIGTTOU blocked, so this works from a background group too.
pub fn set_foreground(pgid: i32) -> io::Result<()> {
    // SAFETY: tcsetpgrp only changes the terminal's state.
    check(unsafe { libc::tcsetpgrp(0, pgid) }).map(drop)
}

/// Whether this process leads its session.
pub fn is_session_leader() -> bool {
    // SAFETY: getsid(0) has no preconditions.
    unsafe { libc::getsid(0) == libc::getpid() }
}

/// Gives up the controlling terminal (dumb-init does this so its child's
/// new session can take the terminal).
pub fn detach_tty() -> io::Result<()> {
    // SAFETY: TIOCNOTTY takes no argument.
    check(unsafe { libc::ioctl(0, libc::TIOCNOTTY) }).map(drop)
}

/// Consumes pending instances of the signals in `mask` without acting on
/// them (after TIOCNOTTY the kernel sends SIGHUP and SIGCONT to us).
/// Returns the mask of those it consumed.
pub fn discard_pending(mask: u64) -> u64 {
    let Ok(fd) = signalfd(mask) else { return 0 };
    let mut buf = [zeroed_siginfo(); 4];
    let mut consumed = 0;
    while poll_readable(&fd, 0).unwrap_or(false) {
        match read_signals(&fd, &mut buf) {
            Ok(got) if !got.is_empty() => {
                for s in got {
                    consumed |= signals::bit(s.ssi_signo as i32);
                }
            }
            _ => break,
        }
    }
    consumed
}

pub fn zeroed_siginfo() -> libc::signalfd_siginfo {
    // SAFETY: signalfd_siginfo is plain integers; all-zero is valid.
    unsafe { std::mem::zeroed() }
}

/// Opens the current directory (for the child to return to) and moves this
/// process to `/`, so rinit pins no mount. Returns the directory's fd.
pub fn leave_cwd() -> io::Result<OwnedFd> {
    let dot = c".";
    // SAFETY: the path is a valid C string; the returned fd is owned below.
    let fd = check(unsafe {
        libc::open(
            dot.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    })?;
    // SAFETY: open just returned this descriptor and nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: a valid C string.
    check(unsafe { libc::chdir(c"/".as_ptr()) })?;
    Ok(fd)
}

/// A close-on-exec pipe: (read end, write end).
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as c_int; 2];
    // SAFETY: fds has room for the two descriptors pipe2 writes.
    check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: pipe2 just returned both descriptors; each is owned once.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Reads until EOF or `buf` is full; returns the bytes read.
pub fn read_full(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        // SAFETY: the pointer and length describe the unfilled tail of buf.
        let n = unsafe {
            libc::read(
                fd.as_raw_fd(),
                buf[got..].as_mut_ptr().cast(),
                buf.len() - got,
            )
        };
        match n {
            0 => break,
            n if n > 0 => got += n as usize,
            _ => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
    Ok(got)
}

/// The kernel's `struct sigaction` for `rt_sigaction`: handler, flags,
/// restorer, mask, on every architecture rinit builds for. Each field is
/// a C `long` or a pointer, so 32-bit targets get the 32-bit layout; the
/// mask is the kernel's 64-bit set as an array of longs, so it has their
/// alignment (no padding on 32-bit ARM).
#[repr(C)]
struct KernelSigaction {
    handler: libc::sighandler_t,
    flags: libc::c_ulong,
    restorer: usize,
    mask: [libc::c_ulong; 8 / std::mem::size_of::<libc::c_ulong>()],
}

/// Sets `sig` to `SIG_DFL` or `SIG_IGN` with no flags and an empty mask,
/// straight through the syscall. Async-signal-safe, and unlike the C
/// library's `sigaction` it takes the signals the library reserves
/// (32-34). Errors are ignored: it runs between fork and exec.
fn set_disposition_raw(sig: c_int, handler: libc::sighandler_t) {
    let action = KernelSigaction {
        handler,
        flags: 0,
        restorer: 0,
        mask: [0; 8 / std::mem::size_of::<libc::c_ulong>()],
    };
    // SAFETY: a live struct laid out as the kernel's for this target, with
    // the kernel's sigset size (8); no old action is asked for.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigaction,
            sig,
            &action as *const KernelSigaction,
            0usize,
            8usize,
        );
    }
}

/// The steps where the child can fail before its program runs.
pub const STAGE_EXEC: u32 = 0;
pub const STAGE_CHDIR: u32 = 1;
pub const STAGE_SESSION: u32 = 2;

/// Everything the child does between `fork` and `exec`, prepared before
/// the fork so the child only makes async-signal-safe syscalls.
#[derive(Debug)]
pub struct ChildPlan<'a> {
    /// Paths to `execve` in turn (the PATH search, done by the parent).
    pub candidates: &'a [CString],
    /// NULL-terminated argv pointing into the caller's CStrings.
    pub argv: &'a [*const c_char],
    pub setsid: bool,
    /// After `setsid`, make the terminal on stdin our controlling tty.
    pub take_tty: bool,
    /// Make our new group the terminal's foreground group (with SIGTTOU
    /// still blocked, as rinit's mask is until the exec).
    pub foreground: bool,
    /// One argv per candidate, `/bin/sh CANDIDATE ARG...`, to run a file
    /// the kernel refuses with ENOEXEC as `execvp` does; empty: no fallback.
    pub sh_argvs: &'a [Vec<*const c_char>],
    pub cwd: Option<RawFd>,
    /// Set every signal's disposition back to default (dumb-init).
    pub reset_dispositions: bool,
    /// SIGCHLD was ignored when rinit started: ignore it again in the
    /// child (rinit itself needs it at its default).
    pub ignore_sigchld: bool,
    /// The signal mask the program starts with.
    pub mask: u64,
    /// Write end of the close-on-exec pipe: gets (stage, errno) on failure.
    pub report: RawFd,
    /// The environment to exec with, when `LISTEN_PID` must be rewritten
    /// (else the inherited `environ`).
    pub listen_env: Option<&'a ListenEnv>,
}

/// Forks. In the child, runs `plan` and never returns; in the parent,
/// returns the child's pid.
pub fn fork_exec(plan: &ChildPlan) -> io::Result<i32> {
    debug_assert_eq!(plan.argv.last(), Some(&std::ptr::null()));
    // SAFETY: rinit is single-threaded, so the child is a full copy in a
    // consistent state; it only runs `child`, which makes async-signal-safe
    // syscalls on memory prepared before the fork, then execs or _exits.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => child(plan),
        pid => Ok(pid),
    }
}

fn child(plan: &ChildPlan) -> ! {
    // SAFETY: every call below is async-signal-safe and uses only memory
    // that was prepared before the fork and stays alive (we never return).
    unsafe {
        let fail = |stage: u32, errno: c_int| -> ! {
            let msg = [stage, errno as u32];
            libc::write(plan.report, msg.as_ptr().cast(), 8);
            libc::_exit(if stage == STAGE_EXEC && errno == libc::ENOENT {
                127
            } else {
                126
            });
        };
        let errno = || *libc::__errno_location();
        if plan.setsid {
            if libc::setsid() < 0 {
                fail(STAGE_SESSION, errno());
            }
            if plan.take_tty {
                // Fails harmlessly when the terminal belongs to another session.
                libc::ioctl(0, libc::TIOCSCTTY, 0);
            }
        } else {
            if libc::setpgid(0, 0) < 0 {
                fail(STAGE_SESSION, errno());
            }
            if plan.foreground {
                libc::tcsetpgrp(0, libc::getpid());
            }
        }
        if let Some(fd) = plan.cwd {
            if libc::fchdir(fd) < 0 {
                fail(STAGE_CHDIR, errno());
            }
        }
        if plan.reset_dispositions {
            for sig in 1..=signals::RTMAX {
                if signals::catchable(sig) {
                    set_disposition_raw(sig, libc::SIG_DFL);
                }
            }
        }
        if plan.ignore_sigchld {
            set_disposition_raw(signals::SIGCHLD, libc::SIG_IGN);
        }
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            &plan.mask as *const u64,
            0usize,
            8,
        );
        let envp = plan.listen_env.map_or(environ, ListenEnv::for_child);
        // Like execvp: skip candidates that do not exist, remember EACCES.
        let mut err = libc::ENOENT;
        let mut denied = false;
        for (i, path) in plan.candidates.iter().enumerate() {
            libc::execve(path.as_ptr(), plan.argv.as_ptr(), envp);
            err = errno();
            if err == libc::ENOEXEC {
                if let Some(sh) = plan.sh_argvs.get(i) {
                    libc::execve(c"/bin/sh".as_ptr(), sh.as_ptr(), envp);
                }
                break;
            }
            match err {
                libc::EACCES => denied = true,
                libc::ENOENT | libc::ENOTDIR | libc::ESTALE | libc::ENODEV | libc::ETIMEDOUT => {}
                _ => break,
            }
        }
        if denied && matches!(err, libc::ENOENT | libc::ENOTDIR) {
            err = libc::EACCES;
        }
        fail(STAGE_EXEC, err)
    }
}

/// The child's environment when `LISTEN_PID` names rinit itself (socket
/// activation, SPEC "Descriptors and environment"): `environ`'s pointers,
/// with that entry pointing at a buffer the child fills with its own pid.
/// Built before the fork, so the child only writes digits (no allocation).
#[derive(Debug)]
pub struct ListenEnv {
    /// NULL-terminated, as `execve` wants it.
    envp: Vec<*const c_char>,
    /// `LISTEN_PID=` and room for any pid and the NUL.
    entry: Box<[std::cell::Cell<u8>; 32]>,
}

const LISTEN_PID: &[u8] = b"LISTEN_PID=";

impl ListenEnv {
    /// `Some` when the environment's `LISTEN_PID` is `pid` (rinit's own).
    pub fn prepare(pid: i32) -> Option<ListenEnv> {
        let mut digits = [0u8; 12];
        let want = decimal(pid, &mut digits);
        let mut at = None;
        let mut count = 0;
        // SAFETY: environ is the NULL-terminated array of NUL-terminated
        // strings set up by the C runtime; rinit is single-threaded and
        // never changes its environment.
        unsafe {
            let mut entry = environ;
            while !entry.is_null() && !(*entry).is_null() {
                // Compare the name byte by byte (it stops at the NUL): no
                // strlen for every entry.
                let named = |name: &[u8]| {
                    name.iter()
                        .enumerate()
                        .all(|(i, &b)| *(*entry).cast::<u8>().add(i) == b)
                };
                if at.is_none() && named(LISTEN_PID) {
                    // A mismatch stops `all` before any NUL is passed.
                    let text = CStr::from_ptr(*entry).to_bytes();
                    if &text[LISTEN_PID.len()..] != want {
                        return None;
                    }
                    at = Some(count);
                }
                count += 1;
                entry = entry.add(1);
            }
            let at = at?;
            let mut envp = Vec::with_capacity(count + 1);
            envp.extend_from_slice(std::slice::from_raw_parts(environ, count));
            envp.push(std::ptr::null());
            let entry: Box<[std::cell::Cell<u8>; 32]> = Box::default();
            for (cell, &b) in entry.iter().zip(LISTEN_PID) {
                cell.set(b);
            }
            envp[at] = entry.as_ptr().cast();
            Some(ListenEnv { envp, entry })
        }
    }

    /// In the child: writes the child's own pid into the entry and returns
    /// the environment. Async-signal-safe: a syscall and byte stores.
    fn for_child(&self) -> *const *const c_char {
        let mut digits = [0u8; 12];
        // SAFETY: getpid cannot fail and touches no memory.
        let text = decimal(unsafe { libc::getpid() }, &mut digits);
        let value = &self.entry[LISTEN_PID.len()..];
        for (cell, &b) in value.iter().zip(text.iter().chain(&[0])) {
            cell.set(b);
        }
        self.envp.as_ptr()
    }
}

/// `n` in decimal, in `buf` (no allocation: also for the forked child).
fn decimal(n: i32, buf: &mut [u8; 12]) -> &[u8] {
    let mut n = n.unsigned_abs();
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 || start == 0 {
            break;
        }
    }
    &buf[start..]
}

/// Closes every descriptor above stderr except `keep`: what rinit
/// inherited belongs to the child, which has its own copies by now (SPEC
/// "Descriptors and environment"). `close_range` where the kernel has it
/// (Linux 5.9), else the list in `/proc/self/fd`.
pub fn close_inherited(keep: RawFd) -> io::Result<()> {
    let keep = keep.max(2);
    for (first, last) in [(3, keep - 1), (keep + 1, c_int::MAX)] {
        if first > last {
            continue;
        }
        // SAFETY: close_range takes two descriptor numbers and flags; the
        // only descriptor rinit owns above stderr is `keep`, outside both.
        let done = unsafe { libc::syscall(libc::SYS_close_range, first as u32, last as u32, 0u32) };
        if done < 0 {
            return close_listed(keep);
        }
    }
    Ok(())
}

/// `close_inherited` through `/proc/self/fd`.
fn close_listed(keep: RawFd) -> io::Result<()> {
    let open: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    for fd in open {
        if fd >= 3 && fd != keep {
            // SAFETY: fd was open in this process and is none of the
            // descriptors rinit owns (`keep`); the directory's own
            // descriptor is closed already (EBADF is harmless).
            unsafe { libc::close(fd) };
        }
    }
    Ok(())
}

/// The reason text for an errno, as `strerror` gives it.
pub fn strerror(errno: i32) -> String {
    // SAFETY: strerror returns a pointer to a NUL-terminated string that
    // stays valid until the next strerror call; we copy it at once, and
    // rinit is single-threaded.
    unsafe {
        CStr::from_ptr(libc::strerror(errno))
            .to_string_lossy()
            .into_owned()
    }
}

/// A `pidfd_open` handle (close-on-exec): a pid that cannot be recycled
/// under us, and a way to learn a child's exit status after the kernel
/// reaped it.
pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd.
    let fd = check_long(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    // SAFETY: the kernel just returned this descriptor; we own it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `struct pidfd_info` up to its exit status (the 64-byte first version).
#[repr(C)]
struct PidfdInfo {
    mask: u64,
    cgroupid: u64,
    /// pid, tgid, ppid and the eight uids and gids.
    ids: [u32; 11],
    exit_code: i32,
}

/// `PIDFD_GET_INFO`: `_IOWR(0xFF, 11, struct pidfd_info)`.
const PIDFD_GET_INFO: u64 =
    (3 << 30) | ((std::mem::size_of::<PidfdInfo>() as u64) << 16) | (0xFF << 8) | 11;
const PIDFD_INFO_EXIT: u64 = 1 << 3;

/// The wait status (as `waitpid` gives it) of the process behind `pidfd`,
/// once it has been released; `None` while it has not (or where the
/// kernel does not keep it).
pub fn pidfd_exit_status(pidfd: &OwnedFd) -> io::Result<Option<i32>> {
    let mut info = PidfdInfo {
        mask: PIDFD_INFO_EXIT,
        cgroupid: 0,
        ids: [0; 11],
        exit_code: 0,
    };
    // SAFETY: a pidfd and a live, writable struct of the size the request
    // number encodes.
    check(unsafe { libc::ioctl(pidfd.as_raw_fd(), PIDFD_GET_INFO as _, &mut info) })?;
    Ok((info.mask & PIDFD_INFO_EXIT != 0).then_some(info.exit_code))
}

/// `pidfd_send_signal(2)`: `sig` to the process behind `fd`, or with
/// `group` to its current process group (`PIDFD_SIGNAL_PROCESS_GROUP`,
/// Linux 6.9). Fails (ESRCH) once the process is gone, so it can never
/// reach a process that took over its pid.
pub fn pidfd_send_signal(fd: &OwnedFd, sig: i32, group: bool) -> io::Result<()> {
    const PIDFD_SIGNAL_PROCESS_GROUP: libc::c_uint = 4;
    let flags = if group { PIDFD_SIGNAL_PROCESS_GROUP } else { 0 };
    // SAFETY: a valid pidfd, a signal number, no siginfo, known flags.
    check_long(unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd.as_raw_fd(),
            sig,
            0usize,
            flags,
        )
    })
    .map(drop)
}

/// The filesystem type (`f_type`) of the filesystem at `path`.
pub fn statfs_type(path: &CStr) -> io::Result<u64> {
    // SAFETY: statfs is plain integers; all-zero is valid.
    let mut fs: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid C path and a live struct for statfs to fill.
    check(unsafe { libc::statfs(path.as_ptr(), &mut fs) })?;
    // f_type is signed in glibc and unsigned in musl: keep the bits.
    #[allow(clippy::unnecessary_cast)]
    Ok(fs.f_type as u64)
}

/// `poll(2)` over `fds`; returns how many have events.
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: c_int) -> io::Result<usize> {
    // SAFETY: a live slice of pollfds and its length.
    check(unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) })
        .map(|n| n as usize)
}

/// The `waitpid`-style status of a `waitid` record.
fn wait_status(info: &libc::siginfo_t) -> i32 {
    // SAFETY: filled by waitid for a child that changed state (si_pid set),
    // so si_status is the exit code or the signal.
    let status = unsafe { info.si_status() };
    match info.si_code {
        libc::CLD_EXITED => (status & 0xff) << 8,
        libc::CLD_DUMPED => (status & 0x7f) | 0x80,
        _ => status & 0x7f,
    }
}

/// `waitid(P_PIDFD, pidfd, WEXITED | WNOHANG)`: reaps the child behind
/// `pidfd` if it has exited and is still a zombie, and returns its wait
/// status; `None` while it has not exited. Fails with ECHILD when it is
/// not (or no longer) a child rinit could wait for: the kernel released
/// it (`SA_NOCLDWAIT`).
pub fn waitid_pidfd(pidfd: &OwnedFd) -> io::Result<Option<i32>> {
    // SAFETY: siginfo_t is plain data; all-zero is valid (si_pid 0).
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: a pidfd as the id, and a live siginfo_t for waitid to fill.
    check(unsafe {
        libc::waitid(
            libc::P_PIDFD,
            pidfd.as_raw_fd() as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG,
        )
    })?;
    // SAFETY: si_pid is valid in every record waitid fills (0: none).
    let pid = unsafe { info.si_pid() };
    Ok((pid != 0).then(|| wait_status(&info)))
}

/// What rinit's children are doing, as `waitid` sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Children {
    /// rinit has no children (ECHILD).
    None,
    /// Children, none of them an exited, unreaped zombie.
    Running,
    /// At least one child has exited and is still a zombie.
    Zombie,
}

/// Looks at rinit's children without reaping any (`WNOWAIT`).
pub fn children() -> io::Result<Children> {
    // SAFETY: siginfo_t is plain data; all-zero is valid (si_pid 0).
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: a live siginfo_t for waitid to fill.
    let r = unsafe {
        libc::waitid(
            libc::P_ALL,
            0,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    if r < 0 {
        let e = io::Error::last_os_error();
        return if e.raw_os_error() == Some(libc::ECHILD) {
            Ok(Children::None)
        } else {
            Err(e)
        };
    }
    // SAFETY: si_pid is valid in every record waitid fills (0: none).
    Ok(if unsafe { info.si_pid() } != 0 {
        Children::Zombie
    } else {
        Children::Running
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_release_comparison() {
        for (release, want) in [
            (&b"6.15.0"[..], true),
            (b"6.18.44-fc-v1045", true),
            (b"7.0", true),
            (b"6.15-rc1", true),
            (b"10.1.2", true),
            (b"6.14.11-arch1", false),
            (b"6.9.0", false),
            (b"5.15.0-1070-azure", false),
            (b"4.4.0", false),
            (b"6", false),
            (b"", false),
            (b"x.y", false),
        ] {
            assert_eq!(release_at_least(release, (6, 15)), want, "{release:?}");
        }
    }

    #[test]
    fn pidfd_info_request_number() {
        // _IOWR(0xFF, 11, struct pidfd_info) with the 64-byte first version.
        assert_eq!(std::mem::size_of::<PidfdInfo>(), 64);
        assert_eq!(PIDFD_GET_INFO, 0xC040_FF0B);
    }
}
