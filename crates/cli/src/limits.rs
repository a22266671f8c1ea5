//! The open-files limit (`RLIMIT_NOFILE`) against `--max-connections`.
//!
//! Every connection is a descriptor. The usual soft limit is 1024, so at
//! the default of 10,000 connections the accept loop would hit `EMFILE`
//! after about a thousand clients and every accept after that would fail.
//! At start the server raises its soft limit to the hard limit (as nginx
//! and systemd services do); when that is still too low, it serves fewer
//! connections at once, so that the others wait in the kernel's backlog
//! instead of being accepted into an error, and says so once.

/// Descriptors kept for what is not a connection: stdio, the listening
/// sockets, the signal pipe, files and sockets opened later (measured at
/// start: about 6).
const RESERVE: u64 = 32;

/// Descriptors each event loop holds: an epoll, a waker, a copy of the
/// listener (3 measured), and one to spare.
const PER_LOOP: u64 = 4;

/// Raises the soft open-files limit to the hard limit and returns the most
/// connections that fit, with the line to print when that is fewer than
/// `requested`. If the limit cannot be read, `requested` stands.
pub fn fit_max_connections(requested: u64, loops: u64) -> (u64, Option<String>) {
    let raised = rlimit::increase_nofile_limit(u64::MAX);
    let Ok((soft, hard)) = raised.and_then(|_| rlimit::Resource::NOFILE.get()) else {
        return (requested, None);
    };
    fit(requested, loops, soft, hard)
}

/// The most connections that fit a soft limit of `soft` descriptors, and
/// the warning when that is fewer than `requested`.
fn fit(requested: u64, loops: u64, soft: u64, hard: u64) -> (u64, Option<String>) {
    let reserve = RESERVE.saturating_add(PER_LOOP.saturating_mul(loops));
    let room = soft.saturating_sub(reserve).max(1);
    if room >= requested {
        return (requested, None);
    }
    let connections = if room == 1 {
        "connection"
    } else {
        "connections"
    };
    let warning = format!(
        "the open-files limit is {soft} (hard limit {hard}), too low for \
         --max-connections {requested}: serving at most {room} {connections} at once, \
         more wait in the backlog (raise the limit: `ulimit -n` as root, or \
         LimitNOFILE= for a systemd service)"
    );
    (room, Some(warning))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_high_limit_leaves_the_request_alone() {
        assert_eq!(fit(10_000, 1, 1_048_576, 1_048_576), (10_000, None));
        assert_eq!(fit(100, 2, 1024, 4096), (100, None));
    }

    #[test]
    fn a_low_limit_lowers_the_maximum_and_says_so_once() {
        let (max, warning) = fit(10_000, 1, 1024, 1024);
        assert_eq!(max, 1024 - 36);
        let warning = warning.unwrap();
        assert!(warning.contains("open-files limit is 1024"), "{warning}");
        assert!(warning.contains("at most 988 connections"), "{warning}");
        assert!(!warning.contains('\n'));
    }

    #[test]
    fn a_tiny_limit_still_serves_one_at_a_time() {
        assert_eq!(fit(10_000, 4, 24, 24).0, 1);
    }
}
