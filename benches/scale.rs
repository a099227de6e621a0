//! drover beside its peers at scale, on real `sshd` started here on loopback
//! (plain harness; `scripts/bench/scale.sh [SECTION]` installs the peers, raises
//! the file-descriptor limit and runs `cargo bench --bench scale -- SECTION`).
//! Every figure is a median of `DROVER_BENCH_RUNS` (default 3) runs, the tools
//! alternating within a round, so a ratio compares the same machine state.
//!
//! * `bigout`: 50 nodes each printing 27 MB (`head -c 20000000 /dev/zero |
//!   base64`, 1.35 GB in all). drover in every output mode (lines to
//!   /dev/null, lines to a file, `-o grouped`, `-o json`, `--debug`) against
//!   `xargs -P64 ssh` writing to the same sink. Targets: drover/xargs ≤ 0.8,
//!   drover peak RSS ≤ 64 MB.
//! * `fleet`: `DROVER_BENCH_NODES` (default 1,000) nodes. Cold `true` with
//!   drover, pdsh, parallel-ssh, clush and `xargs -P64 ssh`, and the floor the
//!   servers set: the CPU the sshds spend (their cgroup's `cpuacct.usage`)
//!   divided by the cores. Targets: drover ≤ 1.1× that floor, drover peak RSS
//!   < 200 MB. Then a warm re-run through one engine's connection pool,
//!   `uname -srvmo` folded into one block (drover `-o grouped`, `clush -b`,
//!   `pdsh | dshbak -c`; `uname -a` would differ per node, whose host names are
//!   their aliases), and one node in ten down.
//!
//! Each drover run is the release binary (`drover --batch run --fanout 64`)
//! with a fresh state dir, as a cron job would start it; `DROVER_BENCH_BIN`
//! names another build to measure instead (before and after a change).

#[path = "support/measured.rs"]
mod measured;
#[path = "support/peers.rs"]
mod peers;
#[path = "../tests/prereq/mod.rs"]
mod prereq;
#[path = "support/ssh_engine.rs"]
mod ssh_engine;
#[path = "../tests/sshd/mod.rs"]
mod sshd;

use drover::engine::{Engine, EngineConfig, ExecutionOptions, ExecutionStatus, Submission};
use measured::{CpuAccount, Measured, median, ms};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIG: &str = "head -c 20000000 /dev/zero | base64";

fn runs() -> usize {
    env_number("DROVER_BENCH_RUNS", 3)
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The fleet and the files every tool reads.
struct Bench {
    fleet: sshd::Fleet,
    work: tempfile::TempDir,
}

impl Bench {
    fn start(nodes: usize) -> Bench {
        let fleet = sshd::Fleet::start(nodes);
        println!(
            "{nodes} sshd started in {:.1} s",
            fleet.startup_time().as_secs_f64()
        );
        let work = tempfile::tempdir().expect("tempdir");
        let bench = Bench { fleet, work };
        let hosts: String = bench.aliases().iter().map(|a| format!("{a}\n")).collect();
        std::fs::write(bench.hosts_file(), hosts).expect("hosts");
        let addrs: String = bench
            .fleet
            .nodes()
            .iter()
            .map(|n| format!("{}\n", n.address))
            .collect();
        std::fs::write(bench.addresses_file(), addrs).expect("addresses");
        bench.peers().write_clush_conf();
        bench
    }

    fn aliases(&self) -> Vec<String> {
        self.fleet.aliases()
    }
    fn hosts_file(&self) -> PathBuf {
        self.work.path().join("hosts")
    }
    fn addresses_file(&self) -> PathBuf {
        self.work.path().join("addresses")
    }

    fn peers(&self) -> peers::Fleet<'static> {
        // Leaked paths: the fleet outlives every command built from them.
        let leak = |p: PathBuf| -> &'static Path { Box::leak(p.into_boxed_path()) };
        peers::Fleet {
            ssh_config: leak(self.fleet.ssh_config()),
            hosts_file: leak(self.hosts_file()),
            addresses_file: leak(self.addresses_file()),
            port: self.fleet.port(),
            client_key: leak(self.fleet.client_key()),
            clush_dir: leak(self.work.path().join("clustershell")),
        }
    }

    /// `drover --batch run` on every node, `extra` flags before `--`.
    fn drover(&self, command: &str, extra: &[&str]) -> (Command, tempfile::TempDir) {
        let state = tempfile::tempdir().expect("state dir");
        let mut c = Command::new(drover_binary());
        c.args(["--batch", "--state-dir"])
            .arg(state.path())
            .arg("-F")
            .arg(self.fleet.ssh_config())
            .args(["run", "--fanout", &peers::FANOUT.to_string(), "-t"])
            .arg(format!("^{}", self.hosts_file().display()))
            .args(extra)
            .arg("--")
            .arg(command);
        (c, state)
    }
}

