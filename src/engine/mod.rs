//! The engine: runs requests over nodes in tokio background tasks and reports what
//! happens as [`EngineEvent`]s. Front ends hold a cheap-`Clone` [`Engine`] handle,
//! send requests, subscribe to events and read snapshots; nothing here knows about
//! terminals.

mod access;
pub mod breaker;
pub mod capture;
pub mod duration;
pub mod error;
pub mod event;
mod executor;
pub mod facts;
pub mod health;
mod idempotency;
pub mod ids;
pub mod interaction;
pub mod inventory;
mod journal;
pub mod label;
pub mod orchestrator;
pub mod output;
pub mod plan_state;
pub mod queue;
pub mod rbac;
mod reads;
pub mod request;
pub mod resilience;
pub mod result;
pub mod secrets;
mod state;
pub mod submission;
pub mod transport;

pub use error::{EngineError, ErrorCategory, FieldError, NodeError};
pub use event::{EngineEvent, StreamItem};
pub use health::HealthReport;
pub use ids::ExecutionId;
pub use inventory::{Inventory, Node};
pub use journal::{JournalLevel, JournalRule};
pub use label::RunLabel;
pub use reads::StoredRun;
pub use request::{Backoff, ExecutionContext, ExecutionOptions, ExecutionRequest, Mode};
pub use result::{ExecutionResult, ExecutionStatus, NodeResult, NodeStatus, Progress};
pub use state::{ExecutionSnapshot, NodeSnapshot};
pub use submission::{EarlierRun, Submission, Submitted};

use crate::store::{JournalEntry, StoreWriter, Stream, WriteOp};
use output::RingRead;
use rbac::{AllowAll, Authorizer, Capability};
use state::ExecutionState;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use transport::TransportRegistry;

/// Engine-wide limits and sizes.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Most node-runs at once across all executions.
    pub max_concurrency: usize,
    /// Most executions waiting for their first slot; one more is `QueueFull`.
    pub queue_depth: usize,
    /// Waiting this long counts as one priority level (so nothing starves).
    pub queue_aging: Duration,
    /// Bytes kept per node per stream for live views and summaries (at most).
    pub ring_capacity: usize,
    /// Bytes of rings one execution may hold in all: a run over many nodes gets
    /// smaller rings per node (never under `MIN_RING`), so memory stays bounded by
    /// the run, not by nodes × ring_capacity.
    pub output_budget: usize,
    /// Lines kept at each end of a summarised output.
    pub summary_lines: usize,
    /// Broadcast buffer; a subscriber that falls further behind is told it lagged.
    pub event_capacity: usize,
    /// Finished executions kept in memory for snapshots (older ones: the store).
    /// Few, because each keeps its output rings (up to `output_budget`).
    pub keep_finished: usize,
    /// Error categories worth another attempt (when a request asks for retries).
    pub retry_on: Vec<ErrorCategory>,
    /// Random spread of retry delays, as a fraction of each delay.
    pub retry_jitter: f64,
    pub breakers: breaker::BreakerConfig,
    /// How long a finished execution still answers for its idempotency key.
    pub idempotency_window: Duration,
    /// Env var name globs whose values are secret.
    pub secret_patterns: Vec<String>,
    /// Journaling for nodes of transports not named in `journal_by_transport`.
    pub journal: JournalRule,
    pub journal_by_transport: std::collections::BTreeMap<String, JournalRule>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            max_concurrency: 512,
            queue_depth: 1000,
            queue_aging: Duration::from_secs(10),
            ring_capacity: 1 << 20,
            output_budget: 24 << 20,
            summary_lines: 20,
            event_capacity: 8192,
            keep_finished: 8,
            retry_on: vec![ErrorCategory::Connection, ErrorCategory::Timeout],
            retry_jitter: 0.2,
            breakers: breaker::BreakerConfig::default(),
            idempotency_window: Duration::from_secs(600),
            secret_patterns: secrets::DEFAULT_PATTERNS
                .iter()
                .map(|p| p.to_string())
                .collect(),
            journal: JournalRule::default(),
            journal_by_transport: Default::default(),
        }
    }
}

/// Cheap handle to the running engine.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

pub(crate) struct EngineInner {
    config: EngineConfig,
    inventory: RwLock<Arc<Inventory>>,
    /// Sources that failed at the last load: while any has, requests are refused.
    inventory_failures: RwLock<Vec<inventory::service::SourceFailure>>,
    transports: TransportRegistry,
    authorizer: Arc<dyn Authorizer>,
    events: broadcast::Sender<EngineEvent>,
    executions: Mutex<HashMap<ExecutionId, Arc<ExecutionState>>>,
    slots: Arc<queue::SlotQueue>,
    store: Option<StoreWriter>,
    breakers: Arc<breaker::Breakers>,
    idempotency: idempotency::IdempotencyKeys,
    /// Read handle for health checks and idempotency keys, when given one.
    store_reader: Option<crate::store::Store>,
    started: std::time::Instant,
}

