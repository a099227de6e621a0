//! The SQLite backend: one file per operator, the default. A single writer thread
//! commits batches ([`commit`]); reads share one `query_only` connection; WAL lets
//! the two proceed side by side. Work that must decide between processes (key
//! claims, prune, crash recovery) opens a short-lived connection of its own and
//! takes SQLite's write lock.

mod breakers;
mod change;
mod commit;
mod connection;
mod events;
mod export;
mod facts;
mod health;
mod idempotency;
mod journal_bulk;
mod metrics;
mod prune;
mod queries;
mod recovery;
mod reserve;
mod rows;
pub(crate) mod schema;
mod transcripts;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

use super::answers::{KeyClaim, PruneReport, StoreHealth};
use super::backend::{Backend, StoredExecution};
use super::error::StoreError;
use super::records::{
    BreakerRecord, CachedFacts, EntryType, EventFilter, EventRecord, ExecutionRecord,
    HistoryFilter, JournalEntry, Metrics, Millis, Stream, TranscriptRecord,
};
use super::writer::BatchSink;

/// SQLite's side of an open store: the file, and the read connection.
pub(crate) struct SqliteBackend {
    path: PathBuf,
    reader: Mutex<Connection>,
    /// What the last wait for news saw of the file ([`change`]).
    seen: change::SeenVersion,
}

/// Opens (creating) the database at `path`, migrates it, writes back outcomes a full
/// disk had no room for, and returns the read side and the writer thread's sink.
/// With `reserve`, disk space is held beside the database (`drover.reserve`) so a
/// run's outcome is still recorded when the disk fills up mid-run.
pub(crate) fn open(
    path: &Path,
    reserve: bool,
) -> Result<(SqliteBackend, impl BatchSink), StoreError> {
    let reserve = reserve.then(|| reserve::Reserve::hold(path));
    let mut write_conn = connection::open(path)?;
    schema::migrate(&mut write_conn, path)?;
    // Before anything reads or recovers: outcomes a full disk had no room for.
    replay_kept(path, &mut write_conn);
    let reader = connection::open(path)?;
    // The read connection never writes; make SQLite enforce that.
    reader
        .pragma_update(None, "query_only", true)
        .map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    let sink = commit::SqliteSink {
        conn: write_conn,
        disk: commit::DiskState {
            reserve,
            full: false,
        },
    };
    let backend = SqliteBackend {
        path: path.to_path_buf(),
        reader: Mutex::new(reader),
        seen: change::SeenVersion::default(),
    };
    Ok((backend, sink))
}

/// Writes what the spill file of `path` holds (see `store::spill`), then removes
/// it; a failed commit leaves it for the next open.
fn replay_kept(path: &Path, conn: &mut Connection) {
    use crate::store::spill::{self, Kept};
    let Some((file, records)) = spill::read(path) else {
        return;
    };
    let applied = (|| -> rusqlite::Result<usize> {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for r in &records {
            match r {
                Kept::Execution(e) => rows::upsert_execution(&tx, e)?,
                Kept::NodeResult(n) => rows::put_node_result(&tx, n)?,
                Kept::Journal(j) => rows::insert_journal(&tx, j).map(drop)?,
            }
        }
        tx.commit()?;
        Ok(records.len())
    })();
    match applied {
        Ok(n) => spill::done(&file, n),
        Err(e) => {
            tracing::error!(file = %file.display(), error = %e, "spilled records not written yet; kept for the next start")
        }
    }
}

impl SqliteBackend {
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The read connection. A panic while it was held leaves nothing half-done
    /// (reads only), so a poisoned lock is taken over.
    pub(crate) fn reader(&self) -> MutexGuard<'_, Connection> {
        self.reader
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Each read is written once, in the file of its concept; this only routes.
impl Backend for SqliteBackend {
    fn history(&self, filter: &HistoryFilter) -> Result<Vec<ExecutionRecord>, StoreError> {
        SqliteBackend::history(self, filter)
    }
    fn execution(&self, id_or_prefix: &str) -> Result<Option<StoredExecution>, StoreError> {
        SqliteBackend::execution(self, id_or_prefix)
    }
    fn full_output(
        &self,
        execution_id: &str,
        node: &str,
    ) -> Result<Vec<(Stream, Vec<u8>)>, StoreError> {
        SqliteBackend::full_output(self, execution_id, node)
    }
    fn journal(
        &self,
        node: &str,
        types: &[EntryType],
        limit: Option<usize>,
    ) -> Result<Vec<JournalEntry>, StoreError> {
        SqliteBackend::journal(self, node, types, limit)
    }
    fn journal_entry(&self, id: i64) -> Result<Option<JournalEntry>, StoreError> {
        SqliteBackend::journal_entry(self, id)
    }
    fn events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError> {
        SqliteBackend::events(self, filter)
    }
    fn last_event_seq(&self) -> Result<i64, StoreError> {
        SqliteBackend::last_event_seq(self)
    }
    fn trim_events(&self, keep: u64) -> Result<usize, StoreError> {
        SqliteBackend::trim_events(self, keep)
    }
    fn cached_facts(&self, node: &str) -> Result<Option<CachedFacts>, StoreError> {
        SqliteBackend::cached_facts(self, node)
    }
    fn breakers_changed_since(&self, since: Millis) -> Result<Vec<BreakerRecord>, StoreError> {
        SqliteBackend::breakers_changed_since(self, since)
    }
    fn metrics(&self, since: Option<Millis>, until: Option<Millis>) -> Result<Metrics, StoreError> {
        SqliteBackend::metrics(self, since, until)
    }
    fn transcript(&self, id: &str) -> Result<Option<TranscriptRecord>, StoreError> {
        SqliteBackend::transcript(self, id)
    }
    fn transcript_chunk(&self, id: &str, seq: u32) -> Result<Option<Vec<u8>>, StoreError> {
        SqliteBackend::transcript_chunk(self, id, seq)
    }
    fn health(&self) -> Result<StoreHealth, StoreError> {
        SqliteBackend::health(self)
    }
    fn claim_key(&self, key: &str, now: Millis, window_ms: i64) -> Result<KeyClaim, StoreError> {
        SqliteBackend::claim_key(self, key, now, window_ms)
    }
    fn bind_key(&self, key: &str, execution_id: &str) -> Result<(), StoreError> {
        SqliteBackend::bind_key(self, key, execution_id)
    }
    fn release_key(&self, key: &str) -> Result<(), StoreError> {
        SqliteBackend::release_key(self, key)
    }
    fn prune(&self, older_than: Millis) -> Result<PruneReport, StoreError> {
        SqliteBackend::prune(self, older_than)
    }
    fn recover_interrupted(
        &self,
        is_alive: &(dyn Fn(i64, i64) -> bool + Sync),
    ) -> Result<Vec<String>, StoreError> {
        SqliteBackend::recover_interrupted(self, is_alive)
    }
    fn wait_for_change(&self, timeout: std::time::Duration) -> Result<bool, StoreError> {
        SqliteBackend::wait_for_change(self, timeout)
    }
    fn as_export(&self) -> Option<&dyn crate::store::transfer::ExportSource> {
        Some(self)
    }
}
