//! The PostgreSQL team store end to end: real drover processes on real sshd
//! nodes writing into one real PostgreSQL database (`DROVER_STORE_URL`), each
//! process with a state dir of its own.
//!
//! - Four writers at once, 250 runs each: 1,000 executions, each recorded once
//!   and in full, events numbered in one order.
//! - PostgreSQL restarted while a run on 200 nodes is under way: the run is
//!   recorded completely and the outage is logged.
//! - `drover status` with the server down names the store and why, and the
//!   password appears nowhere drover writes or prints.
//!
//! The database is read with the `postgres` crate on the test's own (plain)
//! thread.

use crate::cli_support::{Running, eventually, finish};
use crate::pg_support::{self, PgServer};
use crate::ssh_support::Drover;
use crate::sshd;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// How long a drover process may take before the test gives up on it (a hang
/// guard, not a target: targets live in the benchmarks).
const HANG_GUARD: Duration = Duration::from_secs(600);

/// `drover --batch … ARGS` on `d`'s state dir, storing into `url`.
fn on_store(d: &Drover, cfg: &Path, url: &str, args: &[&str]) -> Command {
    let mut cmd = d.cmd(cfg, args);
    cmd.env("DROVER_STORE_URL", url);
    cmd
}

/// The database name at the end of a [`PgServer::url`].
fn db_name(url: &str) -> &str {
    let tail = url.rsplit('/').next().expect("url has a path");
    tail.split('?').next().expect("database name")
}

/// One count from `sql`.
fn count(db: &mut postgres::Client, sql: &str) -> i64 {
    db.query_one(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

/// One count from `sql`, `None` while it cannot be read (no schema yet).
fn count_if_any(db: &mut postgres::Client, sql: &str) -> Option<i64> {
    db.query_one(sql, &[]).ok().map(|r| r.get(0))
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read(&path)
                .is_ok_and(|b| String::from_utf8_lossy(&b).contains(needle))
            {
                found.push(path);
            }
        }
    }
    found
}

/// The text of every log file drover wrote in `d`'s state dir.
fn drover_logs(d: &Drover) -> String {
    let dir = d.path("state").join("logs");
    let mut text = String::new();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        text.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
    }
    text
}

/// Runs a plan is made of: `steps` executions of `true`, in `lanes` chains
/// that run side by side (step i waits for step i - lanes).
fn plan_of_runs(steps: usize, lanes: usize) -> String {
    let mut yaml = String::from("name: writers\nsteps:\n");
    for i in 0..steps {
        yaml.push_str(&format!("  - name: s{i:03}\n    command: \"true\"\n"));
        if i >= lanes {
            yaml.push_str(&format!("    depends_on: [s{:03}]\n", i - lanes));
        }
    }
    yaml
}

const WRITERS: usize = 4;
const RUNS_EACH: usize = 250;
const NODES: usize = 3;

