//! Idempotency keys: a submission that carries the key of an execution that is
//! queued, running, or finished less than `window` ago gets that execution's id
//! back instead of running again (a retried client call, a cron job started
//! twice, a double key press). With a store the key is claimed there, so every
//! drover process on it sees it; without one, in this engine's memory.

use crate::engine::Engine;
use crate::engine::common::error::EngineError;
use crate::engine::common::ids::{ExecutionId, now_millis};
use crate::engine::submit::submission::{EarlierRun, Submission, Submitted};
use crate::store::{KeyClaim, Store};
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub(crate) struct IdempotencyKeys {
    pub window: Duration,
    /// key → execution; guarded by an async lock held across the start, so two
    /// submissions with one key in this process can never both start.
    pub map: tokio::sync::Mutex<HashMap<String, ExecutionId>>,
}

impl IdempotencyKeys {
    pub fn new(window: Duration) -> IdempotencyKeys {
        IdempotencyKeys {
            window,
            map: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Whether an execution that ended at `finished` (None: still going) still
    /// answers for its key.
    pub fn live(&self, finished: Option<Instant>) -> bool {
        finished.is_none_or(|t| t.elapsed() < self.window)
    }
}

impl Engine {
    /// [`Engine::submit`] under `key`.
    pub(in crate::engine) async fn submit_once(
        &self,
        key: String,
        submission: Submission,
    ) -> Result<Submitted, EngineError> {
        let keys = &self.inner.idempotency;
        let mut map = keys.map.lock().await;
        if let Some(store) = self.inner.store_reader.clone() {
            return self.submit_claimed(store, key, submission).await;
        }
        if let Some(id) = map.get(&key)
            && let Ok(state) = self.state(id)
            && keys.live(state.finished.get().copied())
        {
            let status = state.snapshot().status.as_str().to_string();
            return Ok(earlier(id.clone(), Some(status)));
        }
        let submitted = self.start(submission).await?;
        map.insert(key, submitted.id.clone());
        // Keys of executions no longer answering are dropped as new ones come.
        map.retain(|_, id| {
            self.state(id)
                .is_ok_and(|s| keys.live(s.finished.get().copied()))
        });
        Ok(submitted)
    }

    /// Claims the key in the store first (a repeat starts nothing), gives it
    /// back when the engine refuses the run, ties it to the execution otherwise.
    async fn submit_claimed(
        &self,
        store: Store,
        key: String,
        submission: Submission,
    ) -> Result<Submitted, EngineError> {
        let window = self.inner.config.idempotency_window.as_millis() as i64;
        let claim = {
            let (store, key) = (store.clone(), key.clone());
            blocking(move || store.claim_key(&key, now_millis(), window)).await
        };
        let claim = claim.map_err(|reason| EngineError::IdempotencyKey {
            key: key.clone(),
            reason,
        })?;
        if let KeyClaim::Taken {
            execution_id,
            status,
        } = claim
        {
            return Ok(earlier(ExecutionId(execution_id), status));
        }
        let started = self.start(submission).await;
        let tie = match &started {
            Ok(s) => {
                let id = s.id.0.clone();
                blocking(move || store.bind_key(&key, &id)).await
            }
            Err(_) => blocking(move || store.release_key(&key)).await,
        };
        if let Err(e) = tie {
            tracing::error!("idempotency key not tied or released: {e}");
        }
        started
    }
}

fn earlier(id: ExecutionId, status: Option<String>) -> Submitted {
    Submitted {
        id,
        stream: None,
        earlier: Some(EarlierRun { status }),
    }
}

/// A store call on the blocking pool, so the engine's tasks keep running.
async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T, String> {
    match tokio::task::spawn_blocking(call).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}
