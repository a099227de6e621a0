//! Persistent history and per-node journals in one SQLite file.
//!
//! Writes go through [`StoreWriter`] to a single writer thread that batches them; reads
//! are blocking methods on [`Store`] using a separate read connection. WAL mode lets the
//! two proceed side by side.

mod answers;
mod backend;
mod blocking;
mod chunk_codec;
mod error;
mod interrupted;
mod location;
mod outage;
pub(crate) mod owner;
pub(crate) mod postgres;
pub mod records;
mod spill;
mod sqlite;
pub mod transfer;
mod writer;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

pub use answers::{KeyClaim, PruneReport, StoreHealth};
pub use backend::{CHANGE_POLL, StoredExecution};
pub use error::StoreError;
pub use location::StoreLocation;
pub use outage::Outage;
pub use owner::{process_is_alive, process_start_time};
pub use records::*;
pub use sqlite::schema::SCHEMA_VERSION;
pub use writer::{StoreWriter, WriteOp};

use backend::Backend;

/// How many events the log keeps at most (the newest), whatever the retention:
/// about 200 MB at the typical 200 bytes an entry. Trimmed at each start.
pub const EVENT_LOG_KEEP: u64 = 1_000_000;

/// Handle to an open store. Cloning is cheap and every clone shares the same writer
/// thread and read connection.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    location: StoreLocation,
    writer: StoreWriter,
    backend: Box<dyn Backend>,
    /// What the writer knows of the database being out of reach (a server's
    /// store only: a file does not go away).
    outage: Option<Arc<outage::OutageState>>,
    /// Taken by the first `close`, so closing twice is harmless.
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.inner.location)
            .finish()
    }
}

