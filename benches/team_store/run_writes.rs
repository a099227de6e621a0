//! The writes of one finished 10-node `true` run, as the engine sends them.
//!
//! Counted from the engine's code (`engine/executor/{mod,record,journal}.rs`,
//! `engine/report/event_record.rs`):
//! - 3 execution upserts: queued (followed by a flush before any node starts,
//!   as `submit` does), running, finished;
//! - per node: its result, its journal entry, and the events `node_started`,
//!   `node_finished`, `journal_appended` (`true` prints nothing, so no
//!   `node_output` summary);
//! - the events `execution_queued`, `execution_started`, `execution_finished`;
//! - a flush at the end, as `drover run` does before it exits.
//!
//! That is 56 ops and 2 flushes for 10 nodes (3 + 10 + 10 + 33 events).

use std::sync::atomic::{AtomicU64, Ordering};

use drover::engine::ExecutionId;
use drover::engine::common::ids::now_millis;
use drover::store::*;
use serde_json::json;

pub const NODES_PER_RUN: usize = 10;
/// Ops one run sends (see the module doc).
pub const OPS_PER_RUN: usize = 3 + 2 * NODES_PER_RUN + 3 + 3 * NODES_PER_RUN;

/// Unique run ids across every writer of the process.
static RUNS: AtomicU64 = AtomicU64::new(0);

/// One run's identity and the parts every record repeats.
pub struct Run {
    id: String,
    user: String,
    started_at: Millis,
    nodes: Vec<String>,
}

impl Run {
    /// A new run by `user` on nodes `node-W-00`..`node-W-09` of writer `w`.
    pub fn new(writer: usize) -> Run {
        let n = RUNS.fetch_add(1, Ordering::Relaxed);
        let started_at = now_millis();
        Run {
            id: ExecutionId::at(started_at, n).0,
            user: format!("user{:02}", writer % 10),
            started_at,
            nodes: (0..NODES_PER_RUN)
                .map(|k| format!("web-{writer}-{k:02}"))
                .collect(),
        }
    }

    fn execution(&self, status: &str) -> ExecutionRecord {
        let finished = matches!(status, "success").then(now_millis);
        ExecutionRecord {
            id: self.id.clone(),
            kind: "command".into(),
            action: "true".into(),
            target_expr: "role:web".into(),
            nodes: self.nodes.clone(),
            user: self.user.clone(),
            correlation_id: format!("corr-{}", self.id),
            status: status.into(),
            started_at: self.started_at,
            finished_at: finished,
            duration_ms: finished.map(|f| f - self.started_at),
            success_count: if finished.is_some() {
                NODES_PER_RUN as i64
            } else {
                0
            },
            failed_count: 0,
            options: json!({"timeout": null, "fanout": 50, "mode": "parallel", "retries": 0,
                            "debug": false, "env": {}, "priority": "normal"}),
            error: None,
            owner_pid: i64::from(std::process::id()),
            owner_start_time: 1,
            rerun_of: None,
        }
    }

    fn event(&self, kind: &str, node: Option<&str>, body: serde_json::Value) -> WriteOp {
        WriteOp::Event(EventRecord {
            seq: 0,
            ts: now_millis(),
            kind: kind.into(),
            execution: Some(self.id.clone()),
            node: node.map(str::to_string),
            user: Some(self.user.clone()),
            pid: i64::from(std::process::id()),
            body,
        })
    }

    /// Up to the first flush: the queued row (committed before nodes start).
    pub fn queued(&self) -> Vec<WriteOp> {
        vec![WriteOp::UpsertExecution(self.execution("queued"))]
    }

    /// Everything after the first flush, in the engine's order.
    pub fn rest(&self) -> Vec<WriteOp> {
        let mut ops = Vec::with_capacity(OPS_PER_RUN - 1);
        ops.push(self.event(
            "execution_queued",
            None,
            json!({"action": "true", "nodes": self.nodes, "correlation_id": format!("corr-{}", self.id)}),
        ));
        ops.push(WriteOp::UpsertExecution(self.execution("running")));
        ops.push(self.event("execution_started", None, json!({"total": NODES_PER_RUN})));
        for node in &self.nodes {
            ops.push(self.event("node_started", Some(node), json!({"attempt": 1})));
        }
        for (done, node) in self.nodes.iter().enumerate() {
            let now = now_millis();
            ops.push(WriteOp::NodeResult(NodeResultRecord {
                execution_id: self.id.clone(),
                node: node.clone(),
                status: "success".into(),
                exit_code: Some(0),
                signal: None,
                started_at: now - 3,
                finished_at: now,
                duration_ms: 3,
                attempts: 1,
                error_category: None,
                error: None,
                output_mode: OutputMode::Summary,
                stdout: String::new(),
                stderr: String::new(),
                stdout_bytes: 0,
                stderr_bytes: 0,
                data: None,
            }));
            ops.push(WriteOp::Journal(JournalEntry {
                id: 0,
                node: node.clone(),
                entry_type: EntryType::Execution,
                timestamp: now,
                user: self.user.clone(),
                action: "true".into(),
                status: Some("success".into()),
                execution_id: Some(self.id.clone()),
                details: json!({"exit_code": 0, "duration_ms": 3, "attempts": 1,
                                "error": null, "correlation_id": format!("corr-{}", self.id)}),
            }));
            let progress = json!({"total": NODES_PER_RUN, "completed": done + 1, "failed": 0,
                                  "cancelled": 0, "running": NODES_PER_RUN - done - 1});
            ops.push(self.event(
                "node_finished",
                Some(node),
                json!({"status": "success", "exit_code": 0, "duration_ms": 3,
                       "error": null, "progress": progress}),
            ));
            ops.push(self.event(
                "journal_appended",
                Some(node),
                json!({"entry_type": "execution"}),
            ));
        }
        ops.push(WriteOp::UpsertExecution(self.execution("success")));
        ops.push(self.event(
            "execution_finished",
            None,
            json!({"status": "success", "duration_ms": now_millis() - self.started_at,
                   "progress": {"total": NODES_PER_RUN, "completed": NODES_PER_RUN,
                                "failed": 0, "cancelled": 0, "running": 0}}),
        ));
        debug_assert_eq!(ops.len(), OPS_PER_RUN - 1);
        ops
    }
}

/// One run from start to end on `writer`, flushing where the engine does.
pub fn write_run(writer: &StoreWriter, w: usize) -> Result<(), StoreError> {
    let run = Run::new(w);
    for op in run.queued() {
        writer.blocking_send(op)?;
    }
    writer.blocking_flush()?;
    for op in run.rest() {
        writer.blocking_send(op)?;
    }
    writer.blocking_flush()
}
