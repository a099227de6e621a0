//! The messages of a run's event stream that are drover's own, beside the
//! engine's events and output chunks: the first one of a submitted stream, and
//! bytes a follower missed.

use serde::{Deserialize, Serialize};

use crate::store::Stream as OutStream;

/// The first message of a stream `POST /v1/runs` answers with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubmittedMessage {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// Bytes of a node's stream the ring no longer held when a follower read it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MissedMessage {
    #[serde(rename = "type")]
    pub kind: String,
    pub node: String,
    pub stream: OutStream,
    pub bytes: u64,
}
