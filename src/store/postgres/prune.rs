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

#[cfg(test)]
mod tests {
    use super::super::test_db::{TestDb, commit, entry, result};
    use super::*;
    use crate::store::records::TranscriptRecord;
    use crate::store::records::{EventRecord, ExecutionRecord, Stream};
    use crate::store::writer::WriteOp;

    fn run(id: &str, started_at: i64, status: &str) -> WriteOp {
        WriteOp::UpsertExecution(ExecutionRecord {
            started_at,
            status: status.into(),
            nodes: vec!["web1".into()],
            ..ExecutionRecord::sample(id)
        })
    }

    #[test]
    fn prune_drops_what_is_old_and_finished_with_its_rows() {
        let Some(mut db) = TestDb::open() else { return };
        commit(
            &mut db,
            vec![
                run("old", 10, "success"),
                run("old-live", 10, "running"),
                run("new", 500, "success"),
                WriteOp::NodeResult(result("old", "web1", "success")),
                WriteOp::OutputChunk {
                    execution_id: "old".into(),
                    node: "web1".into(),
                    stream: Stream::Stdout,
                    data: b"x".to_vec(),
                },
                WriteOp::Journal(entry("web1", 10, "old")),
                WriteOp::Journal(entry("web1", 500, "new")),
                WriteOp::Event(EventRecord {
                    seq: 0,
                    ts: 10,
                    kind: "node_started".into(),
                    execution: None,
                    node: None,
                    user: None,
                    pid: 1,
                    body: serde_json::json!({}),
                }),
                WriteOp::TranscriptStart(TranscriptRecord {
                    id: "t".into(),
                    node: "web1".into(),
                    user: "ops".into(),
                    action: "session: shell".into(),
                    started_at: 10,
                    width: None,
                    height: None,
                    term: None,
                    ended_at: None,
                    bytes: 0,
                    cut_at: None,
                }),
                WriteOp::TranscriptChunk {
                    id: "t".into(),
                    seq: 0,
                    data: vec![1],
                },
            ],
        );
        let c = &mut db.client;
        let report = prune(c, 100).unwrap();
        assert_eq!(
            report,
            PruneReport {
                executions: 1,
                journal_entries: 1,
                events: 1,
                transcripts: 1
            }
        );
        let count = |c: &mut postgres::Client, table: &str| -> i64 {
            c.query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])
                .unwrap()
                .get(0)
        };
        assert_eq!(count(c, "executions"), 2);
        for table in ["node_results", "output_chunks", "transcript_chunks"] {
            assert_eq!(count(c, table), 0, "{table}");
        }
        assert_eq!(count(c, "execution_targets"), 2);
    }
}
