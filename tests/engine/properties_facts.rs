//! Fact properties of the seeds (24–29) with providers written here: the
//! interface answers for any node, registered providers take part, answers
//! merge key by key by priority, the cache serves within its TTL and
//! `refresh` always asks the providers.

use crate::common;

use drover::engine::common::error::EngineError;
use drover::engine::facts::{FactMap, FactProvider, Facts};
use drover::engine::transport::{BoxFuture, TransportRegistry};
use drover::engine::{Engine, EngineConfig, Inventory, Node};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Gives fixed facts (plus `node` = the node's name) and counts its calls.
struct Fixed {
    name: String,
    priority: i64,
    facts: FactMap,
    calls: AtomicUsize,
}

impl Fixed {
    fn new(name: &str, priority: i64, facts: FactMap) -> Arc<Fixed> {
        Arc::new(Fixed {
            name: name.into(),
            priority,
            facts,
            calls: AtomicUsize::new(0),
        })
    }
}

impl FactProvider for Fixed {
    fn name(&self) -> &str {
        &self.name
    }
    fn priority(&self) -> i64 {
        self.priority
    }
    fn keys(&self) -> Vec<String> {
        self.facts.keys().cloned().collect()
    }
    fn collect<'a>(
        &'a self,
        _: &'a Engine,
        node: &'a Node,
    ) -> BoxFuture<'a, Result<FactMap, String>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            let mut f = self.facts.clone();
            f.entry("node".into()).or_insert_with(|| json!(node.name));
            Ok(f)
        })
    }
}

fn engine(names: &[String]) -> Engine {
    let mut inv = Inventory::default();
    for n in names {
        inv.add(Node::local(n, "test"));
    }
    Engine::new(
        EngineConfig::default(),
        inv,
        TransportRegistry::default(),
        None,
    )
}

fn providers_of(fixed: &[Arc<Fixed>]) -> Vec<Arc<dyn FactProvider>> {
    fixed
        .iter()
        .map(|f| f.clone() as Arc<dyn FactProvider>)
        .collect()
}

fn node_names() -> impl Strategy<Value = Vec<String>> {
    prop::collection::btree_set("[a-z][a-z0-9-]{0,10}", 1..8).prop_map(|s| s.into_iter().collect())
}

fn fact_map(keys: &'static [&'static str]) -> impl Strategy<Value = FactMap> {
    prop::collection::btree_map(prop::sample::select(keys), any::<i16>(), 0..keys.len()).prop_map(
        |m| {
            m.into_iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect()
        },
    )
}

const KEYS: &[&str] = &["os", "kernel", "rack", "role", "cpu", "mem"];

