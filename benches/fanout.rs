//! Fan-out benchmarks (plain harness: `cargo bench --bench fanout`).
//!
//! 1. 2,000 local `true` runs across 200 local nodes, fanout 64, recorded in a real
//!    SQLite store, against `xargs -P64` spawning the same 2,000 `sh -c true` in the
//!    same run. Target: drover ≤ 1.3× xargs.
//! 2. Engine overhead per node-run, measured with a transport that does nothing, so
//!    only scheduling, events, bookkeeping and store writes remain. Target: < 1 ms.

mod support;

use drover::engine::transport::TransportRegistry;
use drover::engine::transport::local::{LocalConfig, LocalTransport};
use drover::engine::{
    Engine, EngineConfig, ExecutionOptions, ExecutionRequest, ExecutionStatus, Inventory, Node,
    Submission,
};
use drover::store::Store;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::NullTransport;

const ROUNDS: usize = 5;

fn inventory(n: usize, transport: &str) -> Inventory {
    let mut inv = Inventory::default();
    for i in 0..n {
        let mut node = Node::local(&format!("n{i:03}"), "bench");
        node.transport = transport.to_string();
        node.groups.push("all-bench".into());
        inv.add(node);
    }
    inv
}

fn engine(nodes: usize, transport: &str, store: &Store, max_concurrency: usize) -> Engine {
    let mut transports = TransportRegistry::default();
    transports.register(Arc::new(
        LocalTransport::new(LocalConfig::default()).expect("local transport"),
    ));
    transports.register(Arc::new(NullTransport));
    let config = EngineConfig {
        max_concurrency,
        ..EngineConfig::default()
    };
    Engine::new(
        config,
        inventory(nodes, transport),
        transports,
        Some(store.writer()),
    )
}

fn request(fanout: usize) -> ExecutionRequest {
    ExecutionRequest {
        command: "true".into(),
        targets: "@all-bench".into(),
        options: ExecutionOptions {
            fanout,
            ..ExecutionOptions::default()
        },
    }
}

/// 10 executions of 200 nodes submitted together, sharing a global limit of 64.
async fn drover_2000(engine: &Engine) -> Duration {
    let start = Instant::now();
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.push(
            engine
                .submit(Submission::request(request(64)))
                .await
                .expect("submit")
                .id,
        );
    }
    for id in ids {
        let r = engine.wait(&id).await.expect("wait");
        assert_eq!(r.status, ExecutionStatus::Success);
    }
    engine.flush().await.expect("flush");
    start.elapsed()
}

fn xargs_2000() -> Duration {
    let start = Instant::now();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("seq 2000 | xargs -P64 -n1 sh -c true")
        .stdout(Stdio::null())
        .spawn()
        .expect("xargs");
    assert!(child.wait().expect("wait").success());
    start.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("bench.db")).expect("store");
    let rt = tokio::runtime::Runtime::new().expect("runtime");

    let local = engine(200, "local", &store, 64);
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        ours.push(rt.block_on(drover_2000(&local)));
        theirs.push(xargs_2000());
    }
    let (d, x) = (median(ours), median(theirs));
    println!(
        "fanout: 2000 local `true` runs over 200 nodes, fanout 64: drover {:.0} ms, xargs -P64 {:.0} ms, ratio {:.2} (target <= 1.30)",
        d.as_secs_f64() * 1e3,
        x.as_secs_f64() * 1e3,
        d.as_secs_f64() / x.as_secs_f64()
    );

    let null = engine(1000, "null", &store, 512);
    let mut per_run = Vec::new();
    for _ in 0..ROUNDS {
        let took = rt.block_on(async {
            let start = Instant::now();
            for _ in 0..10 {
                let id = null
                    .submit(Submission::request(request(256)))
                    .await
                    .expect("submit")
                    .id;
                let r = null.wait(&id).await.expect("run");
                assert_eq!(r.status, ExecutionStatus::Success);
            }
            null.flush().await.expect("flush");
            start.elapsed()
        });
        per_run.push(took / 10_000);
    }
    let p = median(per_run);
    println!(
        "overhead: engine time per node-run (10 x 1000 nodes, null transport, store on): {:.1} us (target < 1000 us)",
        p.as_secs_f64() * 1e6
    );
    store.close().expect("close store");
}
