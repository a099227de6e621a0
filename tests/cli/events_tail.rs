//! `drover events` end to end: a follower in one process sees what other drover
//! processes on the same state dir record, in order; the filters (`--type`,
//! `--since`, `--after`, `-t`) narrow the log; output is summarised, never
//! flooded; the follower ends cleanly on a signal or a closed pipe.

use crate::cli_support;

use cli_support::{DEADLINE, Fleet, Running, s, wait_deadline};
use nix::sys::signal::{Signal, kill};
use serde_json::Value;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn fleet() -> Fleet {
    Fleet::new("nodes:\n  a: { groups: [web] }\n  b: { groups: [web] }\n  c: { groups: [db] }\n")
}

/// `drover events ARGS...` to completion, each line parsed.
fn listed(f: &Fleet, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["events"];
    all.extend_from_slice(args);
    let out = f.drover(&all);
    out.expect(0);
    out.out_lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect()
}

fn parse(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"))
}

fn seq(v: &Value) -> i64 {
    v["seq"].as_i64().expect("seq")
}

fn kinds(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| s(e, "type").to_string()).collect()
}

/// Writes notes on `node` until the follower prints the journal event of one:
/// from then on it is following (it starts at the log's end, so a note written
/// before it read the end is not printed).
fn wait_until_following(f: &Fleet, follower: &mut Running, node: &str) -> Value {
    let deadline = Instant::now() + DEADLINE;
    while Instant::now() < deadline {
        f.drover(&["journal", "add", node, "-m", "probe"]).expect(0);
        let wait_for_it = Instant::now() + Duration::from_secs(2);
        while let Some(line) =
            follower.next_line(wait_for_it.saturating_duration_since(Instant::now()))
        {
            let v = parse(&line);
            if v["type"] == "journal_appended" && v["node"] == node {
                return v;
            }
        }
    }
    panic!("the follower never printed a journal note on {node}");
}

#[test]
fn a_follower_sees_the_run_of_another_process_in_order() {
    let f = fleet();
    // Recorded before the follower starts: a tail must not print it.
    f.drover(&["journal", "add", "c", "-m", "before"]).expect(0);
    let mut follower = Running::start(f.cmd(&["events", "--follow", "--json"]));
    let probe = wait_until_following(&f, &mut follower, "c");
    assert!(
        seq(&probe) > 1,
        "the note written before the tail was printed: {probe}"
    );
    assert_eq!(s(&probe, "entry_type"), "manual");
    assert_eq!(probe["v"], 1);

    f.run("a,b", &[], "echo hello").expect(0);
    let mut run = Vec::new();
    while !run
        .last()
        .is_some_and(|e: &Value| e["type"] == "execution_finished")
    {
        let line = follower
            .next_line(DEADLINE)
            .expect("the follower stopped before the run's end");
        run.push(parse(&line));
    }
    let seqs: Vec<i64> = run.iter().map(seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "seq not increasing: {seqs:?}"
    );
    assert!(seqs[0] > seq(&probe));
    let lifecycle: Vec<String> = kinds(&run)
        .into_iter()
        .filter(|k| k.starts_with("execution_") || k == "node_started" || k == "node_finished")
        .collect();
    assert_eq!(
        lifecycle,
        [
            "execution_queued",
            "execution_started",
            "node_started",
            "node_started",
            "node_finished",
            "node_finished",
            "execution_finished"
        ],
        "{run:#?}"
    );
    let execution = s(&run[0], "execution");
    let pid = run[0]["pid"].as_i64().expect("pid");
    assert_ne!(
        pid,
        i64::from(follower.pid().as_raw()),
        "recorded by the run"
    );
    for e in &run {
        assert_eq!(s(e, "execution"), execution, "{e}");
        assert_eq!(e["pid"], pid, "{e}");
        assert!(e["user"].is_string(), "{e}");
        let ts = s(e, "ts");
        assert!(
            ts.ends_with('Z') && ts.len() == 24,
            "RFC 3339 with ms: {ts}"
        );
    }
    assert_eq!(run[0]["nodes"], serde_json::json!(["a", "b"]));
    let finished: Vec<&Value> = run
        .iter()
        .filter(|e| e["type"] == "node_finished")
        .collect();
    let mut nodes: Vec<&str> = finished.iter().map(|e| s(e, "node")).collect();
    nodes.sort();
    assert_eq!(nodes, ["a", "b"]);
    assert!(
        finished
            .iter()
            .all(|e| e["status"] == "success" && e["exit_code"] == 0)
    );
    assert_eq!(s(run.last().unwrap(), "status"), "success");

    kill(follower.pid(), Signal::SIGINT).expect("SIGINT");
    let (status, _, err) = follower.wait(DEADLINE);
    assert_eq!(status.code(), Some(0), "Ctrl-C ends a tail cleanly: {err}");
}

