//! Running a plan: each step becomes an execution as soon as its dependencies are
//! done, independent steps run at the same time (the engine's global limit still
//! caps node runs), and every step moves queued → running → completed | failed |
//! cancelled (seeds property 10), announced as events with the plan's progress.
//! Cancelling the plan cancels the running steps' executions and never starts the
//! queued ones.
//!
//! Here: the plan's handle and result. Making every step ready before any runs
//! is `prepare`; scheduling the steps and recording their states is `runner`.

mod prepare;
mod runner;

use super::plan::Plan;
use crate::engine::common::ids::ExecutionId;
use crate::engine::common::request::{ExecutionContext, ExecutionOptions};
pub use crate::engine::report::plan_state::{PlanProgress, StepState};
use crate::engine::report::result::ExecutionResult;
use crate::engine::{Engine, EngineError};
use runner::Runner;
use std::sync::Arc;
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
    let prepared = prepare::prepare(engine, &plan, &id, defaults, targets)?;
    let cancel = CancellationToken::new();
    let runner = Runner::new(engine.clone(), plan, id.clone(), context, cancel.clone());
    let done = tokio::spawn(runner.run(prepared));
    Ok(PlanHandle { id, cancel, done })
}
