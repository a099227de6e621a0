//! Fan-out: validates and starts an execution, runs each node under the global
//! and per-request limits, and derives the overall status. One node's failure
//! never stops the others. A node's own run (attempts, timeout, cancel, retries)
//! is `node`; how an attempt's end becomes a status is `outcome`; stopping a
//! transport within its bound is `stop`; recording a node's end is `record`.
//! Beside them: the slot queue every node-run waits in (`queue`), the live state
//! of each execution (`state`), what is journaled of it (`journal`), and fact
//! capture, which takes slots like any node-run (`capture`).

pub mod capture;
pub(super) mod journal;
mod node;
mod outcome;
pub mod queue;
mod record;
pub(super) mod state;
mod stop;

use super::EngineInner;
use super::rbac::{Access, Capability};
use super::secrets::Secrets;
use crate::engine::common::error::{EngineError, ErrorCategory};
use crate::engine::common::ids::{ExecutionId, now_millis};
use crate::engine::common::request::{ExecutionContext, ExecutionRequest};
use crate::engine::executor::state::ExecutionState;
use crate::engine::report::event::{EngineEvent, StreamItem};
use crate::engine::report::result::{ExecutionResult, ExecutionStatus, NodeStatus};
use crate::engine::submit::label::RunLabel;
use crate::store::WriteOp;
use node::run_node;
use outcome::Outcome;
use queue::{Admission, Place, Slot, SlotQueue};
use record::finish_node;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

/// A re-run touches no node its earlier run did not target.
fn outside_rerun(
    rerun: &crate::engine::submit::label::RerunOf,
    nodes: &[Arc<super::Node>],
) -> Result<(), EngineError> {
    let outside: Vec<&str> = nodes
        .iter()
        .map(|n| n.name.as_str())
        .filter(|n| !rerun.nodes.contains(*n))
        .collect();
    if outside.is_empty() {
        return Ok(());
    }
    Err(EngineError::Validation(vec![super::FieldError {
        field: "targets".into(),
        reason: format!(
            "{} not among the nodes of run {} (a re-run only repeats that run's nodes)",
            outside.join(", "),
            rerun.execution
        ),
    }]))
}

/// Validates, resolves targets, authorises, records the start and spawns the
/// execution. Nothing runs when this returns an error.
pub(crate) async fn start(
    inner: &Arc<EngineInner>,
    request: ExecutionRequest,
    label: RunLabel,
    context: ExecutionContext,
    tap: Option<mpsc::Sender<StreamItem>>,
) -> Result<ExecutionId, EngineError> {
    request.validate().map_err(EngineError::Validation)?;
    let failures = inner
        .inventory_failures
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    if !failures.is_empty() {
        return Err(EngineError::InventorySources(failures));
    }
    let inventory = inner
        .inventory
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let nodes = inventory.resolve(&request.targets)?;
    if let Some(rerun) = &label.rerun {
        outside_rerun(rerun, &nodes)?;
    }
    let secrets = Secrets::of_options(&request.options, &inner.config.secret_patterns);
    let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
    let capability = &label.capability;
    // Only a user's own command is matched against command patterns.
    let access = Access {
        capability,
        nodes: &names,
        command: (*capability == Capability::CommandRun).then_some(request.command.as_str()),
    };
    crate::engine::submit::access::check(inner, &context, &access, &secrets).await?;
    // Refused before anything is recorded: a full queue loses nothing.
    let admission = inner.slots.admit()?;
    let place = inner.slots.place(request.options.priority);
    let id = ExecutionId::new();
    let state = Arc::new(ExecutionState::new(
        id.clone(),
        request,
        label,
        context,
        inner.config.ring_for(nodes.len()),
        nodes,
        tap,
        &inner.config.secret_patterns,
    ));
    remember(inner, &state);
    tracing::info!(
        execution = %id, user = %state.context.user,
        correlation = %state.context.correlation_id,
        nodes = state.nodes.len(), command = %state.action, "execution queued"
    );
    inner
        .record(WriteOp::UpsertExecution(journal::execution_record(
            &state,
            ExecutionStatus::Queued,
        )))
        .await;
    // Committed before any node starts: if drover dies mid-run, the next start finds
    // the execution and marks it interrupted instead of it vanishing from history.
    if let Some(store) = &inner.store
        && let Err(e) = store.flush().await
    {
        tracing::error!(execution = %id, "execution start not recorded: {e}");
    }
    state
        .emit(
            &inner.events,
            EngineEvent::ExecutionQueued {
                execution: id.clone(),
                action: state.action.clone(),
                nodes: state.nodes.iter().map(|n| n.name.clone()).collect(),
                user: state.context.user.clone(),
                correlation_id: state.context.correlation_id.clone(),
            },
        )
        .await;
    tokio::spawn(run_execution(inner.clone(), state, admission, place));
    Ok(id)
}

/// How long a finished execution stays reachable whatever `keep_finished` says.
const FORGET_AFTER: Duration = Duration::from_secs(60);

