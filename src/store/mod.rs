//! Persistent history and per-node journals in one SQLite file.
//!
//! Writes go through [`StoreWriter`] to a single writer thread that batches them; reads
//! are blocking methods on [`Store`] using a separate read connection. WAL mode lets the
//! two proceed side by side.

mod blocking;
mod chunk_codec;
mod connection;
mod error;
mod events;
mod facts;
mod health;
mod idempotency;
mod journal_bulk;
mod metrics;
#[allow(dead_code)] // not yet wired to the store
pub(crate) mod postgres;
mod prune;
mod queries;
pub mod records;
mod recovery;
mod reserve;
mod rows;
mod schema;
mod spill;
mod transcripts;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::Connection;

pub use error::StoreError;
pub use events::EVENT_LOG_KEEP;
pub use facts::CachedFacts;
pub use health::StoreHealth;
pub use idempotency::KeyClaim;
pub use prune::PruneReport;
pub use records::*;
pub use recovery::{process_is_alive, process_start_time};
pub use schema::SCHEMA_VERSION;
pub use transcripts::TranscriptRecord;
pub use writer::{StoreWriter, WriteOp};

/// Handle to an open store. Cloning is cheap and every clone shares the same writer
/// thread and read connection.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: StoreWriter,
    reader: Mutex<Connection>,
    /// Taken by the first `close`, so closing twice is harmless.
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish()
    }
}

impl Store {
    /// Opens or creates the database at `path` (its directory must exist), migrates it,
    /// and starts the writer thread.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with(path, None)
    }

    /// [`Store::open`], holding disk space back beside the database (`drover.reserve`,
    /// 4 MiB) so a run's outcome is still recorded when the disk fills up mid-run.
    pub fn open_reserving(path: &Path) -> Result<Store, StoreError> {
        Store::open_with(path, Some(reserve::Reserve::hold(path)))
    }

    fn open_with(path: &Path, reserve: Option<reserve::Reserve>) -> Result<Store, StoreError> {
        let mut write_conn = connection::open(path)?;
        schema::migrate(&mut write_conn, path)?;
        // Before anything reads or recovers: outcomes a full disk had no room for.
        spill::replay(path, &mut write_conn);
        let reader = connection::open(path)?;
        // The read connection never writes; make SQLite enforce that.
        reader
            .pragma_update(None, "query_only", true)
            .map_err(|source| StoreError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        let (writer, thread) = writer::spawn(write_conn, reserve)?;
        Ok(Store {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                writer,
                reader: Mutex::new(reader),
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    /// A handle for queuing writes; clone it freely.
    pub fn writer(&self) -> StoreWriter {
        self.inner.writer.clone()
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
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
}
