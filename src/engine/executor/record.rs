//! A node's end and the breaker changes it causes, recorded: live state, result,
//! store rows, journal entries and events.

use super::outcome::Outcome;
use crate::engine::EngineInner;
use crate::engine::common::error::ErrorCategory;
use crate::engine::common::error::NodeError;
use crate::engine::common::ids::now_millis;
use crate::engine::executor::journal;
use crate::engine::executor::state::ExecutionState;
use crate::engine::report::event::EngineEvent;
use crate::engine::report::event_record::OutputCounts;
use crate::engine::report::result::{NodeResult, NodeStatus};
use crate::engine::report::task_value::{Stdout, task_value};
use crate::engine::resilience::breaker::{BreakerChange, BreakerScope};
use crate::engine::secrets::redact;
use crate::engine::submit::access::AUDIT_NODE;
use crate::engine::transport::ExitInfo;
use crate::store::WriteOp;
use std::sync::Arc;
use std::time::Duration;

/// Breaker state changes become rows of the shared breaker table (every drover
/// process on the store adopts them), events, log lines and, for nodes, journal
/// entries of type `event` linked to the execution that caused them.
pub(super) async fn announce_breakers(
    inner: &EngineInner,
    state: &Arc<ExecutionState>,
    changes: Vec<BreakerChange>,
) {
    for c in changes {
        inner.record(WriteOp::PutBreaker(c.record())).await;
        tracing::warn!(
            execution = %state.id, scope = c.scope.as_str(), name = %c.name,
            failures = c.failures, "circuit breaker {}", c.state.as_str()
        );
        // A transport's breaker concerns no single node: it is journaled on the
        // engine's own pseudo node, beside the audit trail.
        let (node, action) = match c.scope {
            BreakerScope::Node => (
                c.name.clone(),
                format!("circuit breaker {}", c.state.as_str()),
            ),
            BreakerScope::Transport => (
                AUDIT_NODE.to_string(),
                format!(
                    "circuit breaker of transport {} {}",
                    c.name,
                    c.state.as_str()
                ),
            ),
        };
        inner
            .record(WriteOp::Journal(crate::store::JournalEntry {
                id: 0,
                node,
                entry_type: crate::store::EntryType::Event,
                timestamp: now_millis(),
                user: state.context.user.clone(),
                action,
                status: Some(c.state.as_str().into()),
                execution_id: Some(state.id.0.clone()),
                details: serde_json::json!({
                    "scope": c.scope.as_str(),
                    "name": c.name,
                    "consecutive_failures": c.failures,
                    "reset_timeout_ms": inner.breakers.config().reset_timeout.as_millis() as u64,
                }),
            }))
            .await;
        state.emit(&inner.events, c.into()).await;
    }
}

/// New failure counts of closed breakers only go to the shared breaker table:
/// other processes count on from them.
pub(super) async fn store_breaker_counts(inner: &EngineInner, counts: Vec<BreakerChange>) {
    for c in counts {
        inner.record(WriteOp::PutBreaker(c.record())).await;
    }
}

/// Records a node's end: live state, result, store rows, journal, events.
pub(super) async fn finish_node(
    inner: &EngineInner,
    state: &Arc<ExecutionState>,
    idx: usize,
    mut o: Outcome,
) {
    let _one_at_a_time = state.finishing.lock().await;
    let node = &state.nodes[idx].name;
    let value = state
        .label
        .parse_json
        .then(|| task_value_of(state, idx, &mut o))
        .flatten();
    let duration = o.started.map(|s| s.elapsed()).unwrap_or_default();
    let error = o.error.map(|(category, reason)| NodeError {
        node: node.clone(),
        category,
        reason: redact(&reason, &state.secrets),
    });
    {
        let mut live = state.live(idx);
        live.status = o.status;
        live.exit_code = o.exit.code;
        live.duration = Some(duration);
        live.attempts = o.attempts;
        live.error = error.clone();
    }
    let mut result = node_result(
        inner,
        state,
        idx,
        &o.exit,
        o.status,
        duration,
        o.attempts,
        error.clone(),
    );
    result.value = value;
    let started_at = now_millis() - duration.as_millis() as i64;
    inner
        .record(WriteOp::NodeResult(journal::node_record(
            state, &result, started_at,
        )))
        .await;
    let journaled = journal::journaled(
        &inner.config,
        &state.nodes[idx].transport,
        state.label.entry_type,
        o.status,
    );
    if journaled {
        inner
            .record(WriteOp::Journal(journal::node_journal_entry(
                state, &result,
            )))
            .await;
    }
    state.set_result(idx, result);
    // The last word on its output, when it printed any, before it is finished.
    let counts = state.slots[idx].output.lock().counts();
    if counts != OutputCounts::default() {
        inner
            .events
            .log_output(&state.id.0, node, &state.context.user, counts, true);
    }
    let progress = state.progress();
    state
        .emit(
            &inner.events,
            EngineEvent::NodeFinished {
                execution: state.id.clone(),
                node: node.clone(),
                status: o.status,
                exit_code: o.exit.code,
                duration,
                error,
                progress,
            },
        )
        .await;
    if journaled {
        state
            .emit(
                &inner.events,
                EngineEvent::JournalAppended {
                    node: node.clone(),
                    entry_type: state.label.entry_type,
                    execution: Some(state.id.clone()),
                },
            )
            .await;
    }
}

#[allow(clippy::too_many_arguments)]
fn node_result(
    inner: &EngineInner,
    state: &ExecutionState,
    idx: usize,
    exit: &ExitInfo,
    status: NodeStatus,
    duration: Duration,
    attempts: u32,
    error: Option<NodeError>,
) -> NodeResult {
    let out = state.slots[idx].output.lock();
    let n = inner.config.summary_lines;
    let (stdout, stderr, complete) = if state.request.options.debug {
        let (o, o_full) = out.stdout.whole_or_summary(n);
        let (e, e_full) = out.stderr.whole_or_summary(n);
        (o, e, o_full && e_full)
    } else {
        (out.stdout.summary(n), out.stderr.summary(n), false)
    };
    NodeResult {
        value: None,
        node: state.nodes[idx].name.clone(),
        status,
        exit_code: exit.code,
        signal: exit.signal,
        duration,
        attempts,
        error,
        stdout,
        stderr,
        stdout_bytes: out.stdout.ring.total(),
        stderr_bytes: out.stderr.ring.total(),
        output_complete: complete,
    }
}

/// A task's value as Bolt reads it, for a node that ran; an `_error` in it
/// fails the node even after exit 0 (see [`task_value`]). Nodes that never ran
/// to an exit (unreachable, timed out, cancelled) keep their own error and no value.
fn task_value_of(state: &ExecutionState, idx: usize, o: &mut Outcome) -> Option<serde_json::Value> {
    if !matches!(o.status, NodeStatus::Success | NodeStatus::Failed) {
        return None;
    }
    let task = state
        .label
        .details
        .get("task")
        .and_then(|t| t.as_str())
        .unwrap_or("?");
    let v = {
        let out = state.slots[idx].output.lock();
        let stdout = out.stdout.ring.contents();
        let stderr = out.stderr.ring.contents();
        task_value(
            Stdout {
                bytes: &stdout,
                complete: out.stdout.ring.evicted() == 0,
            },
            &stderr,
            o.exit.code,
            task,
        )
    };
    if let Some(msg) = v.error {
        o.status = NodeStatus::Failed;
        o.error.get_or_insert((ErrorCategory::Execution, msg));
    }
    Some(v.value)
}
