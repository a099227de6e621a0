//! The real console loop under the load of a real SSH fleet (plain harness; needs
//! root for the sshd fleet, like `benches/ssh.rs`):
//!
//! ```text
//! flock /tmp/drover-bench.lock cargo bench --bench console_ssh
//! DROVER_BENCH_NODES=1000 flock /tmp/drover-bench.lock cargo bench --bench console_ssh
//! ```
//!
//! `DROVER_BENCH_NODES` `sshd` processes (default 200) on loopback addresses
//! (tests/sshd), one pooled SSH connection each, watched by the console
//! (`tui::drive`, 160x48, on a byte-counting terminal whose frames are timed).
//! Three phases:
//!
//! * idle: `?` is pressed and the time from sending the key to the first write of
//!   the frame that shows the help popup is measured (key to screen);
//! * streaming: every node prints a 64-byte line every 10 ms for a minute
//!   (100 lines/s a node: 100,000 lines/s and 6.4 MB/s from 1,000 nodes), from
//!   one bash loop that sleeps in `read -t` and never forks per line;
//!   `DROVER_BENCH_LOAD=bursts` runs the older load instead (20,000 lines a node in
//!   bursts of 100, then half a second's pause; two forks a node a second);
//! * leak check: after the stream is cancelled, 100 consecutive `:run`s of one
//!   `echo` on every node through the pooled connections, each awaited through
//!   the engine, with the process's RSS after runs 1, 10, 25, 50 and 100.
//!
//! Per phase it prints key to screen (median, p95, max), frame time (from the
//! frame's first backend call to its flush: views, painting, diff and escape
//! codes), the bytes the console writes to its terminal per second (frames are
//! capped at 60 a second), the lines/s and KB/s the fleet delivered into the
//! engine (its per-node byte counters), where the machine's CPU went (this
//! process, the fleet's sshd and shells, the rest), forks per second, and this
//! process's RSS (VmRSS, and VmHWM as the peak; the sshds are other processes).
//! `DROVER_BENCH_SECONDS` shortens the streaming minute for a trial run;
//! `DROVER_BENCH_LEAK=0` leaves out the leak check (with 1,000 nodes it takes
//! about ten minutes: a run of `echo` is a fork and exec on every node).
//!
//! The fleet shares this machine's cores with the console, where a real fleet
//! would bring its own: so it runs in the background (`support/background.rs`:
//! one cpu cgroup that weighs as one process, else nice 19), so the console
//! is not crowded out by a thousand shells. At equal priority a few hundred
//! runnable shells and sshds on two cores leave the console a sliver each
//! (a fair share per task) and what is measured is the scheduler. Whatever the
//! machine cannot deliver of the asked rate shows as a lower fleet output.
//!
//! Targets, with 1,000 nodes: key to screen p95 < 50 ms, frame time < 4 ms,
//! RSS < 400 MB after a minute of streaming, no RSS growth beyond noise from run
//! 10 to run 100. The benchmark reports; it asserts only that keys are shown at
//! all and that every run finishes.

#[path = "support/background.rs"]
mod background;
#[path = "support/fleet_cpu.rs"]
mod fleet_cpu;
#[path = "support/frame_clock.rs"]
mod frame_clock;
#[path = "support/key_to_screen.rs"]
mod key_to_screen;
#[path = "../tests/prereq/mod.rs"]
mod prereq;
#[path = "support/resources.rs"]
mod resources;
#[path = "support/ssh_engine.rs"]
mod ssh_engine;
#[path = "../tests/sshd/mod.rs"]
mod sshd;

use crossterm::event::{KeyCode, KeyModifiers};
use drover::app::tui::console::Console;
use drover::app::tui::interaction::ConsoleInteraction;
use drover::app::tui::keymap::Keymap;
use drover::app::tui::state::{AppState, UiOptions};
use drover::engine::report::event::EngineEvent;
use drover::engine::{
    Engine, EngineConfig, ExecutionContext, ExecutionId, ExecutionOptions, ExecutionStatus,
    NodeStatus,
};
use drover::store::Store;
use fleet_cpu::CpuSample;
use key_to_screen::Looped;
use ratatui::layout::Rect;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::RecvError;

