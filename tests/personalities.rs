//! rinit under the names `tini`, `tini-static`, `docker-init` and
//! `dumb-init` (through symlinks, as a drop-in would be installed), and
//! the `-r` rewrite table.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

mod common;

use common::*;

fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn as_(name: &str) -> Opts {
    Opts {
        argv0: Some(personality(name)),
        ..Opts::default()
    }
}

fn as_pid1(name: &str) -> Opts {
    Opts {
        argv0: Some(personality(name)),
        ..pid1()
    }
}

/// Docker runs its init exactly as `/sbin/docker-init -- CMD ARGS`.
#[test]
fn docker_init_invocation() {
    if !can_pid1() {
        return;
    }
    let end = run(
        &["--", "sh", "-c", "echo \"$@\"; exit 3", "sh", "-v", "x y"],
        as_pid1("docker-init"),
    );
    assert_eq!(
        (end.code, end.lines.as_slice()),
        (3, &["-v x y".to_string()][..]),
        "{}",
        end.stderr
    );
    assert_eq!(end.stderr, "");
    // No argument permutation: options end at the first non-option.
    let end = run(&["echo", "-v", "-g"], as_("tini"));
    assert_eq!(end.lines, ["-v -g"]);
}

#[test]
fn tini_version_line_is_what_docker_parses() {
    for name in ["tini", "tini-static", "docker-init"] {
        let end = run(&["--version"], as_(name));
        assert_eq!(end.code, 0);
        let line = &end.lines[0];
        let (version, commit) = line.split_once(" - ").unwrap();
        assert!(version.starts_with("tini version "), "{line}");
        assert!(commit.starts_with("git.") && commit.len() > 4, "{line}");
    }
    let end = run(&["-V"], as_("rinit"));
    assert!(end.lines[0].starts_with("rinit version "));
}

/// tini: child-only forwarding, grace 0, and a warning (not subreaping)
/// when not PID 1.
#[test]
fn tini_defaults() {
    let t = testee();
    if can_pid1() {
        // Grace 0: the straggler is not sent SIGTERM.
        let end = run(
            &["-vv", "--", &t, "straggler", "ignores-term", "2"],
            as_pid1("tini"),
        );
        assert_eq!(end.code, 2);
        assert!(!end.stderr.contains("SIGTERM"), "{}", end.stderr);
        // Child only: the grandchildren do not see USR1.
        let init = Init::start(&["--", &t, "grandchildren", "1"], as_pid1("tini"));
        init.ready();
        init.signal(libc::SIGUSR1);
        assert_eq!(init.line(), "m sig 10");
        let g = children_of(init.child_pid())[0];
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(g, libc::SIGUSR2) };
        assert_eq!(init.line(), "0 sig 12");
        init.signal(libc::SIGTERM);
        assert_eq!(init.wait().code, 0);
    }
    let end = run(&["-vvv", "--", &t, "orphans", "1", "5"], as_("tini"));
    // tini's warning, in the words its users and its suite look for.
    assert!(
        end.stderr.contains("zombie reaping won't work"),
        "{}",
        end.stderr
    );
    assert!(
        !end.stderr.contains("reaped process"),
        "tini subreaped: {}",
        end.stderr
    );
}

