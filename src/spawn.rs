//! Starting the main child: its process group or session, its terminal,
//! its working directory and signal state (SPEC "Signals"), and exec
//! failures reported back to rinit through a close-on-exec pipe.
//!
//! Everything the child needs is prepared here, before `fork`; the child
//! side (in `sys::fork_exec`) only makes async-signal-safe syscalls.

use std::ffi::{CString, OsStr, c_char};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;

use crate::config::{ChildSignals, Config};
use crate::exit;
use crate::sys;

/// The default search path when `PATH` is unset (Docker's default).
const DEFAULT_PATH: &[u8] = b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The running main child.
#[derive(Debug, Clone, Copy)]
pub struct Child {
    pub pid: i32,
    /// Its process group (its own pid: it always leads a group).
    pub pgid: i32,
    /// Whether rinit made the child's group the terminal's foreground, and
    /// so must hand the terminal back when the child is gone.
    pub took_foreground: bool,
}

/// Why the child could not be started: an exit code and a message.
#[derive(Debug, PartialEq, Eq)]
pub struct SpawnError {
    pub code: u8,
    pub message: String,
}

fn system(what: &str, e: std::io::Error) -> SpawnError {
    SpawnError {
        code: exit::RINIT_FAILED,
        message: format!("{what}: {e}"),
    }
}

/// The paths `execve` should try for `program`, in order, like `execvp`:
/// the name itself if it contains a `/`, else each `PATH` entry (an empty
/// entry is the working directory).
pub fn candidates(program: &CString, path: Option<&OsStr>) -> Vec<CString> {
    let name = program.as_bytes();
    if name.contains(&b'/') {
        return vec![program.clone()];
    }
    if name.is_empty() {
        return Vec::new();
    }
    let path = path.map_or(DEFAULT_PATH, OsStr::as_bytes);
    path.split(|&b| b == b':')
        .filter_map(|dir| {
            let mut full = if dir.is_empty() {
                b".".to_vec()
            } else {
                dir.to_vec()
            };
            full.push(b'/');
            full.extend_from_slice(name);
            CString::new(full).ok()
        })
        .collect()
}

/// Starts the main child. `inherited_mask` is the signal mask rinit was
/// started with (before it blocked everything).
pub fn spawn(
    config: &Config,
    argv: &[CString],
    inherited_mask: u64,
    sigchld_ignored: bool,
) -> Result<Child, SpawnError> {
    let program = &argv[0];
    // A name with a `/` is the only candidate: no PATH lookup, no copies.
    let searched;
    let candidates = if program.as_bytes().contains(&b'/') {
        std::slice::from_ref(program)
    } else {
        searched = candidates(program, std::env::var_os("PATH").as_deref());
        &searched[..]
    };
    let mut argv_ptrs: Vec<*const c_char> = Vec::with_capacity(argv.len() + 1);
    argv_ptrs.extend(argv.iter().map(|a| a.as_ptr()));
    argv_ptrs.push(std::ptr::null());

    // dumb-init gives up its own terminal so the child's new session can
    // take it; as a session leader that sends us SIGHUP and SIGCONT, which
    // are ours, not the child's.
    let tty = sys::foreground_group();
    if config.setsid && tty.is_some() {
        let leader = sys::is_session_leader();
        if sys::detach_tty().is_ok() && leader {
            sys::discard_pending(crate::signals::bit(1) | crate::signals::bit(18));
        }
    }
    let foreground = !config.setsid && tty == Some(sys::getpgrp());

    let cwd = match sys::leave_cwd() {
        Ok(fd) => Some(fd),
        Err(e) => {
            crate::warn!(
                "cannot open the working directory ({e}); the child starts where rinit is"
            );
            None
        }
    };
    let (report_read, report_write) = sys::pipe().map_err(|e| system("cannot create a pipe", e))?;
    // Socket activation addressed to rinit is meant for the child.
    let listen_env = sys::ListenEnv::prepare(sys::getpid());
    let plan = sys::ChildPlan {
        candidates,
        argv: &argv_ptrs,
        setsid: config.setsid,
        take_tty: config.setsid && tty.is_some(),
        foreground,
        cwd: cwd.as_ref().map(AsRawFd::as_raw_fd),
        reset_dispositions: config.child_signals == ChildSignals::AllDefault,
        ignore_sigchld: sigchld_ignored && config.child_signals != ChildSignals::AllDefault,
        mask: match config.child_signals {
            ChildSignals::InheritedMask => inherited_mask,
            ChildSignals::Clean | ChildSignals::AllDefault => 0,
        },
        report: report_write.as_raw_fd(),
        listen_env: listen_env.as_ref(),
    };
    let pid = sys::fork_exec(&plan).map_err(|e| system("cannot fork", e))?;
    drop(report_write);
    drop(cwd);
    if !config.setsid {
        // Also done by the child: whichever runs first, the group exists
        // before rinit forwards anything to it. Errors mean the child got
        // there first (and may have exec'ed already).
        let _ = sys::setpgid(pid, pid);
        if foreground {
            let _ = sys::set_foreground(pid);
        }
    }

    // EOF: the child exec'ed. 8 bytes: it failed, and says where and why.
    let mut report = [0u8; 8];
    let got = sys::read_full(&report_read, &mut report)
        .map_err(|e| system("cannot read the exec report", e))?;
    if got < report.len() {
        return Ok(Child {
            pid,
            pgid: pid,
            took_foreground: foreground,
        });
    }
    let _ = sys::wait_pid(pid);
    if foreground {
        let _ = sys::set_foreground(sys::getpgrp());
    }
    let stage = u32::from_ne_bytes([report[0], report[1], report[2], report[3]]);
    let errno = i32::from_ne_bytes([report[4], report[5], report[6], report[7]]);
    let name = program.to_string_lossy();
    let reason = sys::strerror(errno);
    Err(match stage {
        sys::STAGE_EXEC => SpawnError {
            code: if errno == libc::ENOENT || errno == libc::ENOTDIR {
                exit::NOT_FOUND
            } else {
                exit::CANNOT_EXECUTE
            },
            message: format!("cannot run '{name}': {reason}"),
        },
        sys::STAGE_CHDIR => SpawnError {
            code: exit::RINIT_FAILED,
            message: format!("cannot run '{name}': cannot enter the working directory: {reason}"),
        },
        _ => SpawnError {
            code: exit::RINIT_FAILED,
            message: format!("cannot run '{name}': cannot create its process group: {reason}"),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: Vec<CString>) -> Vec<String> {
        v.into_iter().map(|c| c.into_string().unwrap()).collect()
    }

    #[test]
    fn path_search_order() {
        let p = CString::new("sh").unwrap();
        assert_eq!(
            strs(candidates(&p, Some(OsStr::new("/a:/b/:")))),
            ["/a/sh", "/b//sh", "./sh"]
        );
        assert_eq!(strs(candidates(&p, None)).len(), 6);
        let p = CString::new("./x").unwrap();
        assert_eq!(strs(candidates(&p, Some(OsStr::new("/a")))), ["./x"]);
        let p = CString::new("/bin/x").unwrap();
        assert_eq!(strs(candidates(&p, None)), ["/bin/x"]);
        assert!(candidates(&CString::new("").unwrap(), None).is_empty());
    }
}
