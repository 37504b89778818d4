//! The process table, read from `/proc`: who is whose parent, which
//! processes live in rinit's PID namespace. Reading `/proc` is not a
//! syscall wrapper, so it lives here rather than in `sys`; the parsing is
//! done by small functions over text that the unit tests drive.

use std::fs;
use std::io;
use std::os::fd::OwnedFd;

use crate::sys;

/// A pid from a `/proc` directory entry's name (`"1234"`); other entries
/// (`self`, `sys`, `1234x`) are not processes.
pub fn parse_pid(name: &str) -> Option<i32> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok().filter(|&p| p > 0)
}

/// The parent pid in the text of `/proc/PID/stat`: the second field after
/// the `)` that ends the command name, which may itself hold spaces and
/// parentheses.
pub fn parse_stat_ppid(stat: &[u8]) -> Option<i32> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&stat[close + 1..]).ok()?;
    rest.split_ascii_whitespace().nth(1)?.parse().ok()
}

/// Every descendant of `root` in a (pid, parent) table, not `root`
/// itself, parents before children.
pub fn tree_of(table: &[(i32, i32)], root: i32) -> Vec<(i32, i32)> {
    let mut found: Vec<(i32, i32)> = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for &(pid, ppid) in table {
            if ppid == parent && pid != root && !found.iter().any(|&(p, _)| p == pid) {
                found.push((pid, ppid));
                frontier.push(pid);
            }
        }
    }
    found
}

/// The pids `/proc` lists now.
pub fn pids() -> io::Result<Vec<i32>> {
    let mut out = Vec::new();
    for entry in fs::read_dir("/proc")? {
        let Ok(entry) = entry else { continue };
        if let Some(pid) = entry.file_name().to_str().and_then(parse_pid) {
            out.push(pid);
        }
    }
    Ok(out)
}

/// (pid, parent pid) of every process in this `/proc`.
fn process_table() -> io::Result<Vec<(i32, i32)>> {
    Ok(pids()?
        .into_iter()
        .filter_map(|pid| Some((pid, parent_of(pid)?)))
        .collect())
}

/// The parent pid from `/proc/PID/stat`.
pub fn parent_of(pid: i32) -> Option<i32> {
    parse_stat_ppid(&fs::read(format!("/proc/{pid}/stat")).ok()?)
}

/// Fails unless the `/proc` we see belongs to our own PID namespace: one
/// mounted for another namespace (a new namespace without its own /proc
/// mount) numbers processes differently, and its pids would name other
/// processes here.
pub fn check_ours() -> io::Result<()> {
    if sys::statfs_type(c"/proc")? != libc::PROC_SUPER_MAGIC as u64 {
        return Err(io::Error::other("/proc is not a procfs"));
    }
    let me = fs::read_link("/proc/self")?;
    if me.to_str().and_then(parse_pid) == Some(sys::getpid()) {
        Ok(())
    } else {
        Err(io::Error::other("/proc belongs to another PID namespace"))
    }
}

/// rinit's parent's pid, where rinit can see it: `getppid()`, or where
/// that is 0 (the parent is outside rinit's PID namespace, as for PID 1
/// of a new one) its pid in a `/proc` of an ancestor namespace, if that
/// is what is mounted (`unshare --pid --fork` without `--mount-proc`).
/// `None` where no facility shows it: with a `/proc` of rinit's own
/// namespace, the parent has no pid there (`/proc/self/stat`, `getppid`
/// and the pidfd's `PIDFD_GET_INFO` all say 0).
pub fn parent_seen() -> Option<i32> {
    let ppid = sys::getppid();
    if ppid != 0 {
        return Some(ppid);
    }
    if sys::statfs_type(c"/proc").ok()? != libc::PROC_SUPER_MAGIC as u64 {
        return None;
    }
    // Our pid in the namespace that /proc belongs to; if it is ours, the
    // parent is invisible there too.
    let me = fs::read_link("/proc/self").ok()?;
    let me = me.to_str().and_then(parse_pid)?;
    if me == sys::getpid() {
        return None;
    }
    parse_stat_ppid(&fs::read("/proc/self/stat").ok()?).filter(|&p| p != 0)
}

/// Every descendant of `root` (not `root` itself), parents before children.
pub fn descendants(root: i32) -> io::Result<Vec<(i32, i32)>> {
    check_ours()?;
    Ok(tree_of(&process_table()?, root))
}