proptest! {
    #![proptest_config(common::cases(48))]

    /// Property 24: any node of the inventory gets its facts; a name the
    /// inventory lacks is a NoMatch naming it.
    #[test]
    fn property_24_fact_collection_interface(names in node_names(), stranger in "[A-Z]{3}") {
        let engine = engine(&names);
        let p = Fixed::new("p", 1, FactMap::new());
        let facts = Facts::new(providers_of(&[p]), None, None);
        let rt = common::runtime();
        for n in &names {
            let set = rt.block_on(facts.get(&engine, n, false)).unwrap();
            prop_assert_eq!(&set.node, n);
            prop_assert_eq!(set.get("node"), Some(&json!(n)));
        }
        match rt.block_on(facts.get(&engine, &stranger, false)) {
            Err(EngineError::NoMatch { unmatched }) => prop_assert_eq!(unmatched, vec![stranger]),
            other => prop_assert!(false, "expected NoMatch, got {:?}", other),
        }
    }

    /// Property 25: any provider registered takes part in every collection.
    #[test]
    fn property_25_fact_provider_registration(count in 1usize..6, name_seed in "[a-z]{2,6}") {
        let fixed: Vec<Arc<Fixed>> = (0..count)
            .map(|i| Fixed::new(&format!("{name_seed}{i}"), i as i64, FactMap::from([(format!("only_{i}"), json!(i))])))
            .collect();
        let engine = engine(&["n".to_string()]);
        let facts = Facts::new(providers_of(&fixed), None, None);
        prop_assert_eq!(facts.providers().len(), count);
        let set = common::runtime().block_on(facts.get(&engine, "n", false)).unwrap();
        for (i, f) in fixed.iter().enumerate() {
            prop_assert_eq!(f.calls.load(Ordering::SeqCst), 1);
            let fact = &set.facts[&format!("only_{i}")];
            prop_assert_eq!(&fact.source, &f.name);
        }
    }

    /// Property 26: within the TTL the cache answers and no provider runs;
    /// at or past it the providers run again and the cache is renewed.
    #[test]
    fn property_26_fact_cache_behavior(
        ttl_ms in 1u64..1_000_000,
        offsets in prop::collection::vec(0i64..2_000_000, 1..10),
    ) {
        let p = Fixed::new("p", 1, FactMap::from([("k".to_string(), json!(1))]));
        let engine = engine(&["n".to_string()]);
        let facts = Facts::new(providers_of(std::slice::from_ref(&p)), Some(Duration::from_millis(ttl_ms)), None);
        let rt = common::runtime();
        let mut collected_at = 1_000_000i64;
        let first = rt.block_on(facts.get_at(&engine, "n", false, collected_at)).unwrap();
        prop_assert!(!first.cached);
        prop_assert_eq!(p.calls.load(Ordering::SeqCst), 1);
        for d in offsets {
            let before = p.calls.load(Ordering::SeqCst);
            let now = collected_at + d;
            let set = rt.block_on(facts.get_at(&engine, "n", false, now)).unwrap();
            let expired = d >= ttl_ms as i64;
            prop_assert_eq!(p.calls.load(Ordering::SeqCst) - before, usize::from(expired));
            prop_assert_eq!(set.cached, !expired);
            prop_assert_eq!(set.get("k"), Some(&json!(1)));
            if expired {
                collected_at = now;
            }
            prop_assert_eq!(set.collected_at, collected_at);
        }
    }

    /// Property 27: every provider's keys are in the answer.
    #[test]
    fn property_27_multi_provider_fact_aggregation(maps in prop::collection::vec(fact_map(KEYS), 1..5)) {
        let fixed: Vec<Arc<Fixed>> = maps.iter().enumerate().map(|(i, m)| Fixed::new(&format!("p{i}"), 0, m.clone())).collect();
        let engine = engine(&["n".to_string()]);
        let facts = Facts::new(providers_of(&fixed), None, None);
        let set = common::runtime().block_on(facts.get(&engine, "n", false)).unwrap();
        let mut want: BTreeSet<String> = maps.iter().flat_map(|m| m.keys().cloned()).collect();
        want.insert("node".into());
        let got: BTreeSet<String> = set.facts.keys().cloned().collect();
        prop_assert_eq!(got, want);
    }

    /// Property 28: a key several providers give takes the value of the one
    /// with the highest priority (the first registered among equals).
    #[test]
    fn property_28_fact_priority_merging(
        answers in prop::collection::vec((-3i64..3, fact_map(KEYS)), 1..6),
    ) {
        let fixed: Vec<Arc<Fixed>> = answers
            .iter()
            .enumerate()
            .map(|(i, (prio, m))| Fixed::new(&format!("p{i}"), *prio, m.clone()))
            .collect();
        let engine = engine(&["n".to_string()]);
        let facts = Facts::new(providers_of(&fixed), None, None);
        let set = common::runtime().block_on(facts.get(&engine, "n", false)).unwrap();
        let mut model: BTreeMap<String, (i64, usize, Value)> = BTreeMap::new();
        for (i, (prio, m)) in answers.iter().enumerate() {
            for (k, v) in m {
                let better = model.get(k).is_none_or(|(p, _, _)| *prio > *p);
                if better {
                    model.insert(k.clone(), (*prio, i, v.clone()));
                }
            }
        }
        for (k, (_, i, v)) in model {
            let fact = &set.facts[&k];
            prop_assert_eq!(&fact.value, &v, "key {}", k);
            prop_assert_eq!(fact.source.clone(), format!("p{i}"));
        }
    }

    /// Property 29: with refresh set, the providers run whatever the cache holds.
    #[test]
    fn property_29_force_refresh_bypasses_cache(queries in prop::collection::vec(any::<bool>(), 1..12)) {
        let p = Fixed::new("p", 1, FactMap::new());
        let engine = engine(&["n".to_string()]);
        let facts = Facts::new(providers_of(std::slice::from_ref(&p)), Some(Duration::from_secs(3600)), None);
        let rt = common::runtime();
        let mut cached_once = false;
        for refresh in queries {
            let before = p.calls.load(Ordering::SeqCst);
            let set = rt.block_on(facts.get(&engine, "n", refresh)).unwrap();
            let ran = p.calls.load(Ordering::SeqCst) - before;
            if refresh || !cached_once {
                prop_assert_eq!(ran, 1);
                prop_assert!(!set.cached);
            } else {
                prop_assert_eq!(ran, 0);
                prop_assert!(set.cached);
            }
            cached_once = true;
        }
    }
}

/// The store keeps the cache across `Facts` instances (a new process), and a
/// changed provider set never reads facts gathered by another.
#[test]
fn the_store_cache_is_shared_and_tied_to_the_provider_set() {
    let (_dir, store) = common::temp_store();
    let engine = engine(&["n".to_string()]);
    let rt = common::runtime();
    let ttl = Some(Duration::from_secs(3600));
    let a = Fixed::new("a", 1, FactMap::from([("k".to_string(), json!("first"))]));
    let first = Facts::new(
        providers_of(std::slice::from_ref(&a)),
        ttl,
        Some(store.clone()),
    );
    rt.block_on(first.get(&engine, "n", false)).unwrap();
    rt.block_on(engine.flush()).unwrap();
    store.writer().blocking_flush().unwrap();

    let a2 = Fixed::new("a", 1, FactMap::from([("k".to_string(), json!("second"))]));
    let again = Facts::new(
        providers_of(std::slice::from_ref(&a2)),
        ttl,
        Some(store.clone()),
    );
    let set = rt.block_on(again.get(&engine, "n", false)).unwrap();
    assert!(set.cached);
    assert_eq!(set.get("k"), Some(&json!("first")));
    assert_eq!(a2.calls.load(Ordering::SeqCst), 0);

    let b = Fixed::new("b", 1, FactMap::from([("k".to_string(), json!("other"))]));
    let changed = Facts::new(providers_of(std::slice::from_ref(&b)), ttl, Some(store));
    let set = rt.block_on(changed.get(&engine, "n", false)).unwrap();
    assert!(!set.cached);
    assert_eq!(set.get("k"), Some(&json!("other")));
}
