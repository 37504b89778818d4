//! Who releases the processes that exit, and how rinit learns what
//! happened to them: the one home of the reaping strategy. The loop asks
//! it what to wait on (`wants_sigchld`, `add_pollfds`), tells it what woke
//! the loop (`on_polled`, `on_sigchld`), and gets back what happened
//! (`Report`); the loop itself never asks who reaps.
//!
//! - rinit reaps: `waitpid(-1, WNOHANG)` until nothing is left, on every
//!   SIGCHLD.
//! - The kernel reaps (`SA_NOCLDWAIT`, see `lib::reaper`): rinit polls the
//!   main child's pidfd for `POLLIN` (it exited), then asks `waitid` on
//!   that pidfd. A zombie means the kernel did not keep its promise (an
//!   emulator such as qemu-user, which does not pass `SA_NOCLDWAIT` on):
//!   rinit reaps it and every later process itself. `ECHILD` means it was
//!   released, and its status is on the pidfd (`PIDFD_INFO_EXIT`). Until
//!   the first exit proves that the kernel releases, rinit also reads
//!   SIGCHLD (one wake-up), so an emulator's zombies are reaped from the
//!   first one on, not only after the main child.
//! - The shutdown as PID 1 (with a grace period) waits for every process
//!   of the namespace, also those that joined it from outside (`docker
//!   exec`, `nsenter`) and send rinit no SIGCHLD: a pidfd for each live
//!   process in `/proc`, polled for `POLLIN`; when the last one has gone,
//!   `/proc` is read again for processes started meanwhile. No timer: one
//!   wake-up per watched process that exits.

use std::os::fd::OwnedFd;

use crate::exit::{self, Outcome};
use crate::messages::Msg;
use crate::sys::{self, Children};

