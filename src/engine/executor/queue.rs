//! The engine-wide slot queue: every node-run (and fact capture) takes one of
//! `max_concurrency` slots; when none is free it waits in a priority queue.
//!
//! Order: higher priority first, first come first served within a priority, and
//! aging so nothing starves: each `aging` interval spent waiting counts as one
//! priority level. That is one fixed sort key per waiter, `enqueued - priority ×
//! aging` (smaller goes first), so the order never has to be recomputed as time
//! passes, and work arriving more than `(9 - priority) × aging` after a waiter
//! can no longer overtake it, however high its priority.
//!
//! Executions also count against a depth: at most `depth` executions may wait for
//! their first slot; one more is refused with `QueueFull` instead of piling up.
//!
//! Not `tokio::sync::Semaphore`: its waiters are served strictly FIFO, with no
//! notion of priority.

use crate::engine::common::error::QueueFull;
use crate::engine::common::priority::Priority;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};

/// Where a piece of work stands in line: fixed when it is submitted, shared by
/// all the slots it asks for, so an execution keeps its place for every node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    key: i128,
}

/// The queue at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSnapshot {
    /// Slots in all (`max_concurrency`).
    pub capacity: usize,
    pub in_use: usize,
    /// Node-runs (and fact captures) waiting for a slot.
    pub waiting_slots: usize,
    /// Executions that have not had their first slot yet.
    pub waiting_executions: usize,
    /// Most `waiting_executions` before `QueueFull`.
    pub depth: usize,
}

pub struct SlotQueue {
    capacity: usize,
    depth: usize,
    aging: Duration,
    epoch: Instant,
    state: Mutex<QueueState>,
    waiting_executions: AtomicUsize,
    /// Bumped whenever an execution stops waiting: room for one more.
    room: watch::Sender<u64>,
}

struct QueueState {
    free: usize,
    /// Waiters by (place, arrival): the first entry is served next.
    waiters: BTreeMap<(i128, u64), oneshot::Sender<()>>,
    arrivals: u64,
}

impl SlotQueue {
    pub fn new(capacity: usize, depth: usize, aging: Duration) -> Arc<SlotQueue> {
        let capacity = capacity.max(1);
        Arc::new(SlotQueue {
            capacity,
            depth,
            aging: aging.max(Duration::from_millis(1)),
            epoch: Instant::now(),
            state: Mutex::new(QueueState {
                free: capacity,
                waiters: BTreeMap::new(),
                arrivals: 0,
            }),
            waiting_executions: AtomicUsize::new(0),
            room: watch::Sender::new(0),
        })
    }

    /// The place of work of `priority` arriving now.
    pub fn place(&self, priority: Priority) -> Place {
        let now = self.epoch.elapsed().as_nanos() as i128;
        Place {
            key: now - i128::from(priority.level()) * self.aging.as_nanos() as i128,
        }
    }

    /// Counts one more execution waiting for its first slot, unless `depth` already
    /// wait. The ticket stops counting when dropped (first slot granted, or gone).
    pub fn admit(self: &Arc<Self>) -> Result<Admission, QueueFull> {
        self.waiting_executions
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.depth).then_some(n + 1)
            })
            .map_err(|_| QueueFull { depth: self.depth })?;
        Ok(Admission {
            queue: self.clone(),
        })
    }

    /// Waits for a slot in `place`'s turn. Dropping the future gives up the place
    /// (and the slot, if it was granted in the meantime).
    pub async fn acquire(self: &Arc<Self>, place: Place) -> Slot {
        let rx = {
            let mut s = self.lock();
            if s.free > 0 {
                // Free slots and waiters never coexist: a released slot goes
                // straight to the first waiter.
                s.free -= 1;
                return Slot {
                    queue: self.clone(),
                };
            }
            s.arrivals += 1;
            let key = (place.key, s.arrivals);
            let (tx, rx) = oneshot::channel();
            s.waiters.insert(key, tx);
            Waiting {
                queue: self,
                key,
                rx,
                done: false,
            }
        };
        rx.granted().await
    }

    /// Changes each time an admitted execution stops waiting, so a caller refused
    /// with `QueueFull` can wait for room instead of polling.
    pub fn room(&self) -> watch::Receiver<u64> {
        self.room.subscribe()
    }

    pub fn snapshot(&self) -> QueueSnapshot {
        let (free, waiting_slots) = {
            let s = self.lock();
            (s.free, s.waiters.len())
        };
        QueueSnapshot {
            capacity: self.capacity,
            in_use: self.capacity - free,
            waiting_slots,
            waiting_executions: self.waiting_executions.load(Ordering::Acquire),
            depth: self.depth,
        }
    }

    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl QueueState {
    /// Hands a released slot to the first waiter still there, else frees it.
    fn hand_on(&mut self) {
        while let Some((_, tx)) = self.waiters.pop_first() {
            if tx.send(()).is_ok() {
                return;
            }
        }
        self.free += 1;
    }
}

