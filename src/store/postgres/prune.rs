//! Retention in PostgreSQL: dropping old history, journal entries, events and
//! transcripts in one transaction, as `Store::prune` does.

use postgres::GenericClient;

use crate::store::answers::PruneReport;
use crate::store::error::StoreError;
use crate::store::records::Millis;

/// Deletes executions that started before `older_than` and are no longer queued or
/// running (their node results, targets and output chunks go by cascade), journal
/// entries and events stamped before it, and transcripts started before it (with
/// their chunks). All or nothing.
pub(crate) fn prune(
    client: &mut impl GenericClient,
    older_than: Millis,
) -> Result<PruneReport, StoreError> {
    let mut tx = client.transaction()?;
    let executions = tx.execute(
        "DELETE FROM executions
         WHERE started_at < $1 AND status NOT IN ('queued', 'running')",
        &[&older_than],
    )?;
    let journal_entries = tx.execute("DELETE FROM journal WHERE ts < $1", &[&older_than])?;
    let events = super::events::prune(&mut tx, older_than)?;
    let transcripts = tx.execute(
        "DELETE FROM transcripts WHERE started_at < $1",
        &[&older_than],
    )?;
    tx.commit()?;
    Ok(PruneReport {
        executions: executions as usize,
        journal_entries: journal_entries as usize,
        events: events as usize,
        transcripts: transcripts as usize,
    })
}
