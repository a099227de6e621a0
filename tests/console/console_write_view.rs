//! `w` and `:write` in the console, headless against real local nodes and a
//! real store: the file holds the output pane's text lines (folded and per
//! node), `--json` one object per node, an existing file is kept unless
//! `:write!`, and a missing directory is named on the status line.

use crate::common;

use common::{local_engine, names, temp_store};
use drover::app::tui::headless::Headless;
use drover::app::tui::input::BarKind;
use drover::app::tui::state::{AppState, Level};
use drover::engine::{EngineConfig, ExecutionStatus};
use std::path::Path;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

fn finished(s: &AppState) -> bool {
    s.progress
        .runs
        .front()
        .is_some_and(|r| !r.running() && r.status != ExecutionStatus::Queued)
}

/// Three nodes; web01 prints something else, web02 fails; all print stderr
/// and colours (which the file must not keep as escapes).
async fn ran(store: drover::store::Store) -> Headless {
    let engine = local_engine(
        &names("web0", 3),
        EngineConfig::default(),
        Some(store.writer()),
    )
    .with_store(store.clone());
    let mut h = Headless::new(engine, 120, 60);
    h.keys("<space>").unwrap();
    h.keys(
        r":run echo common; printf '\033[31mred\033[0m\n'; echo warn >&2; [ $DROVER_NODE = web01 ] && echo odd; [ $DROVER_NODE != web02 ]<enter>",
    )
    .unwrap();
    h.until(LIMIT, finished).await.unwrap();
    h.keys("<tab>").unwrap();
    h
}

/// The output pane's rows on screen, without borders: the text between the
/// main pane's side borders, from under its title to its bottom border.
fn pane_rows(screen: &str) -> Vec<String> {
    let rows: Vec<&str> = screen.lines().collect();
    let top = rows
        .iter()
        .position(|r| r.contains("1:Output"))
        .expect("the output pane's title");
    let mut out: Vec<String> = rows[top + 1..]
        .iter()
        .take_while(|r| r.split('│').count() >= 4)
        .map(|r| r.split('│').nth(3).unwrap_or("").trim_end().to_string())
        .collect();
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out
}

async fn write(h: &mut Headless, command: &str) -> (Level, String) {
    h.state_mut().status = None;
    h.keys(&format!(":{command}<enter>")).unwrap();
    h.until(LIMIT, |s| s.status.is_some()).await.unwrap();
    h.state().status.clone().unwrap()
}

