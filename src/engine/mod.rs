//! The engine: runs requests over nodes in tokio background tasks and reports what
//! happens as [`EngineEvent`]s. Front ends hold a cheap-`Clone` [`Engine`] handle,
//! send requests, subscribe to events and read snapshots; nothing here knows about
//! terminals.
//!
//! The handle is here with its construction; what it does is split by concern:
//! `runs` (submit, wait, cancel, snapshots, output), `live_inventory`,
//! `journal_notes`, `reads` (history, runs, metrics, stored output, journals and
//! facts, with `records` their types), `transcript` (recording and reading
//! session transcripts), `shutdown` (flush, shutdown, closing the store). The
//! engine owns the store: front ends read it only through `reads`,
//! under the reader's permissions. The folders follow a run: `common` types, `submit` (the way in),
//! `executor` (queue, fan-out, live state), `report` (events, results, output),
//! with `resilience`, `rbac`, `secrets`, `inventory`, `transport`, `facts` and
//! `orchestrator` beside them.

pub mod common;
mod config;
pub mod executor;
pub mod facts;
pub mod inventory;
mod journal_notes;
mod live_inventory;
pub mod orchestrator;
pub mod rbac;
mod reads;
pub mod records;
pub mod report;
pub mod resilience;
mod runs;
pub mod secrets;
mod shutdown;
pub mod submit;
pub mod transcript;
pub mod transport;

pub use common::error::{EngineError, ErrorCategory, FieldError, NodeError};
pub use common::ids::ExecutionId;
pub use common::priority::Priority;
pub use common::request::{Backoff, ExecutionContext, ExecutionOptions, ExecutionRequest, Mode};
pub use config::{EngineConfig, MIN_RING};
pub use executor::journal::{JournalLevel, JournalRule};
pub use executor::state::{ExecutionSnapshot, NodeSnapshot};
pub use inventory::{Inventory, Node};
pub use reads::{EventReader, OutputReader, StoredRun};
pub use report::event::{EngineEvent, StreamItem};
pub use report::health::HealthReport;
pub use report::result::{ExecutionResult, ExecutionStatus, NodeResult, NodeStatus, Progress};
pub use submit::label::RunLabel;
pub use submit::submission::{EarlierRun, Submission, Submitted};

use crate::store::{StoreWriter, WriteOp};
use executor::queue;
use executor::state::ExecutionState;
use rbac::{AllowAll, Authorizer};
use resilience::breaker;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use submit::idempotency;
use transport::TransportRegistry;

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
    events: report::event_bus::EventBus,
    executions: Mutex<HashMap<ExecutionId, Arc<ExecutionState>>>,
    slots: Arc<queue::SlotQueue>,
    store: Option<StoreWriter>,
    breakers: Arc<breaker::Breakers>,
    idempotency: idempotency::IdempotencyKeys,
    /// The store itself, when given one: health checks, idempotency keys,
    /// every read of history and journals, and closing at the end.
    store_reader: Option<crate::store::Store>,
    /// Why there is no store, when one was configured but could not be
    /// reached at start (`drover status` then reports it as failing).
    store_unreachable: Option<String>,
    /// Fact providers and their cache (see `Engine::facts`).
    facts: OnceLock<Arc<facts::Facts>>,
    /// The inventory's sources, when the engine was started from them: what
    /// a front end that stays open reloads and watches.
    inventory_service: Option<Arc<inventory::service::InventoryService>>,
    started: std::time::Instant,
}

impl Engine {
    pub fn new(
        config: EngineConfig,
        inventory: Inventory,
        transports: TransportRegistry,
        store: Option<StoreWriter>,
    ) -> Engine {
        let events = report::event_bus::EventBus::new(config.event_capacity, store.clone());
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
                store_unreachable: None,
                facts: OnceLock::new(),
                inventory_service: None,
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

    /// Gives the engine the store it writes to (before the handle is shared):
    /// `health` checks the database, idempotency keys are claimed there, so
    /// every drover process on it sees them, and the reads (`read_history`,
    /// `read_run`, ...) read it. Front ends hold no store of their own.
    pub fn with_store(mut self, store: crate::store::Store) -> Engine {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.store_reader = Some(store);
        }
        self
    }

    /// Records that the configured store could not be reached, and why
    /// (before the handle is shared): `health` reports the store as failing
    /// with that reason instead of leaving it out.
    pub fn with_store_unreachable(mut self, reason: String) -> Engine {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.store_unreachable = Some(reason);
        }
        self
    }

    /// Gathers facts with these providers (the config's) instead of the
    /// defaults (before the handle is shared).
    pub fn with_facts(mut self, facts: Arc<facts::Facts>) -> Engine {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.facts = OnceLock::from(facts);
        }
        self
    }

    /// Keeps the inventory's sources (before the handle is shared), for
    /// [`Engine::inventory_service`].
    pub fn with_inventory_service(
        mut self,
        service: Arc<inventory::service::InventoryService>,
    ) -> Engine {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.inventory_service = Some(service);
        }
        self
    }

    /// The inventory's sources, their cache and failures, when the engine was
    /// started from them; a console loads and watches them.
    pub fn inventory_service(&self) -> Option<Arc<inventory::service::InventoryService>> {
        self.inner.inventory_service.clone()
    }

    /// The roles the policy gives `user` (empty without RBAC).
    pub fn roles_of(&self, user: &str) -> Vec<String> {
        self.inner.authorizer.roles_of(user)
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<EngineEvent> {
        self.inner.events.subscribe()
    }

    pub fn transports(&self) -> &TransportRegistry {
        &self.inner.transports
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
