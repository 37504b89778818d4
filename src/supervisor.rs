//! The loop: read signals from the signalfd, forward them, reap, and run
//! the shutdown sequence when the main child is gone.
//!
//! What to do with each event is decided by `Machine::step`, a pure state
//! machine that the unit tests drive without processes; `Executor` only
//! carries out the `Action`s it returns. The loop blocks in `read` on the
//! signalfd, or in `poll` on it and the pidfds the reaper names; only
//! while a term delay or grace period runs does it wait with a timeout,
//! so an idle rinit never wakes.
//!
//! Who reaps, and how rinit learns that the main child or the last
//! process is gone, is `crate::reaper`'s business: the loop polls what it
//! names and hands it what woke the loop.

use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use crate::config::{Config, ForwardTo, Mode, Personality};
use crate::exit::{self, Outcome, Remap};
use crate::messages::Msg;
use crate::reaper::{Reaper, Report};
use crate::signals::{self, Rewrite, SIGCHLD, SIGINT, SIGKILL, SIGSTOP, SIGTERM, Signal};
use crate::spawn::Child;
use crate::sys;

/// How long rinit waits for the processes it SIGKILLed at the end of the
/// grace period before it exits anyway (a process in uninterruptible
/// sleep may never go).
pub const KILL_WAIT: Duration = Duration::from_secs(1);

/// Where a signal goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Pid(i32),
    Group(i32),
    /// Every remaining process rinit may signal (shutdown).
    Remaining,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Signal(i32),
    /// The main child was reaped; `others_left` says whether rinit still
    /// has children.
    MainExited {
        outcome: Outcome,
        others_left: bool,
    },
    /// No children are left (only reported while draining).
    ChildrenGone,
    /// Time passed; deadlines may have expired.
    Tick,
    /// The main child, which shares rinit's terminal, was stopped by
    /// this job-control signal (Ctrl-Z, or reading the terminal from the
    /// background).
    MainStopped(i32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Send {
        sig: i32,
        to: Target,
    },
    /// Stop rinit itself (dumb-init's job control).
    StopSelf,
    /// A SIGCONT came (a shell's `fg` may have given rinit's group the
    /// terminal): hand the terminal on to the child's group if rinit's
    /// group holds it.
    HandOnTerminal,
    /// The main child is gone: give the terminal back.
    ReclaimTerminal,
    Exit(u8),
}

/// At most four actions per event; no allocation on the signal path.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Actions {
    items: [Option<Action>; 4],
}

