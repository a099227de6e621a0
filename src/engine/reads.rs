//! Reading what drover recorded, under the reader's permissions: history
//! (`history.read`), a node's journal (`journal.read` on it) and facts
//! (`facts.read`, and `facts.refresh` to ask the nodes again). Each read checks
//! the capability first (a refusal is audited as any other, see
//! [`Engine::authorize`]), then reads on the blocking pool so a slow disk
//! never stalls the caller's loop. The store is the caller's: a front end may
//! read a store the engine does not write (a test's, another state dir's).

use super::Engine;
use super::common::error::EngineError;
use super::common::request::ExecutionContext;
use super::facts::{FactSet, Facts};
use super::rbac::Capability;
use crate::store::{
    EntryType, ExecutionRecord, HistoryFilter, JournalEntry, NodeResultRecord, Store, StoreError,
};
use std::sync::Arc;

/// A run read back from history with its node results.
pub type StoredRun = (ExecutionRecord, Vec<NodeResultRecord>);

impl Engine {
    /// The runs `filter` selects, newest first.
    pub async fn read_history(
        &self,
        context: &ExecutionContext,
        store: &Store,
        filter: HistoryFilter,
    ) -> Result<Vec<ExecutionRecord>, EngineError> {
        self.authorize(context, &Capability::HistoryRead, &[])
            .await?;
        let store = store.clone();
        blocking(move || store.history(&filter)).await
    }

    /// One run (id or unique prefix) with its node results, once the engine's
    /// pending writes are in: a run that just ended is read with every result.
    pub async fn read_run(
        &self,
        context: &ExecutionContext,
        store: &Store,
        id: String,
    ) -> Result<Option<StoredRun>, EngineError> {
        self.authorize(context, &Capability::HistoryRead, &[])
            .await?;
        if let Err(e) = self.flush().await {
            tracing::warn!("history may lag: {e}");
        }
        let store = store.clone();
        blocking(move || store.execution(&id)).await
    }

    /// `node`'s journal entries of `types` (all when empty), newest first.
    pub async fn read_journal(
        &self,
        context: &ExecutionContext,
        store: &Store,
        node: &str,
        types: Vec<EntryType>,
        limit: Option<usize>,
    ) -> Result<Vec<JournalEntry>, EngineError> {
        self.authorize(context, &Capability::JournalRead, &[node])
            .await?;
        let (store, node) = (store.clone(), node.to_string());
        blocking(move || store.journal(&node, &types, limit)).await
    }

    /// The facts of `nodes`, `fanout` nodes at a time; asked of the nodes again
    /// with `refresh`. One answer per node: a node that failed does not hide
    /// the others.
    pub async fn read_facts(
        &self,
        context: &ExecutionContext,
        facts: &Arc<Facts>,
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
        Ok(facts.get_many(self, nodes, refresh, fanout).await)
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
