//! Fan-out: validates and starts an execution, runs each node under the global
//! and per-request limits, applies timeouts, cancellation and retries, and derives
//! the overall status. One node's failure never stops the others.

use super::EngineInner;
use super::breaker::{BreakerChange, BreakerScope, Verdict};
use super::error::{EngineError, ErrorCategory, NodeError};
use super::event::{EngineEvent, StreamItem};
use super::ids::{ExecutionId, now_millis};
use super::journal;
use super::label::{RunLabel, parse_object};
use super::output::OutputSink;
use super::queue::{Admission, Place, Slot, SlotQueue};
use super::rbac::{Access, Capability};
use super::request::{ExecutionContext, ExecutionRequest};
use super::resilience::{jittered, retry_delay};
use super::result::{ExecutionResult, ExecutionStatus, NodeResult, NodeStatus};
use super::secrets::Secrets;
use super::state::ExecutionState;
use super::transport::{ExitInfo, NodeJob, TransportError};
use crate::store::WriteOp;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// A re-run touches no node its earlier run did not target.
fn outside_rerun(
    rerun: &super::label::RerunOf,
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
    super::access::check(inner, &context, &access, &secrets).await?;
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
        super::request::Mode::Sequential => 1,
        super::request::Mode::Parallel => state.request.options.fanout,
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

/// How one node's work ended, before bookkeeping.
struct Outcome {
    status: NodeStatus,
    exit: ExitInfo,
    error: Option<(ErrorCategory, String)>,
    attempts: u32,
    started: Option<Instant>,
}

impl Outcome {
    fn not_started() -> Outcome {
        Outcome {
            status: NodeStatus::Cancelled,
            exit: ExitInfo::default(),
            error: Some((
                ErrorCategory::Execution,
                "cancelled before it started".into(),
            )),
            attempts: 0,
            started: None,
        }
    }

    /// A failure before the command could run (no transport, bad node config).
    fn error(category: ErrorCategory, reason: String) -> Outcome {
        Outcome {
            status: NodeStatus::Failed,
            exit: ExitInfo::default(),
            error: Some((category, reason)),
            attempts: 0,
            started: None,
        }
    }
}

/// Why the executor stopped an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StopReason {
    Timeout,
    Cancelled,
}

async fn run_node(inner: &Arc<EngineInner>, state: &Arc<ExecutionState>, idx: usize) {
    let node = state.nodes[idx].clone();
    let Some(transport) = inner.transports.get(&node.transport).cloned() else {
        let reason = format!(
            "no transport {:?} (available: {})",
            node.transport,
            inner.transports.names().join(", ")
        );
        finish_node(
            inner,
            state,
            idx,
            Outcome::error(ErrorCategory::Plugin, reason),
        )
        .await;
        return;
    };
    if let Err(e) = transport.check_node(&node) {
        finish_node(inner, state, idx, Outcome::error(e.category, e.reason)).await;
        return;
    }
    let (admitted, changes) = inner.breakers.admit(&node.name, &node.transport);
    announce_breakers(inner, state, changes).await;
    let admission = match admitted {
        Ok(a) => a,
        Err(reason) => {
            let outcome = Outcome::error(ErrorCategory::CircuitOpen, reason);
            finish_node(inner, state, idx, outcome).await;
            return;
        }
    };
    let opts = &state.request.options;
    let max_attempts = opts.retries + 1;
    let started = Instant::now();
    let mut attempt = 1;
    let outcome = loop {
        if state.cancel.is_cancelled() {
            break Outcome {
                attempts: attempt - 1,
                ..Outcome::not_started()
            };
        }
        {
            let mut live = state.live(idx);
            live.status = NodeStatus::Running;
            live.started.get_or_insert(started);
            live.attempts = attempt;
        }
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
            break Outcome {
                attempts: attempt - 1,
                ..Outcome::not_started()
            };
        }
        let sink = OutputSink {
            execution: state.id.clone(),
            node: node.name.clone(),
            output,
            events: inner.events.clone(),
            tap: state.tap.clone(),
            store: opts.debug.then(|| inner.store.clone()).flatten(),
            secrets: state.secrets.clone(),
            redactors: Default::default(),
        };
        let job = NodeJob {
            node: &node,
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
                    break Outcome {
                        attempts: attempt - 1,
                        ..Outcome::not_started()
                    };
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
        let outcome = classify(result, reason, opts.timeout, attempt, started);
        let retryable = outcome
            .error
            .as_ref()
            .is_some_and(|(c, _)| inner.config.retry_on.contains(c));
        if !retryable || attempt >= max_attempts || state.cancel.is_cancelled() {
            break outcome;
        }
        let delay = jittered(
            retry_delay(opts.backoff, opts.retry_delay, attempt),
            inner.config.retry_jitter,
        );
        let (category, why) = outcome
            .error
            .clone()
            .unwrap_or((ErrorCategory::Execution, String::new()));
        let why = super::secrets::redact(&why, &state.secrets);
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
            _ = tokio::time::sleep(delay) => {}
            _ = state.cancel.cancelled() => break outcome,
        }
        attempt += 1;
    };
    let verdict = if outcome.attempts == 0 {
        Verdict::Neutral
    } else {
        inner
            .breakers
            .verdict(outcome.error.as_ref().map(|(c, _)| *c))
    };
    let changes = admission.record(verdict);
    announce_breakers(inner, state, changes).await;
    finish_node(inner, state, idx, outcome).await;
}

