//! Shared set-up for the property tests: engines over local or scripted nodes,
//! runtimes, and helpers that await events instead of sleeping.
#![allow(dead_code)] // each test binary uses a different subset

pub mod records;
pub mod scripted;

use drover::engine::EngineConfig;
use drover::engine::transport::TransportRegistry;
use drover::engine::transport::local::{LocalConfig, LocalTransport};
use drover::engine::{
    Engine, EngineError, EngineEvent, ExecutionContext, ExecutionId, ExecutionOptions,
    ExecutionRequest, ExecutionResult, Inventory, Node, StreamItem, Submission,
};
use drover::store::StoreWriter;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError};
use scripted::{SCRIPTED, ScriptedTransport};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// Longest any single await in a test may take before the test fails instead of
/// hanging (nothing here should come near it when the engine is correct).
pub const LIMIT: Duration = Duration::from_secs(15);

/// Proptest settings: `cases` cases, no regression files written into the tree.
pub fn cases(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// A fresh two-worker runtime per case, so leftovers of one case cannot leak.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

pub fn ctx(user: &str) -> ExecutionContext {
    ExecutionContext {
        user: user.to_string(),
        roles: Vec::new(),
        correlation_id: format!("corr-{user}"),
    }
}

/// `prefix0`, `prefix1`, ...
pub fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

pub fn inventory(names: &[String], transport: &str) -> Inventory {
    let mut inv = Inventory::default();
    for name in names {
        let mut node = Node::local(name, "test");
        node.transport = transport.to_string();
        inv.add(node);
    }
    inv
}

pub fn scripted_engine(
    transport: &Arc<ScriptedTransport>,
    names: &[String],
    config: EngineConfig,
    store: Option<StoreWriter>,
) -> Engine {
    scripted_engine_with(transport, inventory(names, SCRIPTED), config, store)
}

pub fn scripted_engine_with(
    transport: &Arc<ScriptedTransport>,
    inventory: Inventory,
    config: EngineConfig,
    store: Option<StoreWriter>,
) -> Engine {
    let mut registry = TransportRegistry::default();
    registry.register(transport.clone());
    Engine::new(config, inventory, registry, store)
}

pub fn local_transport() -> Arc<LocalTransport> {
    Arc::new(
        LocalTransport::new(LocalConfig {
            shell: "/bin/sh".into(),
            kill_grace: Duration::from_millis(500),
        })
        .expect("local transport"),
    )
}

/// An engine whose nodes are all local processes (`$DROVER_NODE` names the node).
pub fn local_engine(names: &[String], config: EngineConfig, store: Option<StoreWriter>) -> Engine {
    let mut registry = TransportRegistry::default();
    registry.register(local_transport());
    Engine::new(config, inventory(names, "local"), registry, store)
}

pub fn request(command: &str, targets: &[String], options: ExecutionOptions) -> ExecutionRequest {
    ExecutionRequest {
        command: command.to_string(),
        targets: targets.join(","),
        options,
    }
}

/// `request` by `context` through the engine's door; its id.
pub async fn submit(
    engine: &Engine,
    request: ExecutionRequest,
    context: ExecutionContext,
) -> Result<ExecutionId, EngineError> {
    let submission = Submission::request(request).as_user(context);
    Ok(engine.submit(submission).await?.id)
}

/// `request` by `context` through the engine's door, waited for to its end.
pub async fn run(
    engine: &Engine,
    request: ExecutionRequest,
    context: ExecutionContext,
) -> Result<Arc<ExecutionResult>, EngineError> {
    let id = submit(engine, request, context).await?;
    engine.wait(&id).await
}

/// `request` by `context` through the engine's door with a stream tap of
/// `buffer` items; its id and the tap.
pub async fn streamed(
    engine: &Engine,
    request: ExecutionRequest,
    context: ExecutionContext,
    buffer: usize,
) -> Result<(ExecutionId, mpsc::Receiver<StreamItem>), EngineError> {
    let submission = Submission::request(request).as_user(context).stream(buffer);
    let submitted = engine.submit(submission).await?;
    Ok((submitted.id, submitted.stream.expect("a tap was asked")))
}

/// Fails the case, instead of hanging, when `fut` takes longer than [`LIMIT`].
pub async fn within<F: Future>(what: &str, fut: F) -> Result<F::Output, TestCaseError> {
    tokio::time::timeout(LIMIT, fut)
        .await
        .map_err(|_| TestCaseError::fail(format!("{what}: still waiting after {LIMIT:?}")))
}

/// Everything a lossless stream carries up to and including `ExecutionFinished`.
pub async fn drain(rx: &mut mpsc::Receiver<StreamItem>) -> Result<Vec<StreamItem>, TestCaseError> {
    let mut items = Vec::new();
    loop {
        let item = within("stream item", rx.recv())
            .await?
            .ok_or_else(|| TestCaseError::fail("stream closed before ExecutionFinished"))?;
        let last = matches!(
            item,
            StreamItem::Event(EngineEvent::ExecutionFinished { .. })
        );
        items.push(item);
        if last {
            return Ok(items);
        }
    }
}

/// The events among stream items, in order.
pub fn events(items: &[StreamItem]) -> Vec<EngineEvent> {
    items
        .iter()
        .filter_map(|i| match i {
            StreamItem::Event(e) => Some(e.clone()),
            StreamItem::Output { .. } => None,
        })
        .collect()
}

/// Waits on a broadcast subscription for the first event `pick` accepts.
pub async fn next_matching(
    rx: &mut broadcast::Receiver<EngineEvent>,
    mut pick: impl FnMut(&EngineEvent) -> bool,
) -> Result<EngineEvent, TestCaseError> {
    within("event", async {
        loop {
            match rx.recv().await {
                Ok(e) if pick(&e) => return Ok(e),
                Ok(_) => {}
                Err(e) => return Err(TestCaseError::fail(format!("subscription: {e}"))),
            }
        }
    })
    .await?
}

/// Any subset of `names`, in a random order, never empty.
pub fn target_order(names: Vec<String>) -> impl Strategy<Value = Vec<String>> {
    let n = names.len();
    proptest::sample::subsequence(names, 1..=n).prop_shuffle()
}

/// A real store in a fresh temporary directory (kept alive by the returned guard).
pub fn temp_store() -> (tempfile::TempDir, drover::store::Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = drover::store::Store::open(&dir.path().join("drover.db")).expect("open store");
    (dir, store)
}
