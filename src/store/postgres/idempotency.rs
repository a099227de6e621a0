//! Idempotency keys in PostgreSQL, shared by every drover of a team on any machine.
//!
//! A claim is one transaction: `INSERT ... ON CONFLICT DO NOTHING` takes a free key
//! outright (a second claimant's insert waits on the unique index until the first
//! commits, then finds the key taken); a key already there is locked with
//! `SELECT ... FOR UPDATE` before it is judged and retaken, so two claimants of an
//! expired key queue up and the second sees the first's fresh claim.

use postgres::GenericClient;

use crate::store::answers::KeyClaim;
use crate::store::error::StoreError;
use crate::store::records::Millis;

/// Claims `key` unless an execution claimed it and is still queued or running, or
/// finished less than `window_ms` before `now`; a claim never bound to an execution
/// answers for `window_ms` (as `Store::claim_key`).
pub(crate) fn claim_key(
    client: &mut impl GenericClient,
    key: &str,
    now: Millis,
    window_ms: i64,
) -> Result<KeyClaim, StoreError> {
    let mut tx = client.transaction()?;
    let inserted = tx.execute(
        "INSERT INTO idempotency_keys (key, execution_id, claimed_at) VALUES ($1, '', $2)
         ON CONFLICT (key) DO NOTHING",
        &[&key, &now],
    )?;
    if inserted == 1 {
        tx.commit()?;
        return Ok(KeyClaim::New);
    }
    // Locked until commit: whoever holds it decides first.
    let row = tx.query_one(
        "SELECT execution_id, claimed_at FROM idempotency_keys WHERE key = $1 FOR UPDATE",
        &[&key],
    )?;
    let execution_id: String = row.try_get(0)?;
    let claimed_at: Millis = row.try_get(1)?;
    let run = tx.query_opt(
        "SELECT status, finished_at FROM executions WHERE id = $1",
        &[&execution_id],
    )?;
    let (status, finished_at): (Option<String>, Option<Millis>) = match run {
        Some(r) => (Some(r.try_get(0)?), r.try_get(1)?),
        None => (None, None),
    };
    if crate::store::answers::claim_is_live(
        status.as_deref(),
        finished_at,
        claimed_at,
        now,
        window_ms,
    ) {
        // Nothing written; the transaction ends with the lock.
        return Ok(KeyClaim::Taken {
            execution_id,
            status,
        });
    }
    tx.execute(
        "UPDATE idempotency_keys SET execution_id = '', claimed_at = $2 WHERE key = $1",
        &[&key, &now],
    )?;
    tx.commit()?;
    Ok(KeyClaim::New)
}

/// Ties a claimed key to the execution started under it.
pub(crate) fn bind_key(
    client: &mut impl GenericClient,
    key: &str,
    execution_id: &str,
) -> Result<(), StoreError> {
    client.execute(
        "UPDATE idempotency_keys SET execution_id = $2 WHERE key = $1",
        &[&key, &execution_id],
    )?;
    Ok(())
}

