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

#[path = "../tests/prereq/mod.rs"]
mod prereq;
#[path = "../tests/sshd/mod.rs"]
mod sshd;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
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
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const NODES: usize = 200;
const SAMPLES: usize = 50;
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

/// Counts bytes written to the "terminal" and notes when the help popup's
/// title is first written.
#[derive(Clone, Default)]
struct Counting {
    bytes: Arc<AtomicU64>,
    /// Frames drawn: ratatui flushes once per frame.
    frames: Arc<AtomicU64>,
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
        self.frames.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

fn key(c: KeyCode) -> std::io::Result<Event> {
    Ok(Event::Key(KeyEvent::new(c, KeyModifiers::NONE)))
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
    let out = Counting::default();
    let mut terminal = Terminal::new(CrosstermBackend::new(out.clone())).unwrap();
    terminal.resize(size).unwrap();
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
    let idle = keys_to_screen(&tx, &out, 10).await;
    println!("key to screen, idle: {}", summary(idle));
    // Select everything (the cursor starts on the source row), run, confirm.
    send_text(" ");
    send_text(&format!(":run {STREAM}"));
    tx.send(key(KeyCode::Enter)).unwrap();
    tx.send(key(KeyCode::Char('y'))).unwrap();
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

    let latencies = keys_to_screen(&tx, &out, SAMPLES).await;
    let rate = (printed(&engine) - bytes_before) as f64 / window.elapsed().as_secs_f64();
    let running = nodes_in(&engine, NodeStatus::Running);
    println!(
        "key to screen, {running} of {NODES} SSH nodes streaming ({:.0} KB/s of output): {} \
         (target p95 < 50 ms)",
        rate / 1e3,
        summary(latencies)
    );

    tx.send(Ok(Event::Key(KeyEvent::new(
        KeyCode::Char('x'),
        KeyModifiers::CONTROL,
    ))))
    .unwrap();
    let ending = Instant::now();
    while engine
        .executions()
        .iter()
        .any(|e| matches!(e.status, ExecutionStatus::Running | ExecutionStatus::Queued))
        && ending.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop_tx.send(());
    let _ = looped.await;
}

type Input = tokio::sync::mpsc::UnboundedSender<std::io::Result<Event>>;

/// Presses `?` `count` times: from sending it to the first write of the help
/// popup's title; then `esc`, and the popup is seen gone.
async fn keys_to_screen(tx: &Input, out: &Counting, count: usize) -> Vec<Duration> {
    let mut latencies = Vec::new();
    for _ in 0..count {
        *out.seen.lock().unwrap() = None;
        let sent = Instant::now();
        let before = out.bytes.load(Ordering::Relaxed);
        tx.send(key(KeyCode::Char('?'))).unwrap();
        loop {
            tokio::time::sleep(Duration::from_millis(1)).await;
            if let Some(t) = *out.seen.lock().unwrap() {
                latencies.push(t - sent);
                break;
            }
            assert!(
                sent.elapsed() < Duration::from_secs(30),
                "a key was not shown within 30 s ({} bytes written to the terminal since)",
                out.bytes.load(Ordering::Relaxed) - before
            );
        }
        // The popup must be off the screen before the next `?`, or that one
        // draws nothing new: the second frame after `esc` shows it closed (the
        // first may have begun before `esc` was read). Idle, only one comes.
        let closing = out.frames.load(Ordering::Relaxed);
        tx.send(key(KeyCode::Esc)).unwrap();
        let since = Instant::now();
        while out.frames.load(Ordering::Relaxed) < closing + 2
            && since.elapsed() < Duration::from_secs(1)
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    latencies
}

/// `median 3.1 ms, p95 9.0 ms, max 12.4 ms over 50 keys`
fn summary(mut latencies: Vec<Duration>) -> String {
    latencies.sort();
    let p = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
    format!(
        "median {:.1} ms, p95 {:.1} ms, max {:.1} ms over {} keys",
        p(0.5),
        p(0.95),
        p(1.0),
        latencies.len()
    )
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