/// The drover measured: this build's, or `$DROVER_BENCH_BIN` (an older build, to
/// compare before and after a change on the same fleet).
fn drover_binary() -> PathBuf {
    std::env::var_os("DROVER_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_drover")))
}

/// Where a tool's stdout goes.
#[derive(Clone, Copy)]
enum Sink {
    Null,
    File,
}

fn sink(c: &mut Command, sink: Sink, dir: &Path, name: &str) -> Option<PathBuf> {
    c.stderr(Stdio::null());
    match sink {
        Sink::Null => {
            c.stdout(Stdio::null());
            None
        }
        Sink::File => {
            let path = dir.join(name);
            c.stdout(std::fs::File::create(&path).expect("sink file"));
            Some(path)
        }
    }
}

/// Rows of one section: tool -> measurements.
#[derive(Default)]
struct Table {
    rows: BTreeMap<String, Vec<Measured>>,
    order: Vec<String>,
}

impl Table {
    fn add(&mut self, tool: &str, m: Measured) {
        if !self.rows.contains_key(tool) {
            self.order.push(tool.to_string());
        }
        self.rows.entry(tool.to_string()).or_default().push(m);
    }
    fn wall(&self, tool: &str) -> Option<Duration> {
        self.rows
            .get(tool)
            .map(|m| median(m.iter().map(|m| m.wall).collect()))
    }
    fn print(&self, title: &str, baseline: &str) {
        println!("{title}");
        let base = self.wall(baseline);
        for tool in &self.order {
            let m = &self.rows[tool];
            let wall = self.wall(tool).unwrap();
            let cpu = median(m.iter().map(|m| m.cpu).collect());
            let rss = m.iter().map(|m| m.peak_rss_mib).max().unwrap_or(0);
            let failed = m.iter().filter(|m| !m.status.success()).count();
            let ratio = base
                .filter(|_| tool != baseline)
                .map_or(String::new(), |b| {
                    format!(
                        "  {tool}/{baseline} = {:.2}",
                        wall.as_secs_f64() / b.as_secs_f64()
                    )
                });
            let rss = if tool.starts_with("drover") {
                format!("  peak RSS {rss} MiB")
            } else {
                String::new()
            };
            let failed = if failed > 0 {
                format!("  ({failed} of {} runs exited non-zero)", m.len())
            } else {
                String::new()
            };
            println!(
                "  {tool:<22} {:>8.0} ms  CPU {:>7.0} ms{ratio}{rss}{failed}",
                ms(wall),
                ms(cpu)
            );
        }
    }
}