/// Every tini option and variable.
#[test]
fn tini_options_and_variables() {
    let t = testee();
    // -s and TINI_SUBREAPER (even "0": tini only checks presence).
    for (args, vars) in [(&["-s"][..], &[][..]), (&[], &[("TINI_SUBREAPER", "0")])] {
        let mut argv = vec!["-vvv"];
        argv.extend(args);
        argv.extend(["--", &t, "orphans", "1", "3"]);
        let end = run(
            &argv,
            Opts {
                env: env(vars),
                ..as_("tini")
            },
        );
        if emulated() {
            // qemu-user refuses PR_SET_CHILD_SUBREAPER: rinit must say so.
            assert!(end.stderr.contains("subreaper"), "{args:?}: {}", end.stderr);
            continue;
        }
        assert_eq!(
            end.stderr.matches("reaped process").count(),
            3,
            "{args:?}: {}",
            end.stderr
        );
    }
    // -e remaps, -w warns (with -s, so the orphan is ours), -l, -h.
    assert_eq!(
        run(&["-e", "143", "--", "sh", "-c", "kill $$"], as_("tini")).code,
        0
    );
    let end = run(
        &["-s", "-w", "--", &t, "orphans", "1", "1"],
        as_("tini-static"),
    );
    if emulated() {
        // qemu-user refuses the subreaper: rinit warns instead of reaping.
        assert!(end.stderr.contains("subreaper"), "{}", end.stderr);
    } else {
        // tini's -w line, as its suite matches it.
        let reaped = end
            .stderr
            .lines()
            .find_map(|l| l.split_once("] Reaped zombie process with pid="))
            .unwrap_or_else(|| panic!("{}", end.stderr));
        assert!(reaped.0.starts_with("[WARN  tini ("), "{}", end.stderr);
        assert!(reaped.1.parse::<i32>().is_ok(), "{}", end.stderr);
    }
    assert!(
        run(&["-l"], as_("tini"))
            .lines
            .join("\n")
            .contains("MIT License")
    );
    assert!(
        run(&["-h"], as_("tini"))
            .lines
            .join("\n")
            .contains("--subreaper")
    );
    // TINI_VERBOSITY=0 silences the not-PID-1 warning.
    let end = run(
        &["--", "true"],
        Opts {
            env: env(&[("TINI_VERBOSITY", "0")]),
            ..as_("tini")
        },
    );
    assert_eq!(end.stderr, "");
    if !can_pid1() {
        return;
    }
    // -g and TINI_KILL_PROCESS_GROUP (present, even empty): the whole group.
    for (args, vars) in [
        (&["-g"][..], &[][..]),
        (&[], &[("TINI_KILL_PROCESS_GROUP", "")]),
    ] {
        let mut argv = args.to_vec();
        argv.extend(["--", &t, "grandchildren", "1"]);
        let init = Init::start(
            &argv,
            Opts {
                env: env(vars),
                ..as_pid1("tini")
            },
        );
        init.ready();
        init.signal(libc::SIGUSR1);
        let mut got = vec![init.line(), init.line()];
        got.sort();
        assert_eq!(got, ["0 sig 10", "m sig 10"], "{args:?} {vars:?}");
        init.signal(libc::SIGTERM);
        assert_eq!(init.wait().code, 0);
    }
    // -p: covered for rinit in core.rs; the flag parses under tini too.
    assert_eq!(
        run(&["-p", "SIGKILL", "--", "true"], as_pid1("tini")).code,
        0
    );
}

/// tini keeps the mask it inherited for the child (tini restores it);
/// dumb-init resets every disposition; rinit clears the mask.
#[test]
fn child_signal_state_per_personality() {
    if emulated() {
        // qemu-user drops inherited ignores at exec (see core.rs,
        // child_keeps_inherited_ignores_but_not_the_mask).
        eprintln!("SKIPPED under a runner: qemu-user drops inherited ignores at exec");
        return;
    }
    let state = |name: &str| child_signal_state(Some(personality(name)), "4200", "1,13");
    assert_eq!(
        state("tini"),
        ("0000000000004200".into(), "0000000000001001".into())
    );
    assert_eq!(
        state("dumb-init"),
        ("0000000000000000".into(), "0000000000000000".into())
    );
    assert_eq!(
        state("rinit"),
        ("0000000000000000".into(), "0000000000001001".into())
    );
}

