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

use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::{Semaphore, mpsc, oneshot};

use super::blocking::block_on;
use super::error::StoreError;
use super::records::{EventRecord, ExecutionRecord, JournalEntry, NodeResultRecord, Stream};

/// How many messages may wait for the writer before senders block.
const CHANNEL_CAPACITY: usize = 4096;
/// Upper bound on ops per transaction, so one commit never holds the lock for long.
const MAX_BATCH: usize = 4096;
/// Bytes of output and transcript chunks that may wait for the writer in all
/// (queued, or in the batch being committed). Counting messages alone let a run
/// printing at full speed park 4,096 chunks of 32 KiB here (`--debug` with 50 nodes
/// each printing 27 MB peaked at 336 MiB); past this the sender waits, and so does
/// the node, as for any slow consumer. 4 MiB keeps the writer's batches full:
/// 8 MiB took as long and held 4 MiB more, 2 MiB slowed that run by a tenth.
const CHUNK_BYTES_IN_FLIGHT: usize = 4 << 20;

impl WriteOp {
    /// An output or transcript chunk: the ops bounded in bytes, shed first on a
    /// full disk.
    pub(crate) fn is_chunk(&self) -> bool {
        matches!(
            self,
            WriteOp::OutputChunk { .. } | WriteOp::TranscriptChunk { .. }
        )
    }
}

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
    PutFacts(super::records::CachedFacts),
    /// A circuit breaker changed: replaces its row by `(scope, name)` unless the
    /// row holds a newer change (a late writer must not undo it).
    PutBreaker(super::records::BreakerRecord),
    /// Append to the event log; the database assigns the `seq`.
    Event(EventRecord),
    /// A session's transcript begins (before its chunks).
    TranscriptStart(super::records::TranscriptRecord),
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
pub(crate) fn spawn(sink: impl BatchSink) -> Result<(StoreWriter, JoinHandle<()>), StoreError> {
    let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
    let chunk_bytes = Arc::new(Semaphore::new(CHUNK_BYTES_IN_FLIGHT));
    let budget = chunk_bytes.clone();
    let handle = std::thread::Builder::new()
        .name("drover-store-writer".into())
        .spawn(move || run(sink, rx, &budget))
        .map_err(StoreError::WriterSpawn)?;
    Ok((StoreWriter { tx, chunk_bytes }, handle))
}

/// Write failures not yet reported to a flush: how many ops were lost or
/// rejected since the last one, and the first reason.
#[derive(Default)]
pub(crate) struct Failures(Option<Failure>);

struct Failure {
    ops: usize,
    reason: String,
}

impl Failures {
    pub(crate) fn add(&mut self, ops: usize, reason: String) {
        match &mut self.0 {
            Some(f) => f.ops += ops,
            None => self.0 = Some(Failure { ops, reason }),
        }
    }

    fn take(&mut self) -> Option<Failure> {
        self.0.take()
    }
}

/// What the writer thread commits its batches into: one per backend. It is
/// handed every batch (never a flush) and decides how to retry; what it could
/// not keep it adds to `failures`, which the next flush reports.
pub(crate) trait BatchSink: Send + 'static {
    fn commit_batch(&mut self, ops: &mut Vec<WriteOp>, failures: &mut Failures);
}

/// The thread body: ends when every sender is gone, or after `Close` once the queue
/// has drained.
fn run(mut sink: impl BatchSink, mut rx: mpsc::Receiver<Message>, chunk_bytes: &Semaphore) {
    let mut unreported = Failures::default();
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
            sink.commit_batch(&mut ops, &mut unreported);
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

/// Names an op for logs and error messages without dumping its payload.
pub(crate) fn describe(op: &WriteOp) -> String {
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
        WriteOp::PutBreaker(b) => format!("breaker of {} {}", b.scope, b.name),
        WriteOp::Event(e) => format!("{} event", e.kind),
        WriteOp::TranscriptStart(t) => format!("transcript {} of node {}", t.id, t.node),
        WriteOp::TranscriptChunk { id, seq, .. } => format!("chunk {seq} of transcript {id}"),
        WriteOp::TranscriptEnd { id, .. } => format!("end of transcript {id}"),
        WriteOp::Flush(_) => "flush".to_string(),
    }
}
