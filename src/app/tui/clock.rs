//! When a message is handled, read once by whoever hands the message to
//! `update`: the monotonic time (elapsed times), the wall clock (message
//! times) and a salt for the ids of anything the message starts. `update`
//! reads no clock and draws no random number, so the same messages with the
//! same stamps give the same state and the same screen.

use crate::engine::ExecutionId;
use crate::engine::common::ids::now_millis;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub now: Instant,
    /// Milliseconds since the epoch.
    pub wall_ms: i64,
    pub salt: u64,
}

impl Stamp {
    /// The clocks now, and a salt that differs between calls and processes.
    pub fn read() -> Stamp {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        static SEED: OnceLock<u64> = OnceLock::new();
        let seed = *SEED.get_or_init(|| RandomState::new().hash_one(std::process::id()));
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        Stamp {
            now: Instant::now(),
            wall_ms: now_millis(),
            salt: seed.wrapping_add(n.wrapping_mul(0x9E37_79B9)),
        }
    }

    /// The id for something this message starts (a plan's correlation id).
    pub fn fresh_id(&self) -> ExecutionId {
        ExecutionId::at(self.wall_ms, self.salt)
    }
}
