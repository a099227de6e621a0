//! Mapping between records and table rows, shared by the writer thread, the queries and
//! crash recovery so each table is encoded in exactly one place.
//!
//! JSON fields are stored as text. Decoding never panics: a value this build cannot
//! read becomes [`StoreError::Corrupt`] naming the row and column.

use rusqlite::{Connection, Row, params};

use crate::store::error::StoreError;
use crate::store::records::{
    EntryType, ExecutionRecord, JournalEntry, NodeResultRecord, OutputMode, Stream,
};

/// Columns of `executions` in the order [`execution_from_row`] reads them.
pub(crate) const EXECUTION_COLUMNS: &str = "e.id, e.kind, e.action, e.target_expr, e.nodes, \
     e.user, e.correlation_id, e.status, e.started_at, e.finished_at, e.duration_ms, \
     e.success_count, e.failed_count, e.options, e.error, e.owner_pid, e.owner_start_time, \
     e.rerun_of";

/// Inserts or updates an execution by id and rewrites its target rows.
///
/// An upsert rather than `INSERT OR REPLACE`: a replace deletes the old row first, which
/// would cascade to the execution's node results and output chunks.
pub(crate) fn upsert_execution(conn: &Connection, e: &ExecutionRecord) -> rusqlite::Result<()> {
    let nodes = serde_json::Value::from(e.nodes.clone()).to_string();
    conn.prepare_cached(
        "INSERT INTO executions (id, kind, action, target_expr, nodes, user, correlation_id,
             status, started_at, finished_at, duration_ms, success_count, failed_count,
             options, error, owner_pid, owner_start_time, rerun_of)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
             ?18)
         ON CONFLICT (id) DO UPDATE SET
             kind = excluded.kind, action = excluded.action,
             target_expr = excluded.target_expr, nodes = excluded.nodes,
             user = excluded.user, correlation_id = excluded.correlation_id,
             status = excluded.status, started_at = excluded.started_at,
             finished_at = excluded.finished_at, duration_ms = excluded.duration_ms,
             success_count = excluded.success_count, failed_count = excluded.failed_count,
             options = excluded.options, error = excluded.error,
             owner_pid = excluded.owner_pid, owner_start_time = excluded.owner_start_time,
             rerun_of = excluded.rerun_of",
    )?
    .execute(params![
        e.id,
        e.kind,
        e.action,
        e.target_expr,
        nodes,
        e.user,
        e.correlation_id,
        e.status,
        e.started_at,
        e.finished_at,
        e.duration_ms,
        e.success_count,
        e.failed_count,
        e.options.to_string(),
        e.error,
        e.owner_pid,
        e.owner_start_time,
        e.rerun_of,
    ])?;
    conn.prepare_cached("DELETE FROM execution_targets WHERE execution_id = ?1")?
        .execute([&e.id])?;
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO execution_targets (execution_id, node, started_at)
         VALUES (?1, ?2, ?3)",
    )?;
    for node in &e.nodes {
        insert.execute(params![e.id, node, e.started_at])?;
    }
    Ok(())
}

/// Inserts or replaces a node result by `(execution_id, node)`.
pub(crate) fn put_node_result(conn: &Connection, r: &NodeResultRecord) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO node_results (execution_id, node, status, exit_code, signal,
             started_at, finished_at, duration_ms, attempts, error_category, error,
             output_mode, stdout, stderr, stdout_bytes, stderr_bytes, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?
    .execute(params![
        r.execution_id,
        r.node,
        r.status,
        r.exit_code,
        r.signal,
        r.started_at,
        r.finished_at,
        r.duration_ms,
        r.attempts,
        r.error_category,
        r.error,
        output_mode_str(r.output_mode),
        r.stdout,
        r.stderr,
        r.stdout_bytes,
        r.stderr_bytes,
        r.data.as_ref().map(|d| d.to_string()),
    ])?;
    Ok(())
}

/// Appends a journal entry; the entry's own `id` is ignored, the database assigns one.
pub(crate) fn insert_journal(conn: &Connection, j: &JournalEntry) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO journal (node, entry_type, ts, user, action, status, execution_id, details)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        j.node,
        j.entry_type.as_str(),
        j.timestamp,
        j.user,
        j.action,
        j.status,
        j.execution_id,
        j.details.to_string(),
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Appends a chunk after the node's last one.
const INSERT_CHUNK: &str =
    "INSERT INTO output_chunks (execution_id, node, seq, stream, data, encoding)
     VALUES (?1, ?2,
         (SELECT COALESCE(MAX(seq) + 1, 0) FROM output_chunks
          WHERE execution_id = ?1 AND node = ?2),
         ?3, ?4, ?5)";

/// Appends a debug-mode output chunk with the next sequence number for its node,
/// compressed when that saves room (see `chunk_codec`).
pub(crate) fn insert_chunk(
    conn: &Connection,
    execution_id: &str,
    node: &str,
    stream: Stream,
    data: &[u8],
) -> rusqlite::Result<()> {
    let stored = crate::store::chunk_codec::encode(data);
    conn.prepare_cached(INSERT_CHUNK)?.execute(params![
        execution_id,
        node,
        stream.as_str(),
        stored.data,
        stored.encoding
    ])?;
    Ok(())
}