#[test]
fn four_drovers_record_a_thousand_runs_once_each() {
    let Some(server) = pg_support::shared() else {
        return;
    };
    let Some(fleet) = sshd::Fleet::or_skip(NODES) else {
        return;
    };
    let url = server.create_database("four_writers");
    let cfg = fleet.ssh_config();
    let targets = fleet.aliases().join(",");
    let homes: Vec<Drover> = (0..WRITERS).map(|_| Drover::new()).collect();
    let plan = homes[0].path("writers.yaml");
    std::fs::write(&plan, plan_of_runs(RUNS_EACH, 5)).expect("plan file");
    let plan = plan.to_str().expect("utf-8 path");

    // Every process creates the schema if it is not there yet: they race for it.
    let running: Vec<Running> = homes
        .iter()
        .map(|d| {
            Running::start(on_store(
                d,
                &cfg,
                &url,
                &["plan", "run", plan, "-t", &targets, "--json"],
            ))
        })
        .collect();
    for (i, r) in running.into_iter().enumerate() {
        let (status, lines, err) = r.wait(HANG_GUARD);
        assert!(
            status.success(),
            "writer {i}: {status}; stderr {err}; last lines {:?}",
            lines.iter().rev().take(5).collect::<Vec<_>>()
        );
    }

    let mut db = server.connect(db_name(&url));
    let runs = (WRITERS * RUNS_EACH) as i64;
    let results = runs * NODES as i64;
    let by_status: BTreeMap<String, i64> = db
        .query(
            "SELECT status, count(*) FROM executions GROUP BY status",
            &[],
        )
        .expect("executions by status")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        by_status,
        BTreeMap::from([("success".to_string(), runs)]),
        "executions by status"
    );
    assert_eq!(
        count(&mut db, "SELECT count(DISTINCT id) FROM executions"),
        runs
    );
    assert_eq!(
        count(
            &mut db,
            "SELECT count(DISTINCT (owner_pid, owner_start_time)) FROM executions"
        ),
        WRITERS as i64,
        "runs from each writer"
    );

    // Node results: one per node of each run, all success.
    assert_eq!(count(&mut db, "SELECT count(*) FROM node_results"), results);
    assert_eq!(
        count(
            &mut db,
            "SELECT count(*) FROM node_results WHERE status = 'success'"
        ),
        results
    );
    assert_eq!(
        count(
            &mut db,
            "SELECT count(*) FROM (SELECT execution_id FROM node_results \
             GROUP BY execution_id HAVING count(*) <> 3) odd"
        ),
        0,
        "runs without exactly {NODES} node results"
    );

    // Journal: one entry per node of each run, none twice.
    assert_eq!(
        count(
            &mut db,
            "SELECT count(*) FROM journal WHERE execution_id IS NOT NULL"
        ),
        results,
        "journal entries of runs"
    );
    assert_eq!(
        count(
            &mut db,
            "SELECT count(DISTINCT (execution_id, node)) FROM journal \
             WHERE execution_id IS NOT NULL"
        ),
        results,
        "journal entries, distinct by run and node"
    );
    assert_eq!(
        count(
            &mut db,
            "SELECT count(*) FROM journal j LEFT JOIN executions e \
             ON e.id = j.execution_id WHERE j.execution_id IS NOT NULL AND e.id IS NULL"
        ),
        0,
        "journal entries of runs that are not in history"
    );

    // Events: numbered in the order they were committed, so within each run
    // its queueing comes first and its end last, and each writer's events are in
    // the order it wrote them.
    let events = db
        .query(
            "SELECT seq, type, execution, pid FROM events ORDER BY seq",
            &[],
        )
        .expect("events");
    assert!(!events.is_empty(), "no events");
    let mut last_seq = 0;
    let mut seen_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in &events {
        let seq: i64 = row.get(0);
        assert!(seq > last_seq, "seq {seq} after {last_seq}");
        last_seq = seq;
        if let Some(execution) = row.get::<_, Option<String>>(2) {
            seen_of.entry(execution).or_default().push(row.get(1));
        }
    }
    assert_eq!(seen_of.len() as i64, runs, "runs with events");
    for (execution, types) in &seen_of {
        assert_eq!(
            types.first().map(String::as_str),
            Some("execution_queued"),
            "{execution}: {types:?}"
        );
        assert_eq!(
            types.last().map(String::as_str),
            Some("execution_finished"),
            "{execution}: {types:?}"
        );
        let once = |t: &str| types.iter().filter(|x| *x == t).count();
        assert_eq!(once("execution_started"), 1, "{execution}: {types:?}");
        assert_eq!(once("execution_finished"), 1, "{execution}: {types:?}");
        assert_eq!(once("node_finished"), NODES, "{execution}: {types:?}");
        assert_eq!(once("journal_appended"), NODES, "{execution}: {types:?}");
    }

    // What drover reads back agrees: every writer's history sees all 1,000.
    let out = finish(on_store(
        &homes[3],
        &cfg,
        &url,
        &["history", "--json", "--limit", "5000"],
    ));
    out.expect(0);
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("history");
    assert_eq!(listed.len() as i64, runs, "history --json");
}

const FLEET: usize = 200;

