//! Outcomes the store could not take, kept outside it until the store is opened
//! again: a SQLite file whose disk is full, a PostgreSQL database still
//! unreachable when drover has to exit.
//!
//! Why: when the state dir's disk is full and the reserve (`sqlite::reserve`)
//! is gone, or the database server stays away past the writer's grace at exit,
//! a run's final records (its status, node results, journal entries)
//! cannot be committed. Without them the next start's recovery finds a run
//! whose process is gone and calls it `interrupted`, which is false for a run
//! that ended. So the writer appends those records, as JSON lines, to a file
//! in the user's runtime dir (`$XDG_RUNTIME_DIR/drover`, else
//! `/tmp/drover-UID`, mode 0700: another file system in practice), and the next
//! [`Store::open_location`](super::Store::open_location) of the same store
//! writes them before recovery runs. Debug output chunks and facts are not kept: they are
//! replaceable and may be large. If the spill itself fails, the records are
//! lost as before and recovery says `interrupted`.

use crate::store::records::{ExecutionRecord, JournalEntry, NodeResultRecord};
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

/// The spill file of the store at `db` (one per database path, or per
/// PostgreSQL location without its password).
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

/// What the spill file of `db` holds, in the order kept, and the file. A line
/// that cannot be read is skipped with a warning (a half-written last line after
/// a crash). The caller writes them, then removes the file with [`done`]; a
/// failed write leaves the file for the next open.
pub fn read(db: &Path) -> Option<(PathBuf, Vec<Kept>)> {
    let path = path_for(db);
    let file = std::fs::File::open(&path).ok()?;
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
    Some((path, records))
}

/// The kept records of `file` are in the store: the file goes.
pub fn done(file: &Path, written: usize) {
    let _ = std::fs::remove_file(file);
    tracing::warn!(file = %file.display(), records = written, "records the store could not take written at last");
}

/// Keeps the outcome records among `ops` in the spill file of `db`; says where,
/// for the failure's reason (`None` when there were none, or keeping failed too).
pub(crate) fn keep_outcomes(db: &Path, ops: &[super::WriteOp]) -> Option<String> {
    let outcomes = Kept::of(ops);
    if outcomes.is_empty() {
        return None;
    }
    match keep(db, &outcomes) {
        Ok(file) => Some(format!(
            "{} outcome record(s) kept in {} and written at the next start",
            outcomes.len(),
            file.display()
        )),
        Err(e) => {
            tracing::error!(error = %e, "cannot keep the lost outcome records outside the store");
            None
        }
    }
}

impl Kept {
    /// The outcome records among `ops`, for keeping.
    pub(crate) fn of(ops: &[super::WriteOp]) -> Vec<Kept> {
        use super::WriteOp;
        ops.iter()
            .filter_map(|op| match op {
                WriteOp::UpsertExecution(e) => Some(Kept::Execution(e.clone())),
                WriteOp::NodeResult(r) => Some(Kept::NodeResult(r.clone())),
                WriteOp::Journal(j) => Some(Kept::Journal(j.clone())),
                _ => None,
            })
            .collect()
    }

    /// Back into the write it was.
    pub(crate) fn into_op(self) -> super::WriteOp {
        use super::WriteOp;
        match self {
            Kept::Execution(e) => WriteOp::UpsertExecution(e),
            Kept::NodeResult(r) => WriteOp::NodeResult(r),
            Kept::Journal(j) => WriteOp::Journal(j),
        }
    }
}
