//! Reads. They block, run on the store's read connection (one at a time, behind a
//! mutex) and never wait for the writer: WAL lets readers see the last commit while a
//! write is in progress. Async callers should wrap them in `spawn_blocking`.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::SqliteBackend;
use super::rows::{self, EXECUTION_COLUMNS, JOURNAL_COLUMNS, NODE_RESULT_COLUMNS};
use crate::store::answers::{MAX_CANDIDATES, only_match};
use crate::store::error::StoreError;
use crate::store::records::{
    EntryType, ExecutionRecord, HistoryFilter, IdCandidate, JournalEntry, NodeResultRecord, Stream,
};

impl SqliteBackend {
    /// Executions matching every set field of `filter`, newest first (ties by id,
    /// descending). `since`/`until` bound `started_at` inclusively.
    pub fn history(&self, filter: &HistoryFilter) -> Result<Vec<ExecutionRecord>, StoreError> {
        let (sql, args) = history_sql(filter);
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_and_then(params_from_iter(args), rows::execution_from_row)?;
        rows.collect()
    }

    /// The execution with this exact id, or else the only one whose id starts with it
    /// (like git). `Ok(None)` if nothing matches or the prefix is empty; an ambiguous
    /// prefix is [`StoreError::Ambiguous`]. Node results come sorted by node name.
    pub fn execution(
        &self,
        id_or_prefix: &str,
    ) -> Result<Option<(ExecutionRecord, Vec<NodeResultRecord>)>, StoreError> {
        if id_or_prefix.is_empty() {
            return Ok(None);
        }
        let conn = self.reader();
        let Some(id) = resolve_id(&conn, id_or_prefix)? else {
            return Ok(None);
        };
        let sql = format!("SELECT {EXECUTION_COLUMNS} FROM executions e WHERE e.id = ?1");
        let Some(record) = conn
            .prepare_cached(&sql)?
            .query_and_then([&id], rows::execution_from_row)?
            .next()
            .transpose()?
        else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT {NODE_RESULT_COLUMNS} FROM node_results WHERE execution_id = ?1 ORDER BY node"
        );
        let results = conn
            .prepare_cached(&sql)?
            .query_and_then([&id], rows::node_result_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some((record, results)))
    }

    /// Debug-mode output of one node, chunk by chunk in the order it was written.
    pub fn full_output(
        &self,
        execution_id: &str,
        node: &str,
    ) -> Result<Vec<(Stream, Vec<u8>)>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT stream, data, encoding, seq FROM output_chunks
             WHERE execution_id = ?1 AND node = ?2 ORDER BY seq",
        )?;
        let chunks = stmt.query_and_then(params![execution_id, node], |row| {
            let text: String = row.get(0)?;
            let stream = rows::parse_stream(&text, || {
                format!("stream of an output chunk of node {node} in execution {execution_id}")
            })?;
            let encoding: String = row.get(2)?;
            let seq: i64 = row.get(3)?;
            let data =
                crate::store::chunk_codec::decode(&encoding, row.get(1)?).map_err(|reason| {
                    StoreError::Corrupt {
                        what: format!(
                            "output chunk {seq} of node {node} in execution {execution_id}"
                        ),
                        reason,
                    }
                })?;
            Ok::<_, StoreError>((stream, data))
        })?;
        chunks.collect()
    }

    /// A node's journal, newest first (by timestamp, then id). Empty `types` means all.
    pub fn journal(
        &self,
        node: &str,
        types: &[EntryType],
        limit: Option<usize>,
    ) -> Result<Vec<JournalEntry>, StoreError> {
        let mut sql = format!("SELECT {JOURNAL_COLUMNS} FROM journal WHERE node = ?");
        let mut args = vec![Value::from(node.to_string())];
        if !types.is_empty() {
            let marks = vec!["?"; types.len()].join(", ");
            sql.push_str(&format!(" AND entry_type IN ({marks})"));
            args.extend(types.iter().map(|t| Value::from(t.as_str().to_string())));
        }
        sql.push_str(" ORDER BY ts DESC, id DESC LIMIT ?");
        args.push(Value::from(sql_limit(limit)));
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_and_then(params_from_iter(args), rows::journal_from_row)?;
        rows.collect()
    }
}

/// Builds the history query. With a target it is driven by `execution_targets`
/// (`CROSS JOIN` pins that join order) so it walks the node's `(node, started_at)` index
/// newest first and stops at the limit; without one, the planner picks among the
/// `executions` indexes, all of which end in `started_at, id`.
fn history_sql(f: &HistoryFilter) -> (String, Vec<Value>) {
    let columns = f.columns(EXECUTION_COLUMNS);
    let mut args = Vec::new();
    let (mut sql, time, order) = match &f.target {
        Some(node) => {
            args.push(Value::from(node.clone()));
            (
                format!(
                    "SELECT {columns} FROM execution_targets t \
                     CROSS JOIN executions e ON e.id = t.execution_id WHERE t.node = ?"
                ),
                "t.started_at",
                "t.started_at DESC, t.execution_id DESC",
            )
        }
        None => (
            format!("SELECT {columns} FROM executions e WHERE 1 = 1"),
            "e.started_at",
            "e.started_at DESC, e.id DESC",
        ),
    };
    if let Some(since) = f.since {
        sql.push_str(&format!(" AND {time} >= ?"));
        args.push(Value::from(since));
    }
    if let Some(until) = f.until {
        sql.push_str(&format!(" AND {time} <= ?"));
        args.push(Value::from(until));
    }
    if let Some(user) = &f.user {
        sql.push_str(" AND e.user = ?");
        args.push(Value::from(user.clone()));
    }
    if let Some(status) = &f.status {
        sql.push_str(" AND e.status = ?");
        args.push(Value::from(status.clone()));
    }
    sql.push_str(&format!(" ORDER BY {order} LIMIT ?"));
    args.push(Value::from(sql_limit(f.limit)));
    (sql, args)
}

/// `LIMIT` value for an optional limit; SQLite reads a negative limit as "no limit".
fn sql_limit(limit: Option<usize>) -> i64 {
    limit.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX))
}

/// Resolves an exact id or a unique prefix to the full id.
fn resolve_id(conn: &Connection, id_or_prefix: &str) -> Result<Option<String>, StoreError> {
    let exact = conn
        .prepare_cached("SELECT id FROM executions WHERE id = ?1")?
        .query_row([id_or_prefix], |row| row.get::<_, String>(0))
        .optional()?;
    if exact.is_some() {
        return Ok(exact);
    }
    // Ids sharing the prefix sort right after it, so an index range scan finds them.
    let mut stmt = conn.prepare_cached(
        "SELECT id, started_at, action, status FROM executions WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let limit = i64::try_from(MAX_CANDIDATES + 1).unwrap_or(i64::MAX);
    let mut matches = Vec::new();
    let rows = stmt.query_map(params![id_or_prefix, limit], |row| {
        Ok(IdCandidate {
            id: row.get(0)?,
            started_at: row.get(1)?,
            action: row.get(2)?,
            status: row.get(3)?,
        })
    })?;
    for candidate in rows {
        let candidate = candidate?;
        if !candidate.id.starts_with(id_or_prefix) {
            break;
        }
        matches.push(candidate);
    }
    only_match(id_or_prefix, matches)
}
