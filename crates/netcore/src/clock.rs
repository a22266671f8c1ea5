//! [`Clock`]: where a time protocol reads the time, so its servers can be
//! tested at a fixed instant. daytime (RFC 867) and time (RFC 868) share it.

use std::time::SystemTime;

/// A source of the current time.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use netcore::{Clock, FixedClock};
///
/// let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_770_827_530);
/// assert_eq!(FixedClock(at).now(), at);
/// ```
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> SystemTime;
}

/// The system's real-time clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock stopped at one instant (tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedClock(pub SystemTime);

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        self.0
    }
}
