//! Circuit breakers shared by every drover process on one store: each change is
//! written there (see `executor::record`), and each run first adopts what the
//! others changed within the last reset timeout, so a node one process found dead
//! is refused by all of them at once instead of by each after its own failures.
//! One read per run, never per node: admission itself stays in memory.

use super::breaker::{BreakerChange, Breakers};
use crate::engine::common::ids::now_millis;
use crate::store::Store;

/// Adopts the breaker changes recorded within the last reset timeout; returns the
/// state changes it made here. A store that cannot be read leaves the breakers as
/// they are (this process's own view still holds).
pub(crate) async fn adopt_from_store(breakers: &Breakers, store: &Store) -> Vec<BreakerChange> {
    if !breakers.config().enabled {
        return Vec::new();
    }
    let window = i64::try_from(breakers.config().reset_timeout.as_millis()).unwrap_or(i64::MAX);
    let since = now_millis().saturating_sub(window);
    let store = store.clone();
    let read = tokio::task::spawn_blocking(move || store.breakers_changed_since(since)).await;
    match read {
        Ok(Ok(records)) => breakers.adopt(&records, now_millis()),
        Ok(Err(e)) => {
            tracing::warn!("shared circuit breakers not read: {e}");
            Vec::new()
        }
        Err(e) => {
            tracing::warn!("shared circuit breakers not read: {e}");
            Vec::new()
        }
    }
}
