//! PostgreSQL's side of an open store: the read connection, and the routing of
//! each read to its twin of the SQLite one.
//!
//! The blocking `postgres` client runs its own small runtime, which tokio
//! forbids inside a runtime thread; every call therefore goes through
//! [`off_runtime`]. A read that finds its connection broken (a restart since the
//! last read) is tried once more on a new connection, so a follower of the event
//! log or an open console does not fail on the first read after a restart; a write
//! is not (its answer may have been lost after it committed) and fails with the
//! reason, the next call connecting again.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use postgres::Client;

use super::connect::PgLocation;
use super::listen::Listener;
use super::{
    breakers, events, facts, health, idempotency, metrics, prune, queries, recovery, transcripts,
};
use crate::store::answers::{KeyClaim, PruneReport, StoreHealth};
use crate::store::backend::{Backend, StoredExecution};
use crate::store::error::{StoreError, connection_lost};
use crate::store::outage::OutageState;
use crate::store::records::{
    BreakerRecord, CachedFacts, EntryType, EventFilter, EventRecord, ExecutionRecord,
    HistoryFilter, JournalEntry, Metrics, Millis, Stream, TranscriptRecord,
};

pub(crate) struct PgBackend {
    location: PgLocation,
    reader: Mutex<Option<Client>>,
    /// Hears other connections' commits ([`Backend::wait_for_change`]).
    listener: Listener,
    /// This machine's name: recovery judges only its own runs.
    host: String,
    pub(crate) outage: Arc<OutageState>,
}

/// Runs `f` where the blocking client may block: on this thread when it is not
/// a tokio runtime's, else on a short-lived thread of its own.
pub(crate) fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|scope| match scope.spawn(f).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

impl PgBackend {
    pub(crate) fn new(
        location: PgLocation,
        reader: Client,
        host: String,
        outage: Arc<OutageState>,
    ) -> PgBackend {
        PgBackend {
            listener: Listener::new(location.clone()),
            location,
            reader: Mutex::new(Some(reader)),
            host,
            outage,
        }
    }

    /// Runs `f` on the read connection, connecting first when there is none or it
    /// broke. For writes (`claim_key`, `prune`, ...): tried once.
    pub(crate) fn with_client<T: Send>(
        &self,
        mut f: impl FnMut(&mut Client) -> Result<T, StoreError> + Send,
    ) -> Result<T, StoreError> {
        off_runtime(|| self.on_connection(&mut self.lock(), &mut f))
    }

    /// As [`with_client`](Self::with_client), for a read: when the connection it
    /// used turns out to have broken (the server restarted since the last read),
    /// once more on a new one. A read changes nothing, so running it twice is safe.
    pub(crate) fn read<T: Send>(
        &self,
        mut f: impl FnMut(&mut Client) -> Result<T, StoreError> + Send,
    ) -> Result<T, StoreError> {
        off_runtime(|| {
            let mut slot = self.lock();
            let had_connection = slot.as_ref().is_some_and(|c| !c.is_closed());
            match self.on_connection(&mut slot, &mut f) {
                Err(e) if had_connection && slot.is_none() => {
                    tracing::info!(store = %self.location, error = %e, "store connection lost; reading again on a new one");
                    self.on_connection(&mut slot, &mut f)
                }
                result => result,
            }
        })
    }

