//! Many lookups at once on a bounded number of threads, results handed
//! back in the order asked. A lookup blocks in `getaddrinfo(3)` or on a
//! socket, so threads are the honest tool; the bound keeps a long argument
//! list from becoming hundreds of threads and a burst on the DNS server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;

/// Runs `work` on every item with at most `jobs` threads, and calls `emit`
/// with each index and result in index order, each as soon as it and all
/// before it are done. When no thread can be started the work runs on the
/// caller's thread, one item after another.
pub(crate) fn in_order<T, R>(
    items: &[T],
    jobs: usize,
    work: impl Fn(&T) -> R + Sync,
    mut emit: impl FnMut(usize, R),
) where
    T: Sync,
    R: Send,
{
    let jobs = jobs.clamp(1, items.len().max(1));
    if jobs == 1 {
        for (i, item) in items.iter().enumerate() {
            emit(i, work(item));
        }
        return;
    }
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, R)>();
    thread::scope(|scope| {
        let (next, work) = (&next, &work);
        let mut spawned = 0;
        for n in 0..jobs {
            let tx = tx.clone();
            let worker = move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    if tx.send((i, work(item))).is_err() {
                        break;
                    }
                }
            };
            match thread::Builder::new()
                .name(format!("resolve-{n}"))
                .spawn_scoped(scope, worker)
            {
                Ok(_) => spawned += 1,
                Err(_) => break,
            }
        }
        drop(tx);
        if spawned == 0 {
            for (i, item) in items.iter().enumerate() {
                emit(i, work(item));
            }
            return;
        }
        let mut done: Vec<Option<R>> = items.iter().map(|_| None).collect();
        let mut cursor = 0;
        for (i, result) in rx {
            done[i] = Some(result);
            while let Some(result) = done.get_mut(cursor).and_then(Option::take) {
                emit(cursor, result);
                cursor += 1;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    #[test]
    fn results_come_in_order_and_concurrency_is_bounded() {
        let items: Vec<u64> = (0..40).collect();
        let running = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let mut seen = Vec::new();
        in_order(
            &items,
            4,
            |&i| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                // Later items finish first, so order must be restored.
                thread::sleep(Duration::from_millis((40 - i) % 7));
                running.fetch_sub(1, Ordering::SeqCst);
                i * 2
            },
            |index, result| seen.push((index, result)),
        );
        let want: Vec<(usize, u64)> = (0..40).map(|i| (i, i as u64 * 2)).collect();
        assert_eq!(seen, want);
        let peak = peak.load(Ordering::SeqCst);
        assert!((1..=4).contains(&peak), "peak {peak}");
    }

    #[test]
    fn nothing_to_do() {
        let mut calls = 0;
        in_order(&[] as &[u8], 8, |_| (), |_, ()| calls += 1);
        assert_eq!(calls, 0);
    }

    #[test]
    fn one_job_runs_inline() {
        let mut seen = Vec::new();
        in_order(&["a", "b"], 1, |s| s.len(), |i, n| seen.push((i, n)));
        assert_eq!(seen, [(0, 1), (1, 1)]);
    }
}
