//! What crash recovery writes for a run whose owner died, the same on every backend:
//! an `interrupted` result and an `execution` journal entry for each node that has no
//! result, saying why.

use super::records::{EntryType, JournalEntry, Millis, NodeResultRecord, OutputMode};

/// Why a recovered node has no real result; kept in its result and journal entry.
const REASON: &str = "drover exited before this node finished";

/// A leftover candidate read from `executions`.
pub(crate) struct Unfinished {
    pub(crate) id: String,
    pub(crate) action: String,
    pub(crate) user: String,
    pub(crate) nodes: Vec<String>,
    pub(crate) owner_pid: i64,
    pub(crate) owner_start_time: i64,
}

pub(crate) fn interrupted_result(execution_id: &str, node: &str, now: Millis) -> NodeResultRecord {
    NodeResultRecord {
        execution_id: execution_id.to_string(),
        node: node.to_string(),
        status: "interrupted".to_string(),
        exit_code: None,
        signal: None,
        started_at: now,
        finished_at: now,
        duration_ms: 0,
        attempts: 0,
        error_category: None,
        error: Some(REASON.to_string()),
        output_mode: OutputMode::Summary,
        stdout: String::new(),
        stderr: String::new(),
        stdout_bytes: 0,
        stderr_bytes: 0,
        data: None,
    }
}

pub(crate) fn interrupted_entry(run: &Unfinished, node: &str, now: Millis) -> JournalEntry {
    JournalEntry {
        id: 0,
        node: node.to_string(),
        entry_type: EntryType::Execution,
        timestamp: now,
        user: run.user.clone(),
        action: run.action.clone(),
        status: Some("interrupted".to_string()),
        execution_id: Some(run.id.clone()),
        details: serde_json::json!({
            "reason": REASON,
            "owner_pid": run.owner_pid,
            "owner_start_time": run.owner_start_time,
        }),
    }
}
