//! The SQLite side of `drover store copy` as a source: runs in `(started_at, id)`
//! order with their node results and output, and journal entries by id.

use rusqlite::params;

use super::SqliteBackend;
use super::rows::{self, EXECUTION_COLUMNS, JOURNAL_COLUMNS, NODE_RESULT_COLUMNS};
use crate::store::error::StoreError;
use crate::store::records::JournalEntry;
use crate::store::transfer::{ChunkExport, ExportSource, RunCursor, RunExport};

impl ExportSource for SqliteBackend {
    fn export_runs(
        &self,
        after: Option<&RunCursor>,
        limit: usize,
    ) -> Result<Vec<RunExport>, StoreError> {
        let conn = self.reader();
        let (started, id) = after.cloned().unwrap_or((i64::MIN, String::new()));
        let sql = format!(
            "SELECT {EXECUTION_COLUMNS} FROM executions e
             WHERE (e.started_at, e.id) > (?1, ?2)
             ORDER BY e.started_at, e.id LIMIT ?3"
        );
        let executions = conn
            .prepare_cached(&sql)?
            .query_and_then(params![started, id, limit as i64], rows::execution_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        let results_sql = format!(
            "SELECT {NODE_RESULT_COLUMNS} FROM node_results WHERE execution_id = ?1 ORDER BY node"
        );
        let mut runs = Vec::with_capacity(executions.len());
        for execution in executions {
            let results = conn
                .prepare_cached(&results_sql)?
                .query_and_then([&execution.id], rows::node_result_from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            let chunks = chunks_of(&conn, &execution.id)?;
            runs.push(RunExport {
                execution,
                results,
                chunks,
            });
        }
        Ok(runs)
    }

    fn export_journal(&self, after_id: i64, limit: usize) -> Result<Vec<JournalEntry>, StoreError> {
        let conn = self.reader();
        let sql =
            format!("SELECT {JOURNAL_COLUMNS} FROM journal WHERE id > ?1 ORDER BY id LIMIT ?2");
        let entries = conn
            .prepare_cached(&sql)?
            .query_and_then(params![after_id, limit as i64], rows::journal_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(entries)
    }
}

/// A run's debug-mode output chunks, decoded, by node and number.
fn chunks_of(
    conn: &rusqlite::Connection,
    execution_id: &str,
) -> Result<Vec<ChunkExport>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT node, seq, stream, encoding, data FROM output_chunks
         WHERE execution_id = ?1 ORDER BY node, seq",
    )?;
    let chunks = stmt.query_and_then([execution_id], |row| {
        let node: String = row.get(0)?;
        let seq: i64 = row.get(1)?;
        let what = || format!("output chunk {seq} of node {node} in execution {execution_id}");
        let stream = rows::parse_stream(&row.get::<_, String>(2)?, what)?;
        let encoding: String = row.get(3)?;
        let data = crate::store::chunk_codec::decode(&encoding, row.get(4)?).map_err(|reason| {
            StoreError::Corrupt {
                what: what(),
                reason,
            }
        })?;
        Ok::<_, StoreError>(ChunkExport {
            node: node.clone(),
            seq,
            stream,
            data,
        })
    })?;
    chunks.collect()
}
