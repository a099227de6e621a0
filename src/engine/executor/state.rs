//! Live state of one execution, shared between its tasks and readers. Readers get
//! owned snapshots; they never hold a lock across an await.

use crate::engine::common::error::NodeError;
use crate::engine::common::ids::ExecutionId;
use crate::engine::common::request::{ExecutionContext, ExecutionRequest};
use crate::engine::inventory::Node;
use crate::engine::report::event::{EngineEvent, StreamItem};
use crate::engine::report::event_bus::EventBus;
use crate::engine::report::output::SharedOutput;
use crate::engine::report::result::{
    ExecutionResult, ExecutionStatus, NodeResult, NodeStatus, Progress,
};
use crate::engine::secrets::{Secrets, is_secret_name, redact};
use crate::engine::submit::label::RunLabel;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// What is known of one node right now.
#[derive(Debug, Clone)]
pub(crate) struct NodeLive {
    pub status: NodeStatus,
    pub exit_code: Option<i32>,
    pub started: Option<Instant>,
    pub duration: Option<Duration>,
    pub attempts: u32,
    pub error: Option<NodeError>,
}

pub(crate) struct NodeSlot {
    pub output: SharedOutput,
    pub live: Mutex<NodeLive>,
    /// Set once, when the node finishes.
    pub result: Mutex<Option<NodeResult>>,
}

pub(crate) struct ExecutionState {
    pub id: ExecutionId,
    /// With real secret values: only the transport sees it.
    pub request: ExecutionRequest,
    pub label: RunLabel,
    /// The command with secrets redacted: what events, history, journals and logs say.
    pub action: String,
    pub secrets: Secrets,
    /// Env names whose values are secret (flagged or matching a pattern).
    pub secret_names: BTreeSet<String>,
    pub context: ExecutionContext,
    pub nodes: Vec<Arc<Node>>,
    pub started_at: i64,
    /// Bytes kept per stream of each node of this run.
    pub ring_capacity: usize,
    started: Instant,
    pub slots: Vec<NodeSlot>,
    status: Mutex<ExecutionStatus>,
    pub cancel: CancellationToken,
    cancel_requested: AtomicBool,
    pub result: watch::Sender<Option<Arc<ExecutionResult>>>,
    pub tap: Option<mpsc::Sender<StreamItem>>,
    /// When the execution ended; set once.
    pub finished: std::sync::OnceLock<Instant>,
    /// Serialises "node finished" bookkeeping, so each NodeFinished event carries
    /// the progress right after that node and events leave in that order.
    pub finishing: tokio::sync::Mutex<()>,
}

