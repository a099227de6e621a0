//! Console benchmarks (plain harness: `cargo bench --bench console`).
//!
//! 1. Draw a 10,000-node inventory tree, every group open, cursor moving each
//!    frame. Target: < 4 ms per frame.
//! 2. Fold and draw the output of 1,000 nodes (100 lines each, 10 distinct
//!    outputs), one node diverging each frame. Target: < 4 ms per frame.
//! 3. The real console loop (`tui::drive`) on a byte-counting terminal while
//!    1,000 local nodes print continuously (each follows a feed file that gets
//!    a line every 20 ms: 50,000 lines/s in all): input-to-screen latency of a key
//!    (target < 50 ms), bytes written to the terminal per second (target
//!    ≤ 64 KB/s at the capped frame rate), bytes written while idle (target:
//!    none) and the process's peak RSS.

#[path = "support/frame_clock.rs"]
mod frame_clock;
#[path = "support/key_to_screen.rs"]
mod key_to_screen;

use crossterm::event::{KeyCode, KeyModifiers};
use drover::app::tui::console::Console;
use drover::app::tui::headless::Headless;
use drover::app::tui::interaction::ConsoleInteraction;
use drover::app::tui::keymap::Keymap;
use drover::app::tui::output::RunOutput;
use drover::app::tui::state::{AppState, UiOptions};
use drover::engine::transport::TransportRegistry;
use drover::engine::transport::local::{LocalConfig, LocalTransport};
use drover::engine::{Engine, EngineConfig, ExecutionOptions, Inventory, Node};
use drover::store::{Store, Stream};
use key_to_screen::{Looped, summary};
use ratatui::layout::Rect;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn engine(nodes: usize, groups: usize, store: &Store) -> Engine {
    let mut inv = Inventory::default();
    for i in 0..nodes {
        let mut n = Node::local(&format!("node{i:05}"), "bench");
        n.groups.push(format!("group{:03}", i % groups.max(1)));
        inv.add(n);
    }
    let mut registry = TransportRegistry::default();
    registry.register(Arc::new(
        LocalTransport::new(LocalConfig {
            shell: "/bin/sh".into(),
            kill_grace: Duration::from_millis(200),
        })
        .expect("local transport"),
    ));
    let config = EngineConfig {
        max_concurrency: 2048,
        ..EngineConfig::default()
    };
    Engine::new(config, inv, registry, Some(store.writer())).with_store(store.clone())
}

fn per_frame(label: &str, frames: usize, mut frame: impl FnMut(usize)) {
    for i in 0..20 {
        frame(i);
    }
    let start = Instant::now();
    for i in 0..frames {
        frame(i);
    }
    let per = start.elapsed() / frames as u32;
    println!(
        "{label}: {:.3} ms per frame (target < 4 ms)",
        per.as_secs_f64() * 1e3
    );
}

fn tree(store: &Store) {
    let mut h = Headless::new(engine(10_000, 100, store), 200, 60);
    h.keys("*").unwrap();
    let rows = h.state().inventory.rows.len();
    per_frame(
        &format!("tree of 10,000 nodes ({rows} rows open)"),
        500,
        |i| {
            h.keys(if (i / 100) % 2 == 0 { "j" } else { "k" }).unwrap();
            h.draw();
        },
    );
}

fn folded(store: &Store) {
    let mut h = Headless::new(engine(1, 1, store), 200, 60);
    let names: Vec<String> = (0..1000).map(|i| format!("web{i:04}")).collect();
    let mut run = RunOutput::new("bench".into(), "cmd".into(), &names, false);
    let opts = h.state().output.sanitize.clone();
    for (i, n) in names.iter().enumerate() {
        let text: String = (0..100)
            .map(|l| format!("line {l} of output kind {}\n", i % 10))
            .collect();
        run.append(n, Stream::Stdout, text.as_bytes(), 0, &opts);
    }
    h.state_mut().output.show(run);
    h.state_mut().output.follow = false;
    h.state_mut().settle();
    println!("folded output: {} groups", h.state().output.blocks.len());
    per_frame("folded output of 1,000 nodes", 300, |i| {
        let node = &names[i % names.len()];
        h.state_mut()
            .output
            .append("bench", node, Stream::Stdout, b"diverged\n", 0);
        h.state_mut().settle();
        h.draw();
    });
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn streaming(store: &Store) {
    const NODES: usize = 1000;
    let engine = engine(NODES, 10, store);
    let (_interaction, questions) = ConsoleInteraction::new();
    let state = AppState::new(
        Arc::new(Keymap::defaults()),
        UiOptions::default(),
        Rect::new(0, 0, 160, 48),
        "bench".into(),
    );
    let options = ExecutionOptions {
        fanout: NODES,
        timeout: Some(Duration::from_secs(120)),
        ..ExecutionOptions::default()
    };
    let mut console = Console::new(
        state,
        engine.clone(),
        options,
        drover::engine::ExecutionContext::local(),
        questions,
    );
    console.show_engine_inventory();
    let looped = Looped::start(console, Rect::new(0, 0, 160, 48));
    let out = looped.out.clone();
    // Select everything (cursor on the source row) and start the printers.
    looped.text(" ");
    // Every node follows one feed file (no process per line: a thousand shells
    // forking `sleep` would measure the machine, not the console).
    let feed = tempfile::NamedTempFile::new().unwrap();
    let feed_path = feed.path().display().to_string();
    looped.text(&format!(":run exec tail -n0 -f {feed_path}"));
    looped.key(KeyCode::Enter, KeyModifiers::NONE);
    looped.text("y");
    let writer = {
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(feed.path())
            .unwrap();
        tokio::spawn(async move {
            for i in 0.. {
                if writeln!(file, "tick {i}: all nodes print this line").is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_secs(4)).await;

    let before = out.bytes.load(Ordering::Relaxed);
    let window = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rate = (out.bytes.load(Ordering::Relaxed) - before) as f64 / window.elapsed().as_secs_f64();

    let latencies = looped.keys_to_screen(20, Duration::from_secs(5)).await;
    println!(
        "key to screen with {NODES} nodes printing: {} (target < 50 ms)",
        summary(latencies)
    );
    println!(
        "bytes to the terminal while streaming: {:.1} KB/s (target <= 64 KB/s)",
        rate / 1e3
    );
    if let Some(e) = engine.executions().last() {
        let printed: u64 = e.nodes.iter().map(|n| n.stdout_bytes).sum();
        let running = e
            .nodes
            .iter()
            .filter(|n| n.status == drover::engine::NodeStatus::Running)
            .count();
        println!(
            "nodes printed {:.1} MB in all; {running} nodes running",
            printed as f64 / 1e6
        );
    }

    writer.abort();
    // Cancel, let it settle, then measure idle.
    looped.key(KeyCode::Char('x'), KeyModifiers::CONTROL);
    for _ in 0..600 {
        if engine.executions().iter().all(|e| {
            !matches!(
                e.status,
                drover::engine::ExecutionStatus::Running | drover::engine::ExecutionStatus::Queued
            )
        }) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = out.bytes.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle = out.bytes.load(Ordering::Relaxed) - before;
    println!("bytes to the terminal in 3 s idle: {idle} (target 0)");
    println!("peak RSS: {} MiB", rss_kib() / 1024);
    looped.stop().await;
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("drover.db")).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    tree(&store);
    folded(&store);
    rt.block_on(streaming(&store));
}
