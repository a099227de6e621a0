//! `[sessions]`: interactive sessions (`drover ssh`, the console's `s`), whether
//! their output is recorded as a transcript, and how much of it at most.

use super::KeyError;
use serde::Deserialize;

/// The default limit of one session's transcript.
pub const DEFAULT_MAX_TRANSCRIPT_BYTES: u64 = 8 << 20;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SessionsConfig {
    /// Record every session's output (`drover ssh --no-record` turns it off
    /// for one session, `--record` on without this).
    pub record: bool,
    /// Output bytes one transcript keeps; recording stops there and the
    /// transcript is marked cut.
    pub max_transcript_bytes: u64,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        SessionsConfig {
            record: false,
            max_transcript_bytes: DEFAULT_MAX_TRANSCRIPT_BYTES,
        }
    }
}

impl SessionsConfig {
    pub(super) fn validate(&self) -> Result<(), KeyError> {
        if self.max_transcript_bytes == 0 {
            return Err(KeyError::new(
                "sessions",
                "max_transcript_bytes",
                "must be more than 0",
            ));
        }
        Ok(())
    }
}
