//! The single writer: one OS thread owns the write connection and commits everything
//! the rest of drover records.
//!
//! Why one thread: SQLite allows one writer at a time anyway, and a dedicated thread lets
//! us batch. It takes one op (blocking), drains whatever else is already queued and
//! commits the lot in one transaction. There is no timer, so a lone write is committed at
//! once, while under load batches grow by themselves and a commit's cost is shared by
//! thousands of rows.
//!
//! Why a bounded channel: a full channel makes senders wait, which is the backpressure.
//! Nothing is ever dropped to make room.

use std::path::PathBuf;
use std::thread::JoinHandle;

use rusqlite::{Connection, TransactionBehavior};
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::blocking::block_on;
use super::error::StoreError;
use super::events;
use super::journal_bulk;
use super::records::{EventRecord, ExecutionRecord, JournalEntry, NodeResultRecord, Stream};
use super::reserve::Reserve;
use super::rows;

/// How many messages may wait for the writer before senders block.
const CHANNEL_CAPACITY: usize = 4096;
/// Upper bound on ops per transaction, so one commit never holds the lock for long.
const MAX_BATCH: usize = 4096;
/// Bytes of output and transcript chunks that may wait for the writer in all
/// (queued, or in the batch being committed). Counting messages alone let a run
/// printing at full speed park 4,096 chunks of 32 KiB here (`--debug` with 50 nodes
/// each printing 27 MB peaked at 336 MiB); past this the sender waits, and so does
/// the node, as for any slow consumer.
const CHUNK_BYTES_IN_FLIGHT: usize = 8 << 20;

/// The share of [`CHUNK_BYTES_IN_FLIGHT`] an op holds while it waits.
fn chunk_permits(op: &WriteOp) -> u32 {
    let len = match op {
        WriteOp::OutputChunk { data, .. } | WriteOp::TranscriptChunk { data, .. } => data.len(),
        _ => 0,
    };
    len.min(CHUNK_BYTES_IN_FLIGHT) as u32
}

/// One write for the writer thread.
#[derive(Debug)]
pub enum WriteOp {
    /// Insert or update by id; also rewrites the execution's target rows.
    UpsertExecution(ExecutionRecord),
    /// Insert or replace by `(execution_id, node)`.
    NodeResult(NodeResultRecord),
    /// Append to a node's journal; the database assigns the id.
    Journal(JournalEntry),
    /// Debug mode: append raw output; `seq` increases per `(execution_id, node)`.
    OutputChunk {
        execution_id: String,
        node: String,
        stream: Stream,
        data: Vec<u8>,
    },
    /// Insert or replace a node's cached facts.
    PutFacts(super::facts::CachedFacts),
    /// Append to the event log; the database assigns the `seq`.
    Event(EventRecord),
    /// A session's transcript begins (before its chunks).
    TranscriptStart(super::transcripts::TranscriptRecord),
    /// Chunk `seq` of a transcript's frames; `seq` counts from 0 per transcript.
    TranscriptChunk { id: String, seq: u32, data: Vec<u8> },
    /// The session ended: how much was recorded, and where it was cut if it was.
    TranscriptEnd {
        id: String,
        ended_at: super::records::Millis,
        bytes: u64,
        cut_at: Option<u64>,
    },
    /// Answered once everything sent before it is committed, with any write failure
    /// since the previous flush.
    Flush(oneshot::Sender<Result<(), StoreError>>),
}

/// What travels on the channel: ops, plus the store's private request to shut down.
#[expect(
    clippy::large_enum_variant,
    reason = "boxing would cost an allocation per write to shrink a once-per-process message"
)]
pub(crate) enum Message {
    Op(WriteOp),
    Close,
}

/// Cheap, cloneable handle for sending writes to the writer thread.
#[derive(Clone)]
pub struct StoreWriter {
    tx: mpsc::Sender<Message>,
    /// Permits are chunk bytes: taken by `send`, given back once committed.
    chunk_bytes: Arc<Semaphore>,
}

