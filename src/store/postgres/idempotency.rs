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
    let live = match (status.as_deref(), finished_at) {
        (Some("queued" | "running"), _) => true,
        (Some(_), Some(end)) => end > now - window_ms,
        // Not started yet, or its record is gone (pruned): the claim's age.
        _ => claimed_at > now - window_ms,
    };
    if live {
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
