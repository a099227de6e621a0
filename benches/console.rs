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

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
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
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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

/// Counts bytes written to the "terminal" and notes when a marker appears.
#[derive(Clone, Default)]
struct Counting {
    bytes: Arc<AtomicU64>,
    tail: Arc<Mutex<Vec<u8>>>,
    seen: Arc<Mutex<Option<Instant>>>,
}

const MARKER: &[u8] = "Help \u{b7} j/k".as_bytes();

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
        let mut tail = self.tail.lock().unwrap();
        tail.extend_from_slice(buf);
        if tail.windows(MARKER.len()).any(|w| w == MARKER) {
            self.seen.lock().unwrap().get_or_insert_with(Instant::now);
            tail.clear();
        }
        let keep = tail.len().saturating_sub(MARKER.len());
        tail.drain(..keep);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn key(c: KeyCode) -> std::io::Result<Event> {
    Ok(Event::Key(KeyEvent::new(c, KeyModifiers::NONE)))
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
    let out = Counting::default();
    let mut terminal = Terminal::new(CrosstermBackend::new(out.clone())).unwrap();
    terminal.resize(Rect::new(0, 0, 160, 48)).unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let input =
        futures_util::stream::unfold(
            rx,
            |mut rx| async move { rx.recv().await.map(|ev| (ev, rx)) },
        );
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let looped = tokio::spawn(async move {
        let quit = async {
            let _ = stop_rx.await;
        };
        drover::app::tui::drive(
            &mut terminal,
            &mut console,
            Box::pin(input),
            quit,
            |_| Ok(()),
            async |_, _| Ok(Err("no shells in the benchmark".to_string())),
        )
        .await
    });
    let send_text = |text: &str| {
        for c in text.chars() {
            tx.send(key(KeyCode::Char(c))).unwrap();
        }
    };
    // Select everything (cursor on the source row) and start the printers.
    send_text(" ");
    // Every node follows one feed file (no process per line: a thousand shells
    // forking `sleep` would measure the machine, not the console).
    let feed = tempfile::NamedTempFile::new().unwrap();
    let feed_path = feed.path().display().to_string();
    send_text(&format!(":run exec tail -n0 -f {feed_path}"));
    tx.send(key(KeyCode::Enter)).unwrap();
    tx.send(key(KeyCode::Char('y'))).unwrap();
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

    let mut latencies = Vec::new();
    for _ in 0..20 {
        *out.seen.lock().unwrap() = None;
        let sent = Instant::now();
        tx.send(key(KeyCode::Char('?'))).unwrap();
        loop {
            tokio::time::sleep(Duration::from_millis(1)).await;
            if let Some(t) = *out.seen.lock().unwrap() {
                latencies.push(t - sent);
                break;
            }
            if sent.elapsed() > Duration::from_secs(5) {
                println!("a key was not shown within 5 s");
                break;
            }
        }
        tx.send(key(KeyCode::Esc)).unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    latencies.sort();
    let p = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
    println!(
        "key to screen with {NODES} nodes printing: median {:.1} ms, p95 {:.1} ms, max {:.1} ms (target < 50 ms)",
        p(0.5),
        p(0.95),
        p(1.0)
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
    tx.send(Ok(Event::Key(KeyEvent::new(
        KeyCode::Char('x'),
        KeyModifiers::CONTROL,
    ))))
    .unwrap();
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
    let _ = stop_tx.send(());
    let _ = looped.await;
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
