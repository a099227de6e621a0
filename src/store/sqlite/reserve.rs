//! Space held back on the state dir's file system so a run's outcome can still be
//! recorded when the disk fills up mid-run.
//!
//! Why: without it, a full disk turns a run that ended well into one that history
//! calls `interrupted` (the final status never lands, and the next start's recovery
//! sees a dead process). The store keeps a file of [`RESERVE_BYTES`] beside the
//! database; the writer deletes it on its first "disk full" and retries, so the
//! execution's status, node results and journal entries fit in the freed space.

use std::path::{Path, PathBuf};

/// Enough for the final records of a large run (node results carry the first and last
/// 20 lines of each stream) plus the WAL frames of that commit.
pub const RESERVE_BYTES: u64 = 4 * 1024 * 1024;

/// The reserve file of one store; see the module docs.
#[derive(Debug)]
pub struct Reserve {
    path: PathBuf,
}

impl Reserve {
    /// Makes sure `drover.reserve` beside `db` holds [`RESERVE_BYTES`]. A disk too full
    /// to hold it is logged, not fatal: drover still runs, with no reserve.
    pub fn hold(db: &Path) -> Reserve {
        let path = db.with_file_name("drover.reserve");
        let held = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if held < RESERVE_BYTES {
            // Real bytes, not a sparse file: a hole frees nothing when removed.
            let zeros = vec![0u8; RESERVE_BYTES as usize];
            if let Err(e) = std::fs::write(&path, zeros) {
                tracing::warn!(path = %path.display(), error = %e, "cannot hold the store's disk reserve");
                let _ = std::fs::remove_file(&path);
            }
        }
        Reserve { path }
    }

    /// Frees the reserve; true when it held space to free.
    pub fn release(&self) -> bool {
        match std::fs::remove_file(&self.path) {
            Ok(()) => {
                tracing::warn!(path = %self.path.display(), "disk full: store reserve released");
                true
            }
            Err(_) => false,
        }
    }
}
