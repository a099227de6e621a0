//! What the writer knows of the database being out of reach: since when, why,
//! and how many writes it holds meanwhile. The writer thread sets it; health
//! checks (`drover status`, the console's `:status`) read it.

use std::sync::Mutex;

use crate::store::records::Millis;

/// An outage as the writer saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outage {
    /// When the first write failed to reach the database.
    pub since: Millis,
    /// The last connection error.
    pub reason: String,
    /// Writes held by the writer, waiting for the database.
    pub held: usize,
    /// Reconnection attempts so far.
    pub attempts: u32,
}

/// Shared between the writer thread and the store's readers.
#[derive(Debug, Default)]
pub(crate) struct OutageState {
    outage: Mutex<Option<Outage>>,
}

impl OutageState {
    pub(crate) fn current(&self) -> Option<Outage> {
        self.lock().clone()
    }

    /// Records a failed attempt while `held` writes wait.
    pub(crate) fn failed(&self, now: Millis, reason: String, held: usize) {
        let mut slot = self.lock();
        match slot.as_mut() {
            Some(o) => {
                o.reason = reason;
                o.held = held;
                o.attempts += 1;
            }
            None => {
                *slot = Some(Outage {
                    since: now,
                    reason,
                    held,
                    attempts: 1,
                })
            }
        }
    }

    /// The database answered again; returns the outage that ended, if any.
    pub(crate) fn ended(&self) -> Option<Outage> {
        self.lock().take()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Outage>> {
        self.outage.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl std::fmt::Display for Outage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let since = jiff::Timestamp::from_millisecond(self.since)
            .map_or_else(|_| self.since.to_string(), |t| t.to_string());
        write!(
            f,
            "unreachable since {since} ({} attempt(s); {} write(s) held): {}",
            self.attempts, self.held, self.reason
        )
    }
}
