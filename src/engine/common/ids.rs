//! Execution identifiers: short, time-sortable, unique across processes.

use serde::{Deserialize, Serialize};
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// 16 hex digits: 44 bits of milliseconds since the epoch (sortable by start time)
/// then 20 bits mixed from a per-process random seed and a counter, so two drover
/// processes starting runs in the same millisecond still get distinct ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExecutionId(pub String);

impl ExecutionId {
    pub fn new() -> ExecutionId {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        let seed = *SEED.get_or_init(|| {
            let mut h = RandomState::new().build_hasher();
            h.write_u32(std::process::id());
            h.finish()
        });
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        ExecutionId::at(now_millis(), seed.wrapping_add(n.wrapping_mul(0x9E37_79B9)))
    }

    /// The id for a run started at `ms` (milliseconds since the epoch), its
    /// low bits from `salt`: for callers that read the clock and the salt
    /// elsewhere, so that making the id reads neither.
    pub fn at(ms: i64, salt: u64) -> ExecutionId {
        let low = salt & 0xF_FFFF;
        let ms = ms as u64 & 0xFFF_FFFF_FFFF;
        ExecutionId(format!("{ms:011x}{low:05x}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for ExecutionId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for ExecutionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The first 8 characters of an execution id, as lists show it (the start
/// time's leading digits: runs close together share them, so every place
/// that takes an id also takes any unique prefix).
pub fn short_id(id: &str) -> &str {
    &id[..id.len().min(8)]
}

/// Wall-clock milliseconds since the Unix epoch (the store's time unit).
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
