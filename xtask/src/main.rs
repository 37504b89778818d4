//! Developer tasks that must not weigh on the rinit binary.
//!
//! `cargo run -p xtask -- man` writes `doc/rinit.1` from the same clap
//! definition the binary parses with; `man --check` fails if the committed
//! page is out of date (CI runs that).

use std::path::Path;
use std::process::ExitCode;

/// Sections clap does not know about, in roff.
const MORE: &str = r#".SH EXIT STATUS
The child's exit code; 128+N when signal N killed it; 0 when that code is
listed with \fB\-e\fR; 125 when rinit itself failed (usage error, or a
syscall it cannot go on without); 126 when COMMAND was found but cannot be
executed; 127 when COMMAND was not found.
.SH SHUTDOWN
When the main child exits and other processes remain, rinit sends them
SIGTERM, keeps reaping, and exits as soon as none is left; at the end of the
grace period (\fB\-t\fR, default 5s) it sends SIGKILL. As PID 1 it signals
every process of its namespace; otherwise only its own descendants.
.SH DESCRIPTORS
Descriptors rinit inherits beyond 0, 1 and 2 (a listening socket, a
readiness or log pipe) belong to the child: rinit closes its own copies as
soon as the child runs, so a pipe the child closes reaches EOF. When
\fBLISTEN_PID\fR names rinit's pid (systemd socket activation), the child
sees its own pid there instead; \fBLISTEN_FDS\fR, \fBLISTEN_FDNAMES\fR and
any other \fBLISTEN_PID\fR pass through.
.SH PERSONALITIES
Started as \fBtini\fR, \fBtini\-static\fR or \fBdocker\-init\fR, rinit
behaves as tini: child\-only forwarding, grace 0, a warning when not PID 1,
the inherited signal mask for the child. Started as \fBdumb\-init\fR, the
child starts a new session, signals go to its process group (\fB\-c\fR
turns that off), and rinit is silent unless \fB\-v\fR.
.PP
Started as \fBcatatonit\fR (podman's \fB\-\-init\fR binary, and its pause
binary, run as \fB/catatonit \-P\fR), rinit takes catatonit's \fB\-L\fR
for the license and prints a \fBtini version\fR line for \fB\-V\fR; grace 0,
and a child subreaper when not PID 1. \fB\-P\fR is \fB\-\-pause\fR in every
personality.
.SH SEE ALSO
\fBtini\fR(1), \fBdumb\-init\fR(1), \fBsignal\fR(7), \fBpid_namespaces\fR(7)
"#;

fn man_page() -> std::io::Result<Vec<u8>> {
    let command =
        rinit::cli::command(rinit::config::Personality::Rinit).version(rinit::cli::VERSION);
    let mut page = Vec::new();
    clap_mangen::Man::new(command).date("").render(&mut page)?;
    page.extend_from_slice(MORE.as_bytes());
    Ok(page)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../doc/rinit.1");
    let page = match man_page() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("xtask: cannot render the man page: {e}");
            return ExitCode::FAILURE;
        }
    };
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["man"] => match std::fs::write(&path, &page) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xtask: cannot write {}: {e}", path.display());
                ExitCode::FAILURE
            }
        },
        ["man", "--check"] => {
            if std::fs::read(&path).is_ok_and(|old| old == page) {
                ExitCode::SUCCESS
            } else {
                eprintln!("xtask: doc/rinit.1 is out of date: run `cargo run -p xtask -- man`");
                ExitCode::FAILURE
            }
        }
        _ => {
            eprintln!("usage: cargo run -p xtask -- man [--check]");
            ExitCode::from(2)
        }
    }
}
