//! The server's CPU time and memory, read from `/proc` (Linux).
//!
//! On a machine where the load generator and the server share the cores,
//! requests per second measure both programs at once; the server's own CPU
//! time per request does not depend on how fast the load generator is.

use std::collections::HashMap;
use std::fs;
use std::io;

/// Clock ticks per second of the `utime`/`stime` fields of
/// `/proc/PID/stat` (`USER_HZ`). The kernel fixes it at 100 on every
/// architecture Linux user space sees, whatever `CONFIG_HZ` is; reading
/// `sysconf(_SC_CLK_TCK)` would need `unsafe` for the same answer.
pub const TICKS_PER_SECOND: u64 = 100;

/// CPU time of a process and of all its descendants, in clock ticks:
/// `utime + stime` of the process and of every live descendant, plus
/// `cutime + cstime` of the process (descendants that already exited and
/// were waited for). Threads are counted with their process. Forking
/// servers (socat's `fork`) are therefore measured whole.
pub fn tree_ticks(pid: u32) -> io::Result<u64> {
    let root = read_stat(pid)?;
    let mut total = root.utime + root.stime + root.cutime + root.cstime;
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    let mut stats: HashMap<u32, Stat> = HashMap::new();
    for entry in fs::read_dir("/proc")? {
        let Ok(entry) = entry else { continue };
        let Some(other) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        // A process may exit between the listing and the read: skip it.
        if let Ok(stat) = read_stat(other) {
            children.entry(stat.ppid).or_default().push(other);
            stats.insert(other, stat);
        }
    }
    let mut stack = children.get(&pid).cloned().unwrap_or_default();
    while let Some(child) = stack.pop() {
        if let Some(stat) = stats.get(&child) {
            total += stat.utime + stat.stime;
        }
        if let Some(grand) = children.get(&child) {
            stack.extend_from_slice(grand);
        }
    }
    Ok(total)
}

/// Converts clock ticks to microseconds.
pub fn ticks_to_micros(ticks: u64) -> f64 {
    ticks as f64 * 1e6 / TICKS_PER_SECOND as f64
}

/// The resident set size of one process (`VmRSS` of `/proc/PID/status`), in
/// KiB.
pub fn rss_kib(pid: u32) -> io::Result<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no VmRSS line"))
}

#[derive(Debug, Clone, Copy)]
struct Stat {
    ppid: u32,
    utime: u64,
    stime: u64,
    cutime: u64,
    cstime: u64,
}

fn read_stat(pid: u32) -> io::Result<Stat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_stat(&text).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("unexpected format of /proc/{pid}/stat"),
        )
    })
}

/// Parses `/proc/PID/stat`. The command name (field 2) is in parentheses
/// and may itself contain spaces and parentheses, so fields are counted
/// from the last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields[0] is field 3 (state) of proc(5).
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    Some(Stat {
        ppid: u32::try_from(field(4)?).ok()?,
        utime: field(14)?,
        stime: field(15)?,
        cutime: field(16)?,
        cstime: field(17)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_name_with_spaces_and_parentheses() {
        let line = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 \
                    250 30 7 3 20 0 3 0 100 1000 200";
        let stat = parse_stat(line).unwrap();
        assert_eq!(stat.ppid, 1);
        assert_eq!(
            (stat.utime, stat.stime, stat.cutime, stat.cstime),
            (250, 30, 7, 3)
        );
    }

    #[test]
    fn reads_this_process() {
        let pid = std::process::id();
        // Burn a little CPU so the figure can be non-zero; it must not fail.
        tree_ticks(pid).unwrap();
        assert!(rss_kib(pid).unwrap() > 0);
    }
}
