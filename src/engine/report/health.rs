//! One health report for every front end (`drover status`, the console): the
//! engine's own load, the store, each transport, the queue and circuit breakers.

use crate::engine::Engine;
use crate::store::StoreHealth;
use serde::Serialize;
use std::time::Duration;

/// How long one transport may take to answer its health check.
const TRANSPORT_CHECK: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthReport {
    /// Every component below is healthy.
    pub healthy: bool,
    pub engine: EngineHealth,
    /// `None` when the engine runs without a store.
    pub store: Option<Component<StoreHealth>>,
    pub transports: Vec<TransportHealth>,
    pub queue: QueueHealth,
    pub breakers: Vec<BreakerHealth>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EngineHealth {
    pub uptime_ms: u64,
    /// Queued or running executions.
    pub running_executions: usize,
    pub running_nodes: usize,
    pub node_slots_in_use: usize,
    pub node_slots_total: usize,
    /// Whether an RBAC policy is enforced (else the local user is admin).
    pub rbac_enforced: bool,
}

/// A check that either reports its findings or says why it could not run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Component<T> {
    Ok(T),
    Error(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransportHealth {
    pub name: String,
    pub healthy: bool,
    pub detail: String,
}

/// The slot queue: executions waiting for their first slot (refused with
/// `QueueFull` beyond `max_depth`) and node-runs waiting for one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueHealth {
    pub depth: usize,
    pub max_depth: usize,
    pub waiting_slots: usize,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BreakerHealth {
    /// `node NAME` or `transport NAME`.
    pub name: String,
    /// closed, open or half_open.
    pub state: String,
}

impl Engine {
    /// Checks every component; slow parts (store integrity, transports) run
    /// concurrently with time limits, so this never hangs.
    pub async fn health(&self) -> HealthReport {
        let executions = self.executions();
        let running: Vec<_> = executions
            .iter()
            .filter(|e| !e.status.is_terminal())
            .collect();
        let running_nodes = running.iter().map(|e| e.progress.running).sum();
        let q = self.queue();
        let engine = EngineHealth {
            uptime_ms: self.inner.started.elapsed().as_millis() as u64,
            running_executions: running.len(),
            running_nodes,
            node_slots_in_use: q.in_use,
            node_slots_total: q.capacity,
            rbac_enforced: self.inner.authorizer.enforced(),
        };
        let store = match self.inner.store_reader.clone() {
            None => self.inner.store_unreachable.clone().map(Component::Error),
            Some(s) => Some(
                match tokio::task::spawn_blocking(move || s.health()).await {
                    Ok(Ok(h)) => Component::Ok(h),
                    Ok(Err(e)) => Component::Error(e.to_string()),
                    Err(e) => Component::Error(format!("health check failed: {e}")),
                },
            ),
        };
        // Breakers other drover processes on the store changed are shown too.
        if let Some(store) = &self.inner.store_reader {
            crate::engine::resilience::shared::adopt_from_store(&self.inner.breakers, store).await;
        }
        let mut transports = Vec::new();
        for t in self.inner.transports.all() {
            let (healthy, detail) = match tokio::time::timeout(TRANSPORT_CHECK, t.health()).await {
                Ok(h) => (h.healthy, h.detail),
                Err(_) => (false, "health check timed out".to_string()),
            };
            transports.push(TransportHealth {
                name: t.name().to_string(),
                healthy,
                detail,
            });
        }
        transports.sort_by(|a, b| a.name.cmp(&b.name));
        let store_ok = match &store {
            None => true,
            Some(Component::Ok(h)) => h.intact,
            Some(Component::Error(_)) => false,
        };
        HealthReport {
            healthy: store_ok && transports.iter().all(|t| t.healthy),
            engine,
            store,
            transports,
            queue: QueueHealth {
                depth: q.waiting_executions,
                max_depth: q.depth,
                waiting_slots: q.waiting_slots,
                detail: format!(
                    "{} of at most {} runs waiting to start; {} node-runs waiting for a slot",
                    q.waiting_executions, q.depth, q.waiting_slots
                ),
            },
            breakers: self
                .breakers()
                .into_iter()
                .map(|b| BreakerHealth {
                    name: format!("{} {}", b.scope.as_str(), b.name),
                    state: b.state.as_str().to_string(),
                })
                .collect(),
        }
    }
}
