//! Outcomes: per node and per execution, and how the overall status is derived.

use crate::engine::common::error::NodeError;
use crate::engine::common::ids::ExecutionId;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Life of one node within an execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeStatus {
    Pending,
    Running,
    Success,
    Failed,
    Timeout,
    Cancelled,
}

impl NodeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeStatus::Pending => "pending",
            NodeStatus::Running => "running",
            NodeStatus::Success => "success",
            NodeStatus::Failed => "failed",
            NodeStatus::Timeout => "timeout",
            NodeStatus::Cancelled => "cancelled",
        }
    }

    pub fn is_finished(self) -> bool {
        !matches!(self, NodeStatus::Pending | NodeStatus::Running)
    }

    /// Rank for listing worst first (0 is worst): views that group nodes put a
    /// failure before a success of the same output, never after.
    pub fn severity(self) -> u8 {
        match self {
            NodeStatus::Failed => 0,
            NodeStatus::Timeout => 1,
            NodeStatus::Cancelled => 2,
            NodeStatus::Running => 3,
            NodeStatus::Pending => 4,
            NodeStatus::Success => 5,
        }
    }
}

/// Life of an execution: queued → running → one terminal state (seeds property 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutionStatus {
    Queued,
    Running,
    Success,
    Failed,
    Partial,
    Timeout,
    Cancelled,
    Interrupted,
}

impl ExecutionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Queued => "queued",
            ExecutionStatus::Running => "running",
            ExecutionStatus::Success => "success",
            ExecutionStatus::Failed => "failed",
            ExecutionStatus::Partial => "partial",
            ExecutionStatus::Timeout => "timeout",
            ExecutionStatus::Cancelled => "cancelled",
            ExecutionStatus::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> Option<ExecutionStatus> {
        use ExecutionStatus::*;
        [
            Queued,
            Running,
            Success,
            Failed,
            Partial,
            Timeout,
            Cancelled,
            Interrupted,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }

    pub fn is_terminal(self) -> bool {
        !matches!(self, ExecutionStatus::Queued | ExecutionStatus::Running)
    }

    /// The overall status from the node statuses (seeds properties 45–46): all
    /// succeeded → success; a cancel → cancelled; every node timed out → timeout;
    /// some succeeded and some not → partial; none succeeded → failed.
    pub fn from_nodes(statuses: &[NodeStatus], cancel_requested: bool) -> ExecutionStatus {
        let ok = statuses
            .iter()
            .filter(|s| **s == NodeStatus::Success)
            .count();
        if cancel_requested && statuses.contains(&NodeStatus::Cancelled) {
            return ExecutionStatus::Cancelled;
        }
        if ok == statuses.len() {
            ExecutionStatus::Success
        } else if statuses.iter().all(|s| *s == NodeStatus::Timeout) {
            ExecutionStatus::Timeout
        } else if ok > 0 {
            ExecutionStatus::Partial
        } else {
            ExecutionStatus::Failed
        }
    }
}

/// Counts behind progress gauges (seeds property 11).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub total: usize,
    /// Finished with success.
    pub completed: usize,
    /// Finished without success on their own: failed or timed out.
    pub failed: usize,
    /// Stopped by a cancel (also before they started): not a failure of the node,
    /// so never counted as one.
    #[serde(default)]
    pub cancelled: usize,
    /// Holding a slot: from the moment the node is dispatched until it finishes.
    pub running: usize,
}

impl Progress {
    /// Counts the statuses of every node of a run.
    pub fn of_statuses(statuses: impl IntoIterator<Item = NodeStatus>) -> Progress {
        let mut p = Progress::default();
        for s in statuses {
            p.total += 1;
            match s {
                NodeStatus::Pending => {}
                NodeStatus::Running => p.running += 1,
                NodeStatus::Success => p.completed += 1,
                NodeStatus::Failed | NodeStatus::Timeout => p.failed += 1,
                NodeStatus::Cancelled => p.cancelled += 1,
            }
        }
        p
    }

    pub fn finished(&self) -> usize {
        self.completed + self.failed + self.cancelled
    }
}

/// What one node did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeResult {
    pub node: String,
    pub status: NodeStatus,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub duration: Duration,
    pub attempts: u32,
    pub error: Option<NodeError>,
    /// Full text in debug mode (when it fit in memory), else a head/tail summary.
    pub stdout: String,
    pub stderr: String,
    pub stdout_bytes: u64,
    pub stderr_bytes: u64,
    /// True when `stdout`/`stderr` hold every byte the node printed.
    pub output_complete: bool,
    /// What a task printed as a JSON object (tasks and plan steps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
}

/// What a whole execution did; nodes in target order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionResult {
    pub id: ExecutionId,
    pub status: ExecutionStatus,
    pub started_at: i64,
    pub finished_at: i64,
    pub duration: Duration,
    pub nodes: Vec<NodeResult>,
}

impl ExecutionResult {
    pub fn node(&self, name: &str) -> Option<&NodeResult> {
        self.nodes.iter().find(|n| n.node == name)
    }

    /// Highest remote exit code, for `--max-exit` (clush -S). A node with no exit
    /// code (timeout, connection failure, signal) counts as 255, like ssh.
    pub fn max_exit_code(&self) -> i32 {
        self.nodes
            .iter()
            .map(|n| match (n.status, n.exit_code) {
                (NodeStatus::Success, _) => 0,
                (_, Some(c)) => c,
                _ => 255,
            })
            .max()
            .unwrap_or(0)
    }
}
