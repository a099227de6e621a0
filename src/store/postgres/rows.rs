//! Decoding PostgreSQL rows of executions, node results and journal entries into
//! records, each table in one place (writes are in `bulk`).
//!
//! JSON is stored as text, as in SQLite; integers are BIGINT. Decoding never panics: a
//! value this build cannot read becomes [`StoreError::Corrupt`].

use postgres::Row;

use crate::store::error::StoreError;
use crate::store::records::{
    EntryType, ExecutionRecord, JournalEntry, NodeResultRecord, OutputMode,
};

/// Columns of `executions` (aliased `e`) in the order [`execution_from_row`] reads them.
pub(crate) const EXECUTION_COLUMNS: &str = "e.id, e.kind, e.action, e.target_expr, e.nodes, \
     e.\"user\", e.correlation_id, e.status, e.started_at, e.finished_at, e.duration_ms, \
     e.success_count, e.failed_count, e.options, e.error, e.owner_pid, e.owner_start_time, \
     e.rerun_of";

/// Reads a row selected with [`EXECUTION_COLUMNS`].
pub(crate) fn execution_from_row(row: &Row) -> Result<ExecutionRecord, StoreError> {
    let id: String = row.try_get(0)?;
    let nodes_text: String = row.try_get(4)?;
    let nodes = serde_json::from_str(&nodes_text)
        .map_err(|e| corrupt(format!("node list of execution {id}"), e))?;
    let options_text: String = row.try_get(13)?;
    let options = serde_json::from_str(&options_text)
        .map_err(|e| corrupt(format!("options of execution {id}"), e))?;
    Ok(ExecutionRecord {
        kind: row.try_get(1)?,
        action: row.try_get(2)?,
        target_expr: row.try_get(3)?,
        nodes,
        user: row.try_get(5)?,
        correlation_id: row.try_get(6)?,
        status: row.try_get(7)?,
        started_at: row.try_get(8)?,
        finished_at: row.try_get(9)?,
        duration_ms: row.try_get(10)?,
        success_count: row.try_get(11)?,
        failed_count: row.try_get(12)?,
        options,
        error: row.try_get(14)?,
        owner_pid: row.try_get(15)?,
        owner_start_time: row.try_get(16)?,
        rerun_of: row.try_get(17)?,
        id,
    })
}

/// Columns of `node_results` in the order [`node_result_from_row`] reads them.
pub(crate) const NODE_RESULT_COLUMNS: &str = "execution_id, node, status, exit_code, signal, \
     started_at, finished_at, duration_ms, attempts, error_category, error, output_mode, \
     stdout, stderr, stdout_bytes, stderr_bytes, data";

pub(crate) fn node_result_from_row(row: &Row) -> Result<NodeResultRecord, StoreError> {
    let execution_id: String = row.try_get(0)?;
    let node: String = row.try_get(1)?;
    let what = |field: &str| format!("{field} of node {node} in execution {execution_id}");
    let mode: String = row.try_get(11)?;
    let output_mode = match mode.as_str() {
        "full" => OutputMode::Full,
        "summary" => OutputMode::Summary,
        other => return Err(unknown(what("output mode"), other)),
    };
    let data = match row.try_get::<_, Option<String>>(16)? {
        Some(text) => Some(serde_json::from_str(&text).map_err(|e| corrupt(what("data"), e))?),
        None => None,
    };
    let small = |value: Option<i64>, field: &str| -> Result<Option<i32>, StoreError> {
        value
            .map(|v| i32::try_from(v).map_err(|_| unknown(what(field), &v.to_string())))
            .transpose()
    };
    Ok(NodeResultRecord {
        status: row.try_get(2)?,
        exit_code: small(row.try_get(3)?, "exit code")?,
        signal: small(row.try_get(4)?, "signal")?,
        started_at: row.try_get(5)?,
        finished_at: row.try_get(6)?,
        duration_ms: row.try_get(7)?,
        attempts: row.try_get(8)?,
        error_category: row.try_get(9)?,
        error: row.try_get(10)?,
        output_mode,
        stdout: row.try_get(12)?,
        stderr: row.try_get(13)?,
        stdout_bytes: row.try_get(14)?,
        stderr_bytes: row.try_get(15)?,
        data,
        execution_id,
        node,
    })
}

/// Columns of `journal` in the order [`journal_from_row`] reads them.
pub(crate) const JOURNAL_COLUMNS: &str =
    "id, node, entry_type, ts, \"user\", action, status, execution_id, details";

pub(crate) fn journal_from_row(row: &Row) -> Result<JournalEntry, StoreError> {
    let id: i64 = row.try_get(0)?;
    let type_text: String = row.try_get(2)?;
    let entry_type = EntryType::parse(&type_text)
        .ok_or_else(|| unknown(format!("type of journal entry {id}"), &type_text))?;
    let details_text: String = row.try_get(8)?;
    let details = serde_json::from_str(&details_text)
        .map_err(|e| corrupt(format!("details of journal entry {id}"), e))?;
    Ok(JournalEntry {
        id,
        node: row.try_get(1)?,
        entry_type,
        timestamp: row.try_get(3)?,
        user: row.try_get(4)?,
        action: row.try_get(5)?,
        status: row.try_get(6)?,
        execution_id: row.try_get(7)?,
        details,
    })
}

pub(crate) fn output_mode_str(mode: OutputMode) -> &'static str {
    match mode {
        OutputMode::Full => "full",
        OutputMode::Summary => "summary",
    }
}

pub(crate) fn corrupt(what: String, err: serde_json::Error) -> StoreError {
    StoreError::Corrupt {
        what,
        reason: format!("invalid JSON: {err}"),
    }
}

pub(crate) fn unknown(what: String, value: &str) -> StoreError {
    StoreError::Corrupt {
        what,
        reason: format!("unknown value '{value}'"),
    }
}