fn bigout() {
    let bench = Bench::start(50);
    let peers = bench.peers();
    let out = tempfile::tempdir().expect("sink dir");
    let modes: [(&str, &[&str], Sink); 5] = [
        ("lines > /dev/null", &[], Sink::Null),
        ("lines > file", &[], Sink::File),
        ("-o grouped", &["-o", "grouped"], Sink::Null),
        ("-o json", &["-o", "json"], Sink::Null),
        ("--debug", &["--debug"], Sink::Null),
    ];
    println!("50 nodes each printing 27 MB ({BIG}), {} runs:", runs());
    for (label, flags, to) in modes {
        let mut table = Table::default();
        for _ in 0..runs() {
            let (mut c, _state) = bench.drover(BIG, flags);
            let file = sink(&mut c, to, out.path(), "drover.out");
            let m = measured::run(&mut c);
            if let Some(f) = file {
                check_file_size(&f, 50);
            }
            table.add("drover", m);
            let mut x = peers::xargs_ssh(&peers, BIG);
            let file = sink(&mut x, to, out.path(), "xargs.out");
            table.add("xargs -P64 ssh", measured::run(&mut x));
            if let Some(f) = file {
                check_file_size(&f, 50);
            }
        }
        table.print(
            &format!("drover {label} (target drover/xargs ≤ 0.8, RSS ≤ 64 MB)"),
            "xargs -P64 ssh",
        );
    }
}

/// Every node's 27 MB arrived: the file holds at least 50 × 27,017,546 bytes.
fn check_file_size(path: &Path, nodes: u64) {
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    assert!(
        len >= nodes * 27_017_546,
        "{}: {len} bytes, fewer than {nodes} nodes' output",
        path.display()
    );
}

