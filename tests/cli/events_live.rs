//! Two drover processes on one PostgreSQL store, as two operators on two
//! machines would be (each its own state dir): what one records, the other's
//! `drover events --follow` prints as soon as it commits (the store announces
//! each commit), under the first one's user.

use crate::cli_support::{DEADLINE, Fleet, Running, s};
use crate::pg_support;
use nix::sys::signal::{Signal, kill};
use serde_json::Value;
use std::process::Command;
use std::time::{Duration, Instant};

/// One drover of the pair: its own state dir, the shared store, its user.
fn operator(url: &str, user: &str) -> impl Fn(&[&str]) -> Command {
    let fleet = Fleet::new("nodes: {}\n");
    let (url, user) = (url.to_string(), user.to_string());
    move |args| {
        let mut cmd = fleet.cmd(args);
        cmd.env("DROVER_STORE_URL", &url).env("USER", &user);
        cmd
    }
}

fn parse(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"))
}

/// Milliseconds from the event's stamp (taken before its batch commits) to now:
/// an upper bound on commit-to-display, printed for the record, never asserted.
fn age_ms(event: &Value) -> i64 {
    let ts: jiff::Timestamp = s(event, "ts").parse().expect("RFC 3339 ts");
    jiff::Timestamp::now().as_millisecond() - ts.as_millisecond()
}

/// Notes on localhost by `writer` until the follower prints one: from then on
/// it follows (it starts at the log's end, so an earlier note is not printed).
fn wait_until_following(writer: &dyn Fn(&[&str]) -> Command, follower: &mut Running) {
    let deadline = Instant::now() + DEADLINE;
    while Instant::now() < deadline {
        let out = writer(&["journal", "add", "localhost", "-m", "probe"])
            .output()
            .expect("drover journal add");
        assert!(out.status.success(), "{out:?}");
        let wait_for_it = Instant::now() + Duration::from_secs(2);
        while let Some(line) =
            follower.next_line(wait_for_it.saturating_duration_since(Instant::now()))
        {
            let v = parse(&line);
            if v["type"] == "journal_appended" && v["node"] == "localhost" {
                eprintln!("probe note printed {} ms after its stamp", age_ms(&v));
                return;
            }
        }
    }
    panic!("the follower never printed a note on localhost");
}

#[test]
fn a_run_of_another_drover_on_the_same_postgres_is_followed_with_its_user() {
    let Some(url) = pg_support::fresh_database() else {
        return;
    };
    let bob = operator(&url, "bob");
    let alice = operator(&url, "alice");
    let mut follower = Running::start(bob(&["events", "--follow"]));
    wait_until_following(&alice, &mut follower);

    let out = alice(&["run", "-t", "localhost", "--", "echo live"])
        .output()
        .expect("drover run");
    assert!(out.status.success(), "{out:?}");
    let queued = parse(&follower.expect_line(DEADLINE, |l| {
        let v = parse(l);
        v["type"] == "execution_queued" && v["action"] == "echo live"
    }));
    let execution = s(&queued, "execution").to_string();
    let mut run = vec![queued];
    while run
        .last()
        .is_some_and(|e| e["type"] != "execution_finished")
    {
        let line = follower
            .next_line(DEADLINE)
            .expect("the follower stopped before the run's end");
        let v = parse(&line);
        if v["execution"] == execution.as_str() {
            run.push(v);
        }
    }
    let finished = run.last().expect("the run's end");
    eprintln!(
        "execution_finished printed {} ms after its stamp",
        age_ms(finished)
    );
    let follower_pid = i64::from(follower.pid().as_raw());
    for e in &run {
        assert_eq!(s(e, "user"), "alice", "{e}");
        assert_ne!(e["pid"], follower_pid, "recorded by the other drover: {e}");
    }
    assert_eq!(run[0]["nodes"], serde_json::json!(["localhost"]));
    assert_eq!(s(finished, "status"), "success");

    kill(follower.pid(), Signal::SIGINT).expect("SIGINT");
    let (status, _, err) = follower.wait(DEADLINE);
    assert_eq!(status.code(), Some(0), "Ctrl-C ends a tail cleanly: {err}");
}
