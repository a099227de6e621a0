//! Reading what drover recorded, under the reader's permissions: history, one
//! run, metrics, a run's stored output and the event log (`history.read`), a node's journal
//! (`journal.read` on it) and facts (`facts.read`, and `facts.refresh` to ask
//! the nodes again). Each read checks the capability first (a refusal is
//! audited as any other, see [`Engine::authorize`]), then reads the engine's
//! own store on the blocking pool so a slow disk never stalls the caller's
//! loop. Front ends hold no store: this is their only way to history.

use super::Engine;
use super::common::error::EngineError;
use super::common::request::ExecutionContext;
use super::facts::{FactSet, Facts};
use super::rbac::Capability;
use crate::store::{
    EntryType, EventFilter, EventRecord, ExecutionRecord, HistoryFilter, JournalEntry, Metrics,
    Millis, NodeResultRecord, Store, StoreError, Stream,
};
use std::sync::Arc;
use std::time::Duration;

/// A run read back from history with its node results.
pub type StoredRun = (ExecutionRecord, Vec<NodeResultRecord>);

/// Every stored byte of one run's nodes, handed out once `history.read` was
/// checked ([`Engine::read_stored_output`]). Its reads block: call them where
/// blocking is allowed (the blocking pool, a batch command's own thread),
/// one node at a time, so a big `--debug` run is never held whole.
pub struct OutputReader {
    store: Store,
    execution_id: String,
}

impl OutputReader {
    /// The run these reads are of.
    pub fn execution_id(&self) -> &str {
        &self.execution_id
    }

    /// `node`'s debug-mode chunks in the order written (empty when the run
    /// kept only its summary).
    pub fn full_output(&self, node: &str) -> Result<Vec<(Stream, Vec<u8>)>, StoreError> {
        self.store.full_output(&self.execution_id, node)
    }
}

/// The event log of every drover process on this store, handed out once
/// `history.read` was checked ([`Engine::read_events`]): a follower reads it
/// for hours, so the permission is checked once, not at every read. Between
/// reads it waits for news of other processes' commits
/// ([`EventReader::wait_for_news`]). Each read and wait runs on the blocking pool.
#[derive(Clone)]
pub struct EventReader {
    store: Store,
}

impl EventReader {
    /// The events `filter` selects, oldest first.
    pub async fn read(&self, filter: EventFilter) -> Result<Vec<EventRecord>, EngineError> {
        let store = self.store.clone();
        blocking(move || store.events(&filter)).await
    }

    /// Waits until another commit may have added events, `at_most` long: at
    /// once on PostgreSQL's notification, within
    /// [`CHANGE_POLL`](crate::store::CHANGE_POLL) on SQLite.
    /// `true` when something came. A store that cannot be asked is waited out
    /// (`at_most`) and answers `true`: the next read says what is wrong.
    /// The caller reads after any answer, so a notification lost (a
    /// reconnecting listener) costs at most `at_most`.
    pub async fn wait_for_news(&self, at_most: Duration) -> bool {
        let store = self.store.clone();
        match blocking(move || store.wait_for_change(at_most)).await {
            Ok(heard) => heard,
            Err(e) => {
                tracing::debug!("waiting for store news: {e}");
                tokio::time::sleep(at_most).await;
                true
            }
        }
    }

    /// The newest event's `seq` (0 when the log is empty).
    pub async fn last_seq(&self) -> Result<i64, EngineError> {
        let store = self.store.clone();
        blocking(move || store.last_event_seq()).await
    }
}

impl Engine {
    /// A reader of the event log ([`EventReader`]), once `history.read` is
    /// checked: the log says who ran what where, as history does.
    pub async fn read_events(
        &self,
        context: &ExecutionContext,
    ) -> Result<EventReader, EngineError> {
        let store = self
            .readable(context, &Capability::HistoryRead, &[])
            .await?;
        Ok(EventReader { store })
    }