#[test]
fn a_postgres_restart_mid_run_loses_nothing_and_is_logged() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let Some(fleet) = sshd::Fleet::or_skip(FLEET) else {
        return;
    };
    let url = server.create_database("restarted");
    let d = Drover::new();
    let cfg = fleet.ssh_config();
    let hosts = d.path("hosts");
    std::fs::write(&hosts, fleet.aliases().join("\n")).expect("hosts file");
    let targets = format!("^{}", hosts.display());
    // A follower of the event log on a drover of its own, from the first event.
    let watcher = Drover::new();
    let mut follower = Running::start(on_store(
        &watcher,
        &cfg,
        &url,
        &["events", "--follow", "--after", "0"],
    ));
    let run = Running::start(on_store(
        &d,
        &cfg,
        &url,
        &[
            "run",
            "-t",
            &targets,
            "-o",
            "json",
            "--",
            "sleep 3; echo done",
        ],
    ));

    // Under way: the run is in the database as running (once drover made
    // the schema), its nodes asleep.
    let mut db = server.connect("restarted");
    let running = "SELECT count(*) FROM executions WHERE status = 'running'";
    assert!(
        eventually(HANG_GUARD, || count_if_any(&mut db, running) == Some(1)),
        "the run never showed as running"
    );
    assert_eq!(
        count(
            &mut db,
            "SELECT count(*) FROM executions WHERE status <> 'running'"
        ),
        0,
        "the run ended before the restart: nothing to test"
    );
    drop(db);
    server.restart();

    let report = crate::ssh_support::Report::from_running(run.wait(HANG_GUARD));
    assert_eq!(report.code(), 0, "{report:?}");
    assert_eq!(report.overall(), "success", "{report:?}");

    let mut db = server.connect("restarted");
    let id: String = db
        .query_one("SELECT id FROM executions WHERE status = 'success'", &[])
        .expect("the run, success")
        .get(0);
    assert_eq!(count(&mut db, "SELECT count(*) FROM executions"), 1);
    let rows = db
        .query(
            "SELECT node, status, stdout FROM node_results WHERE execution_id = $1",
            &[&id],
        )
        .expect("node results");
    assert_eq!(rows.len(), FLEET, "node results");
    for row in &rows {
        let node: String = row.get(0);
        assert_eq!(row.get::<_, String>(1), "success", "{node}");
        assert!(
            row.get::<_, String>(2).contains("done"),
            "{node}: stored stdout {:?}",
            row.get::<_, String>(2)
        );
    }
    let nodes_in_journal = |db: &mut postgres::Client, distinct: &str| -> i64 {
        db.query_one(
            &format!("SELECT count({distinct} node) FROM journal WHERE execution_id = $1"),
            &[&id],
        )
        .expect("journal")
        .get(0)
    };
    assert_eq!(nodes_in_journal(&mut db, ""), FLEET as i64, "journal");
    assert_eq!(
        nodes_in_journal(&mut db, "DISTINCT"),
        FLEET as i64,
        "journal"
    );
    let finished = db
        .query_one(
            "SELECT count(*) FROM events WHERE execution = $1 AND type = 'node_finished'",
            &[&id],
        )
        .expect("events")
        .get::<_, i64>(0);
    assert_eq!(finished, FLEET as i64, "node_finished events");

    // The follower rode out the restart: every event of the run, once each,
    // in the log's order, and it is still following.
    while let Some(line) = follower.next_line(HANG_GUARD) {
        if line.contains("\"execution_finished\"") {
            break;
        }
    }
    let _ = nix::sys::signal::kill(follower.pid(), nix::sys::signal::Signal::SIGTERM);
    let (status, lines, err) = follower.wait(HANG_GUARD);
    assert!(status.success(), "follower: {status}; {err}");
    let followed: Vec<i64> = lines
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("event line"))
        .filter(|e| e["execution"] == id.as_str())
        .map(|e| e["seq"].as_i64().expect("seq"))
        .collect();
    let stored: Vec<i64> = db
        .query(
            "SELECT seq FROM events WHERE execution = $1 ORDER BY seq",
            &[&id],
        )
        .expect("events")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(followed, stored, "events followed across the restart");

    // The outage was noticed, and the password never written down.
    let logs = drover_logs(&d);
    assert!(
        logs.contains("store reachable again"),
        "no outage in the log:\n{logs}"
    );
    let leaked = files_containing(d.dir.path(), server.password());
    assert!(leaked.is_empty(), "password in {leaked:?}");
    assert!(!report.out.out().contains(server.password()));
    assert!(!report.out.err().contains(server.password()));
    assert!(files_containing(watcher.dir.path(), server.password()).is_empty());
    assert!(!err.contains(server.password()));
    println!(
        "FAULT-ROW pg-restart: PostgreSQL restarted under a {FLEET}-node run: exit 0, \
         {} node results, {FLEET} journal entries, {} events followed across it, \
         0 lost, 0 twice, password in 0 files",
        rows.len(),
        followed.len()
    );
}

