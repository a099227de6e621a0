//! Session transcripts: what an interactive session printed, with its timing,
//! recorded into the store as it is printed ([`TranscriptSink`]) and read back
//! frame by frame ([`TranscriptReader`]). Only output is ever recorded: the
//! keys typed into a session never reach a transcript.

pub mod chunker;
pub mod frames;
mod reader;
mod sink;

pub use frames::{Frame, FrameError};
pub use reader::TranscriptReader;
pub use sink::{TranscriptSink, TranscriptSummary};

/// The journal detail that links a session's entries to its transcript.
pub const DETAIL_KEY: &str = "transcript";

/// What replay and the journal say of a transcript recording stopped at its limit.
pub fn cut_note(bytes: u64) -> String {
    format!("transcript cut at {bytes} bytes")
}
