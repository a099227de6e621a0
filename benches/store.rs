//! Store benchmarks (plain `main`, no harness): run with `cargo bench --bench store`.
//! Each figure is printed on one line next to its target.

use std::time::{Duration, Instant};

use drover::store::*;
use serde_json::json;

const JOURNAL_ENTRIES: usize = 100_000;
const EXECUTIONS: usize = 100_000;
const NODES: usize = 300;
const USERS: [&str; 10] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
];
const STATUSES: [&str; 6] = [
    "success",
    "failed",
    "partial",
    "timeout",
    "cancelled",
    "interrupted",
];
const QUERIES: usize = 21;
const DAY: Millis = 86_400_000;
const T0: Millis = 1_700_000_000_000;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    journal_insert(&Store::open(&dir.path().join("journal.db")).expect("open"));
    history_queries(&Store::open(&dir.path().join("history.db")).expect("open"));
}

fn report(what: &str, took: Duration, target: Duration) {
    let verdict = if took < target { "ok" } else { "SLOW" };
    println!(
        "{what}: {:.2} ms (target < {} ms) {verdict}",
        took.as_secs_f64() * 1e3,
        target.as_millis()
    );
}

fn journal_insert(store: &Store) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    // Build the entries first: the figure is the store's cost, not the caller's.
    let batches: Vec<Vec<JournalEntry>> = (0..4)
        .map(|t| (t..JOURNAL_ENTRIES).step_by(4).map(journal_entry).collect())
        .collect();
    let started = Instant::now();
    runtime.block_on(async {
        let tasks: Vec<_> = batches
            .into_iter()
            .map(|entries| {
                let writer = store.writer();
                tokio::spawn(async move {
                    for entry in entries {
                        writer.send(WriteOp::Journal(entry)).await.expect("send");
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("task");
        }
        store.writer().flush().await.expect("flush");
    });
    let took = started.elapsed();
    report(
        "journal: 100,000 entries through the writer + flush",
        took,
        Duration::from_secs(1),
    );
    // Wall time suffers when other processes compete for the cores; CPU time much less.
    if let Some(cpu) = writer_thread_cpu() {
        println!(
            "journal: writer thread CPU time for the same run: {:.0} ms (info)",
            cpu.as_secs_f64() * 1e3
        );
    }
}

fn journal_entry(i: usize) -> JournalEntry {
    JournalEntry {
        id: 0,
        node: format!("node-{:03}", i % NODES),
        entry_type: EntryType::Execution,
        timestamp: T0 + i as Millis,
        user: USERS[i % USERS.len()].to_string(),
        action: "systemctl restart nginx".to_string(),
        status: Some("success".to_string()),
        execution_id: Some(format!("exec-{i}")),
        details: json!({ "exit_code": 0, "duration_ms": i % 5000 }),
    }
}

/// CPU time used so far by the store's writer thread(s), from `/proc` (Linux only).
fn writer_thread_cpu() -> Option<Duration> {
    let mut ticks = 0u64;
    let mut found = false;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = task.ok()?.path();
        let comm = std::fs::read_to_string(dir.join("comm")).ok()?;
        if !comm.starts_with("drover-store") {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
        let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split(' ').collect();
        // utime and stime are fields 14 and 15, counted from 1 before the name's ')'.
        ticks += fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        found = true;
    }
    // /proc reports these in USER_HZ, which Linux fixes at 100 per second.
    found.then(|| Duration::from_millis(ticks * 10))
}

fn history_queries(store: &Store) {
    let started = Instant::now();
    let writer = store.writer();
    for i in 0..EXECUTIONS {
        // A cheap deterministic spread so filters hit mixed, interleaved rows.
        let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 16;
        let nodes: Vec<String> = (0..3)
            .map(|k| format!("node-{:03}", (h as usize + k * 97) % NODES))
            .collect();
        let started_at = T0 + (i as Millis) * 30 * DAY / EXECUTIONS as Millis;
        writer
            .blocking_send(WriteOp::UpsertExecution(ExecutionRecord {
                id: format!("{h:012x}{i:06}"),
                kind: "command".to_string(),
                action: "uptime".to_string(),
                target_expr: "role:web".to_string(),
                nodes,
                user: USERS[(h % 10) as usize].to_string(),
                correlation_id: format!("corr-{i}"),
                status: STATUSES[((h >> 8) % 6) as usize].to_string(),
                started_at,
                finished_at: Some(started_at + 1500),
                duration_ms: Some(1500),
                success_count: 2,
                failed_count: 1,
                options: json!({ "timeout": 30, "fanout": 50 }),
                error: None,
                owner_pid: 1,
                owner_start_time: 1,
                rerun_of: None,
            }))
            .expect("send");
    }
    writer.blocking_flush().expect("flush");
    println!(
        "setup: 100,000 executions x 3 nodes written in {:.0} ms (no target)",
        started.elapsed().as_secs_f64() * 1e3
    );

    let combined = |q: usize| HistoryFilter {
        since: Some(T0 + (q as Millis % 10) * DAY),
        until: Some(T0 + (q as Millis % 10 + 14) * DAY),
        user: Some(USERS[q % USERS.len()].to_string()),
        status: Some(STATUSES[q % STATUSES.len()].to_string()),
        target: None,
        limit: Some(50),
        without_nodes: false,
    };
    let by_target = |q: usize| HistoryFilter {
        target: Some(format!("node-{:03}", q * 13 % NODES)),
        limit: Some(50),
        ..HistoryFilter::default()
    };
    let target_and_more = |q: usize| {
        HistoryFilter {
            user: Some(USERS[q % USERS.len()].to_string()),
            ..combined(q)
        }
        .with_target(format!("node-{:03}", q * 13 % NODES))
    };

    for (what, filter) in [
        (
            "history: user + status + time range + limit 50, median of 21",
            &combined as &dyn Fn(usize) -> HistoryFilter,
        ),
        ("history: target + limit 50, median of 21", &by_target),
        (
            "history: target + user + status + time range + limit 50, median of 21",
            &target_and_more,
        ),
    ] {
        let mut times = Vec::with_capacity(QUERIES);
        let mut rows = 0;
        for q in 0..QUERIES {
            let f = filter(q);
            let t = Instant::now();
            rows += store.history(&f).expect("history").len();
            times.push(t.elapsed());
        }
        times.sort();
        assert!(
            rows > 0,
            "{what}: the benchmark filters must match something"
        );
        report(what, times[QUERIES / 2], Duration::from_millis(20));
    }
}

trait WithTarget {
    fn with_target(self, node: String) -> Self;
}

impl WithTarget for HistoryFilter {
    fn with_target(mut self, node: String) -> Self {
        self.target = Some(node);
        self
    }
}
