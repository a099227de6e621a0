//! The one interface every store backend answers: the reads. Writes do not go
//! through it: they travel as [`WriteOp`](super::WriteOp)s to the writer thread,
//! which commits them through the backend's [`BatchSink`](super::writer::BatchSink).
//!
//! Reads block the calling thread (async callers use `spawn_blocking`), as they
//! did when SQLite was the only backend; both backends keep one read connection.

use super::answers::{KeyClaim, PruneReport, StoreHealth};
use super::error::StoreError;
use super::records::{
    BreakerRecord, CachedFacts, EventFilter, EventRecord, ExecutionRecord, HistoryFilter,
    JournalEntry, Metrics, Millis, NodeResultRecord, Stream, TranscriptRecord,
};
use super::transfer::{ExportSource, ImportTarget};
use std::time::Duration;

/// How often a store that cannot announce commits (SQLite) is looked at while
/// someone waits for news: what `drover events --follow` always polled at.
pub const CHANGE_POLL: Duration = Duration::from_millis(150);

/// A run and its node results, as [`Backend::execution`] finds them.
pub type StoredExecution = (ExecutionRecord, Vec<NodeResultRecord>);

/// Everything a store answers. SQLite (the default, one file per operator) and
/// PostgreSQL (one database for a team) implement it alike; the store test suite
/// runs against both.
pub(crate) trait Backend: Send + Sync {
    /// Runs matching `filter`, newest first.
    fn history(&self, filter: &HistoryFilter) -> Result<Vec<ExecutionRecord>, StoreError>;
    /// A run by id or unique id prefix; `Ambiguous` when the prefix matches several.
    fn execution(&self, id_or_prefix: &str) -> Result<Option<StoredExecution>, StoreError>;
    /// A debug-mode run's output of `node`, chunk by chunk in order.
    fn full_output(
        &self,
        execution_id: &str,
        node: &str,
    ) -> Result<Vec<(Stream, Vec<u8>)>, StoreError>;
    /// A node's journal, newest first, of the given types (all when empty).
    fn journal(
        &self,
        node: &str,
        types: &[crate::store::EntryType],
        limit: Option<usize>,
    ) -> Result<Vec<JournalEntry>, StoreError>;
    fn journal_entry(&self, id: i64) -> Result<Option<JournalEntry>, StoreError>;
    fn events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError>;
    /// The highest event number handed out so far (0 for none).
    fn last_event_seq(&self) -> Result<i64, StoreError>;
    /// Keeps the newest `keep` events; returns how many were deleted.
    fn trim_events(&self, keep: u64) -> Result<usize, StoreError>;
    fn cached_facts(&self, node: &str) -> Result<Option<CachedFacts>, StoreError>;
    /// Circuit breakers whose last change is at or after `since`.
    fn breakers_changed_since(&self, since: Millis) -> Result<Vec<BreakerRecord>, StoreError>;
    fn metrics(&self, since: Option<Millis>, until: Option<Millis>) -> Result<Metrics, StoreError>;
    fn transcript(&self, id: &str) -> Result<Option<TranscriptRecord>, StoreError>;
    fn transcript_chunk(&self, id: &str, seq: u32) -> Result<Option<Vec<u8>>, StoreError>;
    fn health(&self) -> Result<StoreHealth, StoreError>;
    /// Claims an idempotency key for every drover process on this store.
    fn claim_key(&self, key: &str, now: Millis, window_ms: i64) -> Result<KeyClaim, StoreError>;
    fn bind_key(&self, key: &str, execution_id: &str) -> Result<(), StoreError>;
    fn release_key(&self, key: &str) -> Result<(), StoreError>;
    fn prune(&self, older_than: Millis) -> Result<PruneReport, StoreError>;
    /// Marks runs whose owner process on this host is gone `interrupted`.
    fn recover_interrupted(
        &self,
        is_alive: &(dyn Fn(i64, i64) -> bool + Sync),
    ) -> Result<Vec<String>, StoreError>;
    /// Waits up to `timeout` for a commit to this store by any connection (another
    /// process's among them); `true` when one came, or may have. PostgreSQL hears
    /// its notifications; SQLite, which has none, looks at its file's version
    /// every [`CHANGE_POLL`]. A reader re-reads after it either way.
    fn wait_for_change(&self, timeout: Duration) -> Result<bool, StoreError>;
    /// This backend as the source of `drover store copy`, when it can be one.
    fn as_export(&self) -> Option<&dyn ExportSource> {
        None
    }
    /// This backend as the target of `drover store copy`, when it can be one.
    fn as_import(&self) -> Option<&dyn ImportTarget> {
        None
    }
}
