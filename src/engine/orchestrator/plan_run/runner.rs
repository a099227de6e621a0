//! Scheduling a prepared plan: steps start as their dependencies finish, a
//! failed step cancels what depends on it (unless it may be continued past),
//! steps the queue has no room for wait for room, and every change of state is
//! announced with the plan's progress.

use super::prepare::Prepared;
use super::{PlanResult, StepOutcome};
use crate::engine::common::ids::ExecutionId;
use crate::engine::common::request::ExecutionContext;
use crate::engine::orchestrator::plan::Plan;
use crate::engine::report::event::EngineEvent;
use crate::engine::report::plan_state::{PlanProgress, StepState};
use crate::engine::report::result::{ExecutionResult, ExecutionStatus};
use crate::engine::{Engine, EngineError, Submission, Submitted};
use std::sync::Arc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// One plan while it runs: each step's outcome so far, and the dependency
/// counts that say when a step may start.
pub(super) struct Runner {
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
    pub(super) fn new(
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
        self.engine
            .inner
            .events
            .send_as(event, Some(&self.context.user));
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

    pub(super) async fn run(mut self, prepared: Vec<Prepared>) -> PlanResult {
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
        self.engine.inner.events.send_as(
            EngineEvent::PlanFinished {
                plan: self.id.clone(),
                name: self.plan.name.clone(),
                state,
                progress: self.progress(),
            },
            Some(&self.context.user),
        );
        PlanResult {
            id: self.id,
            name: self.plan.name,
            state,
            steps: self.outcomes,
        }
    }
}