/// Keeps the execution reachable for snapshots; forgets the oldest finished ones.
fn remember(inner: &EngineInner, state: &Arc<ExecutionState>) {
    let mut map = inner.lock_executions();
    map.insert(state.id.clone(), state.clone());
    // Only executions that ended a while ago go: a caller may still be about to
    // `wait` for one that just finished.
    let mut finished: Vec<ExecutionId> = map
        .values()
        .filter(|s| s.finished.get().is_some_and(|t| t.elapsed() > FORGET_AFTER))
        .map(|s| s.id.clone())
        .collect();
    if finished.len() > inner.config.keep_finished {
        finished.sort();
        let excess = finished.len() - inner.config.keep_finished;
        for id in &finished[..excess] {
            map.remove(id);
        }
    }
}

/// Queued until the first node has a slot, then running (seeds property 10).
async fn run_execution(
    inner: Arc<EngineInner>,
    state: Arc<ExecutionState>,
    admission: Admission,
    place: Place,
) {
    let mut admission = Some(admission);
    // Sequential mode is fan-out 1: nodes start in target order, one at a time.
    let fanout = match state.request.options.mode {
        crate::engine::common::request::Mode::Sequential => 1,
        crate::engine::common::request::Mode::Parallel => state.request.options.fanout,
    };
    let fanout = Arc::new(Semaphore::new(fanout));
    let mut tasks = JoinSet::new();
    let mut task_node = std::collections::HashMap::new();
    for idx in 0..state.nodes.len() {
        // Acquire in target order, so nodes start in the order they were named.
        // Biased: once cancelled, no further node may start even if a slot is free.
        let permits = tokio::select! {
            biased;
            _ = state.cancel.cancelled() => None,
            p = acquire(&fanout, &inner.slots, place) => p.filter(|_| !state.cancel.is_cancelled()),
        };
        let Some(permits) = permits else {
            finish_node(&inner, &state, idx, Outcome::not_started()).await;
            continue;
        };
        if admission.take().is_some() {
            mark_running(&inner, &state).await;
            adopt_shared_breakers(&inner, &state).await;
        }
        let (inner2, state2) = (inner.clone(), state.clone());
        let handle = tasks.spawn(async move {
            let _permits = permits;
            run_node(&inner2, &state2, idx).await;
        });
        task_node.insert(handle.id(), idx);
    }
    // Cancelled before any node had a slot: no longer waiting, before anyone
    // learns the execution ended.
    drop(admission);
    while let Some(joined) = tasks.join_next_with_id().await {
        if let Err(e) = joined {
            // A panic inside a transport must not take the execution down
            // (seeds property 48): that node fails with a Plugin error.
            if let Some(&idx) = task_node.get(&e.id()) {
                let reason = format!("internal error in transport: {e}");
                finish_node(
                    &inner,
                    &state,
                    idx,
                    Outcome::error(ErrorCategory::Plugin, reason),
                )
                .await;
            }
        }
    }
    finish_execution(&inner, &state).await;
}

/// Before the run's first node is admitted: breakers other drover processes on
/// the store opened or closed lately hold here too. Announced as events and log
/// lines only: the process that changed them journaled and stored the change.
async fn adopt_shared_breakers(inner: &EngineInner, state: &ExecutionState) {
    let Some(store) = &inner.store_reader else {
        return;
    };
    let changes = crate::engine::resilience::shared::adopt_from_store(&inner.breakers, store).await;
    for c in changes {
        tracing::warn!(
            execution = %state.id, scope = c.scope.as_str(), name = %c.name,
            failures = c.failures, "circuit breaker {} (changed by another drover process)",
            c.state.as_str()
        );
        state.emit(&inner.events, c.into()).await;
    }
}

async fn mark_running(inner: &EngineInner, state: &ExecutionState) {
    state.set_status(ExecutionStatus::Running);
    inner
        .record(WriteOp::UpsertExecution(journal::execution_record(
            state,
            ExecutionStatus::Running,
        )))
        .await;
    state
        .emit(
            &inner.events,
            EngineEvent::ExecutionStarted {
                execution: state.id.clone(),
                total: state.nodes.len(),
            },
        )
        .await;
}

/// The request's own fan-out first, then an engine slot in the execution's place.
async fn acquire(
    fanout: &Arc<Semaphore>,
    global: &Arc<SlotQueue>,
    place: Place,
) -> Option<(tokio::sync::OwnedSemaphorePermit, Slot)> {
    let a = fanout.clone().acquire_owned().await.ok()?;
    let b = global.acquire(place).await;
    Some((a, b))
}

async fn finish_execution(inner: &EngineInner, state: &Arc<ExecutionState>) {
    let statuses: Vec<NodeStatus> = (0..state.nodes.len())
        .map(|i| state.live(i).status)
        .collect();
    let status = ExecutionStatus::from_nodes(&statuses, state.cancel_requested());
    state.set_status(status);
    let nodes = state.take_results();
    inner
        .record(WriteOp::UpsertExecution(journal::execution_record(
            state, status,
        )))
        .await;
    let duration = state.elapsed();
    let progress = state.progress();
    tracing::info!(execution = %state.id, status = status.as_str(), ?duration, "execution finished");
    state
        .emit(
            &inner.events,
            EngineEvent::ExecutionFinished {
                execution: state.id.clone(),
                status,
                duration,
                progress,
            },
        )
        .await;
    let result = ExecutionResult {
        id: state.id.clone(),
        status,
        started_at: state.started_at,
        finished_at: now_millis(),
        duration,
        nodes,
    };
    let _ = state.finished.set(Instant::now());
    state.result.send_replace(Some(Arc::new(result)));
}
