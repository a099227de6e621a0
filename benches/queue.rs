//! Slot queue throughput (plain harness: `cargo bench --bench queue`).
//!
//! Target: at least 50,000 enqueue+dequeue per second. Measured three ways:
//! 1. free slots: acquire and give back with nobody waiting (the common case);
//! 2. contended: 256 tasks over 8 slots, each acquiring at a random priority,
//!    so nearly every acquire waits in line and is handed a slot by a release;
//! 3. through the engine: single-node executions over a no-op transport, each
//!    one admitted (depth), queued for a slot and run, end to end.

mod support;

use drover::engine::common::priority::Priority;
use drover::engine::executor::queue::SlotQueue;
use drover::engine::transport::TransportRegistry;
use drover::engine::{
    Engine, EngineConfig, ExecutionOptions, ExecutionRequest, Inventory, Node, Submission,
};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::NullTransport;

const ROUNDS: usize = 5;

fn median(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[v.len() - 1])
}

fn free_slots(ops: usize) -> f64 {
    let q = SlotQueue::new(64, 1000, Duration::from_secs(10));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let start = Instant::now();
        for i in 0..ops {
            let place = q.place(Priority::new((i % 10) as u8).expect("level"));
            drop(q.acquire(place).await);
        }
        ops as f64 / start.elapsed().as_secs_f64()
    })
}

fn contended(rt: &tokio::runtime::Runtime, tasks: usize, per_task: usize) -> f64 {
    let q = SlotQueue::new(8, 1000, Duration::from_secs(10));
    rt.block_on(async {
        let start = Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for t in 0..tasks {
            let q = q.clone();
            set.spawn(async move {
                for i in 0..per_task {
                    let level = ((t * 7 + i * 3) % 10) as u8;
                    let slot = q
                        .acquire(q.place(Priority::new(level).expect("level")))
                        .await;
                    // Let others queue up behind the holder.
                    tokio::task::yield_now().await;
                    drop(slot);
                }
            });
        }
        while set.join_next().await.is_some() {}
        (tasks * per_task) as f64 / start.elapsed().as_secs_f64()
    })
}

fn engine_runs(rt: &tokio::runtime::Runtime, runs: usize) -> f64 {
    let mut transports = TransportRegistry::default();
    transports.register(Arc::new(NullTransport));
    let mut inv = Inventory::default();
    let mut node = Node::local("n0", "bench");
    node.transport = "null".into();
    inv.add(node);
    let config = EngineConfig {
        max_concurrency: 8,
        queue_depth: runs,
        ..EngineConfig::default()
    };
    let engine = Engine::new(config, inv, transports, None);
    rt.block_on(async {
        let start = Instant::now();
        let mut ids = Vec::with_capacity(runs);
        for i in 0..runs {
            let request = ExecutionRequest {
                command: "true".into(),
                targets: "n0".into(),
                options: ExecutionOptions {
                    priority: Priority::new((i % 10) as u8).expect("level"),
                    ..ExecutionOptions::default()
                },
            };
            ids.push(
                engine
                    .submit(Submission::request(request))
                    .await
                    .expect("submit")
                    .id,
            );
        }
        for id in ids {
            engine.wait(&id).await.expect("wait");
        }
        runs as f64 / start.elapsed().as_secs_f64()
    })
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let report = |what: &str, v: Vec<f64>| {
        let (med, best) = median(v);
        let verdict = if med >= 50_000.0 { "meets" } else { "MISSES" };
        println!("{what:<44} median {med:>12.0}/s  best {best:>12.0}/s  ({verdict} >= 50,000/s)");
    };
    report(
        "queue, free slots (acquire+release)",
        (0..ROUNDS).map(|_| free_slots(1_000_000)).collect(),
    );
    report(
        "queue, 256 tasks on 8 slots (waits, hand-off)",
        (0..ROUNDS).map(|_| contended(&rt, 256, 2_000)).collect(),
    );
    let runs: Vec<f64> = (0..ROUNDS).map(|_| engine_runs(&rt, 5_000)).collect();
    let (med, best) = median(runs);
    println!(
        "{:<44} median {med:>12.0}/s  best {best:>12.0}/s  (whole executions, for scale)",
        "engine, 1-node runs through the queue"
    );
}
