//! rinit: a minimal PID 1 for containers.
//!
//! `main.rs` hands the raw argv to [`main_with_args`]; the flow is
//! `cli` (argv + env → `Config`) → `spawn` (the child) → `supervisor`
//! (the loop) → an exit code. `sys` is the only module with `unsafe`.

pub mod cli;
pub mod config;
pub mod exit;
pub mod log;
pub mod messages;
pub mod proc;
pub mod reaper;
pub mod signals;
pub mod spawn;
pub mod supervisor;
pub mod sys;

use std::ffi::OsString;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use config::{Config, Mode, Personality};

/// Everything rinit does, from raw arguments to exit code. Called by
/// `main` before anything else has run, with every signal still as the
/// launcher left it.
pub fn main_with_args(args: Vec<OsString>) -> u8 {
    // Block first: as PID 1 an unblocked, unhandled signal is discarded,
    // so the sooner everything is blocked, the fewer early signals are lost.
    let inherited_mask = match sys::sigprocmask(libc::SIG_BLOCK, signals::blocked_mask()) {
        Ok(old) => old,
        Err(e) => {
            error!("cannot block signals: {e}");
            return exit::RINIT_FAILED;
        }
    };
    // Every variable rinit reads starts with one of these prefixes; in the
    // usual environment none does, and then its dozen lookups cost nothing.
    let ours = sys::env_has_prefix(&cli::VARIABLE_PREFIXES);
    // Only a personality whose usage text names argv[0] needs a copy of it
    // (an allocation at every start otherwise).
    let argv0 = args.first().map(|a| a.as_bytes()).unwrap_or_default();
    let style = messages::style(Personality::from_argv0(argv0));
    let args0 = if style.usage_names_argv0 {
        OsString::from_vec(argv0.to_vec())
    } else {
        OsString::new()
    };
    let env = |name: &str| std::env::var_os(name);
    let request = cli::parse_env(args, ours.then_some(&env as &dyn Fn(&str) -> _));
    match request {
        Ok(cli::Request::Print(text)) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
            0
        }
        Ok(cli::Request::Run(config)) => {
            match messages::style(config.personality).check_rewrites(&config.rewrite) {
                Ok(()) => run(&config, inherited_mask),
                Err(problem) => usage_error(style, &args0, &problem),
            }
        }
        Err(cli::UsageError(problem)) => usage_error(style, &args0, &problem),
    }
}

/// Reports a usage error, whatever the verbosity, in the personality's
/// words (dumb-init's users match its usage text); returns the exit code.
fn usage_error(style: &messages::Style, args0: &std::ffi::OsStr, problem: &str) -> u8 {
    let (text, code) = style.usage(&args0.to_string_lossy(), problem);
    sys::write_stderr(text.as_bytes());
    code
}

/// Runs a validated configuration; returns rinit's exit code.
pub fn run(config: &Config, inherited_mask: u64) -> u8 {
    log::set_verbosity(config.verbosity);
    log::set_personality(config.personality);
    let is_pid1 = sys::getpid() == 1;

    if let Some(sig) = config.pdeathsig {
        // The parent may die before prctl: then nothing would come. As
        // PID 1 of a new namespace getppid() is 0 whoever the parent is;
        // `proc::parent_seen` says where else it can be seen, and when
        // nothing shows it.
        let parent = proc::parent_seen();
        if let Err(e) = sys::set_pdeathsig(sig) {
            error!("cannot set the parent-death signal: {e}");
            return exit::RINIT_FAILED;
        }
        match (parent, proc::parent_seen()) {
            (Some(before), Some(now)) if before != now => {
                info!(
                    "the parent died before -p took effect: raising {}",
                    signals::Signal(sig)
                );
                let _ = sys::kill(sys::getpid(), sig);
            }
            (None, _) => info!(
                "the parent is outside rinit's PID namespace and /proc is the namespace's own: \
                 -p covers its death from now on, not one before"
            ),
            _ => {}
        }
    }

    if !is_pid1 {
        if config.subreaper || config.personality == Personality::Rinit {
            match sys::set_child_subreaper() {
                Ok(()) => info!("not PID 1: registered as a child subreaper"),
                Err(e) => warn!(
                    "not PID 1 and cannot become a subreaper ({e}): orphans will not be reaped"
                ),
            }
        } else if !sys::is_child_subreaper() {
            // A launcher may have made rinit a subreaper already (the bit
            // survives exec); then orphans do come to rinit.
            log::say(messages::Msg::NotAReaper);
        }
    }

    let sigchld_ignored = match sys::set_sigchld(false) {
        Ok(ignored) => ignored,
        Err(e) => {
            error!("cannot reset SIGCHLD: {e}");
            return exit::RINIT_FAILED;
        }
    };

    let fd = match sys::signalfd(signals::blocked_mask()) {
        Ok(fd) => fd,
        Err(e) => {
            error!("cannot create a signalfd: {e}");
            return exit::RINIT_FAILED;
        }
    };

    let child = match &config.mode {
        Mode::Command(argv) => match spawn::spawn(config, argv, inherited_mask, sigchld_ignored) {
            Ok(child) => {
                log::say(messages::Msg::Started {
                    program: &argv[0].to_string_lossy(),
                    pid: child.pid,
                });
                if config.setsid {
                    log::say(messages::Msg::SessionStarted);
                }
                Some(child)
            }
            Err(e) => {
                e.report();
                return e.code;
            }
        },
        Mode::Pause => {
            if let Err(e) = sys::leave_cwd() {
                warn!("cannot move to /: {e}");
            }
            None
        }
    };
    // What rinit inherited is the child's now (or no one's, in pause mode).
    if let Err(e) = sys::close_inherited(fd.as_raw_fd()) {
        warn!("cannot close the inherited descriptors: {e}");
    }
    let reaper = reaper(config, child.as_ref());
    supervisor::Executor::new(config, child, reaper).run(&fd)
}

/// Chooses who releases the processes that exit, and for the kernel sets
/// SIGCHLD up so. The kernel then releases each child of rinit as it exits
/// (re-parented orphans too), and rinit is not woken for any of them; it
/// learns the main child's status from its pidfd instead. The version
/// check only rules out kernels that cannot keep that status; whether the
/// kernel really releases is seen from what it does (`reaper`).
fn reaper(config: &Config, child: Option<&spawn::Child>) -> reaper::Reaper {
    // The pidfd first, in either mode: until SA_NOCLDWAIT is set the
    // child cannot be released, so its status cannot be lost in between;
    // and signals to its group go through it (no pid reuse).
    let main = child.map(|c| match sys::pidfd_open(c.pid) {
        Ok(fd) => (c.pid, Some(fd)),
        Err(e) => {
            info!("no pidfd for the main child ({e})");
            (c.pid, None)
        }
    });
    // As PID 1, the shutdown waits for every process of the namespace.
    let namespace = sys::getpid() == 1 && !config.grace.is_zero();
    let has_fd = main.as_ref().is_none_or(|(_, fd)| fd.is_some());
    let kernel = config.kernel_may_reap()
        && sys::kernel_keeps_exit_status()
        && has_fd
        && match sys::set_sigchld(true) {
            Ok(_) => true,
            Err(e) => {
                info!("cannot set SA_NOCLDWAIT ({e}): rinit reaps");
                false
            }
        };
    if kernel {
        info!(
            "the kernel releases exited processes; rinit reads the main child's status from its pidfd"
        );
    }
    reaper::Reaper::new(kernel, main, namespace, config.warn_on_reap)
}
