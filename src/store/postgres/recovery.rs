//! Crash recovery in PostgreSQL. Runs of many hosts share the database, and a pid is
//! only meaningful on its own host: only executions whose `owner_host` is this host
//! are judged by whether their owner process still lives. Otherwise as SQLite's
//! `recover_interrupted` (the caller flushes its writer first).

use std::collections::BTreeSet;

use postgres::GenericClient;

use super::bulk;
use super::statements::Statements;
use crate::store::error::StoreError;
use crate::store::interrupted::{Unfinished, interrupted_entry, interrupted_result};
use crate::store::owner::now_millis;

/// Marks this host's crash leftovers `interrupted` and returns their ids: status
/// `interrupted`, `finished_at` = now, `duration_ms` left empty, an `interrupted`
/// result and an `execution` journal entry for each node without a result, counters
/// recomputed from the node results. One transaction; the candidates are locked, so
/// two drovers starting on one host at once do not both recover a run.
pub(crate) fn recover_interrupted(
    client: &mut impl GenericClient,
    host: &str,
    is_alive: impl Fn(i64, i64) -> bool,
) -> Result<Vec<String>, StoreError> {
    let mut tx = client.transaction()?;
    let candidates = unfinished(&mut tx, host)?;
    let now = now_millis();
    let mut statements = Statements::default();
    let mut recovered = Vec::new();
    for run in candidates {
        if is_alive(run.owner_pid, run.owner_start_time) {
            continue;
        }
        let nodes: BTreeSet<&String> = run.nodes.iter().collect();
        for node in nodes {
            let has_result = tx
                .query_opt(
                    "SELECT 1 FROM node_results WHERE execution_id = $1 AND node = $2",
                    &[&run.id, node],
                )?
                .is_some();
            if has_result {
                continue;
            }
            let result = interrupted_result(&run.id, node, now);
            bulk::node_results(&mut tx, &mut statements, &[&result])?;
            let entry = interrupted_entry(&run, node, now);
            bulk::journal(&mut tx, &mut statements, &[&entry])?;
        }
        tx.execute(
            "UPDATE executions SET status = 'interrupted', finished_at = $2,
                 success_count = (SELECT COUNT(*) FROM node_results
                                  WHERE execution_id = $1 AND status = 'success'),
                 failed_count  = (SELECT COUNT(*) FROM node_results
                                  WHERE execution_id = $1 AND status <> 'success')
             WHERE id = $1",
            &[&run.id, &now],
        )?;
        tracing::warn!(execution = %run.id, owner_pid = run.owner_pid, host, "marked interrupted execution");
        recovered.push(run.id);
    }
    tx.commit()?;
    Ok(recovered)
}

fn unfinished(client: &mut impl GenericClient, host: &str) -> Result<Vec<Unfinished>, StoreError> {
    let rows = client.query(
        "SELECT id, action, \"user\", nodes, owner_pid, owner_start_time FROM executions
         WHERE status IN ('queued', 'running') AND owner_host = $1
         ORDER BY started_at, id COLLATE \"C\"
         FOR UPDATE",
        &[&host],
    )?;
    rows.iter()
        .map(|row| {
            let id: String = row.try_get(0)?;
            let nodes_text: String = row.try_get(3)?;
            // An unreadable node list must not block recovery of every other run.
            let nodes = serde_json::from_str(&nodes_text).unwrap_or_else(|e| {
                tracing::warn!(execution = %id, error = %e, "corrupt node list; recovering without nodes");
                Vec::new()
            });
            Ok(Unfinished {
                action: row.try_get(1)?,
                user: row.try_get(2)?,
                nodes,
                owner_pid: row.try_get(4)?,
                owner_start_time: row.try_get(5)?,
                id,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_db::{TestDb, commit, result};
    use super::*;
    use crate::store::records::{EntryType, ExecutionRecord};
    use crate::store::writer::WriteOp;

    fn running(id: &str, pid: i64) -> WriteOp {
        WriteOp::UpsertExecution(ExecutionRecord {
            status: "running".into(),
            nodes: vec!["web1".into(), "web2".into(), "web1".into()],
            owner_pid: pid,
            owner_start_time: 7,
            ..ExecutionRecord::sample(id)
        })
    }

    #[test]
    fn only_this_hosts_dead_runs_are_marked_interrupted() {
        let Some(mut db) = TestDb::open() else { return };
        super::super::owner::set_owner_host(&mut db.client, "here").unwrap();
        commit(
            &mut db,
            vec![
                running("dead", 1),
                running("alive", 2),
                WriteOp::NodeResult(result("dead", "web1", "success")),
            ],
        );
        super::super::owner::set_owner_host(&mut db.client, "there").unwrap();
        commit(&mut db, vec![running("elsewhere", 1)]);

        let c = &mut db.client;
        let alive = |pid: i64, start: i64| pid == 2 && start == 7;
        assert_eq!(recover_interrupted(c, "here", alive).unwrap(), ["dead"]);
        assert!(recover_interrupted(c, "here", alive).unwrap().is_empty());

        let (run, results) = super::super::queries::execution(c, "dead")
            .unwrap()
            .unwrap();
        assert_eq!(run.status, "interrupted");
        assert!(run.finished_at.is_some());
        assert_eq!(run.duration_ms, None);
        assert_eq!((run.success_count, run.failed_count), (1, 1));
        let statuses: Vec<&str> = results.iter().map(|r| r.status.as_str()).collect();
        assert_eq!(statuses, ["success", "interrupted"]);
        let journal =
            super::super::queries::journal(c, "web2", &[EntryType::Execution], None).unwrap();
        assert_eq!(journal.len(), 1);
        assert_eq!(journal[0].execution_id.as_deref(), Some("dead"));
        assert!(
            super::super::queries::journal(c, "web1", &[], None)
                .unwrap()
                .is_empty()
        );

        let status = |c: &mut postgres::Client, id: &str| {
            super::super::queries::execution(c, id)
                .unwrap()
                .unwrap()
                .0
                .status
        };
        assert_eq!(status(c, "alive"), "running");
        // Another host's pid says nothing here.
        assert_eq!(status(c, "elsewhere"), "running");
    }
}
