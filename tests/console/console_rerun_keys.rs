//! Cancel, quit and re-run in the console, driven headless by keys against real
//! local nodes and a real store: `ctrl-c` cancels (or says how to quit), `q`
//! asks while a run is in flight, `R` repeats a run on its non-ok nodes only,
//! history's `r` puts the command on the prompt, and the `!` prompt shows what
//! it will hit.

use crate::common;

use common::{local_engine, names, temp_store};
use drover::app::tui::console::Control;
use drover::app::tui::headless::Headless;
use drover::app::tui::input::BarKind;
use drover::app::tui::overlay::Overlay;
use drover::app::tui::state::AppState;
use drover::engine::{EngineConfig, ExecutionStatus, NodeStatus};
use drover::store::Store;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

fn console(nodes: usize) -> (tempfile::TempDir, Headless) {
    sized(nodes, 120)
}

/// At 140 columns the inventory pane is as wide as it gets (40).
fn sized(nodes: usize, width: u16) -> (tempfile::TempDir, Headless) {
    let (dir, store) = temp_store();
    let engine = local_engine(
        &names("web0", nodes),
        EngineConfig::default(),
        Some(store.writer()),
    )
    .with_store(store.clone());
    (dir, Headless::new(engine, width, 30))
}

/// The newest run ended, and `runs` runs are shown.
fn ended(runs: usize) -> impl Fn(&AppState) -> bool {
    move |s| {
        s.progress.runs.len() == runs
            && s.progress
                .runs
                .front()
                .is_some_and(|r| !r.running() && r.status != ExecutionStatus::Queued)
    }
}

fn status(h: &Headless) -> String {
    h.state().status.clone().map(|(_, t)| t).unwrap_or_default()
}