impl StoreWriter {
    /// Queues `op`; waits while the queue is full. Fails only once the store is closed.
    pub async fn send(&self, op: WriteOp) -> Result<(), StoreError> {
        let permits = chunk_permits(&op);
        if permits > 0 {
            // Closed only when the writer is gone: then so is the channel.
            self.chunk_bytes
                .acquire_many(permits)
                .await
                .map_err(|_| StoreError::Closed)?
                .forget();
        }
        self.tx
            .send(Message::Op(op))
            .await
            .map_err(|_| StoreError::Closed)
    }

    /// Like [`send`](Self::send) for synchronous callers. Unlike tokio's `blocking_send`
    /// it works on any thread, even a runtime's (the wait is on the writer's own thread,
    /// never on a task, so it cannot deadlock the runtime).
    pub fn blocking_send(&self, op: WriteOp) -> Result<(), StoreError> {
        block_on(self.send(op))
    }

    /// Resolves once everything sent before it is committed. Reports a write failure
    /// (a batch that failed twice, or a rejected op) that happened since the last flush.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let (tx, rx) = oneshot::channel();
        self.send(WriteOp::Flush(tx)).await?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Like [`flush`](Self::flush) for synchronous callers; works on any thread too.
    pub fn blocking_flush(&self) -> Result<(), StoreError> {
        block_on(self.flush())
    }

    pub(crate) fn blocking_message(&self, msg: Message) -> Result<(), StoreError> {
        block_on(self.tx.send(msg)).map_err(|_| StoreError::Closed)
    }
}

impl std::fmt::Debug for StoreWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreWriter")
            .field("closed", &self.tx.is_closed())
            .finish()
    }
}

/// Starts the writer thread on `conn`.
pub(crate) fn spawn(
    conn: Connection,
    reserve: Option<Reserve>,
) -> Result<(StoreWriter, JoinHandle<()>), StoreError> {
    let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
    let chunk_bytes = Arc::new(Semaphore::new(CHUNK_BYTES_IN_FLIGHT));
    let budget = chunk_bytes.clone();
    let handle = std::thread::Builder::new()
        .name("drover-store-writer".into())
        .spawn(move || run(conn, rx, reserve, &budget))
        .map_err(StoreError::WriterSpawn)?;
    Ok((StoreWriter { tx, chunk_bytes }, handle))
}

/// A failure not yet reported to a flush.
struct Failure {
    ops: usize,
    reason: String,
}

impl Failure {
    fn add(slot: &mut Option<Failure>, ops: usize, reason: String) {
        match slot {
            Some(f) => f.ops += ops,
            None => *slot = Some(Failure { ops, reason }),
        }
    }
}

/// The thread body: ends when every sender is gone, or after `Close` once the queue
/// has drained.
fn run(
    mut conn: Connection,
    mut rx: mpsc::Receiver<Message>,
    reserve: Option<Reserve>,
    chunk_bytes: &Semaphore,
) {
    let mut unreported: Option<Failure> = None;
    let mut disk = DiskState {
        reserve,
        full: false,
    };
    let mut inbox = Vec::with_capacity(MAX_BATCH);
    let mut ops = Vec::with_capacity(MAX_BATCH);
    let mut flushes = Vec::new();
    // Waits for at least one message, then takes whatever else is queued; freeing the
    // slots in one go wakes waiting senders once per batch, not once per message.
    while rx.blocking_recv_many(&mut inbox, MAX_BATCH) > 0 {
        for msg in inbox.drain(..) {
            match msg {
                Message::Op(WriteOp::Flush(reply)) => flushes.push(reply),
                Message::Op(op) => ops.push(op),
                // Refuse new messages but keep draining those already queued.
                Message::Close => rx.close(),
            }
        }
        if !ops.is_empty() {
            let held: usize = ops.iter().map(|op| chunk_permits(op) as usize).sum();
            commit_with_retry(&mut conn, &mut ops, &mut unreported, &mut disk);
            ops.clear();
            chunk_bytes.add_permits(held);
        }
        if !flushes.is_empty() {
            // Every flush waiting in this batch hears about the failure; then it is told.
            let failure = unreported.take();
            for reply in flushes.drain(..) {
                let result = match &failure {
                    Some(f) => Err(StoreError::WriteFailed {
                        ops: f.ops,
                        reason: f.reason.clone(),
                    }),
                    None => Ok(()),
                };
                // The flusher may have stopped waiting; nothing to do then.
                let _ = reply.send(result);
            }
        }
    }
    // Senders waiting for room must not wait for a writer that is gone.
    chunk_bytes.close();
}

