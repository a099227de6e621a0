//! Timeouts and cancels end every process the template's program started,
//! including one that ignores TERM: checked by a unique marker with `pgrep`.

use super::{exec_engine, exec_node, node, run};
use crate::common::{ctx, request, runtime, within};
use drover::engine::{ErrorCategory, ExecutionOptions, NodeStatus};
use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, Instant};

/// A sleep length no other process on the machine uses: `sleep 4000.123456`.
fn unique_sleep() -> String {
    let n = RandomState::new().hash_one((std::process::id(), Instant::now()));
    format!("sleep 4{:03}.{:06}", n % 1000, (n / 1000) % 1_000_000)
}

/// Pids whose command line holds `marker`.
fn pgrep(marker: &str) -> Vec<u32> {
    let out = std::process::Command::new("pgrep")
        .arg("-f")
        .arg(marker)
        .output()
        .expect("pgrep");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// Three sleepers: one in the foreground, one in the background, and one in
/// the background that ignores TERM (only the KILL after the grace ends it).
fn tree(sleep: &str) -> String {
    format!("{sleep} & sh -c \"trap '' TERM; echo ready; {sleep}\" & echo up; {sleep}; wait")
}

#[test]
fn timeout_kills_the_whole_tree() {
    let sleep = unique_sleep();
    let engine = exec_engine(vec![exec_node("c", "sh -c {command}", &[])]);
    let options = ExecutionOptions {
        timeout: Some(Duration::from_millis(1500)),
        ..Default::default()
    };
    let began = Instant::now();
    let result = run(&engine, &tree(&sleep), &["c"], options);
    let took = began.elapsed();
    let r = node(&result, "c");
    assert!(
        r.stdout.contains("up") && r.stdout.contains("ready"),
        "{r:?}"
    );
    assert_eq!(r.status, NodeStatus::Timeout, "{r:?}");
    assert_eq!(
        r.error.as_ref().map(|e| e.category),
        Some(ErrorCategory::Timeout)
    );
    assert!(took >= Duration::from_millis(1500), "ended after {took:?}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(
        pgrep(&sleep),
        Vec::<u32>::new(),
        "processes left after the timeout"
    );
}

#[test]
fn cancel_kills_the_whole_tree() {
    let sleep = unique_sleep();
    let engine = exec_engine(vec![exec_node("c", "sh -c {command}", &[])]);
    let targets = vec!["c".to_string()];
    let rt = runtime();
    let result = rt.block_on(async {
        let id = within(
            "submit",
            crate::common::submit(
                &engine,
                request(&tree(&sleep), &targets, ExecutionOptions::default()),
                ctx("u"),
            ),
        )
        .await
        .expect("in time")
        .expect("submit");
        // The shell, its three sleeps and the TERM-ignoring shell: all up.
        let deadline = Instant::now() + Duration::from_secs(10);
        while pgrep(&sleep).len() < 5 {
            assert!(
                Instant::now() < deadline,
                "never started: {:?}",
                pgrep(&sleep)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        engine.cancel(&id).expect("cancel");
        within("wait", engine.wait(&id))
            .await
            .expect("in time")
            .expect("wait")
    });
    let r = node(&result, "c");
    assert_eq!(r.status, NodeStatus::Cancelled, "{r:?}");
    assert_eq!(
        pgrep(&sleep),
        Vec::<u32>::new(),
        "processes left after the cancel"
    );
}