#[test]
fn status_names_an_unreachable_store_and_a_run_holds_its_writes_through_it() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let Some(fleet) = sshd::Fleet::or_skip(NODES) else {
        return;
    };
    let url = server.create_database("status");
    let d = Drover::new();
    let cfg = fleet.ssh_config();
    let status = |args: &[&str]| finish(on_store(&d, &cfg, &url, args));
    let password = server.password();

    let up = status(&["status"]);
    up.expect(0);

    // A run under way when the server stops: it finishes on its nodes and
    // holds what it has to write.
    let mut run = Running::start(on_store(
        &d,
        &cfg,
        &url,
        &[
            "run",
            "-t",
            &fleet.aliases().join(","),
            "-o",
            "json",
            "--",
            "sleep 1; echo done",
        ],
    ));
    let mut db = server.connect("status");
    let running = "SELECT count(*) FROM executions WHERE status = 'running'";
    assert!(
        eventually(HANG_GUARD, || count_if_any(&mut db, running) == Some(1)),
        "the run never showed as running"
    );
    drop(db);
    server.stop();
    run.expect_line(HANG_GUARD, |l| l.contains("\"execution_finished\""));

    // Another drover's status: the store fails, named, with the reason.
    let down = status(&["status"]);
    assert_eq!(down.code(), 1, "{down:?}");
    let store_line = down
        .out()
        .lines()
        .find(|l| l.contains(" store "))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no store line: {down:?}"));
    assert!(store_line.starts_with("FAIL"), "{store_line}");
    assert!(
        store_line.contains(&format!("127.0.0.1:{}", server.port()))
            && store_line.to_lowercase().contains("refused"),
        "the store line names neither the server nor why: {store_line}"
    );
    let down_json = status(&["status", "--json"]);
    assert_eq!(down_json.code(), 1, "{down_json:?}");
    let report: serde_json::Value = serde_json::from_slice(&down_json.stdout).expect("json");
    assert!(
        report["store"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("cannot connect")),
        "{report:#}"
    );

    // Back: the held writes land, the run exits 0, status is healthy.
    server.start_again();
    let finished = crate::ssh_support::Report::from_running(run.wait(HANG_GUARD));
    assert_eq!(finished.code(), 0, "{finished:?}");
    let again = status(&["status"]);
    again.expect(0);
    let mut db = server.connect("status");
    assert_eq!(
        count(
            &mut db,
            "SELECT count(*) FROM node_results WHERE status = 'success' AND stdout LIKE '%done%'"
        ),
        NODES as i64
    );
    assert_eq!(
        count(
            &mut db,
            "SELECT count(*) FROM executions WHERE status = 'success'"
        ),
        1
    );
    let logs = drover_logs(&d);
    assert!(
        logs.contains("store unreachable; holding writes"),
        "no outage in the log:\n{logs}"
    );

    // The password: in no output and no file drover wrote.
    let history = status(&["history", "--json"]);
    history.expect(0);
    let again_json = status(&["status", "--json"]);
    again_json.expect(0);
    for out in [
        &up,
        &down,
        &down_json,
        &again,
        &history,
        &again_json,
        &finished.out,
    ] {
        assert!(!out.out().contains(password), "{out:?}");
        assert!(!out.err().contains(password), "{out:?}");
    }
    let leaked = files_containing(d.dir.path(), password);
    assert!(leaked.is_empty(), "password in {leaked:?}");
    println!(
        "FAULT-ROW pg-down-status: status exit 1 naming the store while it is down, \
         exit 0 when back; the run holding its writes recorded in full; password in 0 files"
    );
}