/// A key not shown within this ends that phase's key measurement.
const LIMIT: Duration = Duration::from_secs(10);
/// Every streamed line is this long (the host name padded), so bytes say lines.
const LINE_BYTES: u64 = 64;
/// A 64-byte line every 10 ms, paced by the clock (`EPOCHREALTIME`), so a slow
/// line does not slow the rate; a node more than 100 ms behind starts afresh
/// rather than bursting. `read -t` on a pipe this shell also holds open (the
/// `<(:)` writer is gone at once, so nothing is ever written) is the sleep: no
/// fork per line, one `hostname` at the start.
const STREAM: &str = "exec 3<> <(:); h=$(hostname); i=0; next=${EPOCHREALTIME/./}; \
    while :; do i=$((i+1)); printf '%-10s %10d %41s\\n' \"$h\" $i streaming; \
    next=$((next+10000)); now=${EPOCHREALTIME/./}; d=$((next-now)); \
    if [ $d -gt 0 ]; then printf -v t '0.%06d' $d; read -t $t -u 3; \
    elif [ $d -lt -100000 ]; then next=$now; fi; done";
/// The older load: twenty thousand lines per node, in bursts of a hundred.
const BURSTS: &str = "h=$(hostname); i=0; while [ $i -lt 20000 ]; do i=$((i+1)); \
    echo \"line $i of the stream from $h\"; case $i in *00) sleep 0.5;; esac; done";
/// Connecting the whole fleet at once may take this long.
const CONNECT_LIMIT: Duration = Duration::from_secs(120);
/// What each run of the leak check does.
const ECHO: &str = "echo leak check on $HOSTNAME";
const LEAK_RUNS: usize = 100;
/// RSS is printed after these runs.
const LEAK_MARKS: [usize; 5] = [1, 10, 25, 50, 100];
/// The engine forgets a finished run this long after it ended (the executor's
/// `FORGET_AFTER`, 60 s), keeping the newest `keep_finished` (8).
const ENGINE_FORGETS: Duration = Duration::from_secs(61);
/// Runs after the engine has forgotten the leak check's runs.
const AFTER_FORGETTING: usize = 10;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name}={v} is not a number"))
        })
        .unwrap_or(default)
}

/// The fleet's ssh_config with a longer ConnectTimeout in front (the first
/// value obtained wins): a thousand handshakes at once against a fleet held to
/// one core take longer than the harness's 10 s.
fn patient_config(fleet: &sshd::Fleet, dir: &Path) -> PathBuf {
    let path = dir.join("ssh_config");
    let fleet_config = std::fs::read_to_string(fleet.ssh_config()).expect("fleet ssh_config");
    std::fs::write(
        &path,
        format!(
            "Host *\n  ConnectTimeout {}\n\n{fleet_config}",
            CONNECT_LIMIT.as_secs()
        ),
    )
    .expect("write ssh_config");
    path
}

fn engine(ssh_config: &Path, aliases: &[String], store: &Store) -> Engine {
    let (inventory, transports) = ssh_engine::ssh_parts(ssh_config, Some(aliases));
    // Every node streams until cancelled: all of them run at once (the
    // default admits 512).
    let config = EngineConfig {
        max_concurrency: aliases.len().max(EngineConfig::default().max_concurrency),
        ..EngineConfig::default()
    };
    Engine::new(config, inventory, transports, Some(store.writer())).with_store(store.clone())
}

/// Nodes of the newest execution in `status`.
fn nodes_in(engine: &Engine, status: NodeStatus) -> usize {
    engine
        .executions()
        .last()
        .map_or(0, |e| e.nodes.iter().filter(|n| n.status == status).count())
}

/// Bytes the newest execution's nodes have printed so far.
fn printed(engine: &Engine) -> u64 {
    engine
        .executions()
        .last()
        .map_or(0, |e| e.nodes.iter().map(|n| n.stdout_bytes).sum())
}

