//! Facts: what is known about a node (OS, kernel, addresses, packages, and
//! whatever the inventory or a site's own commands say), gathered by
//! providers, merged key by key by priority, and cached.
//!
//! Providers: the built-in gatherer ([`gather`], one shell script in one
//! round trip over the node's transport), the node's inventory variables
//! ([`InventoryVars`]), and commands from the config ([`command`]). A provider
//! that fails degrades the answer, never stops it: the others still answer and
//! the failure is recorded with its reason. [`Facts`] is the front door.

pub mod command;
pub mod config;
pub mod gather;
mod merge;
mod service;

pub use config::FactsConfig;
pub use merge::merge;
pub use service::Facts;

use super::Engine;
use super::inventory::Node;
use super::transport::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Facts as one provider reports them.
pub type FactMap = BTreeMap<String, Value>;

/// A source of facts.
pub trait FactProvider: Send + Sync {
    fn name(&self) -> &str;
    /// Higher wins when several providers give the same key.
    fn priority(&self) -> i64;
    /// The keys it supplies, when known beforehand (empty: whatever it finds).
    fn keys(&self) -> Vec<String>;
    /// Collects the node's facts; `Err` is the reason it could not.
    fn collect<'a>(
        &'a self,
        engine: &'a Engine,
        node: &'a Node,
    ) -> BoxFuture<'a, Result<FactMap, String>>;
}

/// One fact and the provider that gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fact {
    pub value: Value,
    pub source: String,
}

/// A provider that failed for a node, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderFailure {
    pub provider: String,
    pub reason: String,
}

/// Everything known about one node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FactSet {
    pub node: String,
    pub facts: BTreeMap<String, Fact>,
    pub failures: Vec<ProviderFailure>,
    /// When the providers were asked (ms since the epoch).
    pub collected_at: i64,
    /// Served from the cache rather than gathered for this query.
    #[serde(default)]
    pub cached: bool,
}

impl FactSet {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.facts.get(key).map(|f| &f.value)
    }
}

/// The node's inventory variables as facts (seeds requirement 3.9).
pub struct InventoryVars {
    pub priority: i64,
}

impl FactProvider for InventoryVars {
    fn name(&self) -> &str {
        "inventory"
    }
    fn priority(&self) -> i64 {
        self.priority
    }
    fn keys(&self) -> Vec<String> {
        Vec::new()
    }
    fn collect<'a>(
        &'a self,
        _engine: &'a Engine,
        node: &'a Node,
    ) -> BoxFuture<'a, Result<FactMap, String>> {
        Box::pin(async move { Ok(node.vars.clone()) })
    }
}
