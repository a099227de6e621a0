//! The store on both backends side by side (plain `main`, no harness): run with
//! `cargo bench --bench team_store`. PostgreSQL is started by the bench itself in
//! a temp dir (as the tests do, `fsync=off`); without it the bench fails.
//!
//! For SQLite (a file in a temp dir) and PostgreSQL (a database on that server):
//! - runs per second sustained by 1 and by 4 writers (4 store handles, as 4
//!   drover processes would hold them), a run being the writes of a 10-node
//!   `true` run with the engine's flushes (see `run_writes`);
//! - `Store::history` latency, p50 and p95, at `DROVER_BENCH_EXECUTIONS` runs
//!   (filled in bulk, see `fill`), with the filters of `drover history` and the
//!   console;
//! - for PostgreSQL, the reconnect bound (see `reconnect`).
//!
//! Knobs (environment): `DROVER_BENCH_EXECUTIONS` (1,000,000),
//! `DROVER_BENCH_TARGETS` nodes per filled run (3), `DROVER_BENCH_SECONDS` per
//! throughput figure (10), `DROVER_BENCH_QUERIES` samples per query (41),
//! `DROVER_BENCH_OUTAGE_SECONDS` (12), `DROVER_BENCH_HELD_RUNS` (200).

#[path = "../tests/pg_support/mod.rs"]
mod pg_support;
#[path = "../tests/prereq/mod.rs"]
mod prereq;

#[path = "team_store/fill.rs"]
mod fill;
#[path = "team_store/history.rs"]
mod history;
#[path = "team_store/reconnect.rs"]
mod reconnect;
#[path = "team_store/run_writes.rs"]
mod run_writes;
#[path = "team_store/throughput.rs"]
mod throughput;

use std::time::{Duration, Instant};

use drover::store::{Store, StoreLocation};

use pg_support::PgServer;
use run_writes::{NODES_PER_RUN, OPS_PER_RUN};

fn knob(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v}: not a number")),
        Err(_) => default,
    }
}

struct Knobs {
    executions: usize,
    targets: usize,
    measure: Duration,
    queries: usize,
    outage: Duration,
    held_runs: usize,
}

/// Every figure of one backend.
struct Figures {
    fill: Duration,
    history: Vec<(Duration, Duration)>,
    one_writer: f64,
    four_writers: f64,
}

fn main() {
    let knobs = Knobs {
        executions: knob("DROVER_BENCH_EXECUTIONS", 1_000_000),
        targets: knob("DROVER_BENCH_TARGETS", 3),
        measure: Duration::from_secs(knob("DROVER_BENCH_SECONDS", 10) as u64),
        queries: knob("DROVER_BENCH_QUERIES", 41),
        outage: Duration::from_secs(knob("DROVER_BENCH_OUTAGE_SECONDS", 12) as u64),
        held_runs: knob("DROVER_BENCH_HELD_RUNS", 200),
    };
    let Some(server) = PgServer::start() else {
        panic!("PostgreSQL is required for this benchmark (apt-get install postgresql)");
    };
    println!(
        "a run = {NODES_PER_RUN} nodes: {OPS_PER_RUN} writes (3 execution upserts, \
         {NODES_PER_RUN} results, {NODES_PER_RUN} journal entries, {} events), 2 flushes",
        OPS_PER_RUN - 3 - 2 * NODES_PER_RUN
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite_path = dir.path().join("history.db");
    let sqlite = backend(
        "sqlite",
        &StoreLocation::Sqlite(sqlite_path.clone()),
        &knobs,
        |n, t| fill::sqlite(&sqlite_path, n, t),
    );
    let pg_url = server.create_database("history");
    let postgres = backend(
        "postgres",
        &StoreLocation::parse(&pg_url).expect("url"),
        &knobs,
        |n, t| fill::postgres(&pg_url, n, t),
    );

    let small = reconnect::outage(&server, "outage_small", 10, knobs.outage);
    let large = reconnect::outage(&server, "outage_large", knobs.held_runs, knobs.outage);

    table(&knobs, &sqlite, &postgres, &[small, large]);
}

/// Fills, queries, then writes runs on one backend.
fn backend(
    name: &str,
    location: &StoreLocation,
    knobs: &Knobs,
    fill: impl FnOnce(usize, usize),
) -> Figures {
    // Creates the schema; the fill then writes straight into it.
    let store = Store::open_location(location, false).expect("open store");
    println!("{name}: load average {}", load());
    let began = Instant::now();
    fill(knobs.executions, knobs.targets);
    let filled = began.elapsed();
    println!(
        "{name}: filled {} runs x {} targets in {:.1} s",
        knobs.executions,
        knobs.targets,
        filled.as_secs_f64()
    );
    let history = history::QUERIES
        .iter()
        .map(|q| {
            let (p50, p95) = history::latency(&store, q, knobs.queries);
            println!("{name}: {}: p50 {} p95 {}", q.name, ms(p50), ms(p95));
            (p50, p95)
        })
        .collect();
    store.close().expect("close");
    let one_writer = throughput::runs_per_second(location, 1, knobs.measure);
    println!("{name}: 1 writer: {one_writer:.0} runs/s");
    let four_writers = throughput::runs_per_second(location, 4, knobs.measure);
    println!("{name}: 4 writers: {four_writers:.0} runs/s");
    println!("{name}: load average {}", load());
    Figures {
        fill: filled,
        history,
        one_writer,
        four_writers,
    }
}

/// The machine's load average: the cores are shared, and the figures move with it.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn table(k: &Knobs, sqlite: &Figures, pg: &Figures, outages: &[reconnect::Held]) {
    println!();
    println!(
        "| figure ({} runs x {} targets filled) | SQLite | PostgreSQL | PG/SQLite |",
        k.executions, k.targets
    );
    println!("|---|---|---|---|");
    let rate = |what: &str, s: f64, p: f64| {
        println!("| {what} | {s:.0} | {p:.0} | {:.2} |", p / s);
    };
    rate("runs/s, 1 writer", sqlite.one_writer, pg.one_writer);
    rate("runs/s, 4 writers", sqlite.four_writers, pg.four_writers);
    for (i, q) in history::QUERIES.iter().enumerate() {
        let ((s50, s95), (p50, p95)) = (sqlite.history[i], pg.history[i]);
        let ratio = |p: Duration, s: Duration| p.as_secs_f64() / s.as_secs_f64();
        println!(
            "| {} p50 / p95 | {} / {} | {} / {} | {:.2} / {:.2} |",
            q.name,
            ms(s50),
            ms(s95),
            ms(p50),
            ms(p95),
            ratio(p50, s50),
            ratio(p95, s95)
        );
    }
    println!(
        "| bulk fill | {:.1} s | {:.1} s | {:.2} |",
        sqlite.fill.as_secs_f64(),
        pg.fill.as_secs_f64(),
        pg.fill.as_secs_f64() / sqlite.fill.as_secs_f64()
    );
    println!();
    for o in outages {
        println!(
            "postgres outage of {} s, {} runs ({} writes) underway: {} writes handed over \
             before the server came back ({}; {} in the writer's batch), all committed \
             {} after the server was ready",
            k.outage.as_secs(),
            o.runs,
            o.runs * OPS_PER_RUN,
            o.accepted,
            if o.blocked {
                "senders blocked"
            } else {
                "none blocked"
            },
            o.in_hand,
            ms(o.ready_to_committed)
        );
    }
}