#[test]
fn the_filters_narrow_the_log_by_type_time_seq_and_node() {
    let f = fleet();
    f.run("a", &[], "echo one").expect(0);
    f.run("b", &[], "echo two").expect(0);
    f.drover(&["journal", "add", "c", "-m", "fan replaced"])
        .expect(0);
    let all = listed(&f, &["--json"]);
    let seqs: Vec<i64> = all.iter().map(seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    let finished = listed(&f, &["--type", "node_finished"]);
    assert_eq!(kinds(&finished), ["node_finished", "node_finished"]);
    let two = listed(
        &f,
        &[
            "--type",
            "execution_queued,journal_appended",
            "--type",
            "node_started",
        ],
    );
    assert!(
        two.iter()
            .all(|e| ["execution_queued", "journal_appended", "node_started"]
                .contains(&s(e, "type"))),
        "{two:#?}"
    );
    assert_eq!(
        two.iter()
            .filter(|e| e["type"] == "execution_queued")
            .count(),
        2
    );

    let note = all.last().expect("events");
    assert_eq!(
        (s(note, "type"), s(note, "node"), s(note, "entry_type")),
        ("journal_appended", "c", "manual")
    );
    assert_eq!(note["execution"], Value::Null);

    // The run on a, and nothing about b or c.
    let about_a = listed(&f, &["-t", "a"]);
    let run_a = s(&about_a[0], "execution").to_string();
    assert_eq!(s(&about_a[0], "type"), "execution_queued");
    assert!(
        about_a
            .iter()
            .all(|e| s(e, "execution") == run_a && (e["node"].is_null() || e["node"] == "a")),
        "{about_a:#?}"
    );
    assert!(kinds(&about_a).contains(&"execution_finished".to_string()));
    let about_web = listed(&f, &["-t", "@web", "--type", "node_finished"]);
    assert_eq!(about_web.len(), 2);
    assert_eq!(kinds(&listed(&f, &["-t", "c"])), ["journal_appended"]);

    // From the second run's start: the first run is left out.
    let second = all
        .iter()
        .filter(|e| e["type"] == "execution_queued")
        .nth(1)
        .expect("second run");
    let since = listed(&f, &["--since", s(second, "ts")]);
    assert_eq!(since.first(), Some(second), "{since:#?}");
    assert!(since.iter().all(|e| s(e, "execution") != run_a));
    assert_eq!(listed(&f, &["--since", "1h"]).len(), all.len());
    assert!(listed(&f, &["--since", "2999-01-01T00:00:00Z"]).is_empty());

    let after = listed(&f, &["--after", &seq(second).to_string()]);
    assert_eq!(
        after.len(),
        all.iter().filter(|e| seq(e) > seq(second)).count()
    );
    assert_eq!(listed(&f, &["--limit", "3"]).len(), 3);
}

#[test]
fn an_unknown_type_or_time_is_a_usage_error() {
    let f = fleet();
    let out = f.drover(&["events", "--type", "node_finished,node_exploded"]);
    out.expect(2)
        .err_has("node_exploded")
        .err_has("node_finished");
    assert!(out.stdout.is_empty());
    f.drover(&["events", "--follow", "--since", "last tuesday"])
        .expect(2)
        .err_has("--since");
}

#[test]
fn a_noisy_node_is_summarised_not_copied() {
    let f = fleet();
    f.run("a", &[], "seq 1 200000; echo oops >&2").expect(0);
    let output = listed(&f, &["--type", "node_output"]);
    let finished = &listed(&f, &["--type", "node_finished"])[0];
    let seconds = finished["duration_ms"].as_u64().expect("duration") / 1000;
    // One at the first output, at most one a second after it, one at the end.
    assert!(
        !output.is_empty() && output.len() as u64 <= seconds + 2,
        "{} summaries in {seconds} s",
        output.len()
    );
    let last = output.last().unwrap();
    assert_eq!(last["final"], true);
    assert_eq!(last["stdout_lines"], 200_000);
    assert_eq!(last["stderr_lines"], 1);
    assert_eq!(last["stderr_bytes"], 5);
    assert!(last.get("data").is_none() && last.get("line").is_none());
    assert!(
        output[..output.len() - 1]
            .iter()
            .all(|e| e["final"] == false)
    );
}

#[test]
fn a_follower_ends_cleanly_on_sigterm_and_on_a_closed_pipe() {
    let f = fleet();
    let mut follower = Running::start(f.cmd(&["events", "--follow"]));
    wait_until_following(&f, &mut follower, "a");
    kill(follower.pid(), Signal::SIGTERM).expect("SIGTERM");
    let (status, _, err) = follower.wait(DEADLINE);
    assert_eq!(status.code(), Some(0), "{err}");

    // Nobody reads its output: the next event it prints ends it.
    let mut cmd = f.cmd(&["events", "--follow"]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().expect("spawn");
    drop(child.stdout.take());
    let deadline = Instant::now() + DEADLINE;
    let mut status = None;
    while status.is_none() && Instant::now() < deadline {
        f.drover(&["journal", "add", "b", "-m", "anyone?"])
            .expect(0);
        let wait_for_it = Instant::now() + Duration::from_secs(1);
        while status.is_none() && Instant::now() < wait_for_it {
            status = child.try_wait().expect("try_wait");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let Some(status) = status.or_else(|| wait_deadline(&mut child, Duration::ZERO)) else {
        panic!("still following a closed pipe after {DEADLINE:?}");
    };
    assert_eq!(status.code(), Some(0));
}