/// Reads a row selected with [`EXECUTION_COLUMNS`].
pub(crate) fn execution_from_row(row: &Row<'_>) -> Result<ExecutionRecord, StoreError> {
    let id: String = row.get(0)?;
    let nodes_text: String = row.get(4)?;
    let nodes = serde_json::from_str(&nodes_text)
        .map_err(|e| corrupt(format!("node list of execution {id}"), e))?;
    let options_text: String = row.get(13)?;
    let options = serde_json::from_str(&options_text)
        .map_err(|e| corrupt(format!("options of execution {id}"), e))?;
    Ok(ExecutionRecord {
        kind: row.get(1)?,
        action: row.get(2)?,
        target_expr: row.get(3)?,
        nodes,
        user: row.get(5)?,
        correlation_id: row.get(6)?,
        status: row.get(7)?,
        started_at: row.get(8)?,
        finished_at: row.get(9)?,
        duration_ms: row.get(10)?,
        success_count: row.get(11)?,
        failed_count: row.get(12)?,
        options,
        error: row.get(14)?,
        owner_pid: row.get(15)?,
        owner_start_time: row.get(16)?,
        rerun_of: row.get(17)?,
        id,
    })
}

/// Columns of `node_results` in the order [`node_result_from_row`] reads them.
pub(crate) const NODE_RESULT_COLUMNS: &str = "execution_id, node, status, exit_code, signal, \
     started_at, finished_at, duration_ms, attempts, error_category, error, output_mode, \
     stdout, stderr, stdout_bytes, stderr_bytes, data";

pub(crate) fn node_result_from_row(row: &Row<'_>) -> Result<NodeResultRecord, StoreError> {
    let execution_id: String = row.get(0)?;
    let node: String = row.get(1)?;
    let what = |field: &str| format!("{field} of node {node} in execution {execution_id}");
    let mode: String = row.get(11)?;
    let output_mode = match mode.as_str() {
        "full" => OutputMode::Full,
        "summary" => OutputMode::Summary,
        other => return Err(unknown(what("output mode"), other)),
    };
    let data = match row.get::<_, Option<String>>(16)? {
        Some(text) => Some(serde_json::from_str(&text).map_err(|e| corrupt(what("data"), e))?),
        None => None,
    };
    Ok(NodeResultRecord {
        status: row.get(2)?,
        exit_code: row.get(3)?,
        signal: row.get(4)?,
        started_at: row.get(5)?,
        finished_at: row.get(6)?,
        duration_ms: row.get(7)?,
        attempts: row.get(8)?,
        error_category: row.get(9)?,
        error: row.get(10)?,
        output_mode,
        stdout: row.get(12)?,
        stderr: row.get(13)?,
        stdout_bytes: row.get(14)?,
        stderr_bytes: row.get(15)?,
        data,
        execution_id,
        node,
    })
}

/// Columns of `journal` in the order [`journal_from_row`] reads them.
pub(crate) const JOURNAL_COLUMNS: &str =
    "id, node, entry_type, ts, user, action, status, execution_id, details";

pub(crate) fn journal_from_row(row: &Row<'_>) -> Result<JournalEntry, StoreError> {
    let id: i64 = row.get(0)?;
    let type_text: String = row.get(2)?;
    let entry_type = EntryType::parse(&type_text)
        .ok_or_else(|| unknown(format!("type of journal entry {id}"), &type_text))?;
    let details_text: String = row.get(8)?;
    let details = serde_json::from_str(&details_text)
        .map_err(|e| corrupt(format!("details of journal entry {id}"), e))?;
    Ok(JournalEntry {
        id,
        node: row.get(1)?,
        entry_type,
        timestamp: row.get(3)?,
        user: row.get(4)?,
        action: row.get(5)?,
        status: row.get(6)?,
        execution_id: row.get(7)?,
        details,
    })
}

pub(crate) fn parse_stream(
    text: &str,
    what: impl FnOnce() -> String,
) -> Result<Stream, StoreError> {
    Stream::parse(text).ok_or_else(|| unknown(what(), text))
}

fn output_mode_str(mode: OutputMode) -> &'static str {
    match mode {
        OutputMode::Full => "full",
        OutputMode::Summary => "summary",
    }
}

fn corrupt(what: String, err: serde_json::Error) -> StoreError {
    StoreError::Corrupt {
        what,
        reason: format!("invalid JSON: {err}"),
    }
}

fn unknown(what: String, value: &str) -> StoreError {
    StoreError::Corrupt {
        what,
        reason: format!("unknown value '{value}'"),
    }
}

#[cfg(test)]
mod tests {
    use crate::store::records::Stream;
    use rusqlite::StatementStatus;

    /// The chunk insert is compiled once per connection, not once per chunk (it
    /// was, for every chunk of every `--debug` run: see `connection::open`).
    #[test]
    fn the_chunk_insert_is_not_recompiled_on_every_use() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("drover.db");
        let mut conn = super::super::connection::open(&path).expect("open");
        super::super::schema::migrate(&mut conn, &path).expect("migrate");
        conn.execute(
            "INSERT INTO executions (id, kind, action, target_expr, nodes, user, \
             correlation_id, status, started_at, success_count, failed_count, options, \
             owner_pid, owner_start_time) \
             VALUES ('e', 'command', 'true', 'n', '[]', 'u', 'c', 'running', 0, 0, 0, '{}', 0, 0)",
            [],
        )
        .expect("execution");
        for i in 0..50 {
            let node = format!("n{}", i % 7);
            super::insert_chunk(&conn, "e", &node, Stream::Stdout, b"out\n").expect("chunk");
        }
        let stmt = conn.prepare_cached(super::INSERT_CHUNK).expect("cached");
        assert_eq!(stmt.get_status(StatementStatus::RePrepare), 0);
        let seqs: i64 = conn
            .query_row(
                "SELECT COUNT(DISTINCT node || '/' || seq) FROM output_chunks",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(seqs, 50, "every chunk has its own sequence number");
    }
}
