//! The vocabulary the front ends and tests learn from. Events are small: output
//! itself stays in the node rings (read with `Engine::read_output`) or flows through
//! a lossless [`StreamItem`] stream for headless consumers.

use crate::engine::common::error::NodeError;
use crate::engine::common::error::SourceFailure;
use crate::engine::common::ids::ExecutionId;
use crate::engine::report::plan_state::{PlanProgress, StepState};
use crate::engine::report::result::{ExecutionStatus, NodeStatus, Progress};
use crate::engine::resilience::breaker::{BreakerScope, BreakerState};
use crate::store::{EntryType, Stream};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    /// Accepted and validated; nothing runs yet.
    ExecutionQueued {
        execution: ExecutionId,
        action: String,
        nodes: Vec<String>,
        user: String,
        correlation_id: String,
    },
    ExecutionStarted {
        execution: ExecutionId,
        total: usize,
    },
    NodeStarted {
        execution: ExecutionId,
        node: String,
        attempt: u32,
    },
    /// The node's ring has bytes nobody has read yet (coalesced: one event until a
    /// reader calls `Engine::read_output`).
    NodeOutput {
        execution: ExecutionId,
        node: String,
        stream: Stream,
    },
    RetryAttempt {
        execution: ExecutionId,
        node: String,
        /// The attempt about to start (2 = first retry).
        attempt: u32,
        max_attempts: u32,
        delay: Duration,
        reason: NodeError,
    },
    NodeFinished {
        execution: ExecutionId,
        node: String,
        status: NodeStatus,
        exit_code: Option<i32>,
        duration: Duration,
        error: Option<NodeError>,
        progress: Progress,
    },
    ExecutionFinished {
        execution: ExecutionId,
        status: ExecutionStatus,
        duration: Duration,
        progress: Progress,
    },
    JournalAppended {
        node: String,
        entry_type: EntryType,
        execution: Option<ExecutionId>,
    },
    /// A circuit breaker changed state (`name` is a node or a transport).
    BreakerChanged {
        scope: BreakerScope,
        name: String,
        state: BreakerState,
    },
    /// A plan step changed state; `progress` counts the plan's steps.
    PlanStepChanged {
        plan: ExecutionId,
        step: String,
        state: StepState,
        execution: Option<ExecutionId>,
        progress: PlanProgress,
    },
    PlanFinished {
        plan: ExecutionId,
        name: String,
        state: StepState,
        progress: PlanProgress,
    },
    /// The inventory was read again (a file changed, or on demand) and swapped
    /// in. Failed sources kept their last good nodes; each names its reason.
    InventoryReloaded {
        nodes: usize,
        failed_sources: Vec<SourceFailure>,
    },
}

impl EngineEvent {
    pub fn execution(&self) -> Option<&ExecutionId> {
        match self {
            EngineEvent::ExecutionQueued { execution, .. }
            | EngineEvent::ExecutionStarted { execution, .. }
            | EngineEvent::NodeStarted { execution, .. }
            | EngineEvent::NodeOutput { execution, .. }
            | EngineEvent::RetryAttempt { execution, .. }
            | EngineEvent::NodeFinished { execution, .. }
            | EngineEvent::ExecutionFinished { execution, .. } => Some(execution),
            EngineEvent::JournalAppended { execution, .. } => execution.as_ref(),
            // Plan events are about the plan; `PlanStepChanged` names its step's
            // execution as data.
            EngineEvent::BreakerChanged { .. }
            | EngineEvent::PlanStepChanged { .. }
            | EngineEvent::PlanFinished { .. } => None,
            EngineEvent::InventoryReloaded { .. } => None,
        }
    }
}

/// What a lossless per-execution stream carries, in order: every event of that
/// execution (except the coalesced `NodeOutput`) and every output chunk.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    Event(EngineEvent),
    Output {
        node: String,
        stream: Stream,
        data: Vec<u8>,
    },
}
