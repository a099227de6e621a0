//! Where every [`EngineEvent`] goes: to this process's subscribers (a broadcast,
//! lossy for a subscriber that lags), and, with a store, into the event log that
//! every drover process on the same state dir reads (`drover events`).
//!
//! Why a recorder thread between the bus and the store: events are sent from
//! synchronous code and from the hottest paths of the fan-out, and must neither
//! wait for the store there nor be dropped when it is busy. Sending is a push on
//! an unbounded channel; the recorder hands entries to the store writer in the
//! order sent, where they ride in the writer's batches with every other record
//! (one transaction per batch, never one per event). The queue cannot grow
//! without bound in practice: entries are small and few per node (output is
//! summarised at most once a second per node).

use super::event::EngineEvent;
use super::event_record::{self, Origin, OutputCounts};
use crate::engine::common::ids::now_millis;
use crate::store::{EventRecord, StoreWriter, WriteOp};
use std::sync::mpsc;
use tokio::sync::{broadcast, oneshot};

/// The engine's event channel; cheap to clone.
#[derive(Clone)]
pub struct EventBus {
    subscribers: broadcast::Sender<EngineEvent>,
    log: Option<EventLog>,
}

/// The way into the recorder thread.
#[derive(Clone)]
struct EventLog {
    entries: mpsc::Sender<Entry>,
    pid: i64,
}

enum Entry {
    Record(EventRecord),
    /// Answered once every entry sent before it is in the store writer's queue.
    Flush(oneshot::Sender<()>),
}

impl EventBus {
    /// A bus whose subscribers may lag by `capacity` events; with `store`, every
    /// event is also logged there.
    pub fn new(capacity: usize, store: Option<StoreWriter>) -> EventBus {
        let (subscribers, _) = broadcast::channel(capacity.max(16));
        let log = store.and_then(EventLog::start);
        EventBus { subscribers, log }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.subscribers.subscribe()
    }

    /// Announces `event`, logged without a user (the inventory, plan steps).
    pub fn send(&self, event: EngineEvent) {
        self.send_as(event, None);
    }

    /// Announces `event` on behalf of `user` (who started the run, wrote the note).
    pub fn send_as(&self, event: EngineEvent, user: Option<&str>) {
        if let Some(log) = &self.log
            && let Some(record) = event_record::record_of(&event, log.origin(user))
        {
            log.push(record);
        }
        let _ = self.subscribers.send(event);
    }

    /// Logs what `node` has printed so far (only the log hears of it: subscribers
    /// have their own coalesced `NodeOutput` notice).
    pub fn log_output(
        &self,
        execution: &str,
        node: &str,
        user: &str,
        counts: OutputCounts,
        last: bool,
    ) {
        if let Some(log) = &self.log {
            let origin = log.origin(Some(user));
            log.push(event_record::output_summary(
                origin, execution, node, counts, last,
            ));
        }
    }

    /// Whether events are logged (a store was given).
    pub fn logs(&self) -> bool {
        self.log.is_some()
    }

    /// Resolves once every event sent before it was handed to the store writer;
    /// a store flush after it then commits them.
    pub async fn flush(&self) {
        let Some(log) = &self.log else { return };
        let (tx, rx) = oneshot::channel();
        if log.entries.send(Entry::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

impl EventLog {
    fn start(store: StoreWriter) -> Option<EventLog> {
        let (entries, inbox) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("drover-event-log".into())
            .spawn(move || record(inbox, store));
        match spawned {
            Ok(_) => Some(EventLog {
                entries,
                pid: i64::from(std::process::id()),
            }),
            Err(e) => {
                tracing::error!("events will not be logged: cannot start the recorder: {e}");
                None
            }
        }
    }

    fn origin<'a>(&self, user: Option<&'a str>) -> Origin<'a> {
        Origin {
            pid: self.pid,
            ts: now_millis(),
            user,
        }
    }

    fn push(&self, record: EventRecord) {
        // Fails only once the recorder is gone, i.e. the store was closed.
        let _ = self.entries.send(Entry::Record(record));
    }
}

/// The recorder thread: ends when every bus clone is dropped.
fn record(inbox: mpsc::Receiver<Entry>, store: StoreWriter) {
    let mut closed = false;
    for entry in inbox {
        match entry {
            Entry::Record(record) if !closed => {
                // Waits while the writer's queue is full: backpressure lands here,
                // never on the engine.
                if let Err(e) = store.blocking_send(WriteOp::Event(record)) {
                    tracing::debug!("event log closed: {e}");
                    closed = true;
                }
            }
            Entry::Record(_) => {}
            Entry::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}
