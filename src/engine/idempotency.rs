//! Idempotency keys: a request that carries the key of an execution that is
//! queued, running, or finished less than `window` ago gets that execution's id
//! back instead of running again (a retried client call, a double key press).

use super::ids::ExecutionId;
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub(crate) struct IdempotencyKeys {
    pub window: Duration,
    /// key → execution; guarded by an async lock held across the start, so two
    /// requests with one key can never both start.
    pub map: tokio::sync::Mutex<HashMap<String, ExecutionId>>,
}

impl IdempotencyKeys {
    pub fn new(window: Duration) -> IdempotencyKeys {
        IdempotencyKeys {
            window,
            map: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Whether an execution that ended at `finished` (None: still going) still
    /// answers for its key.
    pub fn live(&self, finished: Option<Instant>) -> bool {
        finished.is_none_or(|t| t.elapsed() < self.window)
    }
}
