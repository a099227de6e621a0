//! Starting, following and stopping executions through the handle: the one
//! door (`submit`), then `wait`, `cancel`, snapshots and live output.

use super::executor::queue;
use super::executor::state::ExecutionState;
use super::report::output::RingRead;
use super::resilience::breaker;
use super::{
    Engine, EngineError, ExecutionId, ExecutionResult, ExecutionSnapshot, Submission, Submitted,
};
use crate::store::Stream;
use std::sync::Arc;
use tokio::sync::mpsc;

impl Engine {
    /// The one door: validates, authorises and starts a submission, and returns
    /// its id at once (async mode, seeds property 3); `wait` gives its end. Under
    /// an idempotency key, a run the key still answers for is returned instead
    /// (see [`Submitted::earlier`]).
    pub async fn submit(&self, submission: Submission) -> Result<Submitted, EngineError> {
        match submission.key.clone() {
            None => self.start(submission).await,
            Some(key) => self.submit_once(key, submission).await,
        }
    }

    /// Starts a submission, with its stream tap when one was asked.
    pub(super) async fn start(&self, submission: Submission) -> Result<Submitted, EngineError> {
        let Submission {
            request,
            label,
            context,
            stream,
            ..
        } = submission;
        let (tx, rx) = match stream {
            0 => (None, None),
            n => {
                let (tx, rx) = mpsc::channel(n);
                (Some(tx), Some(rx))
            }
        };
        let id = super::executor::start(&self.inner, request, label, context, tx).await?;
        Ok(Submitted {
            id,
            stream: rx,
            earlier: None,
        })
    }

    /// Waits for an execution this engine runs or ran recently.
    pub async fn wait(&self, id: &ExecutionId) -> Result<Arc<ExecutionResult>, EngineError> {
        let state = self.state(id)?;
        let mut rx = state.result.subscribe();
        loop {
            if let Some(r) = rx.borrow_and_update().clone() {
                return Ok(r);
            }
            if rx.changed().await.is_err() {
                return Err(EngineError::ShutDown);
            }
        }
    }

    /// Stops every node of the execution: running ones are terminated, pending ones
    /// never start (seeds property 54).
    pub fn cancel(&self, id: &ExecutionId) -> Result<(), EngineError> {
        self.state(id)?.request_cancel();
        Ok(())
    }

    /// The slot queue now: slots in use, what waits, how deep it may get.
    pub fn queue(&self) -> queue::QueueSnapshot {
        self.inner.slots.snapshot()
    }

    /// Every circuit breaker that has seen a run (for `drover status`).
    pub fn breakers(&self) -> Vec<breaker::BreakerSnapshot> {
        self.inner.breakers.snapshot()
    }

    pub fn snapshot(&self, id: &ExecutionId) -> Option<ExecutionSnapshot> {
        self.state(id).ok().map(|s| s.snapshot())
    }

    /// Running and recently finished executions, oldest first.
    pub fn executions(&self) -> Vec<ExecutionSnapshot> {
        let map = self.inner.lock_executions();
        let mut v: Vec<_> = map.values().map(|s| s.snapshot()).collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    /// New bytes of one node's stream since `since`, and re-arms its output event.
    pub fn read_output(
        &self,
        id: &ExecutionId,
        node: &str,
        stream: Stream,
        since: u64,
    ) -> Option<RingRead> {
        let state = self.state(id).ok()?;
        let out = state.output(node)?;
        let mut guard = out.lock();
        guard.mark_seen();
        Some(guard.stream(stream).ring.read_since(since))
    }

    pub(super) fn state(&self, id: &ExecutionId) -> Result<Arc<ExecutionState>, EngineError> {
        self.inner
            .lock_executions()
            .get(id)
            .cloned()
            .ok_or_else(|| EngineError::UnknownExecution(id.0.clone()))
    }
}
