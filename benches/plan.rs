//! Plan scheduler benchmark (plain harness: `cargo bench --bench plan`).
//!
//! A plan of 1,000 steps × 10 nodes over a transport that does nothing, recorded in
//! a real SQLite store, against the same 1,000 executions submitted directly: the
//! difference per step is what the plan scheduler adds (dependency bookkeeping,
//! step events, waiting on results). Target: < 0.5 ms per step. Measured for
//! independent steps (all ready at once) and for a chain (each step waits for the
//! previous one).

mod support;

use drover::engine::orchestrator::plan::{Plan, Step, StepAction};
use drover::engine::orchestrator::plan_run::{self, StepState};
use drover::engine::transport::TransportRegistry;
use drover::engine::{
    Engine, EngineConfig, ExecutionContext, ExecutionOptions, ExecutionRequest, Inventory, Mode,
    Node, Submission,
};
use drover::store::Store;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::NullTransport;

const STEPS: usize = 1000;
const NODES: usize = 10;
const ROUNDS: usize = 5;

fn engine(store: &Store) -> Engine {
    let mut transports = TransportRegistry::default();
    transports.register(Arc::new(NullTransport));
    let mut inv = Inventory::default();
    for i in 0..NODES {
        let mut node = Node::local(&format!("n{i}"), "bench");
        node.transport = "null".into();
        inv.add(node);
    }
    // Room for every step at once: the direct runs submit all of them together.
    let config = EngineConfig {
        queue_depth: 2 * STEPS,
        ..EngineConfig::default()
    };
    Engine::new(config, inv, transports, Some(store.writer()))
}

fn targets() -> String {
    (0..NODES)
        .map(|i| format!("n{i}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn plan(chain: bool) -> Plan {
    let steps = (0..STEPS)
        .map(|i| Step {
            name: format!("s{i}"),
            line: i as u64,
            action: StepAction::Command("true".into()),
            targets: Some(targets()),
            depends_on: if chain && i > 0 {
                vec![format!("s{}", i - 1)]
            } else {
                vec![]
            },
            mode: Mode::Parallel,
            timeout: None,
            retries: 0,
            continue_on_failure: false,
            priority: None,
        })
        .collect();
    Plan {
        name: "bench".into(),
        description: None,
        path: "bench.yaml".into(),
        targets: None,
        steps,
    }
}

async fn run_plan(engine: &Engine, chain: bool) -> Duration {
    let start = Instant::now();
    let h = plan_run::start(
        engine,
        plan(chain),
        ExecutionOptions::default(),
        None,
        ExecutionContext::local(),
    )
    .expect("plan starts");
    let r = h.wait().await.expect("plan");
    assert_eq!(r.state, StepState::Completed);
    start.elapsed()
}

async fn run_direct(engine: &Engine, chain: bool) -> Duration {
    let start = Instant::now();
    let request = || ExecutionRequest {
        command: "true".into(),
        targets: targets(),
        options: ExecutionOptions::default(),
    };
    if chain {
        for _ in 0..STEPS {
            let id = engine
                .submit(Submission::request(request()))
                .await
                .expect("submit")
                .id;
            engine.wait(&id).await.expect("run");
        }
    } else {
        let mut ids = Vec::new();
        for _ in 0..STEPS {
            ids.push(
                engine
                    .submit(Submission::request(request()))
                    .await
                    .expect("submit")
                    .id,
            );
        }
        for id in ids {
            engine.wait(&id).await.expect("wait");
        }
    }
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
    let engine = engine(&store);
    for chain in [false, true] {
        let (mut p, mut d) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            p.push(rt.block_on(run_plan(&engine, chain)));
            d.push(rt.block_on(run_direct(&engine, chain)));
        }
        let (p, d) = (median(p), median(d));
        let per_step = (p.as_secs_f64() - d.as_secs_f64()) / STEPS as f64 * 1e3;
        println!(
            "plan: {STEPS} {} steps x {NODES} null nodes: plan {:.0} ms, direct {:.0} ms, scheduler overhead {:.3} ms/step (target < 0.5)",
            if chain { "chained" } else { "independent" },
            p.as_secs_f64() * 1e3,
            d.as_secs_f64() * 1e3,
            per_step
        );
    }
    rt.block_on(engine.shutdown()).expect("shutdown");
}