/// Counters read at the start and at the end of a measured window.
struct Mark {
    at: Instant,
    printed: u64,
    terminal_bytes: u64,
    frames: usize,
    forks: u64,
    cpu: CpuSample,
}

struct Bench {
    engine: Engine,
    looped: Looped,
    nodes: usize,
    fleet: Vec<i32>,
}

impl Bench {
    fn mark(&self) -> Mark {
        Mark {
            at: Instant::now(),
            printed: printed(&self.engine),
            terminal_bytes: self.looped.out.bytes.load(Ordering::Relaxed),
            frames: self.looped.frames.count(),
            forks: resources::forks(),
            cpu: CpuSample::take(&self.fleet),
        }
    }

    /// Frame times, terminal bytes, fleet output, CPU and forks since `start`.
    fn report(&self, phase: &str, start: &Mark, fleet_output: bool) {
        let end = self.mark();
        let secs = (end.at - start.at).as_secs_f64();
        let frames = self.looped.frames.since(start.frames);
        let count = frames.len();
        println!("  frame time, {phase}: {}", frame_clock::summary(frames));
        let written = (end.terminal_bytes - start.terminal_bytes) as f64;
        println!(
            "  terminal, {phase}: {:.1} KB/s, {:.1} frames/s, {:.1} KB a frame \
             (frames capped at 60/s)",
            written / secs / 1e3,
            count as f64 / secs,
            if count == 0 {
                0.0
            } else {
                written / count as f64 / 1e3
            },
        );
        if fleet_output {
            let bytes = (end.printed - start.printed) as f64;
            println!(
                "  fleet output, {phase}: {:.0} lines/s, {:.0} KB/s over {secs:.0} s \
                 (asked: {} lines/s)",
                bytes / LINE_BYTES as f64 / secs,
                bytes / secs / 1e3,
                self.nodes * 100,
            );
        }
        println!(
            "  machine, {phase}: {}; {:.0} forks/s",
            end.cpu.since(&start.cpu),
            (end.forks - start.forks) as f64 / secs
        );
        println!("  memory, {phase}: {}", resources::memory());
    }

    /// How many nodes of the newest run are in each state, and why the first
    /// that failed did.
    fn statuses(&self) {
        let Some(run) = self.engine.executions().pop() else {
            return;
        };
        let mut counts: Vec<(NodeStatus, usize)> = Vec::new();
        for n in &run.nodes {
            match counts.iter_mut().find(|(s, _)| *s == n.status) {
                Some((_, c)) => *c += 1,
                None => counts.push((n.status, 1)),
            }
        }
        let first_error = run.nodes.iter().find_map(|n| n.error.as_ref());
        println!(
            "  nodes at the end of the window: {counts:?}{}",
            first_error.map_or(String::new(), |e| format!(
                "; first error: {} {}",
                e.node, e.reason
            ))
        );
    }

    /// Presses `?` `count` times and prints key to screen.
    async fn keys(&self, phase: &str, count: usize) {
        let (latencies, missed) = self.looped.keys_shown(count, LIMIT).await;
        println!(
            "  key to screen, {phase}: {} (target p95 < 50 ms){}",
            key_to_screen::summary(latencies),
            missed.map_or(String::new(), |m| format!("; keys missed: {m}"))
        );
    }

    /// Sends `:run command` and its confirmation; the id of the execution it
    /// started, from the engine's events (the previous run has ended).
    async fn run(&self, command: &str) -> ExecutionId {
        let mut events = self.engine.subscribe();
        self.looped.text(&format!(":run {command}"));
        self.looped.key(KeyCode::Enter, KeyModifiers::NONE);
        self.looped.text("y");
        let queued = async {
            loop {
                match events.recv().await {
                    Ok(EngineEvent::ExecutionQueued { execution, .. }) => return execution,
                    Ok(_) => {}
                    // Fell behind: the one execution that has not ended.
                    Err(RecvError::Lagged(_)) => {
                        if let Some(e) = self.engine.executions().into_iter().find(|e| {
                            matches!(e.status, ExecutionStatus::Running | ExecutionStatus::Queued)
                        }) {
                            return e.id;
                        }
                    }
                    Err(RecvError::Closed) => panic!("the engine's events ended"),
                }
            }
        };
        tokio::time::timeout(LIMIT, queued)
            .await
            .unwrap_or_else(|_| panic!("`:run {command}` started nothing within {LIMIT:?}"))
    }