/// Every node of the newest run has printed its first line.
fn all_started(s: &AppState) -> bool {
    s.output
        .run
        .as_ref()
        .is_some_and(|r| r.nodes.iter().all(|n| !n.lines.is_empty()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_cancels_the_run_and_with_nothing_running_says_how_to_quit() {
    let (_dir, mut h) = console(2);
    assert_eq!(h.keys("<ctrl-c>").unwrap(), Control::Continue);
    assert!(!h.state().quit);
    assert_eq!(status(&h), "nothing running — q or :q quits");

    h.keys("<space>!echo started; sleep 30<enter>").unwrap();
    h.until(LIMIT, all_started).await.unwrap();
    assert_eq!(h.keys("<ctrl-c>").unwrap(), Control::Continue);
    h.until(LIMIT, ended(1)).await.unwrap();
    let run = &h.state().progress.runs[0];
    assert_eq!(run.status, ExecutionStatus::Cancelled);
    assert!(
        run.nodes.iter().all(|n| n.status == NodeStatus::Cancelled),
        "{:?}",
        run.nodes
    );
    // The output so far is kept, and the console is still open.
    let screen = h.screen();
    assert!(screen.contains("started"), "{screen}");
    assert!(!h.state().quit);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn q_asks_while_a_run_is_in_flight_and_quits_at_once_otherwise() {
    let (_dir, mut h) = console(1);
    h.keys("<space>!echo started; sleep 30<enter>").unwrap();
    h.until(LIMIT, all_started).await.unwrap();
    assert_eq!(h.keys("q").unwrap(), Control::Continue);
    assert!(
        matches!(h.state().overlays.last(), Some(Overlay::ConfirmQuit { running }) if running == "1 run"),
        "{}",
        h.screen()
    );
    assert!(h.screen().contains("Quit anyway?"));
    h.keys("n").unwrap();
    assert!(h.state().overlays.is_empty());
    assert!(!h.state().quit);
    assert!(
        h.state().progress.runs[0].running(),
        "staying keeps the run"
    );
    // `:q` asks too; `y` quits.
    assert_eq!(h.keys(":q<enter>").unwrap(), Control::Continue);
    assert!(matches!(
        h.state().overlays.last(),
        Some(Overlay::ConfirmQuit { .. })
    ));
    assert_eq!(h.keys("y").unwrap(), Control::Quit);

    // `:q!` never asks.
    let (_dir, mut h) = console(1);
    h.keys("<space>!sleep 30<enter>").unwrap();
    h.until(LIMIT, |s| s.running_count() == 1).await.unwrap();
    assert_eq!(h.keys(":q!<enter>").unwrap(), Control::Quit);

    // Nothing running: `q` quits at once.
    let (_dir, mut h) = console(1);
    assert_eq!(h.keys("q").unwrap(), Control::Quit);
    assert!(h.state().overlays.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capital_r_reruns_only_the_nodes_that_did_not_succeed() {
    let (dir, mut h) = console(3);
    h.keys("<space>!echo ran-$DROVER_NODE; test $DROVER_NODE != web01<enter>")
        .unwrap();
    h.until(LIMIT, ended(1)).await.unwrap();
    let first = h.state().progress.runs[0].id.0.clone();
    h.keys("R").unwrap();
    h.until(LIMIT, ended(2)).await.unwrap();
    let rerun = &h.state().progress.runs[0];
    let nodes: Vec<&str> = rerun.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(nodes, ["web01"], "only the failed node runs again");
    assert_eq!(
        rerun.command,
        "echo ran-$DROVER_NODE; test $DROVER_NODE != web01"
    );
    let second = rerun.id.0.clone();
    let screen = h.screen();
    assert!(screen.contains("ran-web01"), "{screen}");
    assert!(!screen.contains("ran-web00"), "{screen}");

    let store = Store::open(&dir.path().join("drover.db")).unwrap();
    let (record, _) = store.execution(&second).unwrap().unwrap();
    assert_eq!(record.rerun_of.as_deref(), Some(first.as_str()));
    assert_eq!(record.nodes, ["web01"]);
    let (original, _) = store.execution(&first).unwrap().unwrap();
    assert_eq!(original.rerun_of, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capital_r_with_every_node_ok_runs_nothing_and_says_so() {
    let (_dir, mut h) = console(2);
    h.keys("<space>!true<enter>").unwrap();
    h.until(LIMIT, ended(1)).await.unwrap();
    let id = h.state().progress.runs[0].id.0.clone();
    h.keys("R").unwrap();
    h.until(LIMIT, |s| {
        s.status
            .as_ref()
            .is_some_and(|(_, t)| t.contains("nothing to re-run"))
    })
    .await
    .unwrap();
    assert_eq!(
        status(&h),
        format!("run {id} has no failed nodes: nothing to re-run")
    );
    assert_eq!(h.state().progress.runs.len(), 1, "nothing ran");
    // `:rerun all ID` repeats it on every node it targeted.
    h.keys(&format!(":rerun all {}<enter>", &id[..10])).unwrap();
    h.until(LIMIT, ended(2)).await.unwrap();
    assert_eq!(h.state().progress.runs[0].nodes.len(), 2);
    // An id history does not know is named; nothing runs.
    h.keys(":rerun failed ffffffffffff<enter>").unwrap();
    h.until(LIMIT, |s| {
        s.status
            .as_ref()
            .is_some_and(|(_, t)| t.contains("no run \"ffffffffffff\" in history"))
    })
    .await
    .unwrap();
    assert_eq!(h.state().progress.runs.len(), 2);
    // A bad scope is an error naming it; nothing runs.
    h.keys(":rerun some<enter>").unwrap();
    assert!(
        status(&h).contains("\"some\" is not a re-run scope"),
        "{}",
        status(&h)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_r_puts_the_command_on_the_prompt_instead_of_running_it() {
    let (_dir, mut h) = console(2);
    h.keys("<space>!echo from-history<enter>").unwrap();
    h.until(LIMIT, ended(1)).await.unwrap();
    h.keys("3").unwrap();
    h.until(LIMIT, |s| {
        !s.history.loading && !s.history.records.is_empty()
    })
    .await
    .unwrap();
    h.keys("r").unwrap();
    let bar = h.state().bar.as_ref().expect("the prompt is open");
    assert_eq!(bar.kind, BarKind::Run);
    assert_eq!(bar.text(), "echo from-history");
    assert_eq!(h.state().progress.runs.len(), 1, "nothing ran yet");
    // Edited, then Enter runs it.
    h.keys(" again<enter>").unwrap();
    h.until(LIMIT, ended(2)).await.unwrap();
    assert_eq!(
        h.state().progress.runs[0].command,
        "echo from-history again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_prompt_shows_what_a_run_will_hit_and_a_filter_keeps_the_selection() {
    let (_dir, mut h) = sized(12, 140);
    // Nothing selected: the row under the cursor (the source row) is the target.
    h.keys("!").unwrap();
    let screen = h.screen();
    assert!(screen.contains("(12) · cursor: source test"), "{screen}");
    h.keys("<esc>").unwrap();
    // Select 4 nodes, then filter to others: the 4 stay selected and are hit.
    h.keys("/web0[1-4]<enter>a").unwrap();
    assert_eq!(h.state().inventory.selected_count, 4);
    // (esc clears the first filter; `/` would start from its text)
    h.keys("<esc>/web0[5-9]<enter>").unwrap();
    let screen = h.screen();
    assert!(screen.contains("4 selected, 0 shown"), "{screen}");
    h.keys("!").unwrap();
    let screen = h.screen();
    assert!(screen.contains("→ web[01-04] (4) · selection"), "{screen}");
    h.keys("echo hit<enter>").unwrap();
    h.until(LIMIT, ended(1)).await.unwrap();
    let nodes: Vec<&str> = h.state().progress.runs[0]
        .nodes
        .iter()
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(nodes, ["web01", "web02", "web03", "web04"]);
    // With nothing selected, the node under the cursor is named.
    h.keys("A").unwrap();
    h.keys("<esc>/web07<enter>jj!").unwrap();
    let screen = h.screen();
    assert!(screen.contains("→ web07 (1) · cursor: web07"), "{screen}");
}
