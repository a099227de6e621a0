//! Reading a transcript back, one chunk at a time, once `journal.read` on its
//! node was checked ([`Engine::read_transcript`]).

use super::frames::{self, Frame};
use crate::engine::Engine;
use crate::engine::common::error::EngineError;
use crate::engine::common::request::ExecutionContext;
use crate::engine::rbac::Capability;
use crate::store::{Store, StoreError, TranscriptRecord};

/// A transcript found by its id or by a journal entry linking to it; its
/// reads block (call them off the async loop), one chunk at a time.
pub struct TranscriptReader {
    store: Store,
    record: TranscriptRecord,
    next_seq: u32,
}

impl TranscriptReader {
    pub fn record(&self) -> &TranscriptRecord {
        &self.record
    }

    /// The next chunk's frames; `None` after the last.
    pub fn next_frames(&mut self) -> Result<Option<Vec<Frame>>, StoreError> {
        let Some(chunk) = self
            .store
            .transcript_chunk(&self.record.id, self.next_seq)?
        else {
            return Ok(None);
        };
        let frames = frames::decode(&chunk).map_err(|e| StoreError::Corrupt {
            what: format!("chunk {} of transcript {}", self.next_seq, self.record.id),
            reason: e.to_string(),
        })?;
        self.next_seq += 1;
        Ok(Some(frames))
    }
}

impl Engine {
    /// The transcript `key` names: a transcript id, or the id of a journal
    /// entry whose details link to one. `None` when neither exists (or the
    /// entry has no transcript). Needs `journal.read` on the session's node;
    /// the engine's pending writes are in first, so a session that just ended
    /// is read whole.
    pub async fn read_transcript(
        &self,
        context: &ExecutionContext,
        key: &str,
    ) -> Result<Option<TranscriptReader>, EngineError> {
        let store = self
            .inner
            .store_reader
            .clone()
            .ok_or(EngineError::NoStore)?;
        if let Err(e) = self.flush().await {
            tracing::warn!("transcripts may lag: {e}");
        }
        let key = key.trim().to_string();
        let lookup = store.clone();
        let found = tokio::task::spawn_blocking(move || find(&lookup, &key))
            .await
            .map_err(|_| EngineError::ShutDown)??;
        let Some(record) = found else {
            return Ok(None);
        };
        self.authorize(context, &Capability::JournalRead, &[&record.node])
            .await?;
        Ok(Some(TranscriptReader {
            store,
            record,
            next_seq: 0,
        }))
    }
}

fn find(store: &Store, key: &str) -> Result<Option<TranscriptRecord>, StoreError> {
    if let Some(t) = store.transcript(key)? {
        return Ok(Some(t));
    }
    let Ok(entry_id) = key.parse::<i64>() else {
        return Ok(None);
    };
    let Some(entry) = store.journal_entry(entry_id)? else {
        return Ok(None);
    };
    match entry
        .details
        .get(super::DETAIL_KEY)
        .and_then(|v| v.as_str())
    {
        Some(id) => store.transcript(id),
        None => Ok(None),
    }
}