/// Breaker state changes become events, log lines and, for nodes, journal
/// entries of type `event` linked to the execution that caused them.
async fn announce_breakers(
    inner: &EngineInner,
    state: &Arc<ExecutionState>,
    changes: Vec<BreakerChange>,
) {
    for c in changes {
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
                super::access::AUDIT_NODE.to_string(),
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
        state
            .emit(
                &inner.events,
                EngineEvent::BreakerChanged {
                    scope: c.scope,
                    name: c.name,
                    state: c.state,
                },
            )
            .await;
    }
}

/// Waits for a stopped transport, for `bound` at most (a transport that does not
/// keep its own bound must not hold the run: its node ends unconfirmed).
async fn bounded_stop<F>(run: std::pin::Pin<&mut F>, bound: Duration) -> F::Output
where
    F: std::future::Future<Output = Result<ExitInfo, TransportError>>,
{
    match tokio::time::timeout(bound, run).await {
        Ok(r) => r,
        Err(_) => Err(TransportError::new(
            ErrorCategory::Connection,
            format!(
                "remote kill unconfirmed: the transport did not end the command within {}",
                super::duration::format_duration(bound)
            ),
        )),
    }
}

/// Polls a future once: its output if it is already done.
async fn poll_once<F: std::future::Future>(fut: std::pin::Pin<&mut F>) -> Option<F::Output> {
    let mut fut = fut;
    match std::future::poll_fn(|cx| std::task::Poll::Ready(fut.as_mut().poll(cx))).await {
        std::task::Poll::Ready(out) => Some(out),
        std::task::Poll::Pending => None,
    }
}

fn stopped_how(result: &Result<ExitInfo, TransportError>) -> String {
    match result {
        Ok(_) => "its processes were terminated".into(),
        Err(e) => e.reason.clone(),
    }
}

fn classify(
    result: Result<ExitInfo, TransportError>,
    reason: Option<StopReason>,
    timeout: Option<Duration>,
    attempts: u32,
    started: Instant,
) -> Outcome {
    let mut o = Outcome {
        status: NodeStatus::Failed,
        exit: result.as_ref().copied().unwrap_or_default(),
        error: None,
        attempts,
        started: Some(started),
    };
    match (reason, result) {
        // What became of the processes is the transport's to say: an error after
        // the stop is why their end is not confirmed.
        (Some(StopReason::Timeout), r) => {
            o.status = NodeStatus::Timeout;
            let t = timeout
                .map(super::duration::format_duration)
                .unwrap_or_default();
            o.error = Some((
                ErrorCategory::Timeout,
                format!("timed out after {t}; {}", stopped_how(&r)),
            ));
        }
        (Some(StopReason::Cancelled), r) => {
            o.status = NodeStatus::Cancelled;
            o.error = Some((
                ErrorCategory::Execution,
                format!("cancelled; {}", stopped_how(&r)),
            ));
        }
        (None, Err(e)) => o.error = Some((e.category, e.reason)),
        (None, Ok(exit)) => match (exit.code, exit.signal) {
            (Some(0), _) => o.status = NodeStatus::Success,
            (Some(code), _) => {
                o.error = Some((ErrorCategory::Execution, format!("exited with code {code}")))
            }
            (None, Some(sig)) => {
                o.error = Some((ErrorCategory::Execution, format!("killed by signal {sig}")))
            }
            (None, None) => {
                o.error = Some((
                    ErrorCategory::Execution,
                    "ended without an exit status".into(),
                ))
            }
        },
    }
    o
}

/// Records a node's end: live state, result, store rows, journal, events.
async fn finish_node(inner: &EngineInner, state: &Arc<ExecutionState>, idx: usize, o: Outcome) {
    let _one_at_a_time = state.finishing.lock().await;
    let node = &state.nodes[idx].name;
    let duration = o.started.map(|s| s.elapsed()).unwrap_or_default();
    let error = o.error.map(|(category, reason)| NodeError {
        node: node.clone(),
        category,
        reason: super::secrets::redact(&reason, &state.secrets),
    });
    {
        let mut live = state.live(idx);
        live.status = o.status;
        live.exit_code = o.exit.code;
        live.duration = Some(duration);
        live.attempts = o.attempts;
        live.error = error.clone();
    }
    let result = node_result(
        inner,
        state,
        idx,
        &o.exit,
        o.status,
        duration,
        o.attempts,
        error.clone(),
    );
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
    let (stdout, stderr, complete) = if state.request.options.debug {
        let (o, o_full) = out.stdout.text();
        let (e, e_full) = out.stderr.text();
        (o, e, o_full && e_full)
    } else {
        let n = inner.config.summary_lines;
        (out.stdout.summary(n), out.stderr.summary(n), false)
    };
    let value = if state.label.parse_json {
        let (text, complete) = out.stdout.text();
        complete.then(|| parse_object(&text)).flatten()
    } else {
        None
    };
    NodeResult {
        value,
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

async fn finish_execution(inner: &EngineInner, state: &Arc<ExecutionState>) {
    let statuses: Vec<NodeStatus> = (0..state.nodes.len())
        .map(|i| state.live(i).status)
        .collect();
    let status = ExecutionStatus::from_nodes(&statuses, state.cancel_requested());
    state.set_status(status);
    let nodes = state.results();
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