impl Actions {
    fn push(&mut self, action: Action) {
        if let Some(slot) = self.items.iter_mut().find(|s| s.is_none()) {
            *slot = Some(action);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = Action> + '_ {
        self.items.iter().flatten().copied()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Running {
        pid: i32,
        pgid: i32,
    },
    /// The main child exited; waiting for the rest to go.
    Draining {
        deadline: Instant,
        killed: bool,
        started: Instant,
    },
    Pause,
    Done,
}

/// The decisions, separate from the syscalls.
#[derive(Debug)]
pub struct Machine {
    forward: ForwardTo,
    rewrite: Rewrite,
    remap: Remap,
    grace: Duration,
    term_delay: Duration,
    /// dumb-init: TSTP/TTIN/TTOU are forwarded, then rinit stops itself.
    dumb: bool,
    /// dumb-init in setsid mode: TSTP/TTIN/TTOU are forwarded as STOP
    /// unless rewritten; and the child's group gets SIGTERM when it exits.
    dumb_setsid: bool,
    phase: Phase,
    /// A SIGTERM held by `--term-delay`: when to send it, and as what.
    held: Option<(Instant, i32)>,
    outcome: Option<Outcome>,
}

impl Machine {
    pub fn new(config: &Config, child: Option<Child>) -> Machine {
        Machine {
            forward: config.forward,
            rewrite: config.rewrite.clone(),
            remap: config.remap,
            grace: config.grace,
            term_delay: config.term_delay,
            dumb: config.personality == Personality::DumbInit,
            dumb_setsid: config.personality == Personality::DumbInit && config.setsid,
            phase: match (child, &config.mode) {
                (Some(c), _) => Phase::Running {
                    pid: c.pid,
                    pgid: c.pgid,
                },
                (None, Mode::Pause) | (None, Mode::Command(_)) => Phase::Pause,
            },
            held: None,
            outcome: None,
        }
    }

    /// When the loop must wake up next, if ever.
    pub fn deadline(&self) -> Option<Instant> {
        let grace = match self.phase {
            Phase::Draining { deadline, .. } => Some(deadline),
            _ => None,
        };
        match (grace, self.held.map(|(at, _)| at)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the main child is gone and rinit waits for the rest.
    pub fn draining(&self) -> bool {
        matches!(self.phase, Phase::Draining { .. })
    }

    fn exit_code(&self) -> u8 {
        self.outcome.map_or(0, |o| exit::code(o, &self.remap))
    }

    pub fn step(&mut self, event: Event, now: Instant) -> Actions {
        let mut out = Actions::default();
        match (self.phase, event) {
            (Phase::Done, _) => {}
            (Phase::Pause, Event::Signal(sig)) => {
                if sig == SIGTERM || sig == SIGINT {
                    crate::info!("{} received in pause mode: exiting", Signal(sig));
                    self.phase = Phase::Done;
                    out.push(Action::Exit(0));
                }
            }
            (Phase::Pause, _) => {}
            (Phase::Running { pid, pgid }, Event::Signal(sig)) => {
                let to = match self.forward {
                    ForwardTo::Child => Target::Pid(pid),
                    ForwardTo::Group => Target::Group(pgid),
                };
                self.on_signal(sig, to, now, &mut out);
            }
            (
                Phase::Running { pid, pgid },
                Event::MainExited {
                    outcome,
                    others_left,
                },
            ) => {
                self.outcome = Some(outcome);
                self.held = None;
                out.push(Action::ReclaimTerminal);
                // dumb-init's farewell: SIGTERM to the child's group in
                // setsid mode, to the child alone (long gone, so to no one)
                // with -c.
                if self.dumb {
                    out.push(Action::Send {
                        sig: SIGTERM,
                        to: if self.dumb_setsid {
                            Target::Group(pgid)
                        } else {
                            Target::Pid(pid)
                        },
                    });
                }
                if !others_left || self.grace.is_zero() {
                    self.phase = Phase::Done;
                    out.push(Action::Exit(self.exit_code()));
                } else {
                    crate::info!(
                        "main child gone; sending SIGTERM to what is left, grace {:?}",
                        self.grace
                    );
                    self.phase = Phase::Draining {
                        deadline: now + self.grace,
                        killed: false,
                        started: now,
                    };
                    out.push(Action::Send {
                        sig: SIGTERM,
                        to: Target::Remaining,
                    });
                }
            }
            (Phase::Running { .. }, Event::Tick) => {
                if let Some((at, sig)) = self.held {
                    if now >= at {
                        self.held = None;
                        crate::info!("term delay over: forwarding {}", Signal(sig));
                        self.forward_held(sig, &mut out);
                    }
                }
            }
            (Phase::Running { .. }, Event::ChildrenGone) => {}
            // The shell sees its job (rinit's group) stopped, as it would
            // see the program itself, and takes the terminal back; its
            // `fg` or `bg` then sends rinit the SIGCONT that goes on.
            (Phase::Running { .. }, Event::MainStopped(sig)) => {
                if matches!(sig, signals::SIGTSTP | signals::SIGTTIN | signals::SIGTTOU) {
                    out.push(Action::StopSelf);
                }
            }
            (Phase::Draining { .. }, Event::Signal(sig)) => {
                let to = self.rewrite.get(sig);
                if to != 0 && to != SIGCHLD {
                    out.push(Action::Send {
                        sig: to,
                        to: Target::Remaining,
                    });
                }
            }
            (Phase::Draining { started, .. }, Event::ChildrenGone) => {
                crate::info!("every remaining process exited after {:?}", now - started);
                self.phase = Phase::Done;
                out.push(Action::Exit(self.exit_code()));
            }
            (
                Phase::Draining {
                    deadline,
                    killed,
                    started,
                },
                Event::Tick,
            ) if now >= deadline => {
                if killed {
                    crate::warn!(
                        "processes still left {:?} after SIGKILL; exiting",
                        KILL_WAIT
                    );
                    self.phase = Phase::Done;
                    out.push(Action::Exit(self.exit_code()));
                } else {
                    crate::info!("grace period of {:?} over: sending SIGKILL", self.grace);
                    self.phase = Phase::Draining {
                        deadline: now + KILL_WAIT,
                        killed: true,
                        started,
                    };
                    out.push(Action::Send {
                        sig: SIGKILL,
                        to: Target::Remaining,
                    });
                }
            }
            (Phase::Draining { .. }, _) => {}
        }
        out
    }

    /// A signal for the running main child, reaching `to`.
    fn on_signal(&mut self, sig: i32, to: Target, now: Instant, out: &mut Actions) {
        if sig == signals::SIGCONT {
            out.push(Action::HandOnTerminal);
        }
        let job_control = matches!(sig, signals::SIGTSTP | signals::SIGTTIN | signals::SIGTTOU);
        let mut forwarded = self.rewrite.get(sig);
        // In setsid mode the child's session has no one to stop it but
        // rinit: STOP, unless a rewrite says otherwise.
        if self.dumb_setsid && job_control && forwarded == sig {
            forwarded = SIGSTOP;
        }
        if forwarded == 0 {
            crate::log::say(Msg::Dropped { sig });
        } else if self.dumb && job_control {
            out.push(Action::Send { sig: forwarded, to });
        }
        if self.dumb && job_control {
            out.push(Action::StopSelf);
            return;
        }
        if forwarded == 0 {
            return;
        }
        if !self.term_delay.is_zero() && (sig == SIGTERM || sig == SIGINT) {
            match (self.held.take(), sig) {
                (None, SIGTERM) => {
                    crate::info!("holding {} for {:?}", Signal(sig), self.term_delay);
                    self.held = Some((now + self.term_delay, forwarded));
                    return;
                }
                // A second SIGTERM, or a SIGINT, ends the wait at once.
                (Some((_, held)), _) => {
                    crate::info!("{} during the term delay: forwarding at once", Signal(sig));
                    self.forward_held(held, out);
                    if sig == SIGTERM {
                        return;
                    }
                }
                (None, _) => {}
            }
        }
        out.push(Action::Send { sig: forwarded, to });
    }

    fn forward_held(&self, sig: i32, out: &mut Actions) {
        if let Phase::Running { pid, pgid } = self.phase {
            let to = match self.forward {
                ForwardTo::Child => Target::Pid(pid),
                ForwardTo::Group => Target::Group(pgid),
            };
            out.push(Action::Send { sig, to });
        }
    }
}

/// Carries out the machine's actions and owns the syscalls.
#[derive(Debug)]
pub struct Executor {
    machine: Machine,
    main: Option<Child>,
    reaper: Reaper,
    /// The signals the signalfd reports now.
    reading: u64,
    is_pid1: bool,
    proc_warned: bool,
    /// Times the loop woke up during the shutdown.
    shutdown_wakeups: u32,
}

impl Executor {
    pub fn new(config: &Config, main: Option<Child>, reaper: Reaper) -> Executor {
        Executor {
            machine: Machine::new(config, main),
            main,
            reaper,
            reading: signals::blocked_mask(),
            is_pid1: sys::getpid() == 1,
            proc_warned: false,
            shutdown_wakeups: 0,
        }
    }

    /// The signals the loop must read: all it blocks, but SIGCHLD only
    /// when the reaper wants it.
    fn wanted(&self) -> u64 {
        let all = signals::blocked_mask();
        // On a terminal, SIGCHLD also says the child stopped.
        if self.reaper.wants_sigchld() || self.main.is_some_and(|c| c.terminal) {
            all
        } else {
            all & !signals::bit(SIGCHLD)
        }
    }

    /// Runs until the machine says exit; returns the exit code.
    pub fn run(mut self, fd: &OwnedFd) -> u8 {
        let mut buf = [sys::zeroed_siginfo(); 32];
        let mut fds: Vec<libc::pollfd> = Vec::with_capacity(2);
        let report = self.reaper.start();
        if let Some(code) = self.report(report) {
            return code;
        }
        // Setting SIGCHLD up for the kernel's reaping discarded any SIGCHLD
        // pending then: a child that stopped on its terminal before (a
        // background read, SIGTTIN) would otherwise never be seen stopped.
        if let Some(code) = self.job_control() {
            return code;
        }
        loop {
            let wanted = self.wanted();
            if wanted != self.reading {
                match sys::set_signalfd_mask(fd, wanted) {
                    Ok(()) => self.reading = wanted,
                    Err(e) => crate::error!("cannot change the signalfd's signals: {e}"),
                }
            }
            fds.clear();
            fds.push(sys::pollin(fd));
            self.reaper.add_pollfds(&mut fds);
            let deadline = self.machine.deadline();
            if deadline.is_some() || fds.len() > 1 {
                // Round up so a wake-up never comes before the deadline.
                let ms = deadline.map_or(-1, |d| {
                    let left = d.saturating_duration_since(Instant::now());
                    left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32
                });
                if let Err(e) = sys::poll(&mut fds, ms) {
                    crate::error!("poll failed: {e}");
                    fds.iter_mut().for_each(|p| p.revents = 0);
                    fds[0].revents = libc::POLLIN;
                }
                if self.machine.draining() {
                    self.shutdown_wakeups += 1;
                }
                let kernel = self.reaper.kernel();
                let report = self.reaper.on_polled(&fds[1..]);
                if let Some(code) = self.report(report) {
                    return code;
                }
                // Falling back to reaping sets SIGCHLD to SIG_DFL, and the
                // kernel discards a pending signal whose action becomes
                // "ignore": the signalfd poll found readable may be empty
                // now (seen under qemu-user, where rinit then blocked in
                // read past its grace deadline). Poll again instead.
                if self.reaper.kernel() != kernel {
                    continue;
                }
                if fds[0].revents & libc::POLLIN == 0 {
                    if let Some(code) = self.event(Event::Tick) {
                        return code;
                    }
                    continue;
                }
            }
            let signals = match sys::read_signals(fd, &mut buf) {
                Ok(s) => s,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    crate::error!("cannot read signals: {e}");
                    return exit::RINIT_FAILED;
                }
            };
            // Reap first: a signal read in the same batch as the main
            // child's exit belongs to what is left, not to a dead child.
            let mut chld = None;
            for s in signals.iter().filter(|s| s.ssi_signo as i32 == SIGCHLD) {
                let code = s.ssi_code;
                let exited = matches!(code, libc::CLD_EXITED | libc::CLD_KILLED | libc::CLD_DUMPED);
                chld = Some(chld.unwrap_or(false) || exited);
            }
            if let Some(exited) = chld {
                crate::log::say(Msg::Received { sig: SIGCHLD });
                let report = self.reaper.on_sigchld(exited);
                if let Some(code) = self.report(report) {
                    return code;
                }
                if let Some(code) = self.job_control() {
                    return code;
                }
            }
            let me = sys::getpid() as u32;
            for sig in signals
                .iter()
                // A SIGPIPE rinit raised itself (a log line to a stderr
                // whose reader is gone) is not for the child.
                .filter(|s| !(s.ssi_signo == libc::SIGPIPE as u32 && s.ssi_pid == me))
                .map(|s| s.ssi_signo as i32)
                .filter(|&n| n != SIGCHLD)
            {
                crate::log::say(Msg::Received { sig });
                if let Some(code) = self.event(Event::Signal(sig)) {
                    return code;
                }
            }
            if self.machine.deadline().is_some_and(|d| Instant::now() >= d) {
                if let Some(code) = self.event(Event::Tick) {
                    return code;
                }
            }
        }
    }

    /// Turns what the reaper learnt into events for the machine.
    fn report(&mut self, report: Report) -> Option<u8> {
        match report {
            Report::Nothing => None,
            Report::MainExited { outcome, none_left } => {
                let code = self.event(Event::MainExited {
                    outcome,
                    others_left: !none_left,
                });
                if code.is_some() || !none_left {
                    return code;
                }
                self.event(Event::ChildrenGone)
            }
            Report::NoneLeft => self.event(Event::ChildrenGone),
        }
    }

    /// Feeds one event to the machine and carries out what it says.
    fn event(&mut self, event: Event) -> Option<u8> {
        let actions = self.machine.step(event, Instant::now());
        let mut exit = None;
        for action in actions.iter() {
            match action {
                Action::Send { sig, to } => self.send(sig, to),
                Action::StopSelf => {
                    crate::log::say(Msg::StoppingSelf);
                    let _ = sys::kill(sys::getpid(), SIGSTOP);
                }
                Action::HandOnTerminal => {
                    if let Some(child) = self.main.filter(|c| c.terminal) {
                        crate::spawn::hand_on_terminal(child.pgid);
                    }
                }
                Action::ReclaimTerminal => {
                    if let Some(child) = self.main.filter(|c| c.terminal) {
                        crate::spawn::reclaim_terminal(child.pgid);
                    }
                }
                Action::Exit(code) => exit = Some(code),
            }
        }
        if let Some(code) = exit {
            if self.shutdown_wakeups > 0 {
                crate::info!(
                    "woke up {} times during the shutdown",
                    self.shutdown_wakeups
                );
            }
            crate::log::say(Msg::Exiting { code });
        }
        exit
    }

    fn send(&mut self, sig: i32, to: Target) {
        match to {
            Target::Pid(pid) | Target::Group(pid) => {
                let group = matches!(to, Target::Group(_));
                let target = if group { -pid } else { pid };
                let main = self.main.is_some_and(|c| c.pid == pid);
                // Once the main child is gone (the kernel releases it the
                // moment it exits, before rinit hears of it), its pid and
                // its group's id may be anyone's. Its pidfd still names
                // only it: a signal to it fails, and one to its group
                // reaches only the group numbered by its pid, never one
                // that took over the number. Without a pidfd, a reaped
                // main child is not signalled at all.
                let pidfd = self.reaper.main_pidfd().filter(|_| main);
                let sent = match pidfd.map(|fd| sys::pidfd_send_signal(fd, sig, group)) {
                    // No process-group flag before Linux 6.9.
                    Some(Err(e)) if e.raw_os_error() == Some(libc::EINVAL) => {
                        sys::kill(target, sig)
                    }
                    Some(r) => r,
                    None if main && !group && self.reaper.main_gone() => {
                        Err(std::io::Error::from_raw_os_error(libc::ESRCH))
                    }
                    None => sys::kill(target, sig),
                };
                crate::log::say(Msg::Forwarded {
                    sig,
                    target,
                    failed: sent.err().and_then(|e| e.raw_os_error()),
                });
            }
            Target::Remaining if self.is_pid1 => {
                let left = if crate::log::enabled(crate::log::INFO) {
                    crate::proc::count_others().ok()
                } else {
                    None
                };
                match sys::kill(-1, sig) {
                    Ok(()) => match left {
                        Some(n) => crate::info!("sent {} to every process ({n} left)", Signal(sig)),
                        None => crate::info!("sent {} to every process", Signal(sig)),
                    },
                    Err(e) => crate::debug!("kill(-1, {}): {e}", Signal(sig)),
                }
            }
            Target::Remaining => match crate::proc::descendants(sys::getpid()) {
                Ok(tree) => {
                    let sent = crate::proc::signal_processes(&tree, sig);
                    crate::info!("sent {} to {sent} remaining descendant(s)", Signal(sig));
                }
                Err(e) => {
                    if !self.proc_warned {
                        self.proc_warned = true;
                        crate::warn!(
                            "cannot list descendants in /proc ({e}): signalling none of them"
                        );
                    }
                }
            },
        }
    }

    /// A main child on rinit's terminal that a job-control signal stopped
    /// stops rinit too (see `Event::MainStopped`).
    fn job_control(&mut self) -> Option<u8> {
        let child = self
            .main
            .filter(|c| c.terminal && !self.reaper.main_gone())?;
        let sig = sys::stopped(child.pid)?;
        self.event(Event::MainStopped(sig))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Request, parse};
    use std::ffi::OsString;

    fn config(argv: &[&str]) -> Config {
        match parse(argv.iter().map(OsString::from).collect(), &|_| None) {
            Ok(Request::Run(c)) => c,
            other => panic!("{other:?}"),
        }
    }

    fn machine(argv: &[&str]) -> Machine {
        let child = Child {
            pid: 100,
            pgid: 100,
            terminal: false,
        };
        Machine::new(&config(argv), Some(child))
    }

    fn acts(m: &mut Machine, e: Event, now: Instant) -> Vec<Action> {
        m.step(e, now).iter().collect()
    }

    fn send(sig: i32, to: Target) -> Action {
        Action::Send { sig, to }
    }

    const EXITED0: Event = Event::MainExited {
        outcome: Outcome::Exited(0),
        others_left: true,
    };

    #[test]
    fn forwards_to_child_or_group() {
        let now = Instant::now();
        let mut m = machine(&["rinit", "x"]);
        for sig in [1, 2, 3, 6, 10, 11, 15, 28, 30, 31, 32, 34, 64] {
            assert_eq!(
                acts(&mut m, Event::Signal(sig), now),
                [send(sig, Target::Pid(100))]
            );
        }
        let mut m = machine(&["rinit", "-g", "x"]);
        assert_eq!(
            acts(&mut m, Event::Signal(15), now),
            [send(15, Target::Group(100))]
        );
        assert_eq!(m.deadline(), None);
    }

    #[test]
    fn rewrite_and_drop() {
        let now = Instant::now();
        let mut m = machine(&["rinit", "-r", "TERM:QUIT", "-r", "USR1:0", "x"]);
        assert_eq!(
            acts(&mut m, Event::Signal(15), now),
            [send(3, Target::Pid(100))]
        );
        assert_eq!(acts(&mut m, Event::Signal(10), now), []);
    }

    #[test]
    fn exit_at_once_without_stragglers_or_grace() {
        let now = Instant::now();
        let mut m = machine(&["rinit", "x"]);
        let e = Event::MainExited {
            outcome: Outcome::Signaled(15),
            others_left: false,
        };
        assert_eq!(
            acts(&mut m, e, now),
            [Action::ReclaimTerminal, Action::Exit(143)]
        );
        let mut m = machine(&["rinit", "-t", "0", "-e", "3", "x"]);
        let e = Event::MainExited {
            outcome: Outcome::Exited(3),
            others_left: true,
        };
        assert_eq!(
            acts(&mut m, e, now),
            [Action::ReclaimTerminal, Action::Exit(0)]
        );
    }

    #[test]
    fn grace_sequence() {
        let t0 = Instant::now();
        let mut m = machine(&["rinit", "-t", "2s", "x"]);
        let e = Event::MainExited {
            outcome: Outcome::Exited(7),
            others_left: true,
        };
        assert_eq!(
            acts(&mut m, e, t0),
            [Action::ReclaimTerminal, send(15, Target::Remaining)]
        );
        assert_eq!(m.deadline(), Some(t0 + Duration::from_secs(2)));
        // Signals during the grace period go to what is left.
        assert_eq!(
            acts(&mut m, Event::Signal(1), t0),
            [send(1, Target::Remaining)]
        );
        assert_eq!(acts(&mut m, Event::Tick, t0 + Duration::from_secs(1)), []);
        let t2 = t0 + Duration::from_secs(2);
        assert_eq!(
            acts(&mut m, Event::Tick, t2),
            [send(SIGKILL, Target::Remaining)]
        );
        assert_eq!(m.deadline(), Some(t2 + KILL_WAIT));
        assert_eq!(acts(&mut m, Event::ChildrenGone, t2), [Action::Exit(7)]);
        assert_eq!(acts(&mut m, Event::Signal(15), t2), []);
    }

    #[test]
    fn grace_ends_early_when_everything_is_gone() {
        let t0 = Instant::now();
        let mut m = machine(&["rinit", "-e", "143", "x"]);
        let e = Event::MainExited {
            outcome: Outcome::Signaled(15),
            others_left: true,
        };
        acts(&mut m, e, t0);
        assert_eq!(acts(&mut m, Event::ChildrenGone, t0), [Action::Exit(0)]);
    }

    #[test]
    fn killed_but_never_gone_exits_after_kill_wait() {
        let t0 = Instant::now();
        let mut m = machine(&["rinit", "-t", "1s", "x"]);
        acts(&mut m, EXITED0, t0);
        let t1 = t0 + Duration::from_secs(1);
        acts(&mut m, Event::Tick, t1);
        assert_eq!(acts(&mut m, Event::Tick, t1 + KILL_WAIT), [Action::Exit(0)]);
    }

    #[test]
    fn term_delay() {
        let t0 = Instant::now();
        let mut m = machine(&["rinit", "-d", "3s", "-g", "x"]);
        assert_eq!(acts(&mut m, Event::Signal(15), t0), []);
        assert_eq!(m.deadline(), Some(t0 + Duration::from_secs(3)));
        // Other signals pass meanwhile.
        assert_eq!(
            acts(&mut m, Event::Signal(10), t0),
            [send(10, Target::Group(100))]
        );
        assert_eq!(acts(&mut m, Event::Tick, t0 + Duration::from_secs(2)), []);
        let t3 = t0 + Duration::from_secs(3);
        assert_eq!(
            acts(&mut m, Event::Tick, t3),
            [send(15, Target::Group(100))]
        );
        assert_eq!(m.deadline(), None);
        // A second SIGTERM ends the wait, and is not sent twice.
        assert_eq!(acts(&mut m, Event::Signal(15), t3), []);
        assert_eq!(
            acts(&mut m, Event::Signal(15), t3),
            [send(15, Target::Group(100))]
        );
        assert_eq!(m.deadline(), None);
        // A SIGINT ends it too, and is forwarded itself.
        acts(&mut m, Event::Signal(15), t3);
        assert_eq!(
            acts(&mut m, Event::Signal(2), t3),
            [send(15, Target::Group(100)), send(2, Target::Group(100))]
        );
        // A SIGINT with nothing held passes straight through.
        assert_eq!(
            acts(&mut m, Event::Signal(2), t3),
            [send(2, Target::Group(100))]
        );
        // The rewritten signal is what is held.
        let mut m = machine(&["rinit", "-d", "1", "-r", "TERM:QUIT", "x"]);
        acts(&mut m, Event::Signal(15), t0);
        assert_eq!(
            acts(&mut m, Event::Tick, t0 + Duration::from_secs(1)),
            [send(3, Target::Pid(100))]
        );
    }

    #[test]
    fn a_held_term_is_dropped_when_the_child_exits() {
        let t0 = Instant::now();
        let mut m = machine(&["rinit", "-d", "3s", "-t", "1s", "x"]);
        acts(&mut m, Event::Signal(15), t0);
        acts(&mut m, EXITED0, t0);
        assert_eq!(m.deadline(), Some(t0 + Duration::from_secs(1)));
    }

    #[test]
    fn pause_mode() {
        let now = Instant::now();
        let mut m = Machine::new(&config(&["rinit", "--pause"]), None);
        assert_eq!(acts(&mut m, Event::Signal(1), now), []);
        assert_eq!(acts(&mut m, Event::ChildrenGone, now), []);
        assert_eq!(acts(&mut m, Event::Signal(2), now), [Action::Exit(0)]);
        let mut m = Machine::new(&config(&["rinit", "--pause"]), None);
        assert_eq!(acts(&mut m, Event::Signal(15), now), [Action::Exit(0)]);
    }

    #[test]
    fn dumb_init_job_control_and_exit() {
        let now = Instant::now();
        let stop = Action::StopSelf;
        // setsid mode: STOP to the group by default, then rinit stops.
        let mut m = machine(&["dumb-init", "x"]);
        for sig in [signals::SIGTSTP, signals::SIGTTIN, signals::SIGTTOU] {
            assert_eq!(
                acts(&mut m, Event::Signal(sig), now),
                [send(SIGSTOP, Target::Group(100)), stop]
            );
        }
        assert_eq!(
            acts(&mut m, Event::Signal(signals::SIGCONT), now),
            [Action::HandOnTerminal, send(18, Target::Group(100))]
        );
        assert_eq!(
            acts(&mut m, EXITED0, now),
            [
                Action::ReclaimTerminal,
                send(15, Target::Group(100)),
                Action::Exit(0)
            ]
        );
        // A -r for them replaces the STOP; to 0 drops it; rinit still stops.
        let mut m = machine(&["dumb-init", "-r", "20:10", "-r", "22:0", "x"]);
        assert_eq!(
            acts(&mut m, Event::Signal(20), now),
            [send(10, Target::Group(100)), stop]
        );
        assert_eq!(acts(&mut m, Event::Signal(22), now), [stop]);
        assert_eq!(
            acts(&mut m, Event::Signal(21), now),
            [send(SIGSTOP, Target::Group(100)), stop]
        );
        // -c: forwarded as they are, to the child, then rinit stops; the
        // farewell TERM goes to the (reaped) child alone.
        let mut m = machine(&["dumb-init", "-c", "x"]);
        assert_eq!(
            acts(&mut m, Event::Signal(20), now),
            [send(20, Target::Pid(100)), stop]
        );
        let mut m = machine(&["dumb-init", "-c", "-r", "20:0", "x"]);
        assert_eq!(acts(&mut m, Event::Signal(20), now), [stop]);
        assert_eq!(
            acts(&mut m, EXITED0, now),
            [
                Action::ReclaimTerminal,
                send(15, Target::Pid(100)),
                Action::Exit(0)
            ]
        );
        // rinit: a child on rinit's terminal stopped by job control
        // stops rinit too; any other stop does not.
        let mut m = machine(&["rinit", "x"]);
        for sig in [signals::SIGTSTP, signals::SIGTTIN, signals::SIGTTOU] {
            assert_eq!(acts(&mut m, Event::MainStopped(sig), now), [stop]);
        }
        assert_eq!(acts(&mut m, Event::MainStopped(SIGSTOP), now), []);
        // rinit: plain signals, rinit never stops itself.
        let mut m = machine(&["rinit", "x"]);
        assert_eq!(
            acts(&mut m, Event::Signal(20), now),
            [send(20, Target::Pid(100))]
        );
        assert_eq!(
            acts(&mut m, Event::Signal(18), now),
            [Action::HandOnTerminal, send(18, Target::Pid(100))]
        );
    }
}
