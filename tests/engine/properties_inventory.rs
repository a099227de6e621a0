//! Inventory properties of the seeds not covered by `inventory_properties.rs`:
//! 18 (refresh on demand), 19 (TTL cache) and 22 (inventory metadata as facts).

use crate::common;

use drover::engine::facts::{Facts, InventoryVars};
use drover::engine::inventory::native::InventoryError;
use drover::engine::inventory::service::{InventoryService, InventorySource, standard_sources};
use drover::engine::transport::TransportRegistry;
use drover::engine::{Engine, EngineConfig, Inventory, Node};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A source whose nodes the test changes, counting how often it is read.
#[derive(Default)]
struct Counted {
    nodes: Mutex<Vec<String>>,
    loads: AtomicUsize,
}

struct Handle(Arc<Counted>);

impl InventorySource for Handle {
    fn name(&self) -> &str {
        "counted"
    }
    fn priority(&self) -> i64 {
        1
    }
    fn watched_paths(&self) -> Vec<PathBuf> {
        Vec::new()
    }
    fn load(&self) -> Result<Inventory, InventoryError> {
        self.0.loads.fetch_add(1, Ordering::SeqCst);
        let mut inv = Inventory::default();
        for n in self.0.nodes.lock().unwrap().iter() {
            inv.add(Node::local(n, "counted"));
        }
        Ok(inv)
    }
}

fn names(inv: &Inventory) -> Vec<String> {
    inv.nodes().map(|n| n.name.clone()).collect()
}

fn node_sets() -> impl Strategy<Value = Vec<Vec<String>>> {
    prop::collection::vec(
        prop::collection::btree_set("[a-z]{1,6}[0-9]{0,2}", 0..8)
            .prop_map(|s| s.into_iter().collect::<Vec<_>>()),
        1..6,
    )
}

/// A JSON scalar or small structure, as inventory vars hold.
fn var_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        "[a-zA-Z0-9 ._-]{0,12}".prop_map(Value::from),
        prop::collection::vec("[a-z]{0,4}", 0..3).prop_map(|v| json!(v)),
    ]
}

proptest! {
    #![proptest_config(common::cases(48))]

    /// Property 18: whatever a source now holds, an on-demand refresh puts it
    /// in the cached inventory; until then the cache keeps the old data.
    #[test]
    fn property_18_dynamic_inventory_refresh(versions in node_sets()) {
        let source = Arc::new(Counted::default());
        let service = InventoryService::new(vec![Arc::new(Handle(source.clone()))], None);
        let mut expected: Vec<String> = Vec::new();
        service.refresh();
        for version in versions {
            *source.nodes.lock().unwrap() = version.clone();
            prop_assert_eq!(names(&service.get()), expected.clone(), "no TTL: still cached");
            let loaded = service.refresh();
            expected = version;
            prop_assert_eq!(names(&loaded.inventory), expected.clone());
            prop_assert_eq!(names(&service.get()), expected.clone());
        }
    }

    /// Property 18, with a real file: a refresh reads the file as it is now.
    #[test]
    fn property_18_file_source_refresh(versions in node_sets()) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nodes.yaml");
        std::fs::write(&file, "nodes: {}\n").unwrap();
        let service = InventoryService::new(
            standard_sources(None, std::slice::from_ref(&file), Duration::from_secs(5)),
            None,
        );
        service.refresh();
        for version in versions {
            let nodes: BTreeMap<&str, Value> = version.iter().map(|n| (n.as_str(), json!({}))).collect();
            std::fs::write(&file, format!("nodes: {}\n", json!(nodes))).unwrap();
            let loaded = service.refresh();
            prop_assert!(loaded.failures.is_empty(), "{:?}", loaded.failures);
            let mut want = version.clone();
            want.push("localhost".into());
            want.sort();
            prop_assert_eq!(names(&loaded.inventory), want);
        }
    }

    /// Property 19: queries younger than the TTL read no source; the first
    /// query at or past it reads them again and renews the cache.
    #[test]
    fn property_19_inventory_cache_behavior(
        ttl_ms in 1u64..100_000,
        offsets in prop::collection::vec(0u64..200_000, 1..12),
    ) {
        let source = Arc::new(Counted::default());
        *source.nodes.lock().unwrap() = vec!["a".into()];
        let ttl = Duration::from_millis(ttl_ms);
        let service = InventoryService::new(vec![Arc::new(Handle(source.clone()))], Some(ttl));
        service.get();
        prop_assert_eq!(source.loads.load(Ordering::SeqCst), 1, "first query loads");
        for d in offsets {
            let before = source.loads.load(Ordering::SeqCst);
            let at = service.loaded_at().unwrap() + Duration::from_millis(d);
            *source.nodes.lock().unwrap() = vec![format!("v{before}")];
            let inv = service.get_at(at);
            let reloaded = source.loads.load(Ordering::SeqCst) - before;
            prop_assert_eq!(reloaded, usize::from(d >= ttl_ms), "offset {} ttl {}", d, ttl_ms);
            if d >= ttl_ms {
                prop_assert_eq!(names(&inv), vec![format!("v{before}")]);
            }
        }
    }

    /// Property 22: every variable an inventory gives a node is one of its
    /// facts, from the `inventory` provider, read from a file as users write it.
    #[test]
    fn property_22_inventory_metadata_as_facts(
        vars in prop::collection::btree_map("[a-z][a-z0-9_]{0,10}", var_value(), 0..8),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nodes.yaml");
        std::fs::write(&file, format!("nodes:\n  n1:\n    vars: {}\n", json!(vars))).unwrap();
        let service = InventoryService::new(
            standard_sources(None, std::slice::from_ref(&file), Duration::from_secs(5)),
            None,
        );
        let inventory = Inventory::clone(&service.get());
        let engine = Engine::new(EngineConfig::default(), inventory, TransportRegistry::default(), None);
        let facts = Facts::new(vec![Arc::new(InventoryVars { priority: 1 })], None, None);
        let set = common::runtime().block_on(facts.get(&engine, "n1", false)).unwrap();
        prop_assert!(set.failures.is_empty());
        prop_assert_eq!(set.facts.len(), vars.len());
        for (k, v) in &vars {
            let fact = &set.facts[k];
            prop_assert_eq!(&fact.value, v);
            prop_assert_eq!(fact.source.as_str(), "inventory");
        }
    }
}
