//! Crash recovery: executions left `queued` or `running` by a drover process that no
//! longer exists are marked `interrupted`, so history never shows a run as live forever.
//!
//! A process is identified by pid *and* start time: after a crash the pid may have been
//! reused by an unrelated process, which must not be mistaken for the owner.

use std::collections::BTreeSet;

use rusqlite::{Connection, TransactionBehavior, params};

use super::SqliteBackend;
use super::connection;
use super::rows;
use crate::store::error::StoreError;
use crate::store::interrupted::{Unfinished, interrupted_entry, interrupted_result};
use crate::store::owner::now_millis;

impl SqliteBackend {
    /// Marks crash leftovers `interrupted` and returns their ids.
    ///
    /// For each `queued`/`running` execution whose owner is not alive (`is_alive(pid,
    /// start_time)` is false): status `interrupted`, `finished_at` = now, `duration_ms`
    /// left empty (the real duration is unknown); each node without a result gets an
    /// `interrupted` result and an `execution` journal entry linked to the run; the
    /// success/failed counters are recomputed from the node results.
    ///
    /// Runs on a short-lived connection on the caller's thread rather than through the
    /// writer thread: `is_alive` need not be `Send + 'static`, recovery is a one-off at
    /// start-up, and an IMMEDIATE transaction serialises it with the writer anyway. The
    /// store flushes the writer first so writes queued before the call are seen.
    pub fn recover_interrupted(
        &self,
        is_alive: &(dyn Fn(i64, i64) -> bool + Sync),
    ) -> Result<Vec<String>, StoreError> {
        let mut conn = connection::open(self.path())?;
        recover(&mut conn, is_alive)
    }
}

fn recover(
    conn: &mut Connection,
    is_alive: &(dyn Fn(i64, i64) -> bool + Sync),
) -> Result<Vec<String>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let candidates = unfinished(&tx)?;
    let now = now_millis();
    let mut recovered = Vec::new();
    for run in candidates {
        if is_alive(run.owner_pid, run.owner_start_time) {
            continue;
        }
        let nodes: BTreeSet<&String> = run.nodes.iter().collect();
        for node in nodes {
            let has_result = tx
                .prepare_cached("SELECT 1 FROM node_results WHERE execution_id = ?1 AND node = ?2")?
                .exists(params![run.id, node])?;
            if has_result {
                continue;
            }
            rows::put_node_result(&tx, &interrupted_result(&run.id, node, now))?;
            rows::insert_journal(&tx, &interrupted_entry(&run, node, now))?;
        }
        tx.execute(
            "UPDATE executions SET status = 'interrupted', finished_at = ?2,
                 success_count = (SELECT COUNT(*) FROM node_results
                                  WHERE execution_id = ?1 AND status = 'success'),
                 failed_count  = (SELECT COUNT(*) FROM node_results
                                  WHERE execution_id = ?1 AND status <> 'success')
             WHERE id = ?1",
            params![run.id, now],
        )?;
        tracing::warn!(execution = %run.id, owner_pid = run.owner_pid, "marked interrupted execution");
        recovered.push(run.id);
    }
    tx.commit()?;
    Ok(recovered)
}

fn unfinished(conn: &Connection) -> Result<Vec<Unfinished>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT id, action, user, nodes, owner_pid, owner_start_time FROM executions
         WHERE status IN ('queued', 'running') ORDER BY started_at, id",
    )?;
    let runs = stmt.query_and_then([], |row| {
        let id: String = row.get(0)?;
        let nodes_text: String = row.get(3)?;
        // An unreadable node list must not block recovery of every other run: the
        // execution is still marked interrupted, just without per-node entries.
        let nodes = serde_json::from_str(&nodes_text).unwrap_or_else(|e| {
            tracing::warn!(execution = %id, error = %e, "corrupt node list; recovering without nodes");
            Vec::new()
        });
        Ok::<_, StoreError>(Unfinished {
            action: row.get(1)?,
            user: row.get(2)?,
            nodes,
            owner_pid: row.get(4)?,
            owner_start_time: row.get(5)?,
            id,
        })
    })?;
    runs.collect()
}
