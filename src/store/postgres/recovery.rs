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