    /// Runs `command` on every node and waits for it through the engine; how long
    /// it took.
    async fn echo(&self, k: usize, command: &str) -> Duration {
        let sent = Instant::now();
        let id = self.run(command).await;
        let result = tokio::time::timeout(CONNECT_LIMIT * 2, self.engine.wait(&id))
            .await
            .unwrap_or_else(|_| panic!("run {k} did not finish within {:?}", CONNECT_LIMIT * 2))
            .expect("run result");
        let failed: Vec<_> = result
            .nodes
            .iter()
            .filter(|n| n.status != NodeStatus::Success)
            .collect();
        if let Some(first) = failed.first() {
            println!(
                "  run {k}: {:?}, {} nodes failed, the first: {} {:?}",
                result.status,
                failed.len(),
                first.node,
                first.error.as_ref().map(|e| &e.reason)
            );
        }
        sent.elapsed()
    }

    /// `RSS 212 MiB (peak 230 MiB), the engine holds 100 runs`
    fn held(&self) -> String {
        format!(
            "{}, the engine holds {} runs",
            resources::memory(),
            self.engine.executions().len()
        )
    }

    async fn idle(&self) {
        println!("idle:");
        let start = self.mark();
        self.keys("idle", 20).await;
        self.report("idle", &start, false);
        let quiet = self.looped.out.bytes.load(Ordering::Relaxed);
        tokio::time::sleep(Duration::from_secs(2)).await;
        println!(
            "  terminal, idle without keys: {} bytes in 2 s",
            self.looped.out.bytes.load(Ordering::Relaxed) - quiet
        );
    }