/// dumb-init: the child leads a new session, signals go to its group,
/// and it is silent by default.
#[test]
fn dumb_init_defaults() {
    let t = testee();
    let end = run(&["--", &t, "state"], as_("dumb-init"));
    assert_eq!(end.code, 0);
    assert_eq!(end.stderr, "", "dumb-init is silent unless -v");
    let ids = end
        .lines
        .iter()
        .find_map(|l| l.strip_prefix("pid "))
        .unwrap()
        .to_string();
    let v: Vec<&str> = ids.split(' ').collect();
    assert_eq!((v[0], v[0]), (v[2], v[4]), "pid = pgid = sid: {ids}");
    // -c and DUMB_INIT_SETSID=0: no new session.
    for (args, vars) in [
        (&["-c"][..], &[][..]),
        (&["--single-child"], &[]),
        (&[], &[("DUMB_INIT_SETSID", "0")]),
    ] {
        let mut argv = args.to_vec();
        argv.extend(["--", &t, "state"]);
        let end = run(
            &argv,
            Opts {
                env: env(vars),
                ..as_("dumb-init")
            },
        );
        let ids = end
            .lines
            .iter()
            .find_map(|l| l.strip_prefix("pid "))
            .unwrap()
            .to_string();
        let v: Vec<&str> = ids.split(' ').collect();
        assert_ne!(v[0], v[4], "{args:?} {vars:?}: still a new session: {ids}");
    }
    // -v narrates in dumb-init's words, and only those.
    let told = run(&["-v", "-c", "--", "true"], as_("dumb-init")).stderr;
    let said: Vec<&str> = told
        .lines()
        .map(|l| l.split(|c: char| c.is_ascii_digit()).next().unwrap())
        .collect();
    assert_eq!(
        said,
        [
            "[dumb-init] Child spawned with PID ",
            "[dumb-init] Received signal ",
            "[dumb-init] A child with PID ",
            "[dumb-init] Forwarded signal ",
            "[dumb-init] Child exited with status ",
        ],
        "{told}"
    );
    assert!(run(&["-V"], as_("dumb-init")).lines[0].contains(" - git."));
    assert!(
        run(&["-h"], as_("dumb-init"))
            .lines
            .join("\n")
            .contains("--rewrite")
    );
    if !can_pid1() {
        return;
    }
    // Group forwarding by default.
    let init = Init::start(&["--", &t, "grandchildren", "1"], as_pid1("dumb-init"));
    init.ready();
    init.signal(libc::SIGUSR1);
    let mut got = vec![init.line(), init.line()];
    got.sort();
    assert_eq!(got, ["0 sig 10", "m sig 10"]);
    init.signal(libc::SIGTERM);
    assert_eq!(init.wait().code, 0);
}