/// One of the engine's slots, given back when dropped.
pub struct Slot {
    queue: Arc<SlotQueue>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.queue.lock().hand_on();
    }
}

/// An execution counted as waiting for its first slot.
pub struct Admission {
    queue: Arc<SlotQueue>,
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.queue.waiting_executions.fetch_sub(1, Ordering::AcqRel);
        self.queue.room.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// A waiter's place in line; leaving it (drop) before being served takes it out,
/// and passes on a slot granted in the meantime.
struct Waiting<'a> {
    queue: &'a Arc<SlotQueue>,
    key: (i128, u64),
    rx: oneshot::Receiver<()>,
    done: bool,
}

impl Waiting<'_> {
    async fn granted(mut self) -> Slot {
        // The sender lives in the queue until it is used, so this only ends with
        // a grant.
        let _ = (&mut self.rx).await;
        self.done = true;
        Slot {
            queue: self.queue.clone(),
        }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut s = self.queue.lock();
        if s.waiters.remove(&self.key).is_none() && self.rx.try_recv().is_ok() {
            // Served between our last poll and now: the slot is ours to pass on.
            s.hand_on();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    fn queue(capacity: usize) -> Arc<SlotQueue> {
        SlotQueue::new(capacity, 4, Duration::from_secs(10))
    }

    #[tokio::test]
    async fn free_slots_are_taken_at_once_and_given_back() {
        let q = queue(2);
        let a = q.acquire(q.place(Priority::NORMAL)).await;
        let b = q.acquire(q.place(Priority::NORMAL)).await;
        assert_eq!(q.snapshot().in_use, 2);
        drop(a);
        assert_eq!(q.snapshot().in_use, 1);
        drop(b);
        assert_eq!(q.snapshot().in_use, 0);
    }

    #[tokio::test]
    async fn a_dropped_waiter_leaves_the_line() {
        let q = queue(1);
        let held = q.acquire(q.place(Priority::NORMAL)).await;
        let waiter = q.acquire(q.place(Priority::HIGH));
        let mut waiter = Box::pin(waiter);
        assert!(waiter.as_mut().now_or_never().is_none());
        assert_eq!(q.snapshot().waiting_slots, 1);
        drop(waiter);
        assert_eq!(q.snapshot().waiting_slots, 0);
        drop(held);
        assert_eq!(
            q.snapshot().in_use,
            0,
            "the slot went back, not to the gone waiter"
        );
    }

    #[tokio::test]
    async fn a_grant_to_a_waiter_dropped_before_it_looked_is_passed_on() {
        let q = queue(1);
        let held = q.acquire(q.place(Priority::NORMAL)).await;
        let mut first = Box::pin(q.acquire(q.place(Priority::HIGH)));
        assert!(first.as_mut().now_or_never().is_none());
        let mut second = Box::pin(q.acquire(q.place(Priority::LOW)));
        assert!(second.as_mut().now_or_never().is_none());
        drop(held); // granted to `first`, which never looks
        drop(first);
        let slot = second.await;
        assert_eq!(q.snapshot().in_use, 1);
        drop(slot);
        assert_eq!(q.snapshot().in_use, 0);
    }

    #[test]
    fn depth_counts_waiting_executions() {
        let q = queue(1);
        let admitted: Vec<_> = (0..4).map(|_| q.admit().expect("room")).collect();
        assert_eq!(q.admit().err(), Some(QueueFull { depth: 4 }));
        drop(admitted);
        assert_eq!(q.snapshot().waiting_executions, 0);
        assert!(q.admit().is_ok());
    }

    #[test]
    fn aging_turns_waiting_time_into_priority() {
        let q = SlotQueue::new(1, 4, Duration::from_millis(1));
        let old_low = q.place(Priority::LOW);
        std::thread::sleep(Duration::from_millis(20)); // time itself is the input
        let new_high = q.place(Priority::HIGH);
        assert!(
            old_low.key < new_high.key,
            "20 ms waited > 6 levels of 1 ms"
        );
        let q = SlotQueue::new(1, 4, Duration::from_secs(60));
        let old_low = q.place(Priority::LOW);
        let new_high = q.place(Priority::HIGH);
        assert!(new_high.key < old_low.key);
    }
}
