//! What the store's reads answer besides records: a key claim, a prune's count,
//! the store's health. The same for every backend.

use serde::Serialize;

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyClaim {
    /// The key is ours: run, then `bind_key` the execution to it.
    New,
    /// The key answers for an execution that is queued or running, finished
    /// within the window, or (empty id) is being started by another process.
    Taken {
        execution_id: String,
        status: Option<String>,
    },
}

/// Whether a key's earlier claim still answers for it at `now`: its run is queued
/// or running, finished within the window, or (not started yet, or pruned) was
/// claimed within the window. Both backends judge a claim by this.
pub(crate) fn claim_is_live(
    status: Option<&str>,
    finished_at: Option<super::records::Millis>,
    claimed_at: super::records::Millis,
    now: super::records::Millis,
    window_ms: i64,
) -> bool {
    match (status, finished_at) {
        (Some("queued" | "running"), _) => true,
        (Some(_), Some(end)) => end > now - window_ms,
        _ => claimed_at > now - window_ms,
    }
}

/// How many runs an ambiguous id prefix lists at most.
pub(crate) const MAX_CANDIDATES: usize = 10;

/// The one run `matches` (the runs whose ids start with `prefix`, by id, at
/// most [`MAX_CANDIDATES`] + 1 of them) name, `None` for none, or `Ambiguous`
/// with the first [`MAX_CANDIDATES`] and whether there were more. Both
/// backends resolve id prefixes by this.
pub(crate) fn only_match(
    prefix: &str,
    mut matches: Vec<super::records::IdCandidate>,
) -> Result<Option<String>, super::error::StoreError> {
    match matches.len() {
        0 => Ok(None),
        1 => Ok(matches.pop().map(|c| c.id)),
        _ => {
            let more = matches.len() > MAX_CANDIDATES;
            matches.truncate(MAX_CANDIDATES);
            Err(super::error::StoreError::Ambiguous {
                prefix: prefix.to_string(),
                candidates: matches,
                more,
            })
        }
    }
}

/// What a prune removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneReport {
    pub executions: usize,
    pub journal_entries: usize,
    pub events: usize,
    pub transcripts: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreHealth {
    pub path: String,
    /// `PRAGMA quick_check` said "ok".
    pub intact: bool,
    /// "ok", or the first problems quick_check found.
    pub integrity: String,
    pub schema_version: i64,
    pub db_bytes: u64,
    pub wal_bytes: u64,
    pub executions: i64,
    pub journal_entries: i64,
    /// Set while the writer cannot reach the database: since when, why, and how
    /// many writes it holds.
    pub outage: Option<String>,
}
