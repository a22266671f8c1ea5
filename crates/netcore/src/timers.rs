//! The deadlines of one event loop's connections, in one min-heap: the
//! loop sleeps until the earliest and wakes only the connections that are
//! due, instead of scanning every connection on a clock.
//!
//! Entries are never removed early. A connection remembers the earliest
//! entry it has in the heap ([`Timers::schedule`] pushes only a deadline
//! earlier than that), and when an entry comes due the connection checks
//! its real deadlines (activity may have moved them later) and schedules
//! again. An entry for a closed connection, or for a slot since reused, is
//! recognised by its generation and skipped. So each connection has about
//! one entry at a time and a busy connection costs nothing per byte.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// A connection slot and the generation of its occupant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Key {
    pub slot: usize,
    pub generation: u64,
}

/// Pending deadlines, earliest first.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, Key)>>,
}

impl Timers {
    /// Makes sure `key` is looked at by `at`: pushes an entry unless the
    /// connection already has one at or before `at` (`scheduled`, which
    /// this updates).
    pub fn schedule(&mut self, key: Key, at: Instant, scheduled: &mut Option<Instant>) {
        if scheduled.is_some_and(|s| s <= at) {
            return;
        }
        *scheduled = Some(at);
        self.heap.push(Reverse((at, key)));
    }

    /// The earliest pending deadline.
    pub fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// Takes one entry that is due at `now`, with its time.
    pub fn pop_due(&mut self, now: Instant) -> Option<(Key, Instant)> {
        match self.heap.peek() {
            Some(Reverse((at, _))) if *at <= now => {
                self.heap.pop().map(|Reverse((at, key))| (key, at))
            }
            _ => None,
        }
    }

    /// How many entries are pending (stale ones included).
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Drops the entries `live` says are stale (their connection closed,
    /// or has a nearer entry). Closed connections leave their entries
    /// behind until they come due; a loop calls this when they outnumber
    /// the live ones, so the heap stays proportional to open connections,
    /// not to the connection rate times the idle timeout.
    pub fn prune(&mut self, live: impl Fn(Key, Instant) -> bool) {
        self.heap.retain(|Reverse((at, key))| live(*key, *at));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn key(slot: usize) -> Key {
        Key {
            slot,
            generation: 1,
        }
    }

    #[test]
    fn due_entries_come_out_in_time_order() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut timers = Timers::default();
        let (mut a, mut b, mut c) = (None, None, None);
        timers.schedule(key(1), ms(30), &mut a);
        timers.schedule(key(2), ms(10), &mut b);
        timers.schedule(key(3), ms(20), &mut c);
        assert_eq!(timers.next(), Some(ms(10)));
        assert_eq!(timers.pop_due(ms(5)), None);
        assert_eq!(timers.pop_due(ms(25)), Some((key(2), ms(10))));
        assert_eq!(timers.pop_due(ms(25)), Some((key(3), ms(20))));
        assert_eq!(timers.pop_due(ms(25)), None);
        assert_eq!(timers.next(), Some(ms(30)));
    }

    #[test]
    fn pruning_keeps_only_live_entries() {
        let t0 = Instant::now();
        let mut timers = Timers::default();
        for slot in 0..100 {
            timers.schedule(key(slot), t0, &mut None);
        }
        timers.prune(|k, _| k.slot % 10 == 0);
        assert_eq!(timers.len(), 10);
    }

    #[test]
    fn a_later_deadline_adds_no_entry_an_earlier_one_does() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut timers = Timers::default();
        let mut scheduled = None;
        timers.schedule(key(1), ms(100), &mut scheduled);
        // Activity moved the deadline later: the entry at 100 will do.
        for n in 101..200 {
            timers.schedule(key(1), ms(n), &mut scheduled);
        }
        assert_eq!(timers.len(), 1);
        timers.schedule(key(1), ms(50), &mut scheduled);
        assert_eq!((timers.len(), scheduled), (2, Some(ms(50))));
    }
}