    async fn streaming(&self, load: &str, window: Duration) {
        println!("streaming ({load}):");
        // Select everything (the cursor starts on the source row), then connect
        // the whole fleet first (one pooled connection a node), so that the
        // stream starts on connections and not in a storm of handshakes.
        self.looped.text(" ");
        let connecting = Instant::now();
        let took = self.echo(0, "true").await;
        println!(
            "  {} nodes connected (`:run true`) in {:.1} s; {}",
            self.nodes,
            took.as_secs_f64(),
            resources::memory()
        );
        let started = Instant::now();
        let id = self
            .run(if load == "bursts" { BURSTS } else { STREAM })
            .await;
        while nodes_in(&self.engine, NodeStatus::Running) < self.nodes {
            if started.elapsed() > Duration::from_secs(300) {
                panic!(
                    "only {} of {} nodes running after 300 s",
                    nodes_in(&self.engine, NodeStatus::Running),
                    self.nodes
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        println!(
            "  {} SSH sessions running after {:.1} s ({:.1} s with connecting)",
            self.nodes,
            started.elapsed().as_secs_f64(),
            connecting.elapsed().as_secs_f64()
        );
        tokio::time::sleep(Duration::from_secs(3)).await;
        let start = self.mark();
        self.keys("streaming", 50).await;
        tokio::time::sleep_until((start.at + window).into()).await;
        self.statuses();
        self.report("streaming", &start, true);

        let cancelled = Instant::now();
        // Any popup left open would take the key.
        self.looped.key(KeyCode::Esc, KeyModifiers::NONE);
        self.looped.key(KeyCode::Char('x'), KeyModifiers::CONTROL);
        let by_key = tokio::time::timeout(Duration::from_secs(60), self.engine.wait(&id)).await;
        let how = if by_key.is_ok() {
            "ctrl-x"
        } else {
            // The console did not get to the key: the engine is told directly.
            self.engine.cancel(&id).expect("cancel");
            tokio::time::timeout(Duration::from_secs(120), self.engine.wait(&id))
                .await
                .expect("the stream ends within 120 s of Engine::cancel")
                .expect("run result");
            "Engine::cancel, ctrl-x had not ended it within 60 s"
        };
        println!(
            "  cancelled by {how}, ended after {:.1} s",
            cancelled.elapsed().as_secs_f64()
        );
    }

    async fn leak_check(&self) {
        println!(
            "leak check ({LEAK_RUNS} runs of `{ECHO}` on {} nodes):",
            self.nodes
        );
        let start = self.mark();
        let mut at_ten = 0;
        let mut times: Vec<Duration> = Vec::new();
        for k in 1..=LEAK_RUNS {
            times.push(self.echo(k, ECHO).await);
            if LEAK_MARKS.contains(&k) {
                if k == 10 {
                    at_ten = resources::status_kib("VmRSS");
                }
                println!("  after run {k:>3}: {}", self.held());
            }
        }
        let growth = resources::status_kib("VmRSS") as i64 - at_ten as i64;
        times.sort();
        println!(
            "  RSS growth from run 10 to run {LEAK_RUNS}: {growth:+} KiB ({:+.1} KiB a run); \
             a run takes {:.2} s (median), {:.2} s at most",
            growth as f64 / (LEAK_RUNS - 10) as f64,
            times[times.len() / 2].as_secs_f64(),
            times[times.len() - 1].as_secs_f64(),
        );
        self.report("leak check", &start, false);
        // The engine keeps every run for FORGET_AFTER (60 s) after it ends: what
        // grew above may be those. Once they are forgotten, more runs should
        // reuse their memory rather than grow.
        tokio::time::sleep(ENGINE_FORGETS).await;
        for k in LEAK_RUNS + 1..=LEAK_RUNS + AFTER_FORGETTING {
            self.echo(k, ECHO).await;
        }
        let after = resources::status_kib("VmRSS") as i64;
        println!(
            "  {} s later, after run {}: {} ({:+} KiB since run {LEAK_RUNS})",
            ENGINE_FORGETS.as_secs(),
            LEAK_RUNS + AFTER_FORGETTING,
            self.held(),
            after - (growth + at_ten as i64),
        );
    }
}

async fn measure(engine: Engine, nodes: usize, fleet: Vec<i32>) {
    let (_interaction, questions) = ConsoleInteraction::new();
    let size = Rect::new(0, 0, 160, 48);
    let state = AppState::new(
        Arc::new(Keymap::defaults()),
        UiOptions::default(),
        size,
        "bench".into(),
    );
    let options = ExecutionOptions {
        fanout: nodes,
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
    let bench = Bench {
        engine,
        looped: Looped::start(console, size),
        nodes,
        fleet,
    };
    let load = std::env::var("DROVER_BENCH_LOAD").unwrap_or_else(|_| "stream".into());
    let window = Duration::from_secs(env_or("DROVER_BENCH_SECONDS", 60));
    bench.idle().await;
    bench.streaming(&load, window).await;
    if env_or("DROVER_BENCH_LEAK", 1) != 0 {
        bench.leak_check().await;
    }
    bench.looped.stop().await;
}

fn main() {
    let nodes = env_or("DROVER_BENCH_NODES", 200);
    // Before the fleet: dropped after it.
    let background = background::Background::new();
    let fleet = sshd::Fleet::start(nodes);
    println!(
        "{nodes} sshd started in {:.1} s; {} before connecting",
        fleet.startup_time().as_secs_f64(),
        resources::memory()
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
        engine(
            &patient_config(&fleet, dir.path()),
            &fleet.aliases(),
            &store,
        )
    };
    let pids: Vec<i32> = fleet
        .nodes()
        .iter()
        .filter_map(|n| n.pid)
        .map(|p| p as i32)
        .collect();
    println!(
        "the fleet runs in the background: {}",
        background.take(&pids)
    );
    rt.block_on(measure(engine, nodes, pids));
}
