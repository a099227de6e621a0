//! The writer thread's PostgreSQL side: commits each batch in one transaction,
//! and rides out the database going away.
//!
//! When the connection breaks (a restart, a failover, the network), the batch in
//! hand is kept and the writer reconnects with backoff (0.1 s doubling to 1 s: an
//! attempt a second costs the server nothing, and the held writes land within a
//! second of its return) until the database answers, then commits it, for at most
//! [`HOLD_AT_MOST`]. Meanwhile nothing is dropped:
//! new writes wait in the writer's channel (4,096 messages and 4 MiB of output
//! chunks) and, past that, their senders wait, which is the backpressure every
//! slow store already applies. Each batch carries an id committed with it, so a
//! batch whose commit reached the database but whose answer was lost with the
//! connection is not written twice.
//!
//! Only an error that is not about the connection (a statement the database
//! refuses) fails a batch; it is retried once, then reported to the next flush.

use std::sync::Arc;
use std::time::Duration;

use postgres::Client;

use super::commit::commit_with;
use super::connect::PgLocation;
use super::owner::set_owner_host;
use super::statements::Statements;
use crate::store::error::pg_reason;
use crate::store::outage::OutageState;
use crate::store::owner::now_millis;
use crate::store::writer::{BatchSink, Failures, WriteOp};

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// How long the writer holds a batch for an unreachable database. Past it, the
/// run outcomes it holds are kept outside the store (see `store::spill`) and
/// written at the next start, and the rest is reported lost, so a flush (a batch
/// run ending, drover exiting) waits at most this long plus one backoff; each
/// later batch tries the database once before doing the same.
const HOLD_AT_MOST: Duration = Duration::from_secs(30);

/// How long a committed batch's id is kept: far longer than any reconnect.
const BATCH_IDS_KEPT_MS: i64 = 24 * 3600 * 1000;

pub(crate) struct PgSink {
    location: PgLocation,
    client: Option<Client>,
    /// The connection's prepared statements (a new connection starts afresh).
    statements: Statements,
    /// This machine's name, stamped on the runs it writes.
    host: String,
    outage: Arc<OutageState>,
    /// Unique per writer: batch ids are `prefix-N`.
    batch_prefix: String,
    next_batch: u64,
}

impl PgSink {
    pub(crate) fn new(location: PgLocation, host: String, outage: Arc<OutageState>) -> PgSink {
        PgSink {
            location,
            client: None,
            statements: Statements::default(),
            host,
            outage,
            batch_prefix: batch_prefix(),
            next_batch: 0,
        }
    }

    /// Connects, with backoff, until the database answers; false once it has
    /// been away for [`HOLD_AT_MOST`].
    fn connected(&mut self, held: usize) -> bool {
        let mut backoff = FIRST_BACKOFF;
        while self.client.as_ref().is_none_or(Client::is_closed) {
            match self.location.connect().and_then(|c| self.prepare(c)) {
                Ok(client) => {
                    self.client = Some(client);
                    self.statements = Statements::default();
                }
                Err(e) => {
                    self.outage.failed(now_millis(), e.to_string(), held);
                    let away = self.outage.current().map_or(0, |o| now_millis() - o.since);
                    if away >= HOLD_AT_MOST.as_millis() as i64 {
                        return false;
                    }
                    tracing::warn!(store = %self.location, error = %e, ?backoff, "store unreachable; holding writes");
                    // The backoff between attempts (nothing else to wait on).
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
        true
    }

    /// The database stayed away too long: the run outcomes of `ops` are kept
    /// outside the store for the next start; the rest is reported lost.
    fn give_up(&self, ops: &[WriteOp], failures: &mut Failures) {
        let reason = self
            .outage
            .current()
            .map_or_else(|| "store unreachable".to_string(), |o| o.to_string());
        let kept = crate::store::spill::keep_outcomes(&super::spill_key(&self.location), ops);
        let reason = match kept {
            Some(kept) => format!("{reason}; {kept}"),
            None => reason,
        };
        tracing::error!(store = %self.location, ops = ops.len(), %reason, "store unreachable for too long; run outcomes kept outside it");
        failures.add(ops.len(), reason);
    }

    /// A new connection's session: the host stamped on runs, and old batch ids
    /// dropped.
    fn prepare(&self, mut client: Client) -> Result<Client, crate::store::StoreError> {
        set_owner_host(&mut client, &self.host)?;
        client.execute(
            "DELETE FROM writer_batches WHERE committed_at < $1",
            &[&(now_millis() - BATCH_IDS_KEPT_MS)],
        )?;
        Ok(client)
    }
}

impl BatchSink for PgSink {
    fn commit_batch(&mut self, ops: &mut Vec<WriteOp>, failures: &mut Failures) {
        self.next_batch += 1;
        let batch_id = format!("{}-{}", self.batch_prefix, self.next_batch);
        let mut refused = 0;
        loop {
            let held = ops.len();
            if !self.connected(held) {
                self.give_up(ops, failures);
                return;
            }
            let client = self.client.as_mut().expect("connected");
            match commit_with(client, &mut self.statements, Some(&batch_id), ops) {
                Ok(rejected) => {
                    for reason in rejected {
                        failures.add(1, reason);
                    }
                    if let Some(o) = self.outage.ended() {
                        tracing::info!(store = %self.location, since = o.since, attempts = o.attempts, "store reachable again; held writes committed");
                    }
                    return;
                }
                Err(e) if is_connection_lost(&e, client) => {
                    self.outage.failed(now_millis(), pg_reason(&e), held);
                    tracing::warn!(store = %self.location, error = %e, "store connection lost mid-batch; reconnecting");
                    self.client = None;
                }
                Err(e) => {
                    refused += 1;
                    tracing::warn!(attempt = refused, ops = held, error = %e, "store batch commit failed");
                    if refused >= 2 {
                        tracing::error!(ops = held, error = %e, "store batch lost after retry");
                        failures.add(held, pg_reason(&e));
                        return;
                    }
                }
            }
        }
    }
}

/// The connection is gone (closed, I/O error) rather than the batch refused:
/// errors without a SQLSTATE, and the server's own shutdown codes (class 57:
/// admin shutdown, crash shutdown, cannot connect now; class 08: connection
/// exceptions).
fn is_connection_lost(e: &postgres::Error, client: &Client) -> bool {
    if client.is_closed() || e.is_closed() {
        return true;
    }
    match e.code() {
        None => true,
        Some(code) => {
            let c = code.code();
            c.starts_with("08") || c.starts_with("57")
        }
    }
}

/// This machine's name, as runs record their owner's host.
pub(crate) fn host_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_default()
}

/// Host, pid and start time: unique among every writer on one database.
fn batch_prefix() -> String {
    format!("{}-{}-{}", host_name(), std::process::id(), now_millis())
}