fn file_rows(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("written file");
    assert!(!text.contains('\x1b'), "escape sequences in {text:?}");
    text.lines().map(|l| l.trim_end().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_written_file_is_the_pane_folded_and_per_node() {
    let (dir, store) = temp_store();
    let mut h = ran(store).await;
    let folded = dir.path().join("folded.txt");
    let status = write(&mut h, &format!("write {}", folded.display())).await;
    let rows = file_rows(&folded);
    assert_eq!(
        status,
        (
            Level::Info,
            format!("wrote {} lines to {}", rows.len(), folded.display())
        )
    );
    let screen = h.screen();
    assert_eq!(rows, pane_rows(&screen), "{screen}");
    assert!(rows.contains(&"── web00 (1) ok".to_string()), "{rows:#?}");
    assert!(rows.iter().any(|r| r.starts_with("── web02 (1) exit")));
    assert!(rows.contains(&"! warn".to_string()), "{rows:#?}");
    assert!(rows.contains(&"  red".to_string()), "{rows:#?}");

    h.keys("f").unwrap();
    let per_node = dir.path().join("per-node.txt");
    let (level, _) = write(&mut h, &format!("write {}", per_node.display())).await;
    assert_eq!(level, Level::Info);
    let rows = file_rows(&per_node);
    let screen = h.screen();
    assert_eq!(rows, pane_rows(&screen), "{screen}");
    for line in ["  web01: odd", "! web02: warn", "  web00: common"] {
        assert!(rows.contains(&line.to_string()), "{line}: {rows:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_file_is_kept_unless_write_bang_and_a_missing_directory_is_named() {
    let (dir, store) = temp_store();
    let mut h = ran(store).await;
    let path = dir.path().join("out.txt");
    std::fs::write(&path, "precious\n").unwrap();
    let (level, text) = write(&mut h, &format!("write {}", path.display())).await;
    assert_eq!(level, Level::Error);
    assert!(
        text.contains(&path.display().to_string()) && text.contains("exists"),
        "{text}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious\n");

    let (level, text) = write(&mut h, &format!("write! {}", path.display())).await;
    assert_eq!(level, Level::Info, "{text}");
    assert!(file_rows(&path).iter().any(|r| r.contains("common")));

    let missing = dir.path().join("no-such-dir").join("x.txt");
    let (level, text) = write(&mut h, &format!("write {}", missing.display())).await;
    assert_eq!(level, Level::Error);
    assert!(
        text.contains(&missing.display().to_string()) && text.contains("does not exist"),
        "{text}"
    );
    assert!(!missing.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_holds_one_object_per_node_with_its_status_and_streams() {
    let (dir, store) = temp_store();
    let mut h = ran(store).await;
    let path = dir.path().join("out.json");
    let (level, text) = write(&mut h, &format!("write --json {}", path.display())).await;
    assert_eq!(
        (level, text.as_str()),
        (
            Level::Info,
            &*format!("wrote 3 lines to {}", path.display())
        )
    );
    let objects: Vec<serde_json::Value> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let summary: Vec<(String, String, Option<i64>)> = objects
        .iter()
        .map(|o| {
            (
                o["node"].as_str().unwrap().to_string(),
                o["status"].as_str().unwrap().to_string(),
                o["exit_code"].as_i64(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("web00".into(), "success".into(), Some(0)),
            ("web01".into(), "success".into(), Some(0)),
            ("web02".into(), "failed".into(), Some(1)),
        ]
    );
    assert_eq!(
        objects[1]["stdout"],
        serde_json::json!(["common", "red", "odd"])
    );
    assert_eq!(objects[1]["stderr"], serde_json::json!(["warn"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w_offers_a_name_from_the_run_id_and_without_output_says_so() {
    let (_dir, store) = temp_store();
    let engine = local_engine(
        &names("web0", 1),
        EngineConfig::default(),
        Some(store.writer()),
    )
    .with_store(store.clone());
    let mut h = Headless::new(engine, 100, 30);
    h.keys("<tab>w").unwrap();
    assert!(h.state().bar.is_none());
    let status = h.state().status.clone().unwrap();
    assert_eq!(status.0, Level::Error, "{status:?}");
    assert!(status.1.contains("no output"), "{status:?}");
    drop(h);

    let (_dir2, store) = temp_store();
    let mut h = ran(store).await;
    h.keys("w").unwrap();
    let id = h.state().output.run.as_ref().unwrap().id.clone();
    let bar = h.state().bar.as_ref().expect("the file name prompt");
    assert_eq!(bar.kind, BarKind::Write);
    assert_eq!(bar.text(), format!("drover-{}.txt", &id[..8]));
    assert!(h.screen().contains("write to> drover-"));
    h.keys("<esc>").unwrap();
    assert!(h.state().bar.is_none());
}

/// A replay of a run kept as head and tail says, where the gap is, how much
/// was not stored; the written view keeps that line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_marks_what_history_did_not_store_and_the_file_keeps_it() {
    let (dir, store) = temp_store();
    let engine = local_engine(
        &names("web0", 1),
        EngineConfig::default(),
        Some(store.writer()),
    )
    .with_store(store.clone());
    let mut h = Headless::new(engine, 120, 60);
    h.keys("<space>:run seq 1 100000<enter>").unwrap();
    h.until(LIMIT, finished).await.unwrap();
    let id = h.state().output.run.as_ref().unwrap().id.clone();
    h.keys(&format!(":history {id}<enter>")).unwrap();
    h.until(LIMIT, |s| s.output.run.as_ref().is_some_and(|r| r.replay))
        .await
        .unwrap();
    let notice = "  … 574.9 KiB (588,723 bytes) not stored; run with --debug to keep everything";
    let path = dir.path().join("replay.txt");
    let (level, text) = write(&mut h, &format!("write {}", path.display())).await;
    assert_eq!(level, Level::Info, "{text}");
    let rows = file_rows(&path);
    let at = rows.iter().position(|r| r == notice).expect("the notice");
    assert_eq!(
        (rows[at - 1].as_str(), rows[at + 1].as_str()),
        ("  20", "  99981")
    );
    assert_eq!(rows.len(), 1 + 20 + 1 + 20, "{rows:#?}");
    h.keys("g").unwrap();
    assert!(pane_rows(&h.screen()).contains(&notice.to_string()));
}
