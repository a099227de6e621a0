//! `drover run --idempotency-key KEY`: a run that cron or a wrapper may start twice
//! runs once. The key is claimed in the store (shared by every drover process on
//! it) before the run starts and tied to its execution after; a later run with the
//! same key, while that execution is queued or running or within
//! `[execution] idempotency_window` after it finished, runs nothing and answers
//! with the first one's id and outcome.

use crate::app::exit::{self, exit_code_for};
use crate::app::setup::Runtime;
use crate::engine::ids::now_millis;
use crate::engine::{EngineError, ExecutionId};
use crate::store::KeyClaim;

/// Submits under an optional key: claims it first (a repeat answers with the
/// first run and submits nothing), gives it back when the engine refuses, ties it
/// to the execution otherwise. `Err` is the exit code to stop with.
pub async fn submit<T>(
    rt: &Runtime,
    key: Option<&str>,
    submit: impl Future<Output = Result<T, EngineError>>,
    id_of: impl Fn(&T) -> &ExecutionId,
) -> Result<T, u8> {
    if let Some(code) = key.and_then(|k| claim(rt, k)) {
        return Err(code);
    }
    match submit.await {
        Ok(submitted) => {
            if let Some(k) = key {
                bind(rt, k, id_of(&submitted));
            }
            Ok(submitted)
        }
        Err(e) => {
            if let Some(k) = key {
                release(rt, k);
            }
            eprintln!("drover: {e}");
            Err(exit_code_for(&e))
        }
    }
}

/// `None`: the key is ours, go on. `Some(code)`: stop with this exit code.
fn claim(rt: &Runtime, key: &str) -> Option<u8> {
    let window = rt.config.idempotency_window().as_millis() as i64;
    match rt.store.claim_key(key, now_millis(), window) {
        Ok(KeyClaim::New) => None,
        Ok(KeyClaim::Taken {
            execution_id,
            status,
        }) => {
            let (what, code) = match status.as_deref() {
                Some("success") => ("succeeded", exit::SUCCESS),
                Some("cancelled") => ("was cancelled", exit::CANCELLED),
                Some("queued" | "running") | None => ("is still running", exit::DUPLICATE),
                Some(_) => ("failed", exit::FAILED),
            };
            let id = match execution_id.as_str() {
                "" => "another drover process's run".to_string(),
                id => format!("execution {id}"),
            };
            eprintln!(
                "drover: idempotency key {key:?}: {id} {what}; not run again (see drover history)"
            );
            Some(code)
        }
        Err(e) => {
            eprintln!("drover: idempotency key {key:?}: {e}");
            Some(exit::USAGE)
        }
    }
}

/// Ties the claimed key to the execution that started under it.
fn bind(rt: &Runtime, key: &str, id: &ExecutionId) {
    if let Err(e) = rt.store.bind_key(key, &id.0) {
        tracing::error!("idempotency key {key:?} not tied to {id}: {e}");
    }
}

/// Gives the key back: the engine refused the run, so nothing ran under it.
fn release(rt: &Runtime, key: &str) {
    if let Err(e) = rt.store.release_key(key) {
        tracing::error!("idempotency key {key:?} not released: {e}");
    }
}
