//! `drover run --idempotency-key KEY`: a run that cron or a wrapper may start twice
//! runs once. The engine claims the key in the store (shared by every drover
//! process on it) before the run starts; a later run with the same key, while
//! that execution is queued or running or within `[execution]
//! idempotency_window` after it finished, runs nothing and answers with the
//! first one's id and outcome, which this module says.

use crate::app::exit::{self, exit_code_for};
use crate::engine::{EarlierRun, EngineError, Submitted};

/// The engine's answer to a batch submission: `Ok` when a run started, `Err`
/// with the exit code to stop with (said on stderr) when it was refused or the
/// key named an earlier run.
pub fn started(key: Option<&str>, answer: Result<Submitted, EngineError>) -> Result<Submitted, u8> {
    match answer {
        Ok(Submitted {
            id,
            earlier: Some(earlier),
            ..
        }) => Err(repeated(key.unwrap_or_default(), &id.0, &earlier)),
        Ok(submitted) => Ok(submitted),
        Err(e) => {
            eprintln!("drover: {e}");
            Err(exit_code_for(&e))
        }
    }
}

/// Says which run the key answers for and how it went; its exit code.
fn repeated(key: &str, id: &str, earlier: &EarlierRun) -> u8 {
    let (what, code) = match earlier.status.as_deref() {
        Some("success") => ("succeeded", exit::SUCCESS),
        Some("cancelled") => ("was cancelled", exit::CANCELLED),
        Some("queued" | "running") | None => ("is still running", exit::DUPLICATE),
        Some(_) => ("failed", exit::FAILED),
    };
    let id = match id {
        "" => "another drover process's run".to_string(),
        id => format!("execution {id}"),
    };
    eprintln!("drover: idempotency key {key:?}: {id} {what}; not run again (see drover history)");
    code
}