    /// `f` on the connection in `slot`, made first if there is none or it broke;
    /// a connection that broke during `f` is dropped from `slot`.
    fn on_connection<T>(
        &self,
        slot: &mut Option<Client>,
        f: &mut impl FnMut(&mut Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if slot.as_ref().is_none_or(Client::is_closed) {
            *slot = Some(self.location.connect()?);
        }
        let client = slot.as_mut().expect("connected above");
        let result = f(client);
        let lost = match &result {
            Err(StoreError::Postgres(e)) => connection_lost(e),
            _ => false,
        };
        if lost || client.is_closed() {
            *slot = None;
        }
        result
    }

    fn lock(&self) -> MutexGuard<'_, Option<Client>> {
        self.reader.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Each read is written once, in the file of its concept; this only routes.
impl Backend for PgBackend {
    fn history(&self, filter: &HistoryFilter) -> Result<Vec<ExecutionRecord>, StoreError> {
        self.read(|c| queries::history(c, filter))
    }
    fn execution(&self, id_or_prefix: &str) -> Result<Option<StoredExecution>, StoreError> {
        self.read(|c| queries::execution(c, id_or_prefix))
    }
    fn full_output(
        &self,
        execution_id: &str,
        node: &str,
    ) -> Result<Vec<(Stream, Vec<u8>)>, StoreError> {
        self.read(|c| queries::full_output(c, execution_id, node))
    }
    fn journal(
        &self,
        node: &str,
        types: &[EntryType],
        limit: Option<usize>,
    ) -> Result<Vec<JournalEntry>, StoreError> {
        self.read(|c| queries::journal(c, node, types, limit))
    }
    fn journal_entry(&self, id: i64) -> Result<Option<JournalEntry>, StoreError> {
        self.read(|c| queries::journal_entry(c, id))
    }
    fn events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError> {
        self.read(|c| events::events(c, filter))
    }
    fn last_event_seq(&self) -> Result<i64, StoreError> {
        self.read(events::last_event_seq)
    }
    fn trim_events(&self, keep: u64) -> Result<usize, StoreError> {
        self.with_client(|c| events::trim_events(c, keep))
    }
    fn cached_facts(&self, node: &str) -> Result<Option<CachedFacts>, StoreError> {
        self.read(|c| facts::cached_facts(c, node))
    }
    fn breakers_changed_since(&self, since: Millis) -> Result<Vec<BreakerRecord>, StoreError> {
        self.with_client(|c| breakers::changed_since(c, since))
    }
    fn metrics(&self, since: Option<Millis>, until: Option<Millis>) -> Result<Metrics, StoreError> {
        self.read(|c| metrics::metrics(c, since, until))
    }
    fn transcript(&self, id: &str) -> Result<Option<TranscriptRecord>, StoreError> {
        self.read(|c| transcripts::transcript(c, id))
    }
    fn transcript_chunk(&self, id: &str, seq: u32) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|c| transcripts::transcript_chunk(c, id, seq))
    }
    fn health(&self) -> Result<StoreHealth, StoreError> {
        let label = self.location.to_string();
        self.read(|c| health::health(c, &label))
    }
    fn claim_key(&self, key: &str, now: Millis, window_ms: i64) -> Result<KeyClaim, StoreError> {
        self.with_client(|c| idempotency::claim_key(c, key, now, window_ms))
    }
    fn bind_key(&self, key: &str, execution_id: &str) -> Result<(), StoreError> {
        self.with_client(|c| idempotency::bind_key(c, key, execution_id))
    }
    fn release_key(&self, key: &str) -> Result<(), StoreError> {
        self.with_client(|c| idempotency::release_key(c, key))
    }
    fn prune(&self, older_than: Millis) -> Result<PruneReport, StoreError> {
        self.with_client(|c| prune::prune(c, older_than))
    }
    fn recover_interrupted(
        &self,
        is_alive: &(dyn Fn(i64, i64) -> bool + Sync),
    ) -> Result<Vec<String>, StoreError> {
        self.with_client(|c| recovery::recover_interrupted(c, &self.host, is_alive))
    }
    fn wait_for_change(&self, timeout: Duration) -> Result<bool, StoreError> {
        off_runtime(|| self.listener.wait(timeout))
    }
    fn as_import(&self) -> Option<&dyn crate::store::transfer::ImportTarget> {
        Some(self)
    }
}

/// Closing the blocking clients runs their runtime once more, which must not happen
/// on a runtime thread (the store is often dropped on one).
impl Drop for PgBackend {
    fn drop(&mut self) {
        let client = self
            .reader
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let listener = self.listener.take();
        if client.is_some() || listener.is_some() {
            off_runtime(move || drop((client, listener)));
        }
    }
}
