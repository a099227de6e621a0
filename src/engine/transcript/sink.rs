//! Recording a session's output through the engine: frames are cut into chunks
//! by a [`Chunker`] as they are printed (and a quiet second closes the open
//! one), and the chunks go to the store, in order, from a task of their own,
//! so that printing never waits on the disk. What is queued is bounded by the
//! session's byte limit.

use super::chunker::{CHUNK_SPAN_MS, Chunker};
use crate::engine::common::ids::{ExecutionId, now_millis};
use crate::engine::{Engine, EngineError};
use crate::store::{StoreWriter, Stream, TranscriptRecord, WriteOp};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// How a recorded session's transcript ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptSummary {
    pub id: String,
    /// Output bytes recorded.
    pub bytes: u64,
    /// The limit recording stopped at, when output went past it.
    pub cut_at: Option<u64>,
}

enum Pumped {
    /// Boxed: a write op is large, and a chunk is rare next to the bytes it holds.
    Op(Box<WriteOp>),
    Done(oneshot::Sender<()>),
}

struct Open {
    chunker: Chunker,
    next_seq: u32,
}

/// A transcript being recorded; shared by the session's output streams.
pub struct TranscriptSink {
    shared: Arc<Shared>,
    /// Stores the open chunk once a quiet second has passed.
    ticker: tokio::task::JoinHandle<()>,
}

struct Shared {
    id: String,
    started: Instant,
    limit: u64,
    open: Mutex<Open>,
    pump: mpsc::UnboundedSender<Pumped>,
}

impl Engine {
    /// Starts recording a transcript described by `record` (its `id`, counts
    /// and end are filled in here), at most `limit` output bytes.
    pub async fn start_transcript(
        &self,
        mut record: TranscriptRecord,
        limit: u64,
    ) -> Result<TranscriptSink, EngineError> {
        let store = self.inner.store.clone().ok_or(EngineError::NoStore)?;
        record.id = ExecutionId::new().0;
        record.started_at = now_millis();
        record.ended_at = None;
        record.bytes = 0;
        record.cut_at = None;
        let id = record.id.clone();
        store.send(WriteOp::TranscriptStart(record)).await?;
        let (pump, queued) = mpsc::unbounded_channel();
        tokio::spawn(pump_to_store(store, queued));
        let shared = Arc::new(Shared {
            id,
            started: Instant::now(),
            limit,
            open: Mutex::new(Open {
                chunker: Chunker::new(limit),
                next_seq: 0,
            }),
            pump,
        });
        let ticker = tokio::spawn(close_quiet_chunks(Arc::downgrade(&shared)));
        Ok(TranscriptSink { shared, ticker })
    }
}

impl TranscriptSink {
    pub fn id(&self) -> &str {
        &self.shared.id
    }

    /// Records bytes the session printed just now.
    pub fn record(&self, stream: Stream, data: &[u8]) {
        let s = &self.shared;
        let mut open = s.lock();
        let closed = open.chunker.push(s.now_ms(), stream, data);
        for chunk in closed {
            s.send_chunk(&mut open, chunk);
        }
    }

    /// Stores what is left and the transcript's end; resolves once all of it
    /// was handed to the store.
    pub async fn finish(&self) -> TranscriptSummary {
        self.ticker.abort();
        let s = &self.shared;
        let summary = {
            let mut open = s.lock();
            if let Some(chunk) = open.chunker.close() {
                s.send_chunk(&mut open, chunk);
            }
            let cut_at = open.chunker.is_cut().then_some(s.limit);
            let bytes = open.chunker.recorded();
            let _ = s.pump.send(Pumped::Op(Box::new(WriteOp::TranscriptEnd {
                id: s.id.clone(),
                ended_at: now_millis(),
                bytes,
                cut_at,
            })));
            TranscriptSummary {
                id: s.id.clone(),
                bytes,
                cut_at,
            }
        };
        let (done, sent) = oneshot::channel();
        if s.pump.send(Pumped::Done(done)).is_ok() {
            let _ = sent.await;
        }
        summary
    }
}

impl Drop for TranscriptSink {
    fn drop(&mut self) {
        self.ticker.abort();
    }
}

impl Shared {
    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn send_chunk(&self, open: &mut Open, data: Vec<u8>) {
        let seq = open.next_seq;
        open.next_seq += 1;
        let op = WriteOp::TranscriptChunk {
            id: self.id.clone(),
            seq,
            data,
        };
        if self.pump.send(Pumped::Op(Box::new(op))).is_err() {
            tracing::warn!(id = %self.id, "transcript chunk not stored: the store is closed");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Every [`CHUNK_SPAN_MS`], stores the open chunk if it is that old, until
/// the transcript is finished or dropped.
async fn close_quiet_chunks(shared: Weak<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_millis(CHUNK_SPAN_MS));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(s) = shared.upgrade() else {
            return;
        };
        let mut open = s.lock();
        if let Some(chunk) = open.chunker.close_if_older(s.now_ms()) {
            s.send_chunk(&mut open, chunk);
        }
    }
}

/// Hands the queued writes to the store in order, waiting for room there.
async fn pump_to_store(store: StoreWriter, mut queued: mpsc::UnboundedReceiver<Pumped>) {
    while let Some(item) = queued.recv().await {
        match item {
            Pumped::Op(op) => {
                if let Err(e) = store.send(*op).await {
                    tracing::warn!("transcript write not stored: {e}");
                }
            }
            Pumped::Done(done) => {
                let _ = done.send(());
                return;
            }
        }
    }
}
