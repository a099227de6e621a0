//! The front ends: the console (`tui`) and the headless runner (`batch`), plus the
//! set-up they share. Both talk to the engine only through its handle, events and
//! snapshots.

pub mod attach;
pub mod batch;
pub mod docs;
pub mod login_user;
pub mod replay;
pub mod rerun;
pub mod run_id;
pub mod service;
pub mod session;
pub mod setup;
pub mod stop_signals;
pub mod store_admin;
pub mod stored_output;
pub mod target_args;
pub mod tui;
pub mod wire;

/// Exit codes, documented in the README and `drover --help`.
pub mod exit {
    use crate::engine::EngineError;

    pub const SUCCESS: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const DENIED: u8 = 3;
    pub const NO_MATCH: u8 = 4;
    /// The engine's queue is full: nothing ran; try again later.
    pub const QUEUE_FULL: u8 = 5;
    /// A run with the same idempotency key is still queued or running: nothing ran.
    pub const DUPLICATE: u8 = 6;
    pub const CANCELLED: u8 = 130;

    /// Exit code for a request the engine refused before running anything.
    pub fn exit_code_for(e: &EngineError) -> u8 {
        match e {
            EngineError::Validation(_)
            | EngineError::InventorySources(_)
            | EngineError::IdempotencyKey { .. } => USAGE,
            EngineError::NoMatch { .. } => NO_MATCH,
            EngineError::QueueFull(_) => QUEUE_FULL,
            EngineError::Authorization { .. } => DENIED,
            _ => FAILED,
        }
    }
}