fn fleet() {
    let nodes = env_number("DROVER_BENCH_NODES", 1000);
    let mut bench = Bench::start(nodes);
    let account = CpuAccount::of(&bench.fleet.pids());
    if account.is_none() {
        println!("  (no cpuacct cgroup here: the servers' floor is left out)");
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let peers = bench.peers();

    // Cold `true`.
    let mut table = Table::default();
    let mut floors = Vec::new();
    for _ in 0..runs() {
        let before = account.as_ref().map(|a| a.usage());
        let (mut c, _state) = bench.drover("true", &[]);
        sink(&mut c, Sink::Null, bench.work.path(), "");
        let m = measured::run(&mut c);
        assert!(
            m.status.success(),
            "drover cold true failed: {:?}",
            m.status
        );
        if let (Some(a), Some(b)) = (&account, before) {
            floors.push((a.usage().saturating_sub(b)) / cores as u32);
        }
        table.add("drover", m);
        let mut peer_runs: Vec<(&str, Option<Command>)> = vec![
            ("pdsh", peers::pdsh(&peers, "true")),
            ("parallel-ssh", peers::parallel_ssh(&peers, "true")),
            ("clush", peers::clush(&peers, "true", false)),
            ("xargs -P64 ssh", Some(peers::xargs_ssh(&peers, "true"))),
        ];
        for (name, c) in &mut peer_runs {
            if let Some(c) = c {
                sink(c, Sink::Null, bench.work.path(), "");
                table.add(name, measured::run(c));
            }
        }
    }
    table.print(
        &format!("cold `true` on {nodes} nodes, fan-out 64 (drover peak RSS target < 200 MB):"),
        "drover",
    );
    if !floors.is_empty() {
        let floor = median(floors);
        let drover = table.wall("drover").unwrap();
        println!(
            "  servers' floor: sshd CPU / {cores} cores = {:.0} ms; drover/floor = {:.2} (target ≤ 1.1)",
            ms(floor),
            drover.as_secs_f64() / floor.as_secs_f64()
        );
    }
    missing_peers(&peers);

    warm(&bench, nodes);

    // `uname` folded into one block.
    let mut table = Table::default();
    let uname = "uname -srvmo";
    for _ in 0..runs() {
        let (mut c, _state) = bench.drover(uname, &["-o", "grouped"]);
        let file = sink(&mut c, Sink::File, bench.work.path(), "grouped.out");
        table.add("drover -o grouped", measured::run(&mut c));
        let text = std::fs::read_to_string(file.unwrap()).unwrap_or_default();
        assert_eq!(
            text.matches("-----\n").count(),
            2,
            "drover -o grouped did not fold {nodes} nodes into one block:\n{}",
            text.chars().take(2000).collect::<String>()
        );
        for (name, c) in [
            ("clush -b", peers::clush(&peers, uname, true)),
            ("pdsh | dshbak -c", peers::pdsh_folded(&peers, uname)),
        ] {
            if let Some(mut c) = c {
                sink(&mut c, Sink::Null, bench.work.path(), "");
                table.add(name, measured::run(&mut c));
            }
        }
    }
    table.print(
        &format!("`{uname}` on {nodes} nodes folded into one block:"),
        "drover -o grouped",
    );

    // One node in ten down.
    let down: Vec<usize> = (0..nodes).filter(|i| i % 10 == 9).collect();
    for &i in &down {
        bench.fleet.stop_node(i);
    }
    let mut table = Table::default();
    for _ in 0..runs() {
        let (mut c, state) = bench.drover("true", &[]);
        sink(&mut c, Sink::Null, bench.work.path(), "");
        let m = measured::run(&mut c);
        assert_eq!(
            m.status.code(),
            Some(1),
            "drover with {} nodes down: {:?} (state {})",
            down.len(),
            m.status,
            state.path().display()
        );
        table.add("drover", m);
        for (name, c) in [
            ("pdsh", peers::pdsh(&peers, "true")),
            ("parallel-ssh", peers::parallel_ssh(&peers, "true")),
            ("clush", peers::clush(&peers, "true", false)),
        ] {
            if let Some(mut c) = c {
                sink(&mut c, Sink::Null, bench.work.path(), "");
                table.add(name, measured::run(&mut c));
            }
        }
    }
    table.print(
        &format!(
            "cold `true` on {nodes} nodes with {} down (refused); a tool whose runs are not \
             marked as exiting non-zero told its caller nothing failed:",
            down.len()
        ),
        "drover",
    );
}

fn missing_peers(peers: &peers::Fleet) {
    for (name, present) in [
        ("pdsh", peers::pdsh(peers, "true").is_some()),
        ("parallel-ssh", peers::parallel_ssh(peers, "true").is_some()),
        ("clush", peers::clush(peers, "true", false).is_some()),
    ] {
        if !present {
            println!("  ({name} is not installed: scripts/bench/scale.sh installs it)");
        }
    }
}

/// The same engine twice: the second run goes through the pooled connections
/// (what the console does for every run after the first).
fn warm(bench: &Bench, nodes: usize) {
    let (inventory, transports) =
        ssh_engine::ssh_parts(&bench.fleet.ssh_config(), Some(&bench.aliases()));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let engine = {
        let _guard = rt.enter();
        Engine::new(EngineConfig::default(), inventory, transports, None)
    };
    let targets = bench.aliases().join(",");
    let once = || {
        let start = Instant::now();
        let submission = Submission::command("true", targets.clone()).options(ExecutionOptions {
            fanout: peers::FANOUT,
            ..ExecutionOptions::default()
        });
        let result = rt.block_on(async {
            let id = engine.submit(submission).await.expect("submit").id;
            engine.wait(&id).await.expect("run")
        });
        assert_eq!(result.status, ExecutionStatus::Success, "warm run failed");
        start.elapsed()
    };
    let first = once();
    let warm = median((0..runs()).map(|_| once()).collect());
    println!(
        "warm `true` on {nodes} nodes through one engine's pool: {:.0} ms (first run of that engine {:.0} ms, {:.1}x)",
        ms(warm),
        ms(first),
        first.as_secs_f64() / warm.as_secs_f64()
    );
    rt.block_on(engine.shutdown()).ok();
}

fn main() {
    if !nix::unistd::Uid::effective().is_root() {
        println!("scale bench: SKIPPED (needs root to start the sshd fleet)");
        return;
    }
    // `cargo bench` passes `--bench`; the rest name sections.
    let sections: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |s: &str| sections.is_empty() || sections.iter().any(|a| a == s);
    if wanted("bigout") {
        bigout();
    }
    if wanted("fleet") {
        fleet();
    }
}