/// Read-only view of an execution for front ends.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionSnapshot {
    pub id: ExecutionId,
    pub action: String,
    pub targets: String,
    pub user: String,
    pub status: ExecutionStatus,
    pub started_at: i64,
    pub elapsed: Duration,
    pub progress: Progress,
    pub nodes: Vec<NodeSnapshot>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeSnapshot {
    pub name: String,
    pub status: NodeStatus,
    pub exit_code: Option<i32>,
    pub duration: Option<Duration>,
    pub attempts: u32,
    pub error: Option<NodeError>,
    pub stdout_bytes: u64,
    pub stderr_bytes: u64,
    /// Hashes of everything printed so far, for folding identical outputs.
    pub stdout_hash: u64,
    pub stderr_hash: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ExecutionState {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: ExecutionId,
        request: ExecutionRequest,
        label: RunLabel,
        context: ExecutionContext,
        ring_capacity: usize,
        nodes: Vec<Arc<Node>>,
        tap: Option<mpsc::Sender<StreamItem>>,
        secret_patterns: &[String],
    ) -> ExecutionState {
        let secrets = Secrets::of_options(&request.options, secret_patterns);
        let secret_names = request
            .options
            .env
            .keys()
            .filter(|k| {
                request.options.secret_env.contains(*k) || is_secret_name(k, secret_patterns)
            })
            .cloned()
            .collect();
        // A label's action (a task and its parameters) is shown instead of the
        // generated script; either way with secrets redacted.
        let action = redact(label.shown(&request), &secrets);
        let slots = nodes
            .iter()
            .map(|_| NodeSlot {
                output: SharedOutput::new(ring_capacity),
                live: Mutex::new(NodeLive {
                    status: NodeStatus::Pending,
                    exit_code: None,
                    started: None,
                    duration: None,
                    attempts: 0,
                    error: None,
                }),
                result: Mutex::new(None),
            })
            .collect();
        ExecutionState {
            id,
            request,
            label,
            action,
            secrets,
            secret_names,
            context,
            nodes,
            started_at: crate::engine::common::ids::now_millis(),
            ring_capacity,
            started: Instant::now(),
            slots,
            status: Mutex::new(ExecutionStatus::Queued),
            cancel: CancellationToken::new(),
            cancel_requested: AtomicBool::new(false),
            result: watch::channel(None).0,
            tap,
            finished: std::sync::OnceLock::new(),
            finishing: tokio::sync::Mutex::new(()),
        }
    }

    pub fn status(&self) -> ExecutionStatus {
        *lock(&self.status)
    }

    pub fn set_status(&self, s: ExecutionStatus) {
        *lock(&self.status) = s;
    }

    pub fn request_cancel(&self) {
        self.cancel_requested.store(true, Ordering::SeqCst);
        self.cancel.cancel();
    }

    pub fn cancel_requested(&self) -> bool {
        self.cancel_requested.load(Ordering::SeqCst)
    }

    pub fn live(&self, idx: usize) -> MutexGuard<'_, NodeLive> {
        lock(&self.slots[idx].live)
    }

    pub fn set_result(&self, idx: usize, result: NodeResult) {
        *lock(&self.slots[idx].result) = Some(result);
    }

    /// Results of every node, in target order (all set once the execution ended),
    /// moved out: the execution's result is their one home from then on. A
    /// `--debug` result carries the node's whole ring, so a copy here doubled it.
    pub fn take_results(&self) -> Vec<NodeResult> {
        self.slots
            .iter()
            .filter_map(|s| lock(&s.result).take())
            .collect()
    }

    pub fn output(&self, node: &str) -> Option<&SharedOutput> {
        let idx = self.nodes.iter().position(|n| n.name == node)?;
        Some(&self.slots[idx].output)
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    pub fn progress(&self) -> Progress {
        Progress::of_statuses(self.slots.iter().map(|slot| lock(&slot.live).status))
    }

    /// (succeeded, did not succeed) among finished nodes.
    pub fn counts(&self) -> (usize, usize) {
        let p = self.progress();
        (p.completed, p.failed + p.cancelled)
    }

    /// Sends an event to every subscriber and, losslessly, to this execution's tap.
    pub async fn emit(&self, events: &EventBus, event: EngineEvent) {
        events.send_as(event.clone(), Some(&self.context.user));
        if let Some(tap) = &self.tap {
            let _ = tap.send(StreamItem::Event(event)).await;
        }
    }

    pub fn snapshot(&self) -> ExecutionSnapshot {
        let nodes = self
            .nodes
            .iter()
            .zip(&self.slots)
            .map(|(node, slot)| {
                let live = lock(&slot.live).clone();
                let out = slot.output.lock();
                NodeSnapshot {
                    name: node.name.clone(),
                    status: live.status,
                    exit_code: live.exit_code,
                    duration: live.duration.or_else(|| live.started.map(|s| s.elapsed())),
                    attempts: live.attempts,
                    error: live.error,
                    stdout_bytes: out.stdout.ring.total(),
                    stderr_bytes: out.stderr.ring.total(),
                    stdout_hash: out.stdout.hash.value(),
                    stderr_hash: out.stderr.hash.value(),
                }
            })
            .collect();
        ExecutionSnapshot {
            id: self.id.clone(),
            action: self.action.clone(),
            targets: self.request.targets.clone(),
            user: self.context.user.clone(),
            status: self.status(),
            started_at: self.started_at,
            elapsed: self.elapsed(),
            progress: self.progress(),
            nodes,
        }
    }
}
