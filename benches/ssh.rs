//! SSH fan-out benchmarks against a real sshd fleet started here on loopback
//! (plain harness: `cargo bench --bench ssh`; needs root for the fleet).
//!
//! Targets: cold 50 nodes ≤ 0.8 s, cold 200 nodes ≤ 3.2 s,
//! a warm run on pooled connections ≥ 5× faster than cold, 50 nodes through one
//! bastion ≤ 1.2× direct, and 50 nodes each printing 27 MB with drover's peak RSS
//! ≤ 64 MB.

#[path = "../tests/prereq/mod.rs"]
mod prereq;
#[path = "support/ssh_engine.rs"]
mod ssh_engine;
#[path = "../tests/sshd/mod.rs"]
mod sshd;

use drover::engine::{Engine, EngineConfig, ExecutionOptions, ExecutionStatus, Submission};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 3;

fn engine(ssh_config: &Path) -> Engine {
    let (inventory, transports) = ssh_engine::ssh_parts(ssh_config, None);
    Engine::new(EngineConfig::default(), inventory, transports, None)
}

async fn run(engine: &Engine, targets: &[String]) -> Duration {
    let start = Instant::now();
    let submission = Submission::command("true", targets.join(",")).options(ExecutionOptions {
        fanout: 256,
        ..ExecutionOptions::default()
    });
    let id = engine.submit(submission).await.expect("submit").id;
    let result = engine.wait(&id).await.expect("run");
    let took = start.elapsed();
    if result.status != ExecutionStatus::Success {
        let bad: Vec<_> = result
            .nodes
            .iter()
            .filter_map(|n| n.error.as_ref())
            .take(3)
            .collect();
        panic!("run failed: {:?}: {bad:?}", result.status);
    }
    took
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Cold: a new engine (empty pool) per run, as `drover --batch run` is.
fn cold(rt: &tokio::runtime::Runtime, cfg: &Path, targets: &[String]) -> Duration {
    median(
        (0..RUNS)
            .map(|_| {
                let e = engine(cfg);
                let d = rt.block_on(run(&e, targets));
                rt.block_on(e.shutdown()).ok();
                d
            })
            .collect(),
    )
}

/// Peak RSS of the drover binary running `command` on `targets`, output to /dev/null.
fn big_output(cfg: &Path, targets: &[String], command: &str) -> (Duration, u64) {
    let bin = env!("CARGO_BIN_EXE_drover");
    let state = tempfile::tempdir().expect("tempdir");
    let start = Instant::now();
    let mut child = Command::new(bin)
        .args(["--batch", "--state-dir"])
        .arg(state.path())
        .arg("-F")
        .arg(cfg)
        .args([
            "run",
            "--fanout",
            "64",
            "-t",
            &targets.join(","),
            "--",
            command,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("drover");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0u64;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(line) = text.lines().find(|l| l.starts_with("VmHWM:"))
        {
            let kb = line
                .split_whitespace()
                .nth(1)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            peak_kb = peak_kb.max(kb);
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (start.elapsed(), peak_kb / 1024)
}

fn main() {
    if !nix::unistd::Uid::effective().is_root() {
        println!("ssh bench: SKIPPED (needs root to start the sshd fleet)");
        return;
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let fleet = sshd::Fleet::start(200);
    let cfg = fleet.ssh_config();
    let all = fleet.aliases();
    let fifty = &all[..50];

    let cold50 = cold(&rt, &cfg, fifty);
    println!(
        "ssh cold 50 nodes `true`: {:.0} ms (target <= 800 ms)",
        ms(cold50)
    );
    let cold200 = cold(&rt, &cfg, &all);
    println!(
        "ssh cold 200 nodes `true`: {:.0} ms (target <= 3200 ms)",
        ms(cold200)
    );

    let warm_engine = engine(&cfg);
    rt.block_on(run(&warm_engine, fifty));
    let warm = median(
        (0..RUNS)
            .map(|_| rt.block_on(run(&warm_engine, fifty)))
            .collect(),
    );
    println!(
        "ssh warm 50 nodes `true` on pooled connections: {:.0} ms, {:.1}x faster than cold (target >= 5x)",
        ms(warm),
        cold50.as_secs_f64() / warm.as_secs_f64()
    );
    rt.block_on(warm_engine.shutdown()).ok();

    let (wall, peak) = big_output(&cfg, fifty, "head -c 20000000 /dev/zero | base64");
    println!(
        "ssh 50 nodes each printing 27 MB, lines mode to /dev/null: {:.1} s, drover peak RSS {peak} MB (target <= 64 MB)",
        wall.as_secs_f64()
    );
    drop(fleet);

    if let Some(jump) = sshd::JumpFleet::or_skip(50) {
        let cold_jump = cold(&rt, &jump.ssh_config(), &jump.aliases());
        println!(
            "ssh cold 50 nodes through one bastion: {:.0} ms, {:.2}x direct (target <= 1.2x)",
            ms(cold_jump),
            cold_jump.as_secs_f64() / cold50.as_secs_f64()
        );
    }
}
