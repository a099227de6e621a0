//! Outcomes a full disk had no room for, kept outside the state dir until the
//! store is opened again.
//!
//! Why: when the state dir's disk is full and the reserve ([`super::reserve`])
//! is gone, a run's final records (its status, node results, journal entries)
//! cannot be committed. Without them the next start's recovery finds a run
//! whose process is gone and calls it `interrupted`, which is false for a run
//! that ended. So the writer appends those records, as JSON lines, to a file
//! in the user's runtime dir (`$XDG_RUNTIME_DIR/drover`, else
//! `/tmp/drover-UID`, mode 0700: another file system in practice), and the next
//! [`Store::open`](super::Store::open) of the same database writes them before
//! recovery runs. Debug output chunks and facts are not kept: they are
//! replaceable and may be large. If the spill itself fails, the records are
//! lost as before and recovery says `interrupted`.

use crate::store::records::{ExecutionRecord, JournalEntry, NodeResultRecord};
use rusqlite::{Connection, TransactionBehavior};
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};
use std::io::{BufRead, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// One outcome record kept outside the state dir.
#[derive(Serialize, Deserialize)]
#[serde(tag = "record", content = "data", rename_all = "snake_case")]
pub enum Kept {
    Execution(ExecutionRecord),
    NodeResult(NodeResultRecord),
    Journal(JournalEntry),
}

/// The spill file of the database at `db` (one per database path).
pub fn path_for(db: &Path) -> PathBuf {
    let uid = nix::unistd::getuid().as_raw();
    let dir = match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d).join("drover"),
        _ => std::env::temp_dir().join(format!("drover-{uid}")),
    };
    let db = std::fs::canonicalize(db).unwrap_or_else(|_| db.to_path_buf());
    let digest = Sha1::digest(db.as_os_str().as_encoded_bytes());
    let name: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("spill-{name}.jsonl"))
}

/// Appends `records` to the spill file of `db`; returns the file.
pub fn keep(db: &Path, records: &[Kept]) -> std::io::Result<PathBuf> {
    let path = path_for(db);
    let dir = path.parent().expect("a file in a directory");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    // Someone else's directory in /tmp is not a place for our records.
    if std::fs::metadata(dir)?.uid() != nix::unistd::getuid().as_raw() {
        return Err(std::io::Error::other(format!(
            "{} belongs to another user",
            dir.display()
        )));
    }
    let mut text = String::new();
    for record in records {
        text.push_str(&serde_json::to_string(record).map_err(std::io::Error::other)?);
        text.push('\n');
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)?;
    file.write_all(text.as_bytes())?;
    file.sync_data()?;
    Ok(path)
}

/// Writes what a spill file holds for `db` into it, in the order kept, then
/// removes the file. A line that cannot be read is skipped with a warning (a
/// half-written last line after a crash); a failed commit leaves the file for
/// the next open.
pub fn replay(db: &Path, conn: &mut Connection) -> usize {
    let path = path_for(db);
    let Ok(file) = std::fs::File::open(&path) else {
        return 0;
    };
    let mut records = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = match line {
            Ok(l) if !l.trim().is_empty() => l,
            _ => continue,
        };
        match serde_json::from_str::<Kept>(&line) {
            Ok(r) => records.push(r),
            Err(e) => {
                tracing::warn!(file = %path.display(), line = i + 1, error = %e, "unreadable spilled record skipped")
            }
        }
    }
    let applied = (|| -> rusqlite::Result<usize> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for r in &records {
            match r {
                Kept::Execution(e) => super::rows::upsert_execution(&tx, e)?,
                Kept::NodeResult(n) => super::rows::put_node_result(&tx, n)?,
                Kept::Journal(j) => super::rows::insert_journal(&tx, j).map(drop)?,
            }
        }
        tx.commit()?;
        Ok(records.len())
    })();
    match applied {
        Ok(n) => {
            let _ = std::fs::remove_file(&path);
            tracing::warn!(file = %path.display(), records = n, "records a full disk had no room for written at last");
            n
        }
        Err(e) => {
            tracing::error!(file = %path.display(), error = %e, "spilled records not written yet; kept for the next start");
            0
        }
    }
}
