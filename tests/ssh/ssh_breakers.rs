//! Circuit breakers against real OpenSSH servers (`tests/sshd/`): a node whose sshd
//! is stopped fails with Connection until its breaker opens, is then rejected at
//! once with CircuitOpen while its neighbour keeps working, and after it comes back
//! the half-open probe closes the breaker. State changes are events and journal
//! entries. Needs root; prints SKIPPED lines otherwise.

use crate::sshd;

use drover::engine::resilience::breaker::{BreakerConfig, BreakerScope, BreakerState};
use drover::engine::transport::TransportRegistry;
use drover::engine::transport::interaction::NoInteraction;
use drover::engine::transport::ssh::config::Environment;
use drover::engine::transport::ssh::{SshSettings, SshTransport};
use drover::engine::{
    Engine, EngineConfig, EngineEvent, ErrorCategory, ExecutionContext, ExecutionOptions,
    ExecutionRequest, Inventory, Node, NodeStatus, Submission,
};
use drover::store::{EntryType, Store};
use sshd::Fleet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

const RESET: Duration = Duration::from_millis(1500);

fn engine(fleet: &Fleet, home: &std::path::Path, store: &Store) -> Engine {
    let ssh = SshTransport::new(SshSettings {
        config_file: Some(fleet.ssh_config()),
        environment: Environment::new(home, "root"),
        kill_grace: Duration::from_secs(2),
        idle_timeout: Duration::from_secs(600),
        interaction: Arc::new(NoInteraction),
    })
    .expect("ssh transport");
    let mut transports = TransportRegistry::default();
    transports.register(Arc::new(ssh));
    let mut inventory = Inventory::default();
    for alias in fleet.aliases() {
        let mut n = Node::local(&alias, "test");
        n.transport = "ssh".into();
        inventory.add(n);
    }
    let config = EngineConfig {
        breakers: BreakerConfig {
            failure_threshold: 2,
            transport_failure_threshold: 0,
            reset_timeout: RESET,
            half_open_probes: 1,
            ..BreakerConfig::default()
        },
        ..EngineConfig::default()
    };
    Engine::new(config, inventory, transports, Some(store.writer()))
}

fn ctx() -> ExecutionContext {
    ExecutionContext {
        user: "tester".into(),
        roles: vec![],
        correlation_id: "breakers".into(),
    }
}

async fn run(engine: &Engine, targets: &str) -> Arc<drover::engine::ExecutionResult> {
    let request = ExecutionRequest {
        command: "true".into(),
        targets: targets.into(),
        options: ExecutionOptions {
            timeout: Some(Duration::from_secs(20)),
            ..ExecutionOptions::default()
        },
    };
    let run = async {
        let submitted = engine
            .submit(Submission::request(request).as_user(ctx()))
            .await
            .expect("run accepted");
        engine.wait(&submitted.id).await.expect("run finished")
    };
    tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("run finished in time")
}

fn breaker_events(rx: &mut broadcast::Receiver<EngineEvent>) -> Vec<(String, BreakerState)> {
    let mut v = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        if let EngineEvent::BreakerChanged { scope, name, state } = ev {
            assert_eq!(scope, BreakerScope::Node);
            v.push((name, state));
        }
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaker_opens_on_a_stopped_node_and_closes_when_it_returns() {
    let Some(mut fleet) = Fleet::or_skip(2) else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let db = tempfile::tempdir().unwrap();
    let store = Store::open(&db.path().join("drover.db")).unwrap();
    let engine = engine(&fleet, home.path(), &store);
    let mut events = engine.subscribe();
    let (down, up) = (fleet.alias(0), fleet.alias(1));
    fleet.stop_node(0);

    for _ in 0..2 {
        let r = run(&engine, &down).await;
        let e = r.nodes[0].error.as_ref().expect("error");
        assert_eq!(e.category, ErrorCategory::Connection, "{e}");
    }
    assert_eq!(
        breaker_events(&mut events),
        [(down.clone(), BreakerState::Open)]
    );

    let r = run(&engine, &format!("{down},{up}")).await;
    let rejected = r.node(&down).unwrap();
    let e = rejected.error.as_ref().expect("rejected");
    assert_eq!(e.category, ErrorCategory::CircuitOpen, "{e}");
    assert!(e.reason.contains("circuit open for node"), "{e}");
    assert_eq!(rejected.attempts, 0, "rejected without an attempt");
    assert_eq!(
        r.node(&up).unwrap().status,
        NodeStatus::Success,
        "neighbour unaffected"
    );
    let snap = engine.breakers();
    let b = snap
        .iter()
        .find(|b| b.name == down)
        .expect("breaker listed");
    assert_eq!(b.state, BreakerState::Open);

    fleet.start_node(0);
    // The reset timeout is the behaviour under test: wait it out, as the snapshot says.
    tokio::time::sleep(b.retry_in.unwrap_or_default() + Duration::from_millis(50)).await;
    let r = run(&engine, &down).await;
    assert_eq!(r.nodes[0].status, NodeStatus::Success, "{:?}", r.nodes[0]);
    assert_eq!(
        breaker_events(&mut events),
        [
            (down.clone(), BreakerState::HalfOpen),
            (down.clone(), BreakerState::Closed)
        ]
    );
    engine.flush().await.unwrap();
    let journal = store.journal(&down, &[EntryType::Event], None).unwrap();
    let states: Vec<_> = journal
        .iter()
        .rev()
        .map(|e| e.status.clone().unwrap())
        .collect();
    assert_eq!(states, ["open", "half_open", "closed"], "{journal:?}");
    assert!(
        journal.iter().all(|e| e.execution_id.is_some()),
        "{journal:?}"
    );
}
