//! Spreading accepted connections over an engine's loops.
//!
//! One loop accepts from each TCP listener (the k-th TCP service's
//! listener is registered in loop `k % loops` alone) and deals the
//! connections round the loops, itself included. Were every loop to hold
//! the listener in its own epoll, every loop would wake for every new
//! connection and the first to reach `accept(2)` would take it: N wake-ups
//! per connection, and a share per loop that is whatever the scheduler
//! makes it (one loop took 47 % of 10,000 one-at-a-time connections and
//! another 2 %, with four loops on two cores).
//!
//! The hand-off is batched: the accepting loop accepts up to its turn's
//! budget, appends each loop's share to that loop's [`Inbox`] under one
//! lock, and wakes a loop only if its inbox was empty (a non-empty one has
//! a wake-up pending already). It works the same for a listener netcore
//! bound and for an adopted one (socket activation, a reload's
//! `clone_socket`), and keeps one listener, so no other process can join
//! the port and shutdown closes one socket. The slot under the service's
//! limit is taken before `accept(2)`, as with one loop; the per-source
//! check and the handler happen on the loop that serves the connection.
//! With one loop nothing is handed off: connections open where accepted.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use crate::event_loop::LoopMailbox;

/// A connection accepted by one loop for another to serve.
pub(crate) struct Handoff {
    /// Index of the TCP service that accepted it.
    pub service: usize,
    pub stream: mio::net::TcpStream,
    pub peer: SocketAddr,
}

/// Connections handed to one loop, waiting for it to open them.
pub(crate) struct Inbox {
    /// `None` once the loop has exited: it will open nothing more.
    queue: Mutex<Option<Vec<Handoff>>>,
}

/// What became of a batch posted to an inbox.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Posted {
    /// Queued behind others: the loop has a wake-up pending already.
    Queued,
    /// Queued in an empty inbox: the loop must be woken.
    Wake,
    /// The loop has exited; the batch is left with the caller.
    Closed,
}

impl Default for Inbox {
    fn default() -> Self {
        Inbox {
            queue: Mutex::new(Some(Vec::new())),
        }
    }
}

impl Inbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Vec<Handoff>>> {
        // The queue is only ever pushed to and swapped: a panic while it
        // was held cannot have left it half-changed.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves `batch` into the inbox (leaving it empty, with its capacity),
    /// unless the loop has exited.
    pub fn post(&self, batch: &mut Vec<Handoff>) -> Posted {
        match self.lock().as_mut() {
            None => Posted::Closed,
            Some(queue) => {
                let was_empty = queue.is_empty();
                queue.append(batch);
                if was_empty {
                    Posted::Wake
                } else {
                    Posted::Queued
                }
            }
        }
    }

    /// Swaps what is waiting into `into`, which must be empty; its
    /// capacity is kept for the next batch.
    pub fn take(&self, into: &mut Vec<Handoff>) {
        if let Some(queue) = self.lock().as_mut() {
            std::mem::swap(queue, into);
        }
    }

    /// Closes the inbox if nothing waits in it; says whether it did. A
    /// loop exits only through here, so a connection handed to it in the
    /// meantime is either opened by it or returned to its sender.
    pub fn close_if_empty(&self) -> bool {
        let mut queue = self.lock();
        if queue.as_ref().is_some_and(|q| !q.is_empty()) {
            return false;
        }
        *queue = None;
        true
    }
}

/// One loop's side of the hand-off: every loop's mailbox, and the
/// connections it accepted this turn, sorted by the loop that will serve
/// them.
pub(crate) struct Spread {
    /// Every loop's mailbox, in loop order.
    pub loops: Arc<[Arc<LoopMailbox>]>,
    /// This loop's index.
    pub me: usize,
    /// The loop the next accepted connection goes to.
    next: usize,
    /// This turn's connections per loop; this loop's own share stays here
    /// until the others' have been sent.
    pub batches: Vec<Vec<Handoff>>,
    /// Connections handed to this loop, being opened.
    pub incoming: Vec<Handoff>,
}

impl Spread {
    pub fn new(loops: Arc<[Arc<LoopMailbox>]>, me: usize) -> Self {
        let n = loops.len();
        Spread {
            loops,
            me,
            // Start each accepting loop on a different loop, so that two
            // services' first connections do not go to the same one.
            next: (me + 1) % n.max(1),
            batches: (0..n).map(|_| Vec::new()).collect(),
            incoming: Vec::new(),
        }
    }

    /// Whether this engine has a single loop: nothing to spread.
    pub fn alone(&self) -> bool {
        self.loops.len() <= 1
    }

    /// Sorts one accepted connection into the batch of the loop whose
    /// turn it is.
    pub fn deal(&mut self, handoff: Handoff) {
        let to = self.next;
        self.next = (self.next + 1) % self.batches.len();
        self.batches[to].push(handoff);
    }

    /// Sends every other loop its batch, waking each at most once. A
    /// batch for a loop that has exited (only while shutting down) is
    /// moved into this loop's own.
    pub fn send(&mut self) {
        for to in 0..self.batches.len() {
            if to == self.me || self.batches[to].is_empty() {
                continue;
            }
            let mut batch = std::mem::take(&mut self.batches[to]);
            let mailbox = &self.loops[to];
            match mailbox.inbox.post(&mut batch) {
                Posted::Wake => {
                    // A loop that exited since has dropped its poll.
                    let _ = mailbox.waker.wake();
                }
                Posted::Queued => {}
                Posted::Closed => self.batches[self.me].append(&mut batch),
            }
            // The emptied batch keeps its capacity for the next turn.
            self.batches[to] = batch;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handoff(listener: &std::net::TcpListener) -> Handoff {
        let addr = listener.local_addr().unwrap();
        let stream = std::net::TcpStream::connect(addr).unwrap();
        Handoff {
            service: 0,
            stream: mio::net::TcpStream::from_std(stream),
            peer: addr,
        }
    }

    #[test]
    fn an_inbox_asks_for_one_wake_until_it_is_taken_and_closes_only_empty() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let inbox = Inbox::default();
        let mut batch = vec![handoff(&listener)];
        assert_eq!(inbox.post(&mut batch), Posted::Wake);
        assert!(batch.is_empty());
        batch.push(handoff(&listener));
        assert_eq!(inbox.post(&mut batch), Posted::Queued);
        assert!(!inbox.close_if_empty(), "two connections wait");
        let mut taken = Vec::new();
        inbox.take(&mut taken);
        assert_eq!(taken.len(), 2);
        assert!(inbox.close_if_empty());
        batch.push(handoff(&listener));
        assert_eq!(inbox.post(&mut batch), Posted::Closed);
        assert_eq!(
            batch.len(),
            1,
            "a closed inbox leaves the batch with its sender"
        );
    }
}
