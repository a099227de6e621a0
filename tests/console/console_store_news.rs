//! The console hears of other drover processes on the same PostgreSQL store:
//! a note another operator writes on the node whose journal is open appears in
//! it, a run they start appears in the open history pane, and the status line
//! names who ran what. The other operator is a real drover process.

use crate::cli_support::{DEADLINE, Fleet};
use crate::common::local_engine;
use crate::pg_support;
use drover::app::tui::headless::Headless;
use drover::app::tui::state::{AppState, View};
use drover::engine::EngineConfig;
use drover::store::{Store, StoreLocation};
use std::process::Output;
use std::time::{Duration, Instant};

/// `drover ARGS...` as alice, in a state dir of her own, on the store at `url`,
/// off the console's runtime threads.
async fn alice(fleet: &Fleet, url: &str, args: &[&str]) -> Output {
    let mut cmd = fleet.cmd(args);
    cmd.env("DROVER_STORE_URL", url).env("USER", "alice");
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("drover"))
        .await
        .expect("the drover process");
    assert!(out.status.success(), "{out:?}");
    out
}

fn noticed(s: &AppState, text: &str) -> bool {
    s.messages.iter().any(|m| m.text == text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_drovers_note_and_run_appear_in_the_open_journal_and_history() {
    let Some(url) = pg_support::fresh_database() else {
        return;
    };
    let store = Store::open_location(&StoreLocation::parse(&url).unwrap(), false).unwrap();
    let engine = local_engine(
        &["localhost".to_string()],
        EngineConfig::default(),
        Some(store.writer()),
    )
    .with_store(store.clone());
    let mut h = Headless::new(engine, 120, 30);
    h.console.watch_store();
    let other = Fleet::new("nodes: {}\n");

    h.keys(":journal localhost<enter>").unwrap();
    assert_eq!(h.state().view, View::Journal);
    // The watcher starts at the log's end, maybe after a note: write notes
    // until one shows in the open journal.
    let deadline = Instant::now() + DEADLINE;
    for n in 0.. {
        assert!(Instant::now() < deadline, "no note of alice's shown");
        let note = format!("probe {n}");
        alice(&other, &url, &["journal", "add", "localhost", "-m", &note]).await;
        let shown = h
            .until(Duration::from_secs(2), |s| {
                s.journal.entries.iter().any(|e| e.action == note)
            })
            .await;
        if shown.is_ok() {
            break;
        }
    }
    assert!(noticed(h.state(), "alice wrote a note on localhost"));

    h.keys(":history<enter>").unwrap();
    h.until(DEADLINE, |s| !s.history.loading).await.unwrap();
    alice(
        &other,
        &url,
        &["run", "-t", "localhost", "--", "echo from alice"],
    )
    .await;
    // Her process has committed and exited: printed for the record, never asserted.
    let exited = Instant::now();
    h.until(DEADLINE, |s| {
        s.history
            .records
            .iter()
            .any(|r| r.action == "echo from alice" && r.user == "alice")
            && noticed(s, "alice ran `echo from alice` on localhost")
    })
    .await
    .unwrap();
    eprintln!(
        "the run shown in history {} ms after the other drover exited",
        exited.elapsed().as_millis()
    );
    let screen = h.screen();
    assert!(screen.contains("echo from alice"), "{screen}");
}
