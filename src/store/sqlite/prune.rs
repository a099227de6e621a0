//! Retention: dropping old history, journal entries and events.

use rusqlite::TransactionBehavior;

use super::SqliteBackend;
use super::connection;
use crate::store::answers::PruneReport;
use crate::store::error::StoreError;
use crate::store::records::Millis;

impl SqliteBackend {
    /// Deletes executions that started before `older_than` (with their node results,
    /// targets and output chunks, by cascade), journal entries and events stamped
    /// before it, and session transcripts started before it (with their chunks).
    ///
    /// Executions still `queued` or `running` are kept whatever their age: deleting
    /// them would make the live engine's next writes for them fail.
    ///
    /// Runs on a short-lived connection in one IMMEDIATE transaction, so a long prune
    /// neither holds the read connection (history stays responsive) nor interleaves
    /// with a half-written batch.
    pub fn prune(&self, older_than: Millis) -> Result<PruneReport, StoreError> {
        let mut conn = connection::open(self.path())?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let executions = tx.execute(
            "DELETE FROM executions
             WHERE started_at < ?1 AND status NOT IN ('queued', 'running')",
            [older_than],
        )?;
        let journal_entries = tx.execute("DELETE FROM journal WHERE ts < ?1", [older_than])?;
        let events = super::events::prune(&tx, older_than)?;
        // A transcript goes with the journal entries that link to it.
        let transcripts = tx.execute(
            "DELETE FROM transcripts WHERE started_at < ?1",
            [older_than],
        )?;
        tx.commit()?;
        Ok(PruneReport {
            executions,
            journal_entries,
            events,
            transcripts,
        })
    }
}
