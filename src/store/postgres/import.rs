//! PostgreSQL as the target of `drover store copy` (see `store::transfer`): a
//! page of runs in one transaction, each run inserted only when the database
//! does not have it; journal pages with the source's checkpoint in the same
//! transaction. A session lock per source keeps two copies of one source from
//! interleaving.

use postgres::Client;

use super::backend::PgBackend;
use super::bulk::{self, Chunk};
use super::statements::Statements;
use crate::store::error::StoreError;
use crate::store::records::JournalEntry;
use crate::store::transfer::{ImportTarget, RunExport};

/// The advisory lock a copy from `source` holds for its session.
fn copy_lock(client: &mut Client, source: &str) -> Result<(), StoreError> {
    let held: bool = client
        .query_one(
            "SELECT pg_try_advisory_lock(hashtext('drover store copy'), hashtext($1))",
            &[&source],
        )?
        .get(0);
    if held {
        Ok(())
    } else {
        Err(StoreError::CopyBusy {
            from: source.to_string(),
        })
    }
}

impl ImportTarget for PgBackend {
    fn import_runs(&self, source: &str, runs: &[RunExport]) -> Result<usize, StoreError> {
        self.with_client(|client| {
            copy_lock(client, source)?;
            let mut statements = Statements::default();
            let mut tx = client.transaction()?;
            let ids: Vec<&str> = runs.iter().map(|r| r.execution.id.as_str()).collect();
            let present: std::collections::HashSet<String> = tx
                .query("SELECT id FROM executions WHERE id = ANY($1)", &[&ids])?
                .iter()
                .map(|row| row.get(0))
                .collect();
            let new: Vec<&RunExport> = runs
                .iter()
                .filter(|r| !present.contains(&r.execution.id))
                .collect();
            if new.is_empty() {
                return Ok(0);
            }
            let executions: Vec<_> = new.iter().map(|r| &r.execution).collect();
            bulk::executions(&mut tx, &mut statements, &executions)?;
            let results: Vec<_> = new.iter().flat_map(|r| &r.results).collect();
            if !results.is_empty() {
                bulk::node_results(&mut tx, &mut statements, &results)?;
            }
            // Numbered from 0 per node as they come, which is the source's numbering.
            let chunks: Vec<Chunk<'_>> = new
                .iter()
                .flat_map(|r| {
                    r.chunks.iter().map(|c| Chunk {
                        execution_id: &r.execution.id,
                        node: &c.node,
                        stream: c.stream,
                        data: &c.data,
                    })
                })
                .collect();
            if !chunks.is_empty() {
                bulk::chunks(&mut tx, &mut statements, &chunks)?;
            }
            tx.commit()?;
            Ok(new.len())
        })
    }

    fn journal_checkpoint(&self, source: &str) -> Result<i64, StoreError> {
        self.with_client(|client| {
            let row = client.query_opt(
                "SELECT journal_id FROM store_copies WHERE source = $1",
                &[&source],
            )?;
            Ok(row.map_or(0, |r| r.get(0)))
        })
    }

    fn import_journal(&self, source: &str, entries: &[JournalEntry]) -> Result<usize, StoreError> {
        let Some(last) = entries.last().map(|e| e.id) else {
            return Ok(0);
        };
        self.with_client(|client| {
            copy_lock(client, source)?;
            let mut statements = Statements::default();
            let mut tx = client.transaction()?;
            let done: i64 = tx
                .query_opt(
                    "SELECT journal_id FROM store_copies WHERE source = $1 FOR UPDATE",
                    &[&source],
                )?
                .map_or(0, |r| r.get(0));
            let new: Vec<&JournalEntry> = entries.iter().filter(|e| e.id > done).collect();
            if !new.is_empty() {
                bulk::journal(&mut tx, &mut statements, &new)?;
            }
            tx.execute(
                "INSERT INTO store_copies (source, journal_id) VALUES ($1, $2)
                 ON CONFLICT (source) DO UPDATE
                 SET journal_id = GREATEST(store_copies.journal_id, excluded.journal_id)",
                &[&source, &last],
            )?;
            tx.commit()?;
            Ok(new.len())
        })
    }
}