/// What the writer knows of the disk: the reserve not yet used, and whether the disk
/// has been found full (from then on, debug output chunks and events are dropped so
/// the space left goes to outcomes).
struct DiskState {
    reserve: Option<Reserve>,
    full: bool,
}

impl DiskState {
    /// Drops the output chunks, transcript chunks and events of `ops` once the disk
    /// was full. Lost output is counted as a lost write (the run's record is
    /// incomplete); lost events are only logged: the event log is a live feed derived
    /// from history, and history itself (outcomes, journal) still gets the space.
    fn shed(&self, ops: &mut Vec<WriteOp>, unreported: &mut Option<Failure>) {
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
        ops.retain(|op| {
            !matches!(
                op,
                WriteOp::OutputChunk { .. } | WriteOp::TranscriptChunk { .. }
            )
        });
        let dropped = before - ops.len();
        if dropped > 0 {
            let reason = "disk full: debug output and transcript chunks not stored".to_string();
            Failure::add(unreported, dropped, reason);
        }
    }
}

/// Commits `ops` in one transaction; on failure rolls back and tries once more, then
/// logs and remembers the failure for the next flush. A full disk releases the
/// reserve (once) and tries again without output chunks.
fn commit_with_retry(
    conn: &mut Connection,
    ops: &mut Vec<WriteOp>,
    unreported: &mut Option<Failure>,
    disk: &mut DiskState,
) {
    disk.shed(ops, unreported);
    let mut last_error = None;
    let mut attempt = 0;
    while attempt < 2 {
        attempt += 1;
        match commit(conn, ops) {
            Ok(rejected) => {
                for reason in rejected {
                    Failure::add(unreported, 1, reason);
                }
                return;
            }
            Err(e) => {
                tracing::warn!(attempt, ops = ops.len(), error = %e, "store batch commit failed");
                if is_disk_full(&e) && !disk.full {
                    disk.full = true;
                    disk.shed(ops, unreported);
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
    Failure::add(unreported, ops.len(), reason);
}

/// Keeps the outcome records of a batch the full disk refused outside the state
/// dir (see `spill`); says where, for the failure's reason.
fn keep_outcomes(conn: &Connection, ops: &[WriteOp]) -> Option<String> {
    use super::spill::Kept;
    let db = PathBuf::from(conn.path()?);
    let outcomes: Vec<Kept> = ops
        .iter()
        .filter_map(|op| match op {
            WriteOp::UpsertExecution(e) => Some(Kept::Execution(e.clone())),
            WriteOp::NodeResult(r) => Some(Kept::NodeResult(r.clone())),
            WriteOp::Journal(j) => Some(Kept::Journal(j.clone())),
            _ => None,
        })
        .collect();
    if outcomes.is_empty() {
        return None;
    }
    match super::spill::keep(&db, &outcomes) {
        Ok(file) => Some(format!(
            "{} outcome record(s) kept in {} and written at the next start",
            outcomes.len(),
            file.display()
        )),
        Err(e) => {
            tracing::error!(error = %e, "cannot keep the lost outcome records outside the state dir");
            None
        }
    }
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

/// Names an op for logs and error messages without dumping its payload.
fn describe(op: &WriteOp) -> String {
    match op {
        WriteOp::UpsertExecution(e) => format!("execution {}", e.id),
        WriteOp::NodeResult(r) => {
            format!("result of node {} in execution {}", r.node, r.execution_id)
        }
        WriteOp::Journal(j) => format!("journal entry for node {}", j.node),
        WriteOp::OutputChunk {
            execution_id, node, ..
        } => {
            format!("output chunk of node {node} in execution {execution_id}")
        }
        WriteOp::PutFacts(f) => format!("cached facts of node {}", f.node),
        WriteOp::Event(e) => format!("{} event", e.kind),
        WriteOp::TranscriptStart(t) => format!("transcript {} of node {}", t.id, t.node),
        WriteOp::TranscriptChunk { id, seq, .. } => format!("chunk {seq} of transcript {id}"),
        WriteOp::TranscriptEnd { id, .. } => format!("end of transcript {id}"),
        WriteOp::Flush(_) => "flush".to_string(),
    }
}