/// When the child exits, dumb-init (setsid mode) sends SIGTERM to the rest
/// of its group.
#[test]
fn dumb_init_terms_the_group_when_the_child_exits() {
    // The child leaves a reporter in its group (set up before the child
    // exits) and exits 6.
    let init = Init::start(
        &["--", &testee(), "straggler", "reports", "6"],
        as_("dumb-init"),
    );
    let mut lines = vec![init.line(), init.line(), init.line()];
    lines.sort();
    assert_eq!(
        lines[2],
        "straggler ".to_string() + lines[2].trim_start_matches("straggler ")
    );
    assert!(lines[0].starts_with("ready"), "{lines:?}");
    assert_eq!(lines[1], "sig 15", "{lines:?}");
    let pid: i32 = lines[2].trim_start_matches("straggler ").parse().unwrap();
    assert_eq!(init.wait().code, 6);
    // SAFETY: our own reporter, outside any namespace.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

#[test]
fn rewrite_table_by_name_number_rt_and_drop() {
    if !can_pid1() {
        return;
    }
    let t = testee();
    let vars = env(&[("RINIT_REWRITE", "HUP:USR2")]);
    let init = Init::start(
        &[
            "-r",
            "15:3",
            "-r",
            "RTMIN+2:USR1",
            "-r",
            "WINCH:0",
            "--",
            &t,
            "signals",
        ],
        Opts {
            env: vars.clone(),
            ..pid1()
        },
    );
    init.ready();
    init.signal(libc::SIGTERM);
    assert_eq!(init.line(), "sig 3");
    if !emulated() {
        // qemu-user numbers real-time signals two below the host inside
        // the guest (measured, qemu 7.2: host 34+n arrives as 32+n and goes
        // back out as 34+n), so there RTMIN+2 names another signal.
        init.signal(36);
        assert_eq!(init.line(), "sig 10");
    }
    init.signal(libc::SIGWINCH);
    // HUP is not rewritten (flags win over RINIT_REWRITE); WINCH was
    // dropped, so HUP's line comes next.
    init.signal(libc::SIGHUP);
    assert_eq!(init.line(), "sig 1");
    drop(init);
    // The variable alone.
    let init = Init::start(
        &["--", &t, "signals"],
        Opts {
            env: vars,
            ..pid1()
        },
    );
    init.ready();
    init.signal(libc::SIGHUP);
    assert_eq!(init.line(), "sig 12");
    drop(init);
    // dumb-init's numeric form.
    let init = Init::start(&["-r", "15:3", "--", &t, "signals"], as_pid1("dumb-init"));
    init.ready();
    init.signal(libc::SIGTERM);
    assert_eq!(init.line(), "sig 3");
}

/// The tini bugs rinit does not have: SIGSYS and the fault signals sent
/// with kill are forwarded, and an early SIGTERM with -g is never lost.
/// (No argument permutation: `docker_init_invocation`; no stolen
/// terminal: `terminal.rs`.)
#[test]
fn tini_without_tinis_bugs() {
    if !can_pid1() {
        return;
    }
    let t = testee();
    let init = Init::start(&["--", &t, "signals", "--exit-on-term"], as_pid1("tini"));
    init.ready();
    for sig in [
        libc::SIGSYS,
        libc::SIGABRT,
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGFPE,
        libc::SIGILL,
        libc::SIGTRAP,
    ]
    .into_iter()
    .filter(|s| !not_forwardable_here().contains(s))
    {
        init.signal(sig);
        assert_eq!(init.line(), format!("sig {sig}"));
    }
    init.signal(libc::SIGTERM);
    assert_eq!(init.wait().code, 0);
    for _ in 0..20 {
        let init = Init::start(
            &["-g", "--", &t, "signals", "--exit-on-term"],
            as_pid1("tini"),
        );
        init.wait_blocked();
        init.signal(libc::SIGTERM);
        let end = init.wait();
        assert!(
            end.code == 0 || end.code == 143,
            "{} {}",
            end.code,
            end.stderr
        );
    }
}

/// A command that runs `init`: the real tini and dumb-init directly,
/// rinit's personality links through the runner, if any.
fn init_command(init: &std::path::Path) -> std::process::Command {
    if init.starts_with("/usr/bin") {
        std::process::Command::new(init)
    } else {
        rinit_command_as(init)
    }
}

/// One run of a dumb-init (the real one or rinit as `dumb-init`) over the
/// testee's signal reporter, outside any namespace.
struct JobControlRun {
    init: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    child: i32,
}

impl JobControlRun {
    fn start(dumb_init: &std::path::Path, args: &[&str]) -> JobControlRun {
        use std::io::BufRead;
        let mut init = init_command(dumb_init)
            .args(args)
            .args(["--", &testee(), "signals", "--exit-on-term"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let out = init.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let ready = lines.recv_timeout(DEADLINE).unwrap();
        let child = ready.strip_prefix("ready ").unwrap().parse().unwrap();
        JobControlRun { init, lines, child }
    }

    fn line(&self) -> String {
        self.lines.recv_timeout(DEADLINE).unwrap()
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(self.init.id() as i32, sig) };
    }

    fn state(pid: i32) -> char {
        status_field(pid, "State:")
            .and_then(|s| s.chars().next())
            .unwrap_or('?')
    }
}

impl Drop for JobControlRun {
    fn drop(&mut self) {
        // SAFETY: as above; our own processes.
        unsafe { libc::kill(self.child, libc::SIGKILL) };
        let _ = self.init.kill();
        let _ = self.init.wait();
    }
}

/// dumb-init's job control, in both modes, exactly as the real dumb-init
/// does it (the same scenario runs against Debian's /usr/bin/dumb-init):
/// TSTP is forwarded (as STOP by default in setsid mode; a -r replaces
/// that; to 0 drops it), then the init stops itself; SIGCONT wakes both.
#[test]
fn dumb_init_job_control_matches_the_real_dumb_init() {
    #[derive(Clone, Copy, Debug)]
    enum Child {
        Stops,
        Told(i32),
        Untouched,
    }
    let cases: [(&[&str], Child); 6] = [
        (&[], Child::Stops),
        (&["-c"], Child::Told(libc::SIGTSTP)),
        (&["-r", "20:10"], Child::Told(libc::SIGUSR1)),
        (&["-r", "20:0"], Child::Untouched),
        (&["-c", "-r", "20:0"], Child::Untouched),
        (&["-c", "-r", "20:12"], Child::Told(libc::SIGUSR2)),
    ];
    let real = std::path::Path::new("/usr/bin/dumb-init");
    let mut inits = vec![personality("dumb-init")];
    if real.exists() {
        inits.push(real.to_path_buf());
    } else {
        eprintln!("SKIPPED the reference half: no /usr/bin/dumb-init");
    }
    for init in &inits {
        for (args, want) in cases {
            let what = format!("{} {args:?}", init.display());
            let run = JobControlRun::start(init, args);
            let pid = run.init.id() as i32;
            run.signal(libc::SIGTSTP);
            wait_until(&format!("{what}: the init to stop"), || {
                JobControlRun::state(pid) == 'T'
            });
            match want {
                Child::Stops => wait_until(&format!("{what}: the child to stop"), || {
                    JobControlRun::state(run.child) == 'T'
                }),
                Child::Told(sig) => assert_eq!(run.line(), format!("sig {sig}"), "{what}"),
                Child::Untouched => {}
            }
            run.signal(libc::SIGCONT);
            assert_eq!(run.line(), "sig 18", "{what}: SIGCONT reaches the child");
            wait_until(&format!("{what}: both to run again"), || {
                JobControlRun::state(pid) != 'T' && JobControlRun::state(run.child) != 'T'
            });
            run.signal(libc::SIGTERM);
            assert_eq!(run.line(), "sig 15", "{what}");
        }
    }
}

/// A command file without `#!` that the kernel refuses (ENOEXEC) runs
/// through /bin/sh as tini and dumb-init (execvp's rule, and what the real
/// ones do), found by path or through PATH; rinit itself says 126.
#[test]
fn a_script_without_a_shebang_runs_through_sh_in_the_drop_ins() {
    let dir = temp_dir("noshebang");
    let script = dir.join("plain-script");
    std::fs::write(&script, "echo \"ran $# $1\"\nexit 7\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", dir.display(), std::env::var("PATH").unwrap());
    let mut drop_ins = vec![personality("tini"), personality("dumb-init")];
    for real in ["/usr/bin/tini", "/usr/bin/dumb-init"] {
        if std::path::Path::new(real).exists() {
            drop_ins.push(real.into());
        } else {
            eprintln!("SKIPPED the reference half: no {real}");
        }
    }
    for init in &drop_ins {
        for program in [path_str(&script), "plain-script"] {
            let out = init_command(init)
                .args(["--", program, "arg"])
                .env("PATH", &path)
                .output()
                .unwrap();
            assert_eq!(
                (
                    out.status.code(),
                    String::from_utf8_lossy(&out.stdout).as_ref()
                ),
                (Some(7), "ran 1 arg\n"),
                "{} {program}: {}",
                init.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let end = run(&["--", path_str(&script)], Opts::default());
    assert_eq!(end.code, 126, "{}", end.stderr);
    assert!(end.stderr.contains("Exec format error"), "{}", end.stderr);
}

/// As `dumb-init`, the usage, argument and exec errors read as the real
/// dumb-init's (its users and its test suite match them): the same text
/// on stderr, and its exit code 1 for a bad command line.
#[test]
fn dumb_init_errors_read_as_the_real_ones() {
    let real = std::path::Path::new("/usr/bin/dumb-init");
    if !real.exists() {
        eprintln!("SKIPPED: no /usr/bin/dumb-init to compare with");
        return;
    }
    let dir = temp_dir("dumb-words");
    let ours = dir.join("dumb-init");
    std::os::unix::fs::symlink(rinit(), &ours).unwrap();
    let say = |init: &std::path::Path, args: &[&str]| {
        // Both print argv[0]: run each as plain `dumb-init` from its dir
        // (under a runner, qemu-user's -0 sets the guest's argv[0]).
        let mut cmd = match runner().filter(|_| init != real) {
            Some(r) => {
                let mut cmd = std::process::Command::new(r);
                cmd.args(["-0", "dumb-init"]).arg(init);
                cmd
            }
            None => std::process::Command::new("dumb-init"),
        };
        let out = cmd
            .args(args)
            .env("PATH", init.parent().unwrap())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for args in [
        &[][..],
        &["--yolo", "/bin/true"],
        &["-r", "herp", "true"],
        &["-r", "15:derp", "true"],
        &["-r", "15::12", "true"],
        &["-r"],
    ] {
        let (want, got) = (say(real, args), say(&ours, args));
        // The real one's getopt words a missing -r value its own way.
        if args == ["-r"] {
            assert_eq!(got.0, want.0, "{args:?}");
            continue;
        }
        assert_eq!(got, want, "{args:?}");
    }
    // The exec error: the same line (rinit keeps 127 for "not found").
    let (_, want) = say(real, &["/doesnotexist"]);
    let (code, got) = say(&ours, &["/doesnotexist"]);
    assert_eq!((code, got.as_str()), (Some(127), want.as_str()));
}
