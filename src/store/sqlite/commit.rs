//! Committing the writer thread's batches into SQLite: one IMMEDIATE transaction
//! per batch, an op SQLite rejects on its own skipped (the rest still lands), one
//! retry, and a full disk met with the reserve, then by keeping outcomes outside
//! the state dir.

use std::path::PathBuf;

use rusqlite::{Connection, TransactionBehavior};

use super::events;
use super::journal_bulk;
use super::reserve::Reserve;
use super::rows;
use crate::store::records::JournalEntry;
use crate::store::writer::{BatchSink, Failures, WriteOp, describe};

/// The writer thread's SQLite connection, and what it knows of the disk.
pub(crate) struct SqliteSink {
    pub(crate) conn: Connection,
    pub(crate) disk: DiskState,
}

impl BatchSink for SqliteSink {
    fn commit_batch(&mut self, ops: &mut Vec<WriteOp>, failures: &mut Failures) {
        let wrote_chunks = ops.iter().any(WriteOp::is_chunk);
        commit_with_retry(&mut self.conn, ops, failures, &mut self.disk);
        if wrote_chunks {
            release_cached_pages(&self.conn);
        }
    }
}

/// Gives the page cache's clean pages back after a batch of output chunks. The
/// cache may grow to `cache_size` within a transaction (so a big batch is not
/// spilled half-way), but pages of appended chunks are never read again by this
/// connection: kept, they held 26 MiB of a `--debug` run's 111 MiB peak. The
/// b-tree pages the next batch needs are read back from the OS's page cache.
fn release_cached_pages(conn: &Connection) {
    if let Err(e) = conn.execute_batch("PRAGMA shrink_memory") {
        tracing::debug!(error = %e, "PRAGMA shrink_memory failed");
    }
}

/// What the writer knows of the disk: the reserve not yet used, and whether the disk
/// has been found full (from then on, debug output chunks and events are dropped so
/// the space left goes to outcomes).
pub(crate) struct DiskState {
    pub(crate) reserve: Option<Reserve>,
    pub(crate) full: bool,
}

impl DiskState {
    /// Drops the output chunks, transcript chunks and events of `ops` once the disk
    /// was full. Lost output is counted as a lost write (the run's record is
    /// incomplete); lost events are only logged: the event log is a live feed derived
    /// from history, and history itself (outcomes, journal) still gets the space.
    fn shed(&self, ops: &mut Vec<WriteOp>, failures: &mut Failures) {
        if !self.full {
            return;
        }
        let before = ops.len();
        ops.retain(|op| !matches!(op, WriteOp::Event(_)));
        let events = before - ops.len();
        if events > 0 {
            tracing::warn!(events, "disk full: events not added to the event log");
        }
        let before = ops.len();
        ops.retain(|op| !op.is_chunk());
        let dropped = before - ops.len();
        if dropped > 0 {
            let reason = "disk full: debug output and transcript chunks not stored".to_string();
            failures.add(dropped, reason);
        }
    }
}

/// Commits `ops` in one transaction; on failure rolls back and tries once more, then
/// logs and remembers the failure for the next flush. A full disk releases the
/// reserve (once) and tries again without output chunks.
fn commit_with_retry(
    conn: &mut Connection,
    ops: &mut Vec<WriteOp>,
    failures: &mut Failures,
    disk: &mut DiskState,
) {
    disk.shed(ops, failures);
    let mut last_error = None;
    let mut attempt = 0;
    while attempt < 2 {
        attempt += 1;
        match commit(conn, ops) {
            Ok(rejected) => {
                for reason in rejected {
                    failures.add(1, reason);
                }
                return;
            }
            Err(e) => {
                tracing::warn!(attempt, ops = ops.len(), error = %e, "store batch commit failed");
                if is_disk_full(&e) && !disk.full {
                    disk.full = true;
                    disk.shed(ops, failures);
                    if disk.reserve.take().is_some_and(|r| r.release()) {
                        // A fresh pair of attempts in the freed space.
                        attempt = 0;
                    }
                }
                last_error = Some(e);
            }
        }
    }
    let mut reason = last_error.map_or_else(String::new, |e| e.to_string());
    if disk.full
        && let Some(kept) = keep_outcomes(conn, ops)
    {
        reason = format!("{reason}; {kept}");
    }
    tracing::error!(ops = ops.len(), %reason, "store batch lost after retry");
    failures.add(ops.len(), reason);
}

/// Keeps the outcome records of a batch the full disk refused outside the state
/// dir (see `store::spill`); says where, for the failure's reason.
fn keep_outcomes(conn: &Connection, ops: &[WriteOp]) -> Option<String> {
    let db = PathBuf::from(conn.path()?);
    crate::store::spill::keep_outcomes(&db, ops)
}

