//! A drover killed with SIGKILL mid-run leaves its execution `running` in the store;
//! the next drover process must mark it `interrupted`, in history and in the
//! journals of the nodes it never finished.

mod cli_support;

use cli_support::{Fleet, KillOnDrop, Running, s};
use serde_json::Value;
use std::time::Duration;

/// The shell pid from a `NODE: started PID` line (also its process group).
fn started_pid(line: &str) -> i32 {
    let pid = line.rsplit(' ').next().unwrap_or("");
    pid.parse()
        .unwrap_or_else(|e| panic!("no pid in {line:?}: {e}"))
}

#[test]
fn killed_drover_leaves_an_interrupted_execution_behind() {
    let f = Fleet::nodes(&["n01", "n02"]);
    // Each node's shell leads its own process group, which outlives drover: the
    // guard kills those groups at the end, pass or fail.
    let mut orphans = KillOnDrop::default();
    let cmd = f.cmd(&["run", "-t", "n01,n02", "--", "echo started $$; sleep 300"]);
    let mut run = Running::start(cmd);
    let first = run.expect_line(Duration::from_secs(30), |l| l.contains(": started "));
    orphans.group(started_pid(&first));
    // Wait for the other node too, so both groups are known for the clean-up.
    let second = run.expect_line(Duration::from_secs(30), |l| l.contains(": started "));
    orphans.group(started_pid(&second));
    let drover_pid = run.pid();

    run.child.kill().expect("SIGKILL drover");
    let status = run.child.wait().expect("reap drover");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "drover should have died by SIGKILL: {status:?}"
    );

    // Any later drover command recovers the leftover run.
    let exec = f.only_execution();
    let id = s(&exec, "id").to_string();
    assert_eq!(s(&exec, "status"), "interrupted", "{exec:#}");
    assert_eq!(exec["owner_pid"], drover_pid.as_raw(), "{exec:#}");
    assert!(
        exec["finished_at"].is_i64(),
        "recovery sets finished_at: {exec:#}"
    );

    let shown = f.show(&id);
    let nodes = shown["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 2, "{shown:#}");
    for n in nodes {
        assert_eq!(s(n, "status"), "interrupted", "{shown:#}");
    }

    for node in ["n01", "n02"] {
        let entries = f.journal(node);
        let linked: Vec<&Value> = entries
            .iter()
            .filter(|e| s(e, "execution_id") == id)
            .collect();
        assert_eq!(linked.len(), 1, "{node}: {entries:#?}");
        assert_eq!(s(linked[0], "entry_type"), "execution", "{node}");
        assert_eq!(s(linked[0], "status"), "interrupted", "{node}");
    }

    // Recovery is done once: the state stays consistent for the next process.
    let again = f.history(&["--status", "interrupted"]);
    assert_eq!(again.len(), 1, "{again:#?}");
    assert!(f.history(&["--status", "running"]).is_empty());
    assert_eq!(f.journal("n01").len(), 1, "recovery must not journal twice");
}

#[test]
fn a_live_run_is_not_mistaken_for_a_crashed_one() {
    let f = Fleet::nodes(&["n01"]);
    let mut orphans = KillOnDrop::default();
    let cmd = f.cmd(&["run", "-t", "n01", "--", "echo started $$; sleep 300"]);
    let mut run = Running::start(cmd);
    let line = run.expect_line(Duration::from_secs(30), |l| l.contains(": started "));
    orphans.group(started_pid(&line));
    // A second drover process opening the same state must leave the live run alone.
    let exec = f.only_execution();
    assert_eq!(s(&exec, "status"), "running", "{exec:#}");
    assert!(f.history(&["--status", "interrupted"]).is_empty());
}
