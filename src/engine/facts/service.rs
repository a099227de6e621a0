//! The front door to facts: providers asked in parallel, answers merged, the
//! result cached in memory and in the store for the TTL (seeds properties 24
//! to 29). A query within the TTL asks no provider; `refresh` always does. A
//! result in which some provider failed is returned but not cached, so the
//! next query tries again.

use super::command::CommandProvider;
use super::config::FactsConfig;
use super::gather::Gatherer;
use super::merge::{Answer, merge};
use super::{FactProvider, FactSet, InventoryVars};
use crate::engine::common::ids::now_millis;
use crate::engine::inventory::Node;
use crate::engine::{Engine, EngineError};
use crate::store::{CachedFacts, Store, WriteOp};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

pub struct Facts {
    providers: Vec<Arc<dyn FactProvider>>,
    /// `None`: nothing is cached.
    ttl: Option<Duration>,
    store: Option<Store>,
    memory: Mutex<HashMap<String, FactSet>>,
    /// Names and priorities of the providers, stored with cached facts.
    signature: String,
}

impl Facts {
    /// Providers in registration order (between equal priorities the first wins).
    pub fn new(
        providers: Vec<Arc<dyn FactProvider>>,
        ttl: Option<Duration>,
        store: Option<Store>,
    ) -> Facts {
        let signature = providers
            .iter()
            .map(|p| format!("{}:{}", p.name(), p.priority()))
            .collect::<Vec<_>>()
            .join(",");
        Facts {
            providers,
            ttl: ttl.filter(|t| !t.is_zero()),
            store,
            memory: Mutex::new(HashMap::new()),
            signature,
        }
    }

    /// The configured providers: the built-in gatherer (unless disabled), the
    /// inventory variables, and each `[[facts.providers]]`.
    pub fn from_config(config: &FactsConfig, store: Option<Store>) -> Facts {
        let timeout = config.timeout_value();
        let mut providers: Vec<Arc<dyn FactProvider>> = Vec::new();
        if config.builtin {
            providers.push(Arc::new(Gatherer {
                priority: config.builtin_priority,
                timeout,
            }));
        }
        providers.push(Arc::new(InventoryVars {
            priority: config.inventory_priority,
        }));
        for p in &config.providers {
            providers.push(Arc::new(CommandProvider {
                config: p.clone(),
                timeout,
            }));
        }
        Facts::new(providers, config.ttl_value().unwrap_or(None), store)
    }

    pub fn providers(&self) -> &[Arc<dyn FactProvider>] {
        &self.providers
    }

    /// The node's facts: from the cache while fresh, else from the providers.
    /// An unknown node is [`EngineError::NoMatch`].
    pub async fn get(
        &self,
        engine: &Engine,
        node: &str,
        refresh: bool,
    ) -> Result<FactSet, EngineError> {
        self.get_at(engine, node, refresh, now_millis()).await
    }

    /// [`get`](Self::get) as if the time were `now_ms` (for tests of expiry).
    pub async fn get_at(
        &self,
        engine: &Engine,
        node: &str,
        refresh: bool,
        now_ms: i64,
    ) -> Result<FactSet, EngineError> {
        let found = engine.inventory().node(node).cloned();
        let node = found.ok_or_else(|| EngineError::NoMatch {
            unmatched: vec![node.to_string()],
        })?;
        if !refresh && let Some(cached) = self.cached(&node.name, now_ms).await? {
            return Ok(cached);
        }
        let set = self.gather(engine, &node, now_ms).await;
        if self.ttl.is_some() && set.failures.is_empty() {
            self.remember(&set).await?;
        }
        Ok(set)
    }

    /// Facts of many nodes, at most `fanout` gathered at once; in `nodes` order.
    pub async fn get_many(
        self: &Arc<Self>,
        engine: &Engine,
        nodes: &[String],
        refresh: bool,
        fanout: usize,
    ) -> Vec<Result<FactSet, EngineError>> {
        let limit = Arc::new(Semaphore::new(fanout.max(1)));
        let mut set = JoinSet::new();
        for (i, name) in nodes.iter().enumerate() {
            let (facts, engine, name, limit) =
                (self.clone(), engine.clone(), name.clone(), limit.clone());
            set.spawn(async move {
                let _permit = limit.acquire_owned().await;
                (i, facts.get(&engine, &name, refresh).await)
            });
        }
        let mut out: Vec<Option<Result<FactSet, EngineError>>> =
            nodes.iter().map(|_| None).collect();
        while let Some(joined) = set.join_next().await {
            if let Ok((i, r)) = joined {
                out[i] = Some(r);
            }
        }
        out.into_iter()
            .zip(nodes)
            .map(|(r, name)| {
                r.unwrap_or_else(|| {
                    Err(EngineError::Transport {
                        name: "facts".into(),
                        reason: format!("gathering facts of {name} panicked"),
                    })
                })
            })
            .collect()
    }

    /// Asks every provider, in parallel, and merges the answers.
    async fn gather(&self, engine: &Engine, node: &Arc<Node>, now_ms: i64) -> FactSet {
        let mut set = JoinSet::new();
        for (i, p) in self.providers.iter().enumerate() {
            let (p, engine, node) = (p.clone(), engine.clone(), node.clone());
            set.spawn(async move { (i, p.collect(&engine, &node).await) });
        }
        let mut results: Vec<Option<Result<_, String>>> =
            self.providers.iter().map(|_| None).collect();
        while let Some(joined) = set.join_next().await {
            if let Ok((i, r)) = joined {
                results[i] = Some(r);
            }
        }
        let answers: Vec<Answer> = self
            .providers
            .iter()
            .zip(results)
            .map(|(p, r)| {
                let r = r.unwrap_or_else(|| Err("the provider panicked".into()));
                (p.name().to_string(), p.priority(), r)
            })
            .collect();
        merge(&node.name, answers, now_ms)
    }

    fn fresh(&self, collected_at: i64, now_ms: i64) -> bool {
        self.ttl
            .is_some_and(|ttl| now_ms.saturating_sub(collected_at) < ttl.as_millis() as i64)
    }

    async fn cached(&self, node: &str, now_ms: i64) -> Result<Option<FactSet>, EngineError> {
        if self.ttl.is_none() {
            return Ok(None);
        }
        let in_memory = self.lock().get(node).cloned();
        let stored = match (in_memory, &self.store) {
            (Some(set), _) => Some(set),
            (None, Some(store)) => {
                let (store, name) = (store.clone(), node.to_string());
                let row = tokio::task::spawn_blocking(move || store.cached_facts(&name))
                    .await
                    .map_err(|e| EngineError::Transport {
                        name: "facts".into(),
                        reason: e.to_string(),
                    })??;
                row.filter(|r| r.providers == self.signature)
                    .and_then(|r| serde_json::from_str::<FactSet>(&r.facts).ok())
            }
            (None, None) => None,
        };
        Ok(stored
            .filter(|s| self.fresh(s.collected_at, now_ms))
            .map(|s| FactSet { cached: true, ..s }))
    }

    async fn remember(&self, set: &FactSet) -> Result<(), EngineError> {
        self.lock().insert(set.node.clone(), set.clone());
        if let Some(store) = &self.store {
            let facts = serde_json::to_string(set).unwrap_or_default();
            store
                .writer()
                .send(WriteOp::PutFacts(CachedFacts {
                    node: set.node.clone(),
                    providers: self.signature.clone(),
                    collected_at: set.collected_at,
                    facts,
                }))
                .await?;
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, FactSet>> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }
}
