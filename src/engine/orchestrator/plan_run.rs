//! Running a plan: each step becomes an execution as soon as its dependencies are
//! done, independent steps run at the same time (the engine's global limit still
//! caps node runs), and every step moves queued → running → completed | failed |
//! cancelled (seeds property 10), announced as events with the plan's progress.
//! Cancelling the plan cancels the running steps' executions and never starts the
//! queued ones.

use super::plan::{Plan, StepAction};
use super::task_run::{self, MAX_SCRIPT_BYTES};
use crate::engine::common::error::FieldError;
use crate::engine::common::ids::ExecutionId;
use crate::engine::common::request::{ExecutionContext, ExecutionOptions, ExecutionRequest};
use crate::engine::rbac::Capability;
use crate::engine::report::event::EngineEvent;
pub use crate::engine::report::plan_state::{PlanProgress, StepState};
use crate::engine::report::result::{ExecutionResult, ExecutionStatus};
use crate::engine::submit::label::RunLabel;
use crate::engine::{Engine, EngineError, Submission, Submitted};
use serde_json::Value;
use std::sync::Arc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct StepOutcome {
    pub name: String,
    pub state: StepState,
    pub execution: Option<ExecutionId>,
    pub result: Option<Arc<ExecutionResult>>,
    /// Why a step failed or was cancelled without running.
    pub reason: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PlanResult {
    pub id: ExecutionId,
    pub name: String,
    /// Completed, Failed or Cancelled.
    pub state: StepState,
    pub steps: Vec<StepOutcome>,
}

pub struct PlanHandle {
    pub id: ExecutionId,
    cancel: CancellationToken,
    done: tokio::task::JoinHandle<PlanResult>,
}

impl PlanHandle {
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// A token that cancels the plan, for whoever holds no handle.
    pub fn canceller(&self) -> CancellationToken {
        self.cancel.clone()
    }

    pub async fn wait(self) -> Result<PlanResult, EngineError> {
        self.done.await.map_err(|_| EngineError::ShutDown)
    }
}

struct Prepared {
    request: ExecutionRequest,
    label: RunLabel,
}

/// Prepares every step (targets, scripts, tasks) and starts the plan; nothing runs
/// when this returns an error, which lists every problem.
pub fn start(
    engine: &Engine,
    plan: Plan,
    defaults: ExecutionOptions,
    targets: Option<String>,
    context: ExecutionContext,
) -> Result<PlanHandle, EngineError> {
    let id = ExecutionId::new();
    let mut errors = Vec::new();
    let mut prepared = Vec::new();
    for step in &plan.steps {
        let field = |reason: String| FieldError {
            field: format!("step {}", step.name),
            reason,
        };
        let Some(t) = step
            .targets
            .clone()
            .or(plan.targets.clone())
            .or(targets.clone())
        else {
            errors.push(field(
                "has no targets (give the step, the plan or -t some)".into(),
            ));
            continue;
        };
        if let Err(e) = engine.inventory().resolve(&t) {
            errors.push(field(e.to_string()));
            continue;
        }
        let options = ExecutionOptions {
            timeout: step.timeout.or(defaults.timeout),
            mode: step.mode,
            retries: step.retries,
            priority: step.priority.unwrap_or(defaults.priority),
            ..defaults.clone()
        };
        let built = match &step.action {
            StepAction::Command(c) => Ok((
                ExecutionRequest {
                    command: c.clone(),
                    targets: t.clone(),
                    options,
                },
                RunLabel {
                    kind: "plan-step".into(),
                    ..RunLabel::default()
                },
            )),
            StepAction::Task { task, params, noop } => {
                task_run::build(task, params, *noop, &t, options)
            }
            StepAction::Script(task) => {
                task_run::build(task, &Default::default(), false, &t, options).map(|(r, l)| {
                    let label = RunLabel {
                        kind: "plan-step".into(),
                        action: Some(format!("script {}", task.metadata.display())),
                        ..l
                    };
                    (r, label)
                })
            }
            StepAction::Upload {
                source,
                destination,
                mode,
            } => match std::fs::read(source) {
                Ok(bytes) if bytes.len() <= MAX_SCRIPT_BYTES => Ok((
                    ExecutionRequest {
                        command: task_run::upload_command(&bytes, destination, mode),
                        targets: t.clone(),
                        options,
                    },
                    RunLabel {
                        kind: "plan-step".into(),
                        action: Some(format!("upload {} -> {destination}", source.display())),
                        ..RunLabel::default()
                    },
                )),
                Ok(bytes) => Err(vec![field(format!(
                    "{}: {} bytes is more than the {MAX_SCRIPT_BYTES} drover sends",
                    source.display(),
                    bytes.len()
                ))]),
                Err(e) => Err(vec![field(format!("{}: {e}", source.display()))]),
            },
        };
        match built {
            Ok((request, mut label)) => {
                let shown = label.shown(&request).to_string();
                label.action = Some(format!("plan {} step {}: {shown}", plan.name, step.name));
                label
                    .details
                    .insert("plan".into(), Value::String(plan.name.clone()));
                label
                    .details
                    .insert("plan_run".into(), Value::String(id.0.clone()));
                label
                    .details
                    .insert("step".into(), Value::String(step.name.clone()));
                // Every step, a task's too, runs under the plan's authorisation.
                label.capability = Capability::PlanRun;
                prepared.push(Prepared { request, label });
            }
            Err(es) => errors.extend(es.into_iter().map(|e| field(e.to_string()))),
        }
    }
    if !errors.is_empty() {
        return Err(EngineError::Validation(errors));
    }
    let cancel = CancellationToken::new();
    let runner = Runner::new(engine.clone(), plan, id.clone(), context, cancel.clone());
    let done = tokio::spawn(runner.run(prepared));
    Ok(PlanHandle { id, cancel, done })
}

struct Runner {
    engine: Engine,
    plan: Plan,
    id: ExecutionId,
    context: ExecutionContext,
    cancel: CancellationToken,
    outcomes: Vec<StepOutcome>,
    waiting_on: Vec<usize>,
    dependents: Vec<Vec<usize>>,
}

impl Runner {
    fn new(
        engine: Engine,
        plan: Plan,
        id: ExecutionId,
        context: ExecutionContext,
        cancel: CancellationToken,
    ) -> Runner {
        let n = plan.steps.len();
        let index = |name: &str| plan.steps.iter().position(|s| s.name == name);
        let mut dependents = vec![Vec::new(); n];
        let mut waiting_on = vec![0; n];
        for (i, s) in plan.steps.iter().enumerate() {
            for d in &s.depends_on {
                if let Some(j) = index(d) {
                    dependents[j].push(i);
                    waiting_on[i] += 1;
                }
            }
        }
        let outcomes = plan
            .steps
            .iter()
            .map(|s| StepOutcome {
                name: s.name.clone(),
                state: StepState::Queued,
                execution: None,
                result: None,
                reason: None,
            })
            .collect();
        Runner {
            engine,
            plan,
            id,
            context,
            cancel,
            outcomes,
            waiting_on,
            dependents,
        }
    }

    fn progress(&self) -> PlanProgress {
        let mut p = PlanProgress {
            total: self.outcomes.len(),
            ..PlanProgress::default()
        };
        for o in &self.outcomes {
            match o.state {
                StepState::Completed => p.completed += 1,
                StepState::Failed => p.failed += 1,
                StepState::Cancelled => p.cancelled += 1,
                StepState::Running => p.running += 1,
                StepState::Queued => {}
            }
        }
        p
    }

    fn set(&mut self, i: usize, state: StepState, reason: Option<String>) {
        let o = &mut self.outcomes[i];
        o.state = state;
        if reason.is_some() {
            o.reason = reason;
        }
        let event = EngineEvent::PlanStepChanged {
            plan: self.id.clone(),
            step: o.name.clone(),
            state,
            execution: o.execution.clone(),
            progress: self.progress(),
        };
        let _ = self.engine.inner.events.send(event);
    }

    /// A finished step releases its dependents, or cancels them when it failed
    /// and may not be continued past.
    fn release(&mut self, i: usize, ready: &mut Vec<usize>) {
        let passed = match self.outcomes[i].state {
            StepState::Completed => true,
            StepState::Failed => self.plan.steps[i].continue_on_failure,
            _ => false,
        };
        for d in self.dependents[i].clone() {
            if self.outcomes[d].state != StepState::Queued {
                continue;
            }
            if passed {
                self.waiting_on[d] -= 1;
                if self.waiting_on[d] == 0 {
                    ready.push(d);
                }
            } else {
                let why = format!(
                    "not run: step {} {}",
                    self.outcomes[i].name,
                    self.outcomes[i].state.as_str()
                );
                self.set(d, StepState::Cancelled, Some(why));
                self.release(d, ready);
            }
        }
    }

    fn cancel_running(&self) {
        for o in &self.outcomes {
            if o.state == StepState::Running
                && let Some(e) = &o.execution
            {
                let _ = self.engine.cancel(e);
            }
        }
    }

    async fn run(mut self, prepared: Vec<Prepared>) -> PlanResult {
        let mut prepared: Vec<Option<Prepared>> = prepared.into_iter().map(Some).collect();
        let mut ready: Vec<usize> = (0..self.outcomes.len())
            .filter(|&i| self.waiting_on[i] == 0)
            .collect();
        let mut running: JoinSet<(usize, Result<Arc<ExecutionResult>, EngineError>)> =
            JoinSet::new();
        let mut cancelled = false;
        // Steps the engine's queue had no room for: they wait for room instead of
        // failing, since the plan as a whole was already accepted.
        let mut held: Vec<usize> = Vec::new();
        let mut room = self.engine.inner.slots.room();
        loop {
            if !cancelled && self.cancel.is_cancelled() {
                cancelled = true;
                self.cancel_running();
            }
            // File order among the ready steps, so runs are reproducible.
            ready.append(&mut held);
            ready.sort_unstable();
            // Seen now: room made from here on wakes the wait below.
            room.borrow_and_update();
            for i in std::mem::take(&mut ready) {
                if cancelled {
                    break;
                }
                let Some(p) = prepared[i].take() else {
                    continue;
                };
                if !held.is_empty() {
                    // Keep file order: nothing overtakes a held step.
                    prepared[i] = Some(p);
                    held.push(i);
                    continue;
                }
                let submission = Submission::request(p.request.clone())
                    .label(p.label.clone())
                    .as_user(self.context.clone());
                match self.engine.submit(submission).await {
                    Ok(Submitted { id: exec, .. }) => {
                        self.outcomes[i].execution = Some(exec.clone());
                        self.set(i, StepState::Running, None);
                        let engine = self.engine.clone();
                        running.spawn(async move { (i, engine.wait(&exec).await) });
                    }
                    Err(EngineError::QueueFull(_)) => {
                        prepared[i] = Some(p);
                        held.push(i);
                    }
                    Err(e) => {
                        self.set(i, StepState::Failed, Some(e.to_string()));
                        self.release(i, &mut ready);
                    }
                }
            }
            if cancelled && running.is_empty() {
                break;
            }
            if running.is_empty() && held.is_empty() {
                if ready.is_empty() {
                    break;
                }
                continue;
            }
            tokio::select! {
                _ = self.cancel.cancelled(), if !cancelled => {
                    cancelled = true;
                    self.cancel_running();
                }
                changed = room.changed(), if !held.is_empty() => {
                    if changed.is_err() {
                        // The engine is gone: nothing will make room again.
                        for i in std::mem::take(&mut held) {
                            self.set(i, StepState::Failed, Some("engine is shut down".into()));
                            self.release(i, &mut ready);
                        }
                    }
                }
                Some(joined) = running.join_next(), if !running.is_empty() => {
                    let Ok((i, result)) = joined else { continue };
                    let (state, reason) = match result {
                        Ok(r) => {
                            let state = match r.status {
                                ExecutionStatus::Success => StepState::Completed,
                                ExecutionStatus::Cancelled => StepState::Cancelled,
                                _ => StepState::Failed,
                            };
                            self.outcomes[i].result = Some(r.clone());
                            let reason = (state != StepState::Completed)
                                .then(|| format!("execution {}", r.status.as_str()));
                            (state, reason)
                        }
                        Err(e) => (StepState::Failed, Some(e.to_string())),
                    };
                    self.set(i, state, reason);
                    self.release(i, &mut ready);
                }
            }
        }
        for i in 0..self.outcomes.len() {
            if self.outcomes[i].state == StepState::Queued {
                self.set(i, StepState::Cancelled, Some("plan cancelled".into()));
            }
        }
        let tolerated = |i: usize| {
            let o = &self.outcomes[i];
            o.state == StepState::Completed
                || (o.state == StepState::Failed && self.plan.steps[i].continue_on_failure)
        };
        let state = if cancelled {
            StepState::Cancelled
        } else if (0..self.outcomes.len()).all(tolerated) {
            StepState::Completed
        } else {
            StepState::Failed
        };
        let _ = self.engine.inner.events.send(EngineEvent::PlanFinished {
            plan: self.id.clone(),
            name: self.plan.name.clone(),
            state,
            progress: self.progress(),
        });
        PlanResult {
            id: self.id,
            name: self.plan.name,
            state,
            steps: self.outcomes,
        }
    }
}
