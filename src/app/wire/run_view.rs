//! What `GET /v1/runs` and `GET /v1/runs/{id}` answer: the engine's snapshot of
//! a run, and its result once it has ended. Durations are milliseconds.

use serde::{Deserialize, Serialize};

use crate::engine::{
    ExecutionResult, ExecutionSnapshot, ExecutionStatus, NodeError, NodeStatus, Progress,
};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunView {
    pub id: String,
    /// The command (or task, or plan step) as the run names it.
    pub action: String,
    pub targets: String,
    pub user: String,
    pub status: ExecutionStatus,
    /// Milliseconds since the epoch.
    pub started_at: i64,
    pub elapsed_ms: u64,
    pub progress: Progress,
    pub nodes: Vec<NodeView>,
    /// Set once the run has ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ResultView>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeView {
    pub node: String,
    pub status: NodeStatus,
    pub exit_code: Option<i32>,
    pub duration_ms: Option<u64>,
    pub attempts: u32,
    pub error: Option<NodeError>,
    pub stdout_bytes: u64,
    pub stderr_bytes: u64,
}

/// How a run ended, per node: the output kept (all of it with `debug`, else the
/// first and last lines).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResultView {
    pub status: ExecutionStatus,
    pub duration_ms: u64,
    /// The highest exit code (255 for a node without one), as `--max-exit` uses.
    pub max_exit_code: i32,
    pub nodes: Vec<NodeResultView>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeResultView {
    pub node: String,
    pub status: NodeStatus,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub duration_ms: u64,
    pub attempts: u32,
    pub error: Option<NodeError>,
    pub stdout: String,
    pub stderr: String,
    pub output_complete: bool,
}

fn ms(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl RunView {
    pub fn of(s: &ExecutionSnapshot, result: Option<&ExecutionResult>) -> RunView {
        RunView {
            id: s.id.0.clone(),
            action: s.action.clone(),
            targets: s.targets.clone(),
            user: s.user.clone(),
            status: s.status,
            started_at: s.started_at,
            elapsed_ms: ms(s.elapsed),
            progress: s.progress,
            nodes: s
                .nodes
                .iter()
                .map(|n| NodeView {
                    node: n.name.clone(),
                    status: n.status,
                    exit_code: n.exit_code,
                    duration_ms: n.duration.map(ms),
                    attempts: n.attempts,
                    error: n.error.clone(),
                    stdout_bytes: n.stdout_bytes,
                    stderr_bytes: n.stderr_bytes,
                })
                .collect(),
            result: result.map(ResultView::of),
        }
    }
}

impl ResultView {
    pub fn of(r: &ExecutionResult) -> ResultView {
        ResultView {
            status: r.status,
            duration_ms: ms(r.duration),
            max_exit_code: r.max_exit_code(),
            nodes: r
                .nodes
                .iter()
                .map(|n| NodeResultView {
                    node: n.node.clone(),
                    status: n.status,
                    exit_code: n.exit_code,
                    signal: n.signal,
                    duration_ms: ms(n.duration),
                    attempts: n.attempts,
                    error: n.error.clone(),
                    stdout: n.stdout.clone(),
                    stderr: n.stderr.clone(),
                    output_complete: n.output_complete,
                })
                .collect(),
        }
    }
}