/// What the reaper learnt from a wake-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    Nothing,
    /// The main child ended; `none_left`: nothing else is left to wait for.
    MainExited {
        outcome: Outcome,
        none_left: bool,
    },
    /// Everything rinit waits for during the shutdown is gone.
    NoneLeft,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Rinit,
    /// `confirmed`: an exit has shown that the kernel releases processes.
    Kernel {
        confirmed: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Main {
    /// No main child (pause mode).
    Absent,
    Running,
    /// Exited and released by the kernel, status not yet recorded: wait
    /// for the pidfd's `POLLHUP`.
    Releasing,
    Gone,
}

#[derive(Debug)]
pub struct Reaper {
    who: Who,
    main_pid: i32,
    /// The main child's pidfd. Kept after the child is gone: its process
    /// group can still be signalled through it, and never a process that
    /// reused its pid.
    main_fd: Option<OwnedFd>,
    main: Main,
    /// Watch the whole PID namespace at the shutdown (PID 1, grace > 0,
    /// and a `/proc` of our own).
    namespace: bool,
    /// During that shutdown: a pidfd for every other live process.
    watch: Option<Vec<OwnedFd>>,
    warn_on_reap: bool,
}

impl Reaper {
    /// `kernel`: SA_NOCLDWAIT is set and the kernel should release every
    /// exited child. `main`: the main child's pid and pidfd, if any.
    pub fn new(
        kernel: bool,
        main: Option<(i32, Option<OwnedFd>)>,
        namespace: bool,
        warn_on_reap: bool,
    ) -> Reaper {
        let (main_pid, main_fd, state) = match main {
            Some((pid, fd)) => (pid, fd, Main::Running),
            None => (0, None, Main::Absent),
        };
        Reaper {
            who: if kernel && (main_fd.is_some() || state == Main::Absent) {
                Who::Kernel { confirmed: false }
            } else {
                Who::Rinit
            },
            main_pid,
            main_fd,
            main: state,
            namespace,
            watch: None,
            warn_on_reap,
        }
    }

    /// Whether the kernel releases exited processes (as far as rinit knows).
    pub fn kernel(&self) -> bool {
        matches!(self.who, Who::Kernel { .. })
    }

    /// The main child's pidfd, also after it is gone.
    pub fn main_pidfd(&self) -> Option<&OwnedFd> {
        self.main_fd.as_ref()
    }

    /// Whether the main child has ended (or there is none).
    pub fn main_gone(&self) -> bool {
        matches!(self.main, Main::Gone | Main::Absent)
    }

    /// Before the loop: whatever exited before SA_NOCLDWAIT was set is a
    /// zombie that no later wake-up would announce.
    pub fn start(&mut self) -> Report {
        if self.kernel() {
            self.reap()
        } else {
            Report::Nothing
        }
    }

    /// Whether the loop must read SIGCHLD now.
    pub fn wants_sigchld(&self) -> bool {
        match self.who {
            Who::Rinit | Who::Kernel { confirmed: false } => true,
            // Only to see the last of rinit's own children go at the end.
            Who::Kernel { confirmed: true } => self.main_gone() && self.watch.is_none(),
        }
    }

    /// Appends the descriptors the loop must poll besides the signalfd;
    /// `on_polled` gets them back in the same order.
    pub fn add_pollfds(&self, fds: &mut Vec<libc::pollfd>) {
        if let (Who::Kernel { .. }, Some(fd)) = (self.who, &self.main_fd) {
            match self.main {
                Main::Running => fds.push(sys::pollin(fd)),
                Main::Releasing => fds.push(libc::pollfd {
                    events: 0,
                    ..sys::pollin(fd)
                }),
                Main::Absent | Main::Gone => {}
            }
        }
        if let Some(watch) = &self.watch {
            fds.extend(watch.iter().map(sys::pollin));
        }
    }

    /// The descriptors from `add_pollfds`, after `poll`.
    pub fn on_polled(&mut self, fds: &[libc::pollfd]) -> Report {
        let mut fds = fds;
        let main_polled = self.kernel()
            && self.main_fd.is_some()
            && matches!(self.main, Main::Running | Main::Releasing);
        if main_polled {
            let Some((first, rest)) = fds.split_first() else {
                return Report::Nothing;
            };
            fds = rest;
            if first.revents != 0 {
                return self.main_woke();
            }
        }
        let Some(watch) = &mut self.watch else {
            return Report::Nothing;
        };
        if fds.len() != watch.len() || fds.iter().all(|p| p.revents == 0) {
            return Report::Nothing;
        }
        let mut i = 0;
        watch.retain(|_| {
            let live = fds[i].revents == 0;
            i += 1;
            live
        });
        crate::debug!("{} watched process(es) left", watch.len());
        if !watch.is_empty() {
            return Report::Nothing;
        }
        // The last one went: anything started meanwhile?
        self.rescan()
    }

    /// SIGCHLD was read; `exited`: its siginfo says a child exited (not
    /// stopped or continued).
    pub fn on_sigchld(&mut self, exited: bool) -> Report {
        match self.who {
            Who::Rinit => self.reap(),
            Who::Kernel { confirmed } => {
                let children = sys::children().ok();
                if children == Some(Children::Zombie) {
                    self.fall_back();
                    return self.reap();
                }
                if !confirmed && exited {
                    crate::debug!("the kernel released an exited process: SIGCHLD no longer read");
                    self.who = Who::Kernel { confirmed: true };
                }
                if self.main_gone() && self.watch.is_none() && children == Some(Children::None) {
                    return Report::NoneLeft;
                }
                Report::Nothing
            }
        }
    }

    /// The kernel left an exited child a zombie despite SA_NOCLDWAIT.
    fn fall_back(&mut self) {
        if self.kernel() {
            crate::info!(
                "an exited process was not released under SA_NOCLDWAIT (an emulator such as \
                 qemu-user?): rinit reaps from now on"
            );
            self.who = Who::Rinit;
            if let Err(e) = sys::set_sigchld(false) {
                crate::debug!("cannot clear SA_NOCLDWAIT: {e}");
            }
        }
    }

    /// The main child's pidfd is readable: it exited (`POLLIN`), or it was
    /// released (`POLLHUP`).
    fn main_woke(&mut self) -> Report {
        let Some(fd) = &self.main_fd else {
            return Report::Nothing;
        };
        match sys::waitid_pidfd(fd) {
            // A zombie: the kernel did not release it.
            Ok(Some(status)) => {
                self.fall_back();
                let outcome = Outcome::from_wait_status(status);
                crate::log::say(Msg::MainExited {
                    pid: self.main_pid,
                    outcome,
                });
                self.main = Main::Gone;
                let none_left = self.reap() == Report::NoneLeft;
                self.main_ended(known(outcome), Some(none_left))
            }
            // Not exited after all; wait until it is released.
            Ok(None) => {
                self.main = Main::Releasing;
                Report::Nothing
            }
            Err(e) if e.raw_os_error() == Some(libc::ECHILD) => self.main_released(),
            Err(e) => {
                crate::debug!("waitid on the main child's pidfd: {e}");
                self.main_released()
            }
        }
    }

    /// The kernel released the main child: its status is on its pidfd.
    fn main_released(&mut self) -> Report {
        let Some(fd) = &self.main_fd else {
            return Report::Nothing;
        };
        let outcome = match sys::pidfd_exit_status(fd) {
            Ok(Some(status)) => Outcome::from_wait_status(status),
            // Released a moment from now: the pidfd says when.
            Ok(None) if self.main == Main::Running => {
                self.main = Main::Releasing;
                return Report::Nothing;
            }
            Ok(None) => {
                crate::error!("the kernel kept no exit status for the main child");
                None
            }
            Err(e) => {
                crate::error!("cannot read the main child's exit status: {e}");
                None
            }
        };
        crate::log::say(Msg::MainExited {
            pid: self.main_pid,
            outcome,
        });
        self.main_ended(known(outcome), None)
    }

    /// The main child is gone with `outcome`; `children_gone`: what a
    /// drain just learnt about rinit's own children, if it ran.
    fn main_ended(&mut self, outcome: Outcome, children_gone: Option<bool>) -> Report {
        self.main = Main::Gone;
        if self.namespace {
            match crate::proc::live_others() {
                Ok(fds) => {
                    let none_left = fds.is_empty();
                    crate::debug!("{} other process(es) in the namespace", fds.len());
                    self.watch = Some(fds);
                    return Report::MainExited { outcome, none_left };
                }
                Err(e) => {
                    crate::info!(
                        "cannot watch the namespace's processes through /proc ({e}): \
                         waiting for rinit's own children only"
                    );
                    self.namespace = false;
                }
            }
        }
        let none_left =
            children_gone.unwrap_or_else(|| sys::children().is_ok_and(|c| c == Children::None));
        Report::MainExited { outcome, none_left }
    }

    /// The namespace watch ran empty: read `/proc` again.
    fn rescan(&mut self) -> Report {
        match crate::proc::live_others() {
            Ok(fds) if fds.is_empty() => {
                self.watch = Some(fds);
                Report::NoneLeft
            }
            Ok(fds) => {
                crate::debug!("{} process(es) started meanwhile", fds.len());
                self.watch = Some(fds);
                Report::Nothing
            }
            Err(e) => {
                crate::warn!("cannot read /proc again ({e}): assuming nothing is left");
                Report::NoneLeft
            }
        }
    }

    /// Drains `waitpid(-1, WNOHANG)`.
    fn reap(&mut self) -> Report {
        let mut main_outcome = None;
        let none_left = loop {
            match sys::wait_any(false) {
                Ok(sys::Wait::Reaped { pid, status }) => {
                    let outcome = Outcome::from_wait_status(status);
                    if pid == self.main_pid && self.main != Main::Absent {
                        main_outcome = Some(known(outcome));
                        crate::log::say(Msg::MainExited { pid, outcome });
                    } else {
                        crate::log::say(Msg::Reaped {
                            pid,
                            outcome,
                            warn: self.warn_on_reap,
                        });
                    }
                }
                Ok(sys::Wait::Running) => break false,
                Ok(sys::Wait::NoChildren) => break true,
                Err(e) => {
                    crate::error!("waitpid failed: {e}");
                    break false;
                }
            }
        };
        if let Some(outcome) = main_outcome {
            return self.main_ended(outcome, Some(none_left));
        }
        if none_left && self.main_gone() && self.watch.is_none() {
            return Report::NoneLeft;
        }
        Report::Nothing
    }
}

/// The main child's outcome; without one, rinit itself failed (125).
fn known(outcome: Option<Outcome>) -> Outcome {
    outcome.unwrap_or(Outcome::Exited(exit::RINIT_FAILED))
}
