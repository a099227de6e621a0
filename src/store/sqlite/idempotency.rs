//! Idempotency keys across processes: two `drover run --idempotency-key K` started
//! by cron and a retry must not both run. The claim is one `BEGIN IMMEDIATE`
//! transaction on a connection of its own, so SQLite's write lock decides between
//! processes; the writer thread's batching plays no part.

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::{SqliteBackend, connection};
use crate::store::answers::KeyClaim;
use crate::store::error::StoreError;
use crate::store::records::Millis;

impl SqliteBackend {
    /// Claims `key` unless an execution claimed it and is still queued or
    /// running, or finished less than `window_ms` before `now`; a claim never
    /// bound to an execution (its process died first) answers for `window_ms`.
    pub fn claim_key(
        &self,
        key: &str,
        now: Millis,
        window_ms: i64,
    ) -> Result<KeyClaim, StoreError> {
        let mut conn = connection::open(self.path())?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: Option<(String, Millis, Option<String>, Option<Millis>)> = tx
            .query_row(
                "SELECT k.execution_id, k.claimed_at, e.status, e.finished_at
                 FROM idempotency_keys k LEFT JOIN executions e ON e.id = k.execution_id
                 WHERE k.key = ?1",
                params![key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        if let Some((execution_id, claimed_at, status, finished_at)) = found
            && crate::store::answers::claim_is_live(
                status.as_deref(),
                finished_at,
                claimed_at,
                now,
                window_ms,
            )
        {
            return Ok(KeyClaim::Taken {
                execution_id,
                status,
            });
        }
        tx.execute(
            "INSERT OR REPLACE INTO idempotency_keys (key, execution_id, claimed_at)
             VALUES (?1, '', ?2)",
            params![key, now],
        )?;
        tx.commit()?;
        Ok(KeyClaim::New)
    }

    /// Ties a claimed key to the execution started under it.
    pub fn bind_key(&self, key: &str, execution_id: &str) -> Result<(), StoreError> {
        let conn = connection::open(self.path())?;
        conn.execute(
            "UPDATE idempotency_keys SET execution_id = ?2 WHERE key = ?1",
            params![key, execution_id],
        )?;
        Ok(())
    }

    /// Gives a claim back when nothing was started under it (the run was refused).
    pub fn release_key(&self, key: &str) -> Result<(), StoreError> {
        let conn = connection::open(self.path())?;
        conn.execute(
            "DELETE FROM idempotency_keys WHERE key = ?1 AND execution_id = ''",
            params![key],
        )?;
        Ok(())
    }
}
