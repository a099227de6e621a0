//! Waiting for news on a SQLite store. SQLite announces nothing, so the read
//! connection's `data_version` (which moves whenever another connection, this
//! process's writer among them, commits to the file) is looked at every
//! [`CHANGE_POLL`] until it moves or the wait is over.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::SqliteBackend;
use crate::store::backend::CHANGE_POLL;
use crate::store::error::StoreError;

/// The file's version as the last wait saw it (`None` before the first).
#[derive(Default)]
pub(crate) struct SeenVersion(Mutex<Option<i64>>);

impl SqliteBackend {
    /// `true` once the file changed since the last wait (at once on the first,
    /// which cannot know what came before it), `false` after `timeout`.
    /// Blocks the calling thread.
    pub(crate) fn wait_for_change(&self, timeout: Duration) -> Result<bool, StoreError> {
        let deadline = Instant::now() + timeout;
        loop {
            let now: i64 = self
                .reader()
                .query_row("PRAGMA data_version", [], |row| row.get(0))?;
            let before = self
                .seen
                .0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .replace(now);
            if before != Some(now) {
                return Ok(true);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            std::thread::sleep(left.min(CHANGE_POLL));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{EntryType, JournalEntry, Store, WriteOp};
    use std::time::Duration;

    const LONG: Duration = Duration::from_secs(30);

    fn note(node: &str) -> WriteOp {
        WriteOp::Journal(JournalEntry {
            id: 0,
            node: node.into(),
            entry_type: EntryType::Manual,
            timestamp: 1,
            user: "ops".into(),
            action: "note".into(),
            status: None,
            execution_id: None,
            details: serde_json::json!({}),
        })
    }

    #[test]
    fn another_connections_commit_ends_the_wait() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("drover.db");
        let watcher = Store::open(&path).unwrap();
        let other = Store::open(&path).unwrap();
        // The first wait knows nothing of before it.
        assert!(watcher.wait_for_change(Duration::ZERO).unwrap());
        assert!(!watcher.wait_for_change(Duration::ZERO).unwrap());
        other.writer().blocking_send(note("n1")).unwrap();
        other.writer().blocking_flush().unwrap();
        assert!(watcher.wait_for_change(LONG).unwrap());
        assert!(!watcher.wait_for_change(Duration::ZERO).unwrap());
    }
}