/// How many processes other than this one the `/proc` we see lists.
pub fn count_others() -> io::Result<usize> {
    check_ours()?;
    let me = sys::getpid();
    Ok(pids()?.iter().filter(|&&pid| pid != me).count())
}

/// A pidfd for every process of rinit's namespace other than rinit that
/// has not exited yet (as PID 1, that is everything `kill(-1)` reaches,
/// also the processes that joined the namespace from outside). Each
/// pidfd reports `POLLIN` once its process has exited.
pub fn live_others() -> io::Result<Vec<OwnedFd>> {
    // As PID 1, `kill(-1, 0)` asks the kernel the same question in one
    // syscall: ESRCH means no other process at all (zombies count), and
    // `/proc` need not be read (reading it costs `rinit -- true` about
    // 50,000 instructions).
    if sys::getpid() == 1
        && matches!(sys::kill(-1, 0), Err(e) if e.raw_os_error() == Some(libc::ESRCH))
    {
        return Ok(Vec::new());
    }
    check_ours()?;
    let me = sys::getpid();
    let mut fds: Vec<OwnedFd> = pids()?
        .into_iter()
        .filter(|&pid| pid != me)
        // ESRCH: gone since the directory was read.
        .filter_map(|pid| sys::pidfd_open(pid).ok())
        .collect();
    // Zombies are listed too: keep only those that have not exited.
    let mut polled: Vec<libc::pollfd> = fds.iter().map(sys::pollin).collect();
    sys::poll(&mut polled, 0)?;
    let mut i = 0;
    fds.retain(|_| {
        let live = polled[i].revents == 0;
        i += 1;
        live
    });
    Ok(fds)
}

/// Sends `sig` to each of `processes` ((pid, parent) pairs from
/// `descendants`) whose parent is still the one recorded: the pidfd pins
/// the process, so a recycled pid is never signalled. Returns how many
/// were signalled.
pub fn signal_processes(processes: &[(i32, i32)], sig: i32) -> usize {
    let mut sent = 0;
    for &(pid, ppid) in processes {
        match sys::pidfd_open(pid) {
            Ok(fd) => {
                if parent_of(pid) == Some(ppid) && sys::pidfd_send_signal(&fd, sig, false).is_ok() {
                    sent += 1;
                }
            }
            // Kernels before 5.3: no pidfds; check the parent and kill.
            Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
                if parent_of(pid) == Some(ppid) && sys::kill(pid, sig).is_ok() {
                    sent += 1;
                }
            }
            Err(_) => {}
        }
    }
    sent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pids_from_directory_names() {
        assert_eq!(parse_pid("1"), Some(1));
        assert_eq!(parse_pid("4194304"), Some(4_194_304));
        for name in [
            "self",
            "thread-self",
            "sys",
            "",
            "12x",
            "-3",
            "+3",
            "0",
            "99999999999",
        ] {
            assert_eq!(parse_pid(name), None, "{name:?}");
        }
    }

    #[test]
    fn parent_from_stat_text() {
        assert_eq!(
            parse_stat_ppid(b"42 (sleep) S 7 42 7 0 -1 4194560"),
            Some(7)
        );
        // A command name with spaces and parentheses of its own.
        assert_eq!(parse_stat_ppid(b"42 (a) b (c) ) R 1 42 42 0 -1"), Some(1));
        // As PID 1 of a namespace whose parent is outside it: 0.
        assert_eq!(parse_stat_ppid(b"1 (rinit) S 0 0 0 0 -1"), Some(0));
        assert_eq!(parse_stat_ppid(b"42 (cut"), None);
        assert_eq!(parse_stat_ppid(b"42 (x) S"), None);
        assert_eq!(parse_stat_ppid(b""), None);
    }

    #[test]
    fn descendants_in_a_table() {
        // 1 ─ 10 ─ 11 ─ 12, 1 ─ 20, and 30 under someone else.
        let table = [
            (1, 0),
            (10, 1),
            (11, 10),
            (12, 11),
            (20, 1),
            (30, 5),
            (5, 0),
        ];
        let mut tree: Vec<i32> = tree_of(&table, 10).iter().map(|&(p, _)| p).collect();
        assert_eq!(tree, [11, 12]);
        tree = tree_of(&table, 1).iter().map(|&(p, _)| p).collect();
        tree.sort();
        assert_eq!(tree, [10, 11, 12, 20]);
        assert!(tree_of(&table, 12).is_empty());
        // A table read while processes change may hold a cycle: no hang.
        let cycle = [(2, 3), (3, 2)];
        assert_eq!(tree_of(&cycle, 2).len(), 1);
    }
}