impl Engine {
    pub fn new(
        config: EngineConfig,
        inventory: Inventory,
        transports: TransportRegistry,
        store: Option<StoreWriter>,
    ) -> Engine {
        let (events, _) = broadcast::channel(config.event_capacity.max(16));
        Engine {
            inner: Arc::new(EngineInner {
                slots: queue::SlotQueue::new(
                    config.max_concurrency,
                    config.queue_depth,
                    config.queue_aging,
                ),
                breakers: Arc::new(breaker::Breakers::new(config.breakers.clone())),
                idempotency: idempotency::IdempotencyKeys::new(config.idempotency_window),
                config,
                inventory: RwLock::new(Arc::new(inventory)),
                inventory_failures: RwLock::new(Vec::new()),
                transports,
                authorizer: Arc::new(AllowAll),
                events,
                executions: Mutex::new(HashMap::new()),
                store,
                store_reader: None,
                started: std::time::Instant::now(),
            }),
        }
    }

    /// Replaces the authorisation policy (before the handle is shared).
    pub fn with_authorizer(mut self, authorizer: Arc<dyn Authorizer>) -> Engine {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.authorizer = authorizer;
        }
        self
    }

    /// Gives the engine a read handle on the store (before the handle is
    /// shared): `health` checks the database, and idempotency keys are claimed
    /// there, so every drover process on it sees them.
    pub fn with_store_reads(mut self, store: crate::store::Store) -> Engine {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.store_reader = Some(store);
        }
        self
    }

    /// The roles the policy gives `user` (empty without RBAC).
    pub fn roles_of(&self, user: &str) -> Vec<String> {
        self.inner.authorizer.roles_of(user)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.inner.events.subscribe()
    }

    pub fn inventory(&self) -> Arc<Inventory> {
        self.inner
            .inventory
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set_inventory(&self, inventory: Inventory) {
        *self
            .inner
            .inventory
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Arc::new(inventory);
    }

    /// Records the inventory sources that failed to load. While any is listed,
    /// every request is refused with [`EngineError::InventorySources`]: a typo in
    /// one file must not silently shrink a run to the nodes of the others.
    pub fn set_inventory_failures(&self, failures: Vec<inventory::service::SourceFailure>) {
        *self
            .inner
            .inventory_failures
            .write()
            .unwrap_or_else(|p| p.into_inner()) = failures;
    }

    /// The sources that failed at the last load (see
    /// [`set_inventory_failures`](Self::set_inventory_failures)).
    pub fn inventory_failures(&self) -> Vec<inventory::service::SourceFailure> {
        self.inner
            .inventory_failures
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Swaps in a reloaded inventory and announces it with
    /// [`EngineEvent::InventoryReloaded`]. Running executions keep the nodes
    /// they resolved; new requests see the new inventory and are refused while
    /// a source fails.
    pub fn apply_inventory(&self, loaded: &inventory::service::Loaded) {
        *self
            .inner
            .inventory
            .write()
            .unwrap_or_else(|p| p.into_inner()) = loaded.inventory.clone();
        self.set_inventory_failures(loaded.failures.clone());
        let _ = self.inner.events.send(EngineEvent::InventoryReloaded {
            nodes: loaded.inventory.len(),
            failed_sources: loaded.failures.clone(),
        });
    }

    pub fn transports(&self) -> &TransportRegistry {
        &self.inner.transports
    }

    /// The one door: validates, authorises and starts a submission, and returns
    /// its id at once (async mode, seeds property 3); `wait` gives its end. Under
    /// an idempotency key, a run the key still answers for is returned instead
    /// (see [`Submitted::earlier`]).
    pub async fn submit(&self, submission: Submission) -> Result<Submitted, EngineError> {
        match submission.key.clone() {
            None => self.start(submission).await,
            Some(key) => self.submit_once(key, submission).await,
        }
    }

    /// Starts a submission, with its stream tap when one was asked.
    async fn start(&self, submission: Submission) -> Result<Submitted, EngineError> {
        let Submission {
            request,
            label,
            context,
            stream,
            ..
        } = submission;
        let (tx, rx) = match stream {
            0 => (None, None),
            n => {
                let (tx, rx) = mpsc::channel(n);
                (Some(tx), Some(rx))
            }
        };
        let id = executor::start(&self.inner, request, label, context, tx).await?;
        Ok(Submitted {
            id,
            stream: rx,
            earlier: None,
        })
    }

    /// Waits for an execution this engine runs or ran recently.
    pub async fn wait(&self, id: &ExecutionId) -> Result<Arc<ExecutionResult>, EngineError> {
        let state = self.state(id)?;
        let mut rx = state.result.subscribe();
        loop {
            if let Some(r) = rx.borrow_and_update().clone() {
                return Ok(r);
            }
            if rx.changed().await.is_err() {
                return Err(EngineError::ShutDown);
            }
        }
    }

    /// Stops every node of the execution: running ones are terminated, pending ones
    /// never start (seeds property 54).
    pub fn cancel(&self, id: &ExecutionId) -> Result<(), EngineError> {
        self.state(id)?.request_cancel();
        Ok(())
    }

    /// The slot queue now: slots in use, what waits, how deep it may get.
    pub fn queue(&self) -> queue::QueueSnapshot {
        self.inner.slots.snapshot()
    }

    /// Every circuit breaker that has seen a run (for `drover status`).
    pub fn breakers(&self) -> Vec<breaker::BreakerSnapshot> {
        self.inner.breakers.snapshot()
    }

    pub fn snapshot(&self, id: &ExecutionId) -> Option<ExecutionSnapshot> {
        self.state(id).ok().map(|s| s.snapshot())
    }

    /// Running and recently finished executions, oldest first.
    pub fn executions(&self) -> Vec<ExecutionSnapshot> {
        let map = self.inner.lock_executions();
        let mut v: Vec<_> = map.values().map(|s| s.snapshot()).collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    /// New bytes of one node's stream since `since`, and re-arms its output event.
    pub fn read_output(
        &self,
        id: &ExecutionId,
        node: &str,
        stream: Stream,
        since: u64,
    ) -> Option<RingRead> {
        let state = self.state(id).ok()?;
        let out = state.output(node)?;
        let mut guard = out.lock();
        guard.mark_seen();
        Some(guard.stream(stream).ring.read_since(since))
    }

    /// Writes a journal entry (manual notes, events) and announces it. A manual note
    /// is the user's own act: its author needs `journal.write` on the node.
    pub async fn append_journal(&self, entry: JournalEntry) -> Result<(), EngineError> {
        if entry.entry_type == crate::store::EntryType::Manual {
            let context = ExecutionContext {
                user: entry.user.clone(),
                roles: Vec::new(),
                correlation_id: ids::ExecutionId::new().0,
            };
            self.authorize(&context, &Capability::JournalWrite, &[&entry.node])
                .await?;
        }
        let node = entry.node.clone();
        let entry_type = entry.entry_type;
        if let Some(store) = &self.inner.store {
            store.send(WriteOp::Journal(entry)).await?;
        }
        let _ = self.inner.events.send(EngineEvent::JournalAppended {
            node,
            entry_type,
            execution: None,
        });
        Ok(())
    }

    /// Waits until every record sent so far is committed.
    pub async fn flush(&self) -> Result<(), EngineError> {
        if let Some(store) = &self.inner.store {
            store.flush().await?;
        }
        Ok(())
    }

    /// Cancels what runs, waits for it, closes transports and flushes the store.
    pub async fn shutdown(&self) -> Result<(), EngineError> {
        let running: Vec<Arc<ExecutionState>> =
            self.inner.lock_executions().values().cloned().collect();
        for s in &running {
            s.request_cancel();
        }
        for s in running {
            let _ = self.wait(&s.id).await;
        }
        for t in self.inner.transports.all() {
            t.shutdown().await;
        }
        self.flush().await
    }

    fn state(&self, id: &ExecutionId) -> Result<Arc<ExecutionState>, EngineError> {
        self.inner
            .lock_executions()
            .get(id)
            .cloned()
            .ok_or_else(|| EngineError::UnknownExecution(id.0.clone()))
    }
}

/// Smallest ring per node and stream, whatever the budget.
pub const MIN_RING: usize = 64 * 1024;

impl EngineConfig {
    /// Ring size for each stream of each node of a run over `nodes` nodes.
    pub fn ring_for(&self, nodes: usize) -> usize {
        let share = self.output_budget / (2 * nodes.max(1));
        share.clamp(MIN_RING.min(self.ring_capacity), self.ring_capacity)
    }
}

impl EngineInner {
    fn lock_executions(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<ExecutionId, Arc<ExecutionState>>> {
        self.executions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends a record to the store, waiting for room (backpressure, never loss).
    async fn record(&self, op: WriteOp) {
        if let Some(store) = &self.store
            && let Err(e) = store.send(op).await
        {
            tracing::error!("store write failed: {e}");
        }
    }
}
