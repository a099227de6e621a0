//! Turns what the executor learns into store records: the execution's history row,
//! each node's result and one journal entry per affected node (seeds 11.1, 11.7,
//! 11.10–11.11). Output is stored in full in debug mode, summarised otherwise.

use crate::engine::EngineConfig;
use crate::engine::ExecutionState;
use crate::engine::common::ids::now_millis;
use crate::engine::report::result::{ExecutionStatus, NodeResult, NodeStatus};
use crate::engine::secrets::{REDACTED, redact};
use crate::store::{EntryType, ExecutionRecord, JournalEntry, NodeResultRecord, OutputMode};

/// Which node results of an execution become journal entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JournalLevel {
    #[default]
    All,
    Failures,
    None,
}

/// Which entry types and results are journaled, for the nodes of one transport
/// (seeds requirements 11.8–11.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalRule {
    pub types: Vec<EntryType>,
    pub level: JournalLevel,
}

impl Default for JournalRule {
    fn default() -> Self {
        JournalRule {
            types: EntryType::ALL.to_vec(),
            level: JournalLevel::All,
        }
    }
}

impl JournalRule {
    /// Whether a node result of this type (and outcome) is journaled.
    pub fn records(&self, entry_type: EntryType, succeeded: bool) -> bool {
        self.types.contains(&entry_type)
            && match self.level {
                JournalLevel::All => true,
                JournalLevel::Failures => !succeeded,
                JournalLevel::None => false,
            }
    }
}

/// Whether a node result of this transport and status gets an execution entry.
pub(crate) fn journaled(
    config: &EngineConfig,
    transport: &str,
    entry_type: EntryType,
    status: NodeStatus,
) -> bool {
    config
        .journal_by_transport
        .get(transport)
        .unwrap_or(&config.journal)
        .records(entry_type, status == NodeStatus::Success)
}

/// The options as history keeps them: secret env values replaced.
fn stored_options(state: &ExecutionState) -> serde_json::Value {
    let mut options = state.request.options.clone();
    for (k, v) in options.env.iter_mut() {
        *v = if options.secret_env.contains(k) || state.secret_names.contains(k) {
            REDACTED.to_string()
        } else {
            redact(v, &state.secrets)
        };
    }
    options.secret_values.clear();
    let mut value = serde_json::to_value(&options).unwrap_or_default();
    // A task's name and (redacted) parameters, so the run can be repeated.
    if state.label.kind == "task"
        && let Some(map) = value.as_object_mut()
    {
        map.insert(
            "task".into(),
            serde_json::Value::Object(state.label.details.clone()),
        );
    }
    value
}

pub(crate) fn execution_record(state: &ExecutionState, status: ExecutionStatus) -> ExecutionRecord {
    let (ok, failed) = state.counts();
    let finished = status.is_terminal().then(now_millis);
    ExecutionRecord {
        id: state.id.0.clone(),
        kind: state.label.kind.clone(),
        action: state.action.clone(),
        target_expr: state.request.targets.clone(),
        nodes: state.nodes.iter().map(|n| n.name.clone()).collect(),
        user: state.context.user.clone(),
        correlation_id: state.context.correlation_id.clone(),
        status: status.as_str().into(),
        started_at: state.started_at,
        finished_at: finished,
        duration_ms: finished.map(|f| f - state.started_at),
        success_count: ok as i64,
        failed_count: failed as i64,
        options: stored_options(state),
        error: None,
        owner_pid: std::process::id() as i64,
        owner_start_time: crate::store::process_start_time(std::process::id() as i64).unwrap_or(0),
        rerun_of: state.label.rerun.as_ref().map(|r| r.execution.clone()),
    }
}

pub(crate) fn node_record(
    state: &ExecutionState,
    r: &NodeResult,
    started_at: i64,
) -> NodeResultRecord {
    NodeResultRecord {
        execution_id: state.id.0.clone(),
        node: r.node.clone(),
        status: r.status.as_str().into(),
        exit_code: r.exit_code,
        signal: r.signal,
        started_at,
        finished_at: started_at + r.duration.as_millis() as i64,
        duration_ms: r.duration.as_millis() as i64,
        attempts: r.attempts as i64,
        error_category: r.error.as_ref().map(|e| e.category.as_str().to_string()),
        error: r.error.as_ref().map(|e| redact(&e.reason, &state.secrets)),
        output_mode: if state.request.options.debug {
            OutputMode::Full
        } else {
            OutputMode::Summary
        },
        stdout: r.stdout.clone(),
        stderr: r.stderr.clone(),
        stdout_bytes: r.stdout_bytes as i64,
        stderr_bytes: r.stderr_bytes as i64,
        data: None,
    }
}

pub(crate) fn node_journal_entry(state: &ExecutionState, r: &NodeResult) -> JournalEntry {
    JournalEntry {
        id: 0,
        node: r.node.clone(),
        entry_type: state.label.entry_type,
        timestamp: now_millis(),
        user: state.context.user.clone(),
        action: state.action.clone(),
        status: Some(r.status.as_str().into()),
        execution_id: Some(state.id.0.clone()),
        details: details(state, r),
    }
}

fn details(state: &ExecutionState, r: &NodeResult) -> serde_json::Value {
    let mut d = serde_json::json!({
        "exit_code": r.exit_code,
        "duration_ms": r.duration.as_millis() as u64,
        "attempts": r.attempts,
        "error": r.error.as_ref().map(|e| redact(&e.to_string(), &state.secrets)),
        "correlation_id": state.context.correlation_id,
    });
    if let Some(map) = d.as_object_mut() {
        if let Some(v) = &r.value {
            map.insert("value".into(), v.clone());
        }
        for (k, v) in &state.label.details {
            map.insert(k.clone(), v.clone());
        }
    }
    d
}