/// Gives a claim back when nothing was started under it (the run was refused).
pub(crate) fn release_key(client: &mut impl GenericClient, key: &str) -> Result<(), StoreError> {
    client.execute(
        "DELETE FROM idempotency_keys WHERE key = $1 AND execution_id = ''",
        &[&key],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Barrier};

    use super::super::test_db::{TestDb, commit};
    use super::*;
    use crate::store::records::ExecutionRecord;
    use crate::store::writer::WriteOp;

    const WINDOW: i64 = 1_000;

    fn taken(claim: KeyClaim) -> String {
        match claim {
            KeyClaim::Taken { execution_id, .. } => execution_id,
            KeyClaim::New => panic!("expected the key to be taken"),
        }
    }

    #[test]
    fn a_key_answers_for_its_run_then_for_the_window() {
        let Some(mut db) = TestDb::open() else { return };
        let c = &mut db.client;
        assert_eq!(claim_key(c, "k", 100, WINDOW).unwrap(), KeyClaim::New);
        // Claimed, not bound: taken for the window, free after it.
        assert_eq!(taken(claim_key(c, "k", 200, WINDOW).unwrap()), "");
        bind_key(c, "k", "e1").unwrap();
        commit(
            &mut db,
            vec![WriteOp::UpsertExecution(ExecutionRecord {
                status: "running".into(),
                ..ExecutionRecord::sample("e1")
            })],
        );
        let c = &mut db.client;
        // Running: taken whatever the time.
        assert_eq!(
            claim_key(c, "k", 1_000_000, WINDOW).unwrap(),
            KeyClaim::Taken {
                execution_id: "e1".into(),
                status: Some("running".into())
            }
        );
        commit(
            &mut db,
            vec![WriteOp::UpsertExecution(ExecutionRecord {
                status: "success".into(),
                finished_at: Some(5_000),
                ..ExecutionRecord::sample("e1")
            })],
        );
        let c = &mut db.client;
        assert_eq!(taken(claim_key(c, "k", 5_999, WINDOW).unwrap()), "e1");
        assert_eq!(claim_key(c, "k", 6_000, WINDOW).unwrap(), KeyClaim::New);
        // A fresh claim nothing was started under can be given back.
        release_key(c, "k").unwrap();
        assert_eq!(claim_key(c, "k", 6_001, WINDOW).unwrap(), KeyClaim::New);
        // A bound one cannot.
        bind_key(c, "k", "e1").unwrap();
        release_key(c, "k").unwrap();
        let bound: String = c
            .query_one(
                "SELECT execution_id FROM idempotency_keys WHERE key = 'k'",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(bound, "e1");
    }

    /// Several processes claim one key at once, fresh and then expired: one wins each
    /// time.
    #[test]
    fn of_many_simultaneous_claims_exactly_one_wins() {
        let Some(db) = TestDb::open() else { return };
        for now in [100, 100 + 10 * WINDOW] {
            let claimants = 6;
            let barrier = Arc::new(Barrier::new(claimants));
            let threads: Vec<_> = (0..claimants)
                .map(|_| {
                    let mut client = db.connect();
                    let barrier = barrier.clone();
                    std::thread::spawn(move || {
                        barrier.wait();
                        claim_key(&mut client, "k", now, WINDOW).unwrap()
                    })
                })
                .collect();
            let won = threads
                .into_iter()
                .map(|t| t.join().unwrap())
                .filter(|claim| *claim == KeyClaim::New)
                .count();
            assert_eq!(won, 1, "claims at {now}");
        }
    }

    /// The race pinned down: the second claim is made while the first's insert is
    /// not yet committed, so it must wait for it and then lose.
    #[test]
    fn a_claim_waits_for_an_uncommitted_one_and_loses() {
        let Some(mut db) = TestDb::open() else { return };
        let mut other = db.connect();
        let other_pid: i32 = other
            .query_one("SELECT pg_backend_pid()", &[])
            .unwrap()
            .get(0);
        let mut first = db.connect();
        let mut tx = first.transaction().unwrap();
        assert_eq!(claim_key(&mut tx, "k", 100, WINDOW).unwrap(), KeyClaim::New);
        let second = std::thread::spawn(move || claim_key(&mut other, "k", 100, WINDOW).unwrap());
        // Until the server shows the second claim blocked on the first's lock.
        loop {
            let waiting: i64 = db
                .client
                .query_one(
                    "SELECT COUNT(*) FROM pg_stat_activity
                     WHERE pid = $1 AND wait_event_type = 'Lock'",
                    &[&other_pid],
                )
                .unwrap()
                .get(0);
            if waiting == 1 {
                break;
            }
            std::thread::yield_now();
        }
        tx.commit().unwrap();
        assert_eq!(taken(second.join().unwrap()), "");
    }
}
