//! One node's run: admitted by its transport and circuit breaker, then attempts
//! until one succeeds, fails for a reason retries cannot mend, runs out of
//! retries or the execution is cancelled. Each attempt races the transport
//! against the execution's cancel and the request's timeout.

use super::outcome::{Outcome, classify};
use super::record::{announce_breakers, finish_node, store_breaker_counts};
use super::stop::{StopReason, bounded_stop, poll_once};
use crate::engine::EngineInner;
use crate::engine::common::error::{ErrorCategory, NodeError};
use crate::engine::executor::state::ExecutionState;
use crate::engine::inventory::Node;
use crate::engine::report::event::EngineEvent;
use crate::engine::report::output::OutputSink;
use crate::engine::report::result::NodeStatus;
use crate::engine::resilience::breaker::{Admission, Verdict};
use crate::engine::resilience::{jittered, retry_delay};
use crate::engine::secrets::redact;
use crate::engine::transport::{NodeJob, Transport};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tokio_util::sync::CancellationToken;

pub(super) async fn run_node(inner: &Arc<EngineInner>, state: &Arc<ExecutionState>, idx: usize) {
    let node = state.nodes[idx].clone();
    let (transport, admission) = match admit(inner, state, &node).await {
        Ok(admitted) => admitted,
        Err(outcome) => {
            finish_node(inner, state, idx, outcome).await;
            return;
        }
    };
    let outcome = attempts(inner, state, idx, &node, transport.as_ref()).await;
    // A node that never ran says nothing about its health.
    let verdict = if outcome.attempts == 0 {
        Verdict::Neutral
    } else {
        inner
            .breakers
            .verdict(outcome.error.as_ref().map(|(c, _)| *c))
    };
    let recorded = admission.record_counted(verdict);
    store_breaker_counts(inner, recorded.counts).await;
    announce_breakers(inner, state, recorded.changes).await;
    finish_node(inner, state, idx, outcome).await;
}

/// The node's transport, if it exists and accepts the node, and its breaker's
/// admission; otherwise the outcome that ends the node before any attempt.
async fn admit(
    inner: &EngineInner,
    state: &Arc<ExecutionState>,
    node: &Node,
) -> Result<(Arc<dyn Transport>, Admission), Outcome> {
    let Some(transport) = inner.transports.get(&node.transport).cloned() else {
        let reason = format!(
            "no transport {:?} (available: {})",
            node.transport,
            inner.transports.names().join(", ")
        );
        return Err(Outcome::error(ErrorCategory::Plugin, reason));
    };
    if let Err(e) = transport.check_node(node) {
        return Err(Outcome::error(e.category, e.reason));
    }
    let (admitted, changes) = inner.breakers.admit(&node.name, &node.transport);
    announce_breakers(inner, state, changes).await;
    match admitted {
        Ok(admission) => Ok((transport, admission)),
        Err(reason) => Err(Outcome::error(ErrorCategory::CircuitOpen, reason)),
    }
}

/// Attempts until the outcome is final.
async fn attempts(
    inner: &EngineInner,
    state: &Arc<ExecutionState>,
    idx: usize,
    node: &Node,
    transport: &dyn Transport,
) -> Outcome {
    let started = Instant::now();
    let mut attempt = 1;
    loop {
        let Some(outcome) =
            attempt_once(inner, state, idx, node, transport, attempt, started).await
        else {
            return Outcome {
                attempts: attempt - 1,
                ..Outcome::not_started()
            };
        };
        if !wait_to_retry(inner, state, node, &outcome, attempt).await {
            return outcome;
        }
        attempt += 1;
    }
}

