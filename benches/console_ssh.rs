//! Key latency of the real console loop while 200 real SSH nodes stream
//! output (plain harness: `cargo bench --bench console_ssh`; needs root for
//! the sshd fleet, like `benches/ssh.rs`).
//!
//! 200 `sshd` processes on loopback addresses (tests/sshd), one SSH
//! connection each, all running a 20,000-line stream (bursts of 100 lines,
//! then half a second's pause: about 40,000 lines/s over the fleet, with two
//! forks per node per second so the machine's work stays the console's). The
//! console (`tui::drive`, 160x48, on a byte-counting terminal) shows the
//! output; `?` is pressed 50 times and the time from sending the key to the
//! first write of the frame that shows the help popup is measured. Prints
//! median, p95 and max (target: p95 < 50 ms).

#[path = "support/key_to_screen.rs"]
mod key_to_screen;
#[path = "../tests/prereq/mod.rs"]
mod prereq;
#[path = "../tests/sshd/mod.rs"]
mod sshd;

use crossterm::event::{KeyCode, KeyModifiers};
use drover::app::tui::console::Console;
use drover::app::tui::interaction::ConsoleInteraction;
use drover::app::tui::keymap::Keymap;
use drover::app::tui::state::{AppState, UiOptions};
use drover::engine::transport::TransportRegistry;
use drover::engine::transport::interaction::NoInteraction;
use drover::engine::transport::ssh::config::Environment;
use drover::engine::transport::ssh::{SshSettings, SshTransport};
use drover::engine::{
    Engine, EngineConfig, ExecutionContext, ExecutionOptions, ExecutionStatus, Inventory, Node,
    NodeStatus,
};
use drover::store::Store;
use key_to_screen::{Looped, summary};
use ratatui::layout::Rect;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const NODES: usize = 200;
const SAMPLES: usize = 50;
/// A key not shown within this fails the benchmark.
const LIMIT: Duration = Duration::from_secs(30);
/// Twenty thousand lines per node, in bursts of a hundred.
const STREAM: &str = "h=$(hostname); i=0; while [ $i -lt 20000 ]; do i=$((i+1)); \
    echo \"line $i of the stream from $h\"; case $i in *00) sleep 0.5;; esac; done";

fn engine(ssh_config: &Path, aliases: &[String], store: &Store) -> Engine {
    let transport = SshTransport::new(SshSettings {
        config_file: Some(ssh_config.to_path_buf()),
        environment: Environment::new("/root", "root"),
        kill_grace: Duration::from_secs(2),
        idle_timeout: Duration::from_secs(600),
        interaction: Arc::new(NoInteraction),
    })
    .expect("ssh transport");
    let mut inventory = Inventory::default();
    for alias in aliases {
        let mut node = Node::local(alias, "bench");
        node.transport = "ssh".into();
        inventory.add(node);
    }
    let mut transports = TransportRegistry::default();
    transports.register(Arc::new(transport));
    Engine::new(
        EngineConfig::default(),
        inventory,
        transports,
        Some(store.writer()),
    )
    .with_store(store.clone())
}

/// Nodes of the newest execution in `status`.
fn nodes_in(engine: &Engine, status: NodeStatus) -> usize {
    engine
        .executions()
        .last()
        .map_or(0, |e| e.nodes.iter().filter(|n| n.status == status).count())
}

async fn measure(engine: Engine) {
    let (_interaction, questions) = ConsoleInteraction::new();
    let size = Rect::new(0, 0, 160, 48);
    let state = AppState::new(
        Arc::new(Keymap::defaults()),
        UiOptions::default(),
        size,
        "bench".into(),
    );
    let options = ExecutionOptions {
        fanout: NODES,
        timeout: Some(Duration::from_secs(600)),
        ..ExecutionOptions::default()
    };
    let mut console = Console::new(
        state,
        engine.clone(),
        options,
        ExecutionContext::local(),
        questions,
    );
    console.show_engine_inventory();
    let looped = Looped::start(console, size);
    let idle = looped.keys_to_screen(10, LIMIT).await;
    println!("key to screen, idle: {}", summary(idle));
    // Select everything (the cursor starts on the source row), run, confirm.
    looped.text(" ");
    looped.text(&format!(":run {STREAM}"));
    looped.key(KeyCode::Enter, KeyModifiers::NONE);
    looped.text("y");
    let started = Instant::now();
    while nodes_in(&engine, NodeStatus::Running) < NODES {
        if started.elapsed() > Duration::from_secs(120) {
            panic!(
                "only {} of {NODES} nodes running after 120 s",
                nodes_in(&engine, NodeStatus::Running)
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "{NODES} SSH sessions streaming after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let printed = |engine: &Engine| -> u64 {
        engine
            .executions()
            .last()
            .map_or(0, |e| e.nodes.iter().map(|n| n.stdout_bytes).sum())
    };
    let (bytes_before, window) = (printed(&engine), Instant::now());

    let latencies = looped.keys_to_screen(SAMPLES, LIMIT).await;
    let rate = (printed(&engine) - bytes_before) as f64 / window.elapsed().as_secs_f64();
    let running = nodes_in(&engine, NodeStatus::Running);
    println!(
        "key to screen, {running} of {NODES} SSH nodes streaming ({:.0} KB/s of output): {} \
         (target p95 < 50 ms)",
        rate / 1e3,
        summary(latencies)
    );

    looped.key(KeyCode::Char('x'), KeyModifiers::CONTROL);
    let ending = Instant::now();
    while engine
        .executions()
        .iter()
        .any(|e| matches!(e.status, ExecutionStatus::Running | ExecutionStatus::Queued))
        && ending.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    looped.stop().await;
}

fn main() {
    let fleet = sshd::Fleet::start(NODES);
    println!(
        "{NODES} sshd started in {:.1} s",
        fleet.startup_time().as_secs_f64()
    );
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("drover.db")).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let engine = {
        let _guard = rt.enter();
        engine(&fleet.ssh_config(), &fleet.aliases(), &store)
    };
    rt.block_on(measure(engine));
}
