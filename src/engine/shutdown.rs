//! Ending cleanly: what runs is cancelled and awaited, transports close, and
//! every record sent to the store is committed before the handle lets go.

use super::executor::state::ExecutionState;
use super::{Engine, EngineError};
use std::sync::Arc;

impl Engine {
    /// Waits until every record sent so far (events included) is committed.
    pub async fn flush(&self) -> Result<(), EngineError> {
        self.inner.events.flush().await;
        if let Some(store) = &self.inner.store {
            store.flush().await?;
        }
        Ok(())
    }

    /// Cancels what runs, waits for it, closes transports and flushes the store.
    pub async fn shutdown(&self) -> Result<(), EngineError> {
        let running: Vec<Arc<ExecutionState>> =
            self.inner.lock_executions().values().cloned().collect();
        for s in &running {
            s.request_cancel();
        }
        for s in running {
            let _ = self.wait(&s.id).await;
        }
        for t in self.inner.transports.all() {
            t.shutdown().await;
        }
        self.flush().await
    }

    /// Commits what is queued and closes the engine's store (after
    /// [`Engine::shutdown`]); later writes fail, reads keep working.
    pub async fn close_store(&self) -> Result<(), EngineError> {
        let Some(store) = self.inner.store_reader.clone() else {
            return Ok(());
        };
        match tokio::task::spawn_blocking(move || store.close()).await {
            Ok(r) => Ok(r?),
            Err(_) => Err(EngineError::ShutDown),
        }
    }
}