/// One attempt; `None` when the execution was cancelled before the transport began.
async fn attempt_once(
    inner: &EngineInner,
    state: &Arc<ExecutionState>,
    idx: usize,
    node: &Node,
    transport: &dyn Transport,
    attempt: u32,
    started: Instant,
) -> Option<Outcome> {
    if state.cancel.is_cancelled() {
        return None;
    }
    {
        let mut live = state.live(idx);
        live.status = NodeStatus::Running;
        live.started.get_or_insert(started);
        live.attempts = attempt;
    }
    let opts = &state.request.options;
    let output = state.slots[idx].output.clone();
    output.reset(state.ring_capacity);
    state
        .emit(
            &inner.events,
            EngineEvent::NodeStarted {
                execution: state.id.clone(),
                node: node.name.clone(),
                attempt,
            },
        )
        .await;
    // Emitting may have waited on a slow consumer: look again before running.
    if state.cancel.is_cancelled() {
        return None;
    }
    let sink = OutputSink {
        execution: state.id.clone(),
        node: node.name.clone(),
        output,
        events: inner.events.clone(),
        user: state.context.user.clone(),
        tap: state.tap.clone(),
        store: opts.debug.then(|| inner.store.clone()).flatten(),
        secrets: state.secrets.clone(),
        redactors: Default::default(),
    };
    let job = NodeJob {
        node,
        command: &state.request.command,
        env: &opts.env,
    };
    // Not a child of the execution's token: the transport is stopped only by a
    // decision taken here, so the reason (cancel or timeout) is always known.
    let stop = CancellationToken::new();
    // Futures are lazy: until this flag is set the transport has done nothing, so
    // a cancel that wins the race below can drop it without it having started.
    let began = AtomicBool::new(false);
    let run = async {
        began.store(true, Ordering::SeqCst);
        transport.execute(job, &sink, stop.clone()).await
    };
    tokio::pin!(run);
    let timeout = async {
        match opts.timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    let mut reason = None;
    // Biased toward our own stops: a transport that returns at once when told to
    // stop must be reported as cancelled or timed out, not as killed by a signal.
    let result = tokio::select! {
        biased;
        _ = state.cancel.cancelled() => {
            if !began.load(Ordering::SeqCst) {
                return None;
            }
            // A node that finished just as the cancel came keeps its result.
            match poll_once(run.as_mut()).await {
                Some(r) => r,
                None => {
                    reason = Some(StopReason::Cancelled);
                    stop.cancel();
                    bounded_stop(run.as_mut(), transport.stop_bound()).await
                }
            }
        }
        _ = timeout => match poll_once(run.as_mut()).await {
            Some(r) => r,
            None => {
                reason = Some(StopReason::Timeout);
                stop.cancel();
                bounded_stop(run.as_mut(), transport.stop_bound()).await
            }
        },
        r = &mut run => r,
    };
    sink.finish().await;
    Some(classify(result, reason, opts.timeout, attempt, started))
}

/// Whether another attempt follows `outcome`: it must have failed for a category
/// the engine retries, with attempts left and no cancel. Then announces the retry
/// and waits out its back-off; a cancel during the wait makes `outcome` final.
async fn wait_to_retry(
    inner: &EngineInner,
    state: &Arc<ExecutionState>,
    node: &Node,
    outcome: &Outcome,
    attempt: u32,
) -> bool {
    let opts = &state.request.options;
    let max_attempts = opts.retries + 1;
    let retryable = outcome
        .error
        .as_ref()
        .is_some_and(|(c, _)| inner.config.retry_on.contains(c));
    if !retryable || attempt >= max_attempts || state.cancel.is_cancelled() {
        return false;
    }
    let delay = jittered(
        retry_delay(opts.backoff, opts.retry_delay, attempt),
        inner.config.retry_jitter,
    );
    let (category, why) = outcome
        .error
        .clone()
        .unwrap_or((ErrorCategory::Execution, String::new()));
    let why = redact(&why, &state.secrets);
    tracing::warn!(execution = %state.id, node = %node.name, attempt = attempt + 1, max_attempts, "retrying after {why}");
    state
        .emit(
            &inner.events,
            EngineEvent::RetryAttempt {
                execution: state.id.clone(),
                node: node.name.clone(),
                attempt: attempt + 1,
                max_attempts,
                delay,
                reason: NodeError {
                    node: node.name.clone(),
                    category,
                    reason: why,
                },
            },
        )
        .await;
    tokio::select! {
        _ = tokio::time::sleep(delay) => true,
        _ = state.cancel.cancelled() => false,
    }
}