    /// The runs `filter` selects, newest first.
    pub async fn read_history(
        &self,
        context: &ExecutionContext,
        filter: HistoryFilter,
    ) -> Result<Vec<ExecutionRecord>, EngineError> {
        let store = self
            .readable(context, &Capability::HistoryRead, &[])
            .await?;
        blocking(move || store.history(&filter)).await
    }

    /// One run (id or unique prefix) with its node results, once the engine's
    /// pending writes are in: a run that just ended is read with every result.
    /// An ambiguous prefix is `EngineError::Store(StoreError::Ambiguous)`,
    /// which lists the runs it could mean.
    pub async fn read_run(
        &self,
        context: &ExecutionContext,
        id: String,
    ) -> Result<Option<StoredRun>, EngineError> {
        let store = self
            .readable(context, &Capability::HistoryRead, &[])
            .await?;
        if let Err(e) = self.flush().await {
            tracing::warn!("history may lag: {e}");
        }
        blocking(move || store.execution(&id)).await
    }

    /// Figures over the runs started in `since..=until`. Metrics are derived
    /// from history and have no capability of their own: `history.read`.
    pub async fn read_metrics(
        &self,
        context: &ExecutionContext,
        since: Option<Millis>,
        until: Option<Millis>,
    ) -> Result<Metrics, EngineError> {
        let store = self
            .readable(context, &Capability::HistoryRead, &[])
            .await?;
        blocking(move || store.metrics(since, until)).await
    }

    /// A reader of the stored output of run `execution_id` (its full id, as
    /// [`Engine::read_run`] returned it).
    pub async fn read_stored_output(
        &self,
        context: &ExecutionContext,
        execution_id: &str,
    ) -> Result<OutputReader, EngineError> {
        let store = self
            .readable(context, &Capability::HistoryRead, &[])
            .await?;
        Ok(OutputReader {
            store,
            execution_id: execution_id.to_string(),
        })
    }

    /// `node`'s journal entries of `types` (all when empty), newest first.
    pub async fn read_journal(
        &self,
        context: &ExecutionContext,
        node: &str,
        types: Vec<EntryType>,
        limit: Option<usize>,
    ) -> Result<Vec<JournalEntry>, EngineError> {
        let store = self
            .readable(context, &Capability::JournalRead, &[node])
            .await?;
        let node = node.to_string();
        blocking(move || store.journal(&node, &types, limit)).await
    }

    /// The facts of `nodes`, `fanout` nodes at a time, from the engine's
    /// providers ([`Engine::facts`]); asked of the nodes again with `refresh`.
    /// One answer per node: a node that failed does not hide the others.
    pub async fn read_facts(
        &self,
        context: &ExecutionContext,
        nodes: &[String],
        refresh: bool,
        fanout: usize,
    ) -> Result<Vec<Result<FactSet, EngineError>>, EngineError> {
        let names: Vec<&str> = nodes.iter().map(String::as_str).collect();
        self.authorize(context, &Capability::FactsRead, &names)
            .await?;
        if refresh {
            self.authorize(context, &Capability::FactsRefresh, &names)
                .await?;
        }
        Ok(self.facts().get_many(self, nodes, refresh, fanout).await)
    }

    /// The fact providers and their cache: those given with
    /// [`Engine::with_facts`], else the defaults caching in the engine's store.
    pub fn facts(&self) -> Arc<Facts> {
        self.inner
            .facts
            .get_or_init(|| {
                Arc::new(Facts::from_config(
                    &Default::default(),
                    self.inner.store_reader.clone(),
                ))
            })
            .clone()
    }

    /// Checks `capability`, then hands out the store to read.
    async fn readable(
        &self,
        context: &ExecutionContext,
        capability: &Capability,
        nodes: &[&str],
    ) -> Result<Store, EngineError> {
        self.authorize(context, capability, nodes).await?;
        self.inner.store_reader.clone().ok_or(EngineError::NoStore)
    }
}

/// A store read on the blocking pool.
async fn blocking<T: Send + 'static>(
    read: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, EngineError> {
    match tokio::task::spawn_blocking(read).await {
        Ok(r) => Ok(r?),
        Err(_) => Err(EngineError::ShutDown),
    }
}
