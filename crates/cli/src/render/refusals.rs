//! Refused datagrams and connections, counted per reason in windows of
//! one second, so that a flood of them prints a few lines and a count.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::REFUSED_PER_SECOND;

/// Refused datagrams counted per reason in windows of one second: the first
/// [`REFUSED_PER_SECOND`] of a window are printed, the rest are summed up
/// in one line when the next window starts (at the next refusal for that
/// reason) or when the server stops. Shared by every event loop.
#[derive(Debug, Default)]
pub struct Refusals(Mutex<Vec<Window>>);

/// One reason's current window.
#[derive(Debug)]
struct Window {
    /// `datagram` or `connection`.
    what: &'static str,
    why: &'static str,
    start: Instant,
    shown: u32,
    hidden: u64,
}

const WINDOW: Duration = Duration::from_secs(1);

impl Refusals {
    /// One more refusal for `why` at `now`: the summary line of a window
    /// that has passed (or nothing), and whether to print this refusal.
    pub(super) fn refused(
        &self,
        what: &'static str,
        why: &'static str,
        now: Instant,
    ) -> (String, bool) {
        let mut windows = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let Some(window) = windows.iter_mut().find(|w| w.why == why && w.what == what) else {
            windows.push(Window {
                what,
                why,
                start: now,
                shown: 1,
                hidden: 0,
            });
            return (String::new(), true);
        };
        if now.saturating_duration_since(window.start) >= WINDOW {
            let summary = window.summary();
            window.start = now;
            window.shown = 1;
            return (summary, true);
        }
        if window.shown < REFUSED_PER_SECOND {
            window.shown += 1;
            return (String::new(), true);
        }
        window.hidden += 1;
        (String::new(), false)
    }

    /// The summary lines of every reason's refusals not printed yet.
    pub(super) fn flush(&self) -> String {
        let mut windows = self.0.lock().unwrap_or_else(|e| e.into_inner());
        windows.iter_mut().map(Window::summary).collect()
    }
}

impl Window {
    /// `(N more datagrams refused: WHY)`, or nothing when none was hidden;
    /// the count starts again.
    fn summary(&mut self) -> String {
        let hidden = std::mem::take(&mut self.hidden);
        match hidden {
            0 => String::new(),
            1 => format!("(1 more {} refused: {})\n", self.what, self.why),
            n => format!("({n} more {}s refused: {})\n", self.what, self.why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_lines_are_limited_per_reason_and_summed_up() {
        let refusals = Refusals::default();
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let shown = (0..100)
            .filter(|i| {
                let (summary, show) = refusals.refused("datagram", "rate limit", at(*i));
                assert_eq!(summary, "");
                show
            })
            .count();
        assert_eq!(shown, REFUSED_PER_SECOND as usize);
        // Another reason has a window of its own.
        assert_eq!(
            refusals.refused("datagram", "privileged source port", at(100)),
            (String::new(), true)
        );
        // The next second starts with the summary of the last one.
        assert_eq!(
            refusals.refused("datagram", "rate limit", at(1000)),
            ("(95 more datagrams refused: rate limit)\n".to_owned(), true)
        );
        for i in 0..REFUSED_PER_SECOND {
            refusals.refused("datagram", "rate limit", at(1001 + u64::from(i)));
        }
        assert_eq!(refusals.flush(), "(1 more datagram refused: rate limit)\n");
        assert_eq!(refusals.flush(), "");
    }
}
