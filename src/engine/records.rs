//! What history holds, as front ends read it: the record types the engine's
//! reads return (see `reads`). Front ends name them through here and never
//! open the store themselves.

pub use crate::store::{
    EntryType, EventFilter, EventRecord, ExecutionRecord, HistoryFilter, IdCandidate, JournalEntry,
    Metrics, Millis, NodeResultRecord, OutputMode, StoreError, Stream, TranscriptRecord,
};
