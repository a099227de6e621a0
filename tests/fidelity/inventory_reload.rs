//! Automatic reload: editing an inventory file or the ssh_config swaps the
//! engine's inventory and announces it; a malformed edit keeps the last good
//! nodes of that source and names the error. Every wait is on the event.

use drover::engine::inventory::service::{InventoryService, standard_sources};
use drover::engine::inventory::watch::watch;
use drover::engine::transport::TransportRegistry;
use drover::engine::transport::ssh::config::Environment;
use drover::engine::transport::ssh::config_source::SshConfigSource;
use drover::engine::{Engine, EngineConfig, EngineEvent, Inventory};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

const LIMIT: Duration = Duration::from_secs(20);
const DEBOUNCE: Duration = Duration::from_millis(50);

/// Replaces the file in one step, as editors that save by rename do.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp~");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Waits for reload events until `done` holds for one; returns that event's failures.
async fn reloaded_until(
    events: &mut broadcast::Receiver<EngineEvent>,
    mut done: impl FnMut(usize, &[drover::engine::inventory::service::SourceFailure]) -> bool,
) -> Vec<drover::engine::inventory::service::SourceFailure> {
    tokio::time::timeout(LIMIT, async {
        loop {
            match events.recv().await {
                Ok(EngineEvent::InventoryReloaded {
                    nodes,
                    failed_sources,
                }) if done(nodes, &failed_sources) => return failed_sources,
                Ok(_) => {}
                Err(e) => panic!("event stream ended: {e}"),
            }
        }
    })
    .await
    .expect("no matching InventoryReloaded event in time")
}

fn engine_over(service: &InventoryService) -> Engine {
    let inv = Inventory::clone(&service.get());
    Engine::new(
        EngineConfig::default(),
        inv,
        TransportRegistry::default(),
        None,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_an_inventory_file_reloads_it_and_keeps_the_last_good_on_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nodes.yaml");
    std::fs::write(&file, "nodes:\n  n1: {groups: [lab]}\n").unwrap();
    let service = Arc::new(InventoryService::new(
        standard_sources(None, std::slice::from_ref(&file), LIMIT),
        None,
    ));
    let engine = engine_over(&service);
    assert!(engine.inventory().resolve("n2").is_err());
    let mut events = engine.subscribe();
    let _watch = watch(engine.clone(), service.clone(), DEBOUNCE).unwrap();

    replace(
        &file,
        "nodes:\n  n1: {groups: [lab]}\n  n2: {groups: [lab]}\n",
    );
    let failures = reloaded_until(&mut events, |nodes, _| nodes == 3).await;
    assert!(failures.is_empty(), "{failures:?}");
    let lab: Vec<String> = engine
        .inventory()
        .resolve("@lab")
        .unwrap()
        .iter()
        .map(|n| n.name.clone())
        .collect();
    assert_eq!(lab, ["n1", "n2"]);

    // A typo: the source is reported failed and its last good nodes stay.
    replace(
        &file,
        "nodes:\n  n1: {groups: [lab]}\n  n3: {colour: red}\n",
    );
    let failures = reloaded_until(&mut events, |_, f| !f.is_empty()).await;
    assert_eq!(failures[0].source, file.display().to_string());
    assert!(
        failures[0]
            .reason
            .contains(&format!("{}:3:", file.display())),
        "{failures:?}"
    );
    assert!(engine.inventory().node("n2").is_some(), "last good kept");
    assert!(engine.inventory().node("n3").is_none());
    assert_eq!(service.failures(), failures);

    // Fixed again: the failure clears and the new node appears.
    replace(&file, "nodes:\n  n3: {groups: [lab]}\n");
    reloaded_until(&mut events, |nodes, f| f.is_empty() && nodes == 2).await;
    assert!(engine.inventory().node("n3").is_some());
    assert!(engine.inventory().node("n2").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_the_ssh_config_adds_its_new_host_aliases() {
    let dir = tempfile::tempdir().unwrap();
    let ssh_dir = dir.path().join(".ssh");
    std::fs::create_dir(&ssh_dir).unwrap();
    let config = ssh_dir.join("config");
    std::fs::write(&config, "Host alpha\n  HostName 127.0.0.1\n").unwrap();
    let env = Environment::new(dir.path(), "tester");
    let service = Arc::new(InventoryService::new(
        standard_sources(
            Some(Arc::new(SshConfigSource::new(config.clone(), env))),
            &[],
            LIMIT,
        ),
        None,
    ));
    let engine = engine_over(&service);
    assert!(engine.inventory().node("alpha").is_some());
    let mut events = engine.subscribe();
    let _watch = watch(engine.clone(), service.clone(), DEBOUNCE).unwrap();

    // Appended in place (not renamed): a plain write is seen too.
    std::fs::write(
        &config,
        "Host alpha\n  HostName 127.0.0.1\nHost beta gamma-*\n  User ops\n",
    )
    .unwrap();
    reloaded_until(&mut events, |nodes, _| nodes == 3).await;
    let inv = engine.inventory();
    let beta = inv.node("beta").expect("beta resolvable");
    assert_eq!(beta.transport, "ssh");
    assert_eq!(beta.groups, ["ssh_config"]);
    assert_eq!(inv.resolve("@ssh_config").unwrap().len(), 2);
}
