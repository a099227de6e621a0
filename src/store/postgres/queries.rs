//! History reads in PostgreSQL: executions, their node results and output, and the
//! per-node journal.
//!
//! Ids and node names compare as SQLite compares text, byte by byte: `COLLATE "C"`
//! wherever text decides an order, so a database created with a natural-language
//! collation (where `web-2` sorts before `web1`) still lists things as SQLite does.

use postgres::GenericClient;
use postgres::types::ToSql;

use super::rows::{self, EXECUTION_COLUMNS, JOURNAL_COLUMNS, NODE_RESULT_COLUMNS};
use crate::store::answers::{MAX_CANDIDATES, only_match};
use crate::store::chunk_codec;
use crate::store::error::StoreError;
use crate::store::records::{
    EntryType, ExecutionRecord, HistoryFilter, IdCandidate, JournalEntry, NodeResultRecord, Stream,
};

/// Executions matching every set field of `filter`, newest first (ties by id,
/// descending). `since`/`until` bound `started_at` inclusively.
///
/// With a target the query is driven by `execution_targets` (the node's runs, newest
/// first); without, by `executions`. The id tie-break sorts only rows of equal
/// `started_at` (an incremental sort over the time index), so `LIMIT` still stops early.
pub(crate) fn history(
    client: &mut impl GenericClient,
    f: &HistoryFilter,
) -> Result<Vec<ExecutionRecord>, StoreError> {
    let columns = f.columns(EXECUTION_COLUMNS);
    let mut args: Vec<&(dyn ToSql + Sync)> = Vec::new();
    let (mut sql, time, order) = match &f.target {
        Some(node) => {
            args.push(node);
            (
                format!(
                    "SELECT {columns} FROM execution_targets t \
                     JOIN executions e ON e.id = t.execution_id WHERE t.node = $1"
                ),
                "t.started_at",
                "t.started_at DESC, t.execution_id COLLATE \"C\" DESC",
            )
        }
        None => (
            format!("SELECT {columns} FROM executions e WHERE TRUE"),
            "e.started_at",
            "e.started_at DESC, e.id COLLATE \"C\" DESC",
        ),
    };
    if let Some(since) = &f.since {
        args.push(since);
        sql.push_str(&format!(" AND {time} >= ${}", args.len()));
    }
    if let Some(until) = &f.until {
        args.push(until);
        sql.push_str(&format!(" AND {time} <= ${}", args.len()));
    }
    if let Some(user) = &f.user {
        args.push(user);
        sql.push_str(&format!(" AND e.\"user\" = ${}", args.len()));
    }
    if let Some(status) = &f.status {
        args.push(status);
        sql.push_str(&format!(" AND e.status = ${}", args.len()));
    }
    // NULL is no limit, as SQLite's -1.
    let limit = sql_limit(f.limit);
    args.push(&limit);
    sql.push_str(&format!(" ORDER BY {order} LIMIT ${}", args.len()));
    let rows = client.query(&sql, &args)?;
    rows.iter().map(rows::execution_from_row).collect()
}

fn sql_limit(limit: Option<usize>) -> Option<i64> {
    limit.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
}

/// The execution with this exact id, or else the only one whose id starts with it
/// (like git). `Ok(None)` if nothing matches or the prefix is empty; an ambiguous
/// prefix is [`StoreError::Ambiguous`]. Node results come sorted by node name.
pub(crate) fn execution(
    client: &mut impl GenericClient,
    id_or_prefix: &str,
) -> Result<Option<(ExecutionRecord, Vec<NodeResultRecord>)>, StoreError> {
    if id_or_prefix.is_empty() {
        return Ok(None);
    }
    let Some(id) = resolve_id(client, id_or_prefix)? else {
        return Ok(None);
    };
    let sql = format!("SELECT {EXECUTION_COLUMNS} FROM executions e WHERE e.id = $1");
    let Some(row) = client.query_opt(&sql, &[&id])? else {
        return Ok(None);
    };
    let record = rows::execution_from_row(&row)?;
    let sql = format!(
        "SELECT {NODE_RESULT_COLUMNS} FROM node_results WHERE execution_id = $1 \
         ORDER BY node COLLATE \"C\""
    );
    let results = client
        .query(&sql, &[&id])?
        .iter()
        .map(rows::node_result_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some((record, results)))
}