impl Store {
    /// Opens or creates the database at `path` (its directory must exist), migrates it,
    /// and starts the writer thread.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with(path, false)
    }

    /// [`Store::open`], holding disk space back beside the database (`drover.reserve`,
    /// 4 MiB) so a run's outcome is still recorded when the disk fills up mid-run.
    pub fn open_reserving(path: &Path) -> Result<Store, StoreError> {
        Store::open_with(path, true)
    }

    /// Opens the store at `location` (see [`Store::open`] and
    /// [`Store::open_reserving`] for SQLite; `reserve` is SQLite's).
    pub fn open_location(location: &StoreLocation, reserve: bool) -> Result<Store, StoreError> {
        match location {
            StoreLocation::Sqlite(path) => Store::open_with(path, reserve),
            StoreLocation::Postgres(pg) => {
                let (backend, sink) = postgres::open(pg)?;
                let outage = backend.outage.clone();
                let (writer, thread) = writer::spawn(sink)?;
                Ok(Store {
                    inner: Arc::new(Inner {
                        location: location.clone(),
                        writer,
                        backend: Box::new(backend),
                        outage: Some(outage),
                        thread: Mutex::new(Some(thread)),
                    }),
                })
            }
        }
    }

    fn open_with(path: &Path, reserve: bool) -> Result<Store, StoreError> {
        let (backend, sink) = sqlite::open(path, reserve)?;
        let (writer, thread) = writer::spawn(sink)?;
        Ok(Store {
            inner: Arc::new(Inner {
                location: StoreLocation::Sqlite(path.to_path_buf()),
                writer,
                backend: Box::new(backend),
                outage: None,
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    /// A handle for queuing writes; clone it freely.
    pub fn writer(&self) -> StoreWriter {
        self.inner.writer.clone()
    }

    /// The database file, for a SQLite store.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.inner.location {
            StoreLocation::Sqlite(path) => Some(path),
            StoreLocation::Postgres(_) => None,
        }
    }

    /// Commits everything queued, stops the writer thread and waits for it. Later
    /// writes fail with [`StoreError::Closed`]; reads keep working. Blocks the calling
    /// thread (allowed on a runtime thread, but `spawn_blocking` is kinder). Closing
    /// twice is a no-op.
    ///
    /// Without `close`, the thread still commits everything once the last writer handle
    /// is dropped, but nothing waits for it, so a process exiting right after may lose
    /// the tail of the queue.
    pub fn close(&self) -> Result<(), StoreError> {
        let thread = self
            .inner
            .thread
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        let Some(thread) = thread else {
            return Ok(());
        };
        let flushed = self.inner.writer.blocking_flush();
        let closed = self.inner.writer.blocking_message(writer::Message::Close);
        let joined = thread.join().map_err(|_| StoreError::WriterPanicked);
        flushed.and(closed).and(joined)
    }

    /// The backend every read goes to.
    fn backend(&self) -> &dyn Backend {
        self.inner.backend.as_ref()
    }

    /// Runs matching `filter`, newest first. Every read blocks the calling thread;
    /// async callers use `spawn_blocking`.
    pub fn history(&self, filter: &HistoryFilter) -> Result<Vec<ExecutionRecord>, StoreError> {
        self.backend().history(filter)
    }

    /// A run and its node results by id or unique id prefix (`Ambiguous` when the
    /// prefix matches more than one run).
    pub fn execution(&self, id_or_prefix: &str) -> Result<Option<StoredExecution>, StoreError> {
        self.backend().execution(id_or_prefix)
    }

    /// A debug-mode run's output of `node`, chunk by chunk in order.
    pub fn full_output(
        &self,
        execution_id: &str,
        node: &str,
    ) -> Result<Vec<(Stream, Vec<u8>)>, StoreError> {
        self.backend().full_output(execution_id, node)
    }

    /// A node's journal, newest first, of the given types (every type when empty).
    pub fn journal(
        &self,
        node: &str,
        types: &[EntryType],
        limit: Option<usize>,
    ) -> Result<Vec<JournalEntry>, StoreError> {
        self.backend().journal(node, types, limit)
    }

    /// One journal entry by id.
    pub fn journal_entry(&self, id: i64) -> Result<Option<JournalEntry>, StoreError> {
        self.backend().journal_entry(id)
    }

    /// The event log's entries matching `filter`, in `seq` order.
    pub fn events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError> {
        self.backend().events(filter)
    }

    /// The highest event number handed out so far (0 for none): where a follower
    /// that wants only new events starts.
    pub fn last_event_seq(&self) -> Result<i64, StoreError> {
        self.backend().last_event_seq()
    }

    /// Waits up to `timeout` for a commit to this store by any drover process
    /// (this one's writer too); `true` when one came or may have, `false` when
    /// the time ran out. Then read what is new. Blocks the calling thread.
    pub fn wait_for_change(&self, timeout: std::time::Duration) -> Result<bool, StoreError> {
        self.backend().wait_for_change(timeout)
    }

    /// Keeps the newest `keep` events; returns how many were deleted.
    pub fn trim_events(&self, keep: u64) -> Result<usize, StoreError> {
        self.backend().trim_events(keep)
    }

    /// A node's cached facts, however old; freshness is the caller's decision.
    pub fn cached_facts(&self, node: &str) -> Result<Option<CachedFacts>, StoreError> {
        self.backend().cached_facts(node)
    }

    /// Circuit breakers whose last change is at or after `since`, written by any
    /// drover process on this store.
    pub fn breakers_changed_since(&self, since: Millis) -> Result<Vec<BreakerRecord>, StoreError> {
        self.backend().breakers_changed_since(since)
    }

    /// Run counts and durations between `since` and `until`.
    pub fn metrics(
        &self,
        since: Option<Millis>,
        until: Option<Millis>,
    ) -> Result<Metrics, StoreError> {
        self.backend().metrics(since, until)
    }

    /// A session transcript's header.
    pub fn transcript(&self, id: &str) -> Result<Option<TranscriptRecord>, StoreError> {
        self.backend().transcript(id)
    }

    /// Chunk `seq` of a transcript's frames.
    pub fn transcript_chunk(&self, id: &str, seq: u32) -> Result<Option<Vec<u8>>, StoreError> {
        self.backend().transcript_chunk(id, seq)
    }

    /// Checks the database (time grows with its size) and reads its sizes.
    /// While the writer holds writes for an unreachable database, the health says
    /// so (and since when), or the error does when the database cannot be read either.
    pub fn health(&self) -> Result<StoreHealth, StoreError> {
        let outage = self.outage();
        match self.backend().health() {
            Ok(mut health) => {
                health.outage = outage.map(|o| o.to_string());
                health.intact &= health.outage.is_none();
                Ok(health)
            }
            Err(e) => match outage {
                Some(o) => Err(StoreError::Unreachable {
                    location: self.location(),
                    outage: o.to_string(),
                }),
                None => Err(e),
            },
        }
    }

    /// The outage the writer is riding out, if any.
    pub fn outage(&self) -> Option<outage::Outage> {
        self.inner.outage.as_ref().and_then(|o| o.current())
    }

    /// Claims idempotency key `key` for every drover process on this store: `New`
    /// when it was free (or its run finished more than `window_ms` ago).
    pub fn claim_key(
        &self,
        key: &str,
        now: Millis,
        window_ms: i64,
    ) -> Result<KeyClaim, StoreError> {
        self.backend().claim_key(key, now, window_ms)
    }

    /// Ties a claimed key to the run it started.
    pub fn bind_key(&self, key: &str, execution_id: &str) -> Result<(), StoreError> {
        self.backend().bind_key(key, execution_id)
    }

    /// Gives back a key claimed for a run that never started.
    pub fn release_key(&self, key: &str) -> Result<(), StoreError> {
        self.backend().release_key(key)
    }

    /// Deletes finished runs that started before `older_than` (with their results,
    /// output and targets), older journal entries, events and transcripts.
    pub fn prune(&self, older_than: Millis) -> Result<PruneReport, StoreError> {
        self.backend().prune(older_than)
    }

    /// Marks runs left `queued` or `running` by a drover process of this host that
    /// is gone (`is_alive(pid, start_time)` false) `interrupted`; returns their ids.
    /// Writes queued before the call are committed first, so they are seen.
    pub fn recover_interrupted(
        &self,
        is_alive: impl Fn(i64, i64) -> bool + Sync,
    ) -> Result<Vec<String>, StoreError> {
        self.writer().blocking_flush()?;
        self.backend().recover_interrupted(&is_alive)
    }

    /// Copies every run and journal entry of this store into `target`
    /// (`drover store copy`): idempotent and resumable, see [`transfer`].
    /// `progress` hears the counts after each page.
    pub fn copy_into(
        &self,
        target: &Store,
        progress: impl FnMut(&transfer::CopyReport),
    ) -> Result<transfer::CopyReport, StoreError> {
        let unsupported = |which: &str, store: &Store| StoreError::CopyUnsupported {
            which: which.to_string(),
            location: store.location(),
        };
        let from = self
            .backend()
            .as_export()
            .ok_or_else(|| unsupported("source", self))?;
        let to = target
            .backend()
            .as_import()
            .ok_or_else(|| unsupported("target", target))?;
        // Whatever this process queued is part of what is copied.
        self.writer().blocking_flush()?;
        transfer::copy(from, to, &self.location(), progress)
    }

    /// Where the store is, fit to show (a database URL without its password).
    pub fn location(&self) -> String {
        self.inner.location.to_string()
    }
}
