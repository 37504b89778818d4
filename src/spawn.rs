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
    /// Whether rinit looks after the terminal on stdin for the child: it is
    /// a terminal and the child shares rinit's session. Then rinit hands
    /// the terminal on when `fg` brings rinit forward, and back when the
    /// child is gone (each only when the kernel says rinit may).
    pub terminal: bool,
}

/// Why the child could not be started: an exit code, and the program
/// (`None` when rinit itself failed before there was one to run) with
/// the reason.
#[derive(Debug, PartialEq, Eq)]
pub struct SpawnError {
    pub code: u8,
    pub program: Option<String>,
    pub reason: String,
}

impl SpawnError {
    /// Says why, in the personality's words.
    pub fn report(&self) {
        match &self.program {
            None => crate::error!("{}", self.reason),
            Some(program) => crate::log::say(crate::messages::Msg::CannotRun {
                program,
                reason: &self.reason,
            }),
        }
    }
}

fn system(what: &str, e: std::io::Error) -> SpawnError {
    SpawnError {
        code: exit::RINIT_FAILED,
        program: None,
        reason: format!("{what}: {e}"),
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
    let tty = sys::stdin_is_tty();
    if config.setsid && tty {
        let leader = sys::is_session_leader();
        if sys::detach_tty().is_ok() && leader {
            let hup_cont = crate::signals::bit(1) | crate::signals::bit(18);
            let consumed = sys::discard_pending(hup_cont);
            for sig in [1, 18] {
                if consumed & crate::signals::bit(sig) != 0 {
                    crate::log::say(crate::messages::Msg::HandOffIgnored { sig });
                }
            }
        }
    }
    // Asked of the kernel, not by comparing group ids (SPEC, Signals): a
    // background rinit never takes the terminal; a foreground one lets the
    // child take it, in the child, before it execs.
    let foreground = !config.setsid && tty && sys::in_foreground();
    let style = crate::messages::style(config.personality);
    // execvp's rule for a file the kernel cannot run (ENOEXEC): run it
    // through /bin/sh, as `/bin/sh FILE ARG...`. One argv per candidate,
    // built now: the child may not allocate.
    let sh_argvs: Vec<Vec<*const c_char>> = if style.sh_fallback {
        candidates
            .iter()
            .map(|path| {
                let mut v = Vec::with_capacity(argv.len() + 2);
                v.push(c"/bin/sh".as_ptr());
                v.push(path.as_ptr());
                v.extend(argv[1..].iter().map(|a| a.as_ptr()));
                v.push(std::ptr::null());
                v
            })
            .collect()
    } else {
        Vec::new()
    };

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
        take_tty: config.setsid && tty,
        foreground,
        sh_argvs: &sh_argvs,
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
        // The terminal is not handed over from here: the child takes it
        // before it execs, and a late `tcsetpgrp` from this side could
        // take it back from a grandchild that the child (an init itself)
        // already gave it to.
        let _ = sys::setpgid(pid, pid);
    }
    let terminal = !config.setsid && tty;

    // EOF: the child exec'ed. 8 bytes: it failed, and says where and why.
    let mut report = [0u8; 8];
    let got = sys::read_full(&report_read, &mut report)
        .map_err(|e| system("cannot read the exec report", e))?;
    if got < report.len() {
        return Ok(Child {
            pid,
            pgid: pid,
            terminal,
        });
    }
    let _ = sys::wait_pid(pid);
    if terminal {
        reclaim_terminal(pid);
    }
    let stage = u32::from_ne_bytes([report[0], report[1], report[2], report[3]]);
    let errno = i32::from_ne_bytes([report[4], report[5], report[6], report[7]]);
    let program = Some(program.to_string_lossy().into_owned());
    let reason = sys::strerror(errno);
    Err(match stage {
        sys::STAGE_EXEC => SpawnError {
            code: if errno == libc::ENOENT || errno == libc::ENOTDIR {
                exit::NOT_FOUND
            } else {
                exit::CANNOT_EXECUTE
            },
            program,
            reason,
        },
        sys::STAGE_CHDIR => SpawnError {
            code: exit::RINIT_FAILED,
            program,
            reason: format!("cannot enter the working directory: {reason}"),
        },
        _ => SpawnError {
            code: exit::RINIT_FAILED,
            program,
            reason: format!("cannot create its process group: {reason}"),
        },
    })
}

/// Takes the terminal back for rinit's own group, but only while the
/// child's group `pgid` still holds it: never from a shell that took it
/// meanwhile (after a Ctrl-Z and `bg`). Where rinit's group is not
/// visible (PID 1 of a new namespace: it reads as 0) there is nothing to
/// name; the shell that waits for rinit takes the terminal back itself.
pub fn reclaim_terminal(pgid: i32) {
    let own = sys::getpgrp();
    if own > 0 && sys::foreground_group() == Some(pgid) {
        let _ = sys::set_foreground(own);
    }
}

/// Hands the terminal on to the child's group `pgid` when rinit's own
/// group has it (a shell's `fg` gives the terminal to rinit's group, then
/// sends it SIGCONT).
pub fn hand_on_terminal(pgid: i32) {
    if sys::in_foreground() {
        let _ = sys::set_foreground(pgid);
    }
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