/// Resolves an exact id or a unique prefix to the full id.
fn resolve_id(
    client: &mut impl GenericClient,
    id_or_prefix: &str,
) -> Result<Option<String>, StoreError> {
    let exact = client.query_opt("SELECT id FROM executions WHERE id = $1", &[&id_or_prefix])?;
    if let Some(row) = exact {
        return Ok(Some(row.try_get(0)?));
    }
    // `starts_with` decides; the range on the byte order lets an index on
    // `id COLLATE "C"` (or a database in the C collation) seek to the prefix.
    let limit = i64::try_from(MAX_CANDIDATES + 1).unwrap_or(i64::MAX);
    let rows = client.query(
        "SELECT id, started_at, action, status FROM executions
         WHERE id COLLATE \"C\" > $1 AND starts_with(id, $1)
         ORDER BY id COLLATE \"C\" LIMIT $2",
        &[&id_or_prefix, &limit],
    )?;
    let matches = rows
        .iter()
        .map(|row| {
            Ok(IdCandidate {
                id: row.try_get(0)?,
                started_at: row.try_get(1)?,
                action: row.try_get(2)?,
                status: row.try_get(3)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    only_match(id_or_prefix, matches)
}

/// Debug-mode output of one node, chunk by chunk in the order it was written.
pub(crate) fn full_output(
    client: &mut impl GenericClient,
    execution_id: &str,
    node: &str,
) -> Result<Vec<(Stream, Vec<u8>)>, StoreError> {
    let rows = client.query(
        "SELECT stream, data, encoding, seq FROM output_chunks
         WHERE execution_id = $1 AND node = $2 ORDER BY seq",
        &[&execution_id, &node],
    )?;
    rows.iter()
        .map(|row| {
            let text: String = row.try_get(0)?;
            let stream = Stream::parse(&text).ok_or_else(|| {
                rows::unknown(
                    format!("stream of an output chunk of node {node} in execution {execution_id}"),
                    &text,
                )
            })?;
            let encoding: String = row.try_get(2)?;
            let seq: i64 = row.try_get(3)?;
            let data = chunk_codec::decode(&encoding, row.try_get(1)?).map_err(|reason| {
                StoreError::Corrupt {
                    what: format!("output chunk {seq} of node {node} in execution {execution_id}"),
                    reason,
                }
            })?;
            Ok((stream, data))
        })
        .collect()
}

/// A node's journal, newest first (by timestamp, then id). Empty `types` means all.
pub(crate) fn journal(
    client: &mut impl GenericClient,
    node: &str,
    types: &[EntryType],
    limit: Option<usize>,
) -> Result<Vec<JournalEntry>, StoreError> {
    let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    let limit = sql_limit(limit);
    let sql = format!(
        "SELECT {JOURNAL_COLUMNS} FROM journal
         WHERE node = $1 AND (cardinality($2::text[]) = 0 OR entry_type = ANY ($2::text[]))
         ORDER BY ts DESC, id DESC LIMIT $3"
    );
    let rows = client.query(&sql, &[&node, &names, &limit])?;
    rows.iter().map(rows::journal_from_row).collect()
}

/// One journal entry by its id.
pub(crate) fn journal_entry(
    client: &mut impl GenericClient,
    id: i64,
) -> Result<Option<JournalEntry>, StoreError> {
    let sql = format!("SELECT {JOURNAL_COLUMNS} FROM journal WHERE id = $1");
    client
        .query_opt(&sql, &[&id])?
        .map(|row| rows::journal_from_row(&row))
        .transpose()
}

#[cfg(test)]
#[path = "queries_tests.rs"]
mod tests;
