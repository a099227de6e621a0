//! The inventory the engine resolves targets against: swapped whole on reload,
//! so a running execution keeps the nodes it resolved while new requests see
//! the new set, and refused while any source failed to load.

use super::inventory::{self, Inventory};
use super::{Engine, EngineEvent};
use std::sync::Arc;

impl Engine {
    pub fn inventory(&self) -> Arc<Inventory> {
        self.inner
            .inventory
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set_inventory(&self, inventory: Inventory) {
        *self
            .inner
            .inventory
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Arc::new(inventory);
    }

    /// Records the inventory sources that failed to load. While any is listed,
    /// every request is refused with [`EngineError::InventorySources`]: a typo in
    /// one file must not silently shrink a run to the nodes of the others.
    pub fn set_inventory_failures(&self, failures: Vec<inventory::service::SourceFailure>) {
        *self
            .inner
            .inventory_failures
            .write()
            .unwrap_or_else(|p| p.into_inner()) = failures;
    }

    /// The sources that failed at the last load (see
    /// [`set_inventory_failures`](Self::set_inventory_failures)).
    pub fn inventory_failures(&self) -> Vec<inventory::service::SourceFailure> {
        self.inner
            .inventory_failures
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Swaps in a reloaded inventory and announces it with
    /// [`EngineEvent::InventoryReloaded`]. Running executions keep the nodes
    /// they resolved; new requests see the new inventory and are refused while
    /// a source fails.
    pub fn apply_inventory(&self, loaded: &inventory::service::Loaded) {
        *self
            .inner
            .inventory
            .write()
            .unwrap_or_else(|p| p.into_inner()) = loaded.inventory.clone();
        self.set_inventory_failures(loaded.failures.clone());
        self.inner.events.send(EngineEvent::InventoryReloaded {
            nodes: loaded.inventory.len(),
            failed_sources: loaded.failures.clone(),
        });
    }
}