/// Errors a single op earns on its own (a constraint, a value SQLite refuses).
fn is_about_the_op(e: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode::*;
    match e.sqlite_error_code() {
        None => true,
        Some(code) => matches!(
            code,
            ConstraintViolation | TypeMismatch | TooBig | ParameterOutOfRange
        ),
    }
}

fn is_disk_full(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
}

/// One attempt at committing a batch. An op SQLite rejects on its own (say, a node result
/// for an unknown execution) is skipped and returned so the rest of the batch still
/// lands; an error that aborts the transaction fails the whole attempt.
fn commit(conn: &mut Connection, ops: &[WriteOp]) -> rusqlite::Result<Vec<String>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut rejected = Vec::new();
    let mut bulk = None;
    let mut rest = ops;
    while !rest.is_empty() {
        let step = match journal_run(rest) {
            Some(entries) => {
                let bulk = match &mut bulk {
                    Some(bulk) => bulk,
                    None => bulk.insert(journal_bulk::JournalBulk::new(&tx)?),
                };
                // Fails only with the transaction, never on one row's content.
                if !bulk.insert(&entries)? {
                    apply_each(&tx, &rest[..journal_bulk::JOURNAL_BULK], &mut rejected)?;
                }
                journal_bulk::JOURNAL_BULK
            }
            None => apply_each(&tx, &rest[..1], &mut rejected)?,
        };
        rest = &rest[step..];
    }
    drop(bulk);
    tx.commit()?;
    Ok(rejected)
}

/// Applies `ops` one at a time, skipping (and listing) any SQLite rejects. Fails only
/// if SQLite rolled the whole transaction back (I/O error, disk full...).
fn apply_each(
    tx: &Connection,
    ops: &[WriteOp],
    rejected: &mut Vec<String>,
) -> rusqlite::Result<usize> {
    for op in ops {
        if let Err(e) = apply(tx, op) {
            // A full disk or an I/O error is not this op's fault: fail the batch so
            // it is retried in the reserve's space, or kept outside the state dir
            // (see `spill`), rather than dropped as one bad row.
            if tx.is_autocommit() || !is_about_the_op(&e) {
                return Err(e);
            }
            tracing::error!(op = describe(op), error = %e, "store write rejected");
            rejected.push(format!("{}: {e}", describe(op)));
        }
    }
    Ok(ops.len())
}

/// The next [`journal_bulk::JOURNAL_BULK`] ops, if they are all journal entries.
fn journal_run(ops: &[WriteOp]) -> Option<[&JournalEntry; journal_bulk::JOURNAL_BULK]> {
    let head = ops.get(..journal_bulk::JOURNAL_BULK)?;
    let entries: Vec<&JournalEntry> = head
        .iter()
        .map_while(|op| match op {
            WriteOp::Journal(j) => Some(j),
            _ => None,
        })
        .collect();
    entries.try_into().ok()
}

fn apply(conn: &Connection, op: &WriteOp) -> rusqlite::Result<()> {
    match op {
        // Several statements: a savepoint keeps a rejected upsert from half-applying.
        WriteOp::UpsertExecution(e) => atomically(conn, |c| rows::upsert_execution(c, e)),
        WriteOp::NodeResult(r) => rows::put_node_result(conn, r),
        WriteOp::Journal(j) => rows::insert_journal(conn, j).map(drop),
        WriteOp::OutputChunk {
            execution_id,
            node,
            stream,
            data,
        } => rows::insert_chunk(conn, execution_id, node, *stream, data),
        WriteOp::PutFacts(f) => super::facts::put(conn, f),
        WriteOp::PutBreaker(b) => super::breakers::put(conn, b),
        WriteOp::Event(e) => events::insert(conn, e),
        WriteOp::TranscriptStart(t) => super::transcripts::insert(conn, t),
        WriteOp::TranscriptChunk { id, seq, data } => {
            super::transcripts::insert_chunk(conn, id, *seq, data)
        }
        WriteOp::TranscriptEnd {
            id,
            ended_at,
            bytes,
            cut_at,
        } => super::transcripts::end(conn, id, *ended_at, *bytes, *cut_at),
        WriteOp::Flush(_) => Ok(()),
    }
}

/// Runs `f` inside a savepoint, undoing its partial effects if it fails.
fn atomically(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    conn.execute_batch("SAVEPOINT op")?;
    match f(conn) {
        Ok(()) => conn.execute_batch("RELEASE op"),
        Err(e) => {
            if !conn.is_autocommit() {
                // Best effort: if even this fails, the commit reports it.
                let _ = conn.execute_batch("ROLLBACK TO op; RELEASE op");
            }
            Err(e)
        }
    }
}
