//! The console driven headless by key strings against real local nodes and a
//! real store: select, run, folded output, replay from history, journal notes,
//! prompts, confirmation, filter, and every terminal size without a panic.

use crate::common;

use common::{local_engine, names, temp_store};
use drover::app::tui::headless::Headless;
use drover::app::tui::overlay::Overlay;
use drover::app::tui::state::{AppState, View};
use drover::engine::transport::interaction::{Answer, Interaction, Question};
use drover::engine::{EngineConfig, ExecutionStatus};
use drover::store::EntryType;
use ratatui::style::Color;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

fn finished(s: &AppState) -> bool {
    s.progress
        .runs
        .front()
        .is_some_and(|r| !r.running() && r.status != ExecutionStatus::Queued)
}

fn console(nodes: usize, w: u16, h: u16) -> (tempfile::TempDir, Headless) {
    let (dir, store) = temp_store();
    let engine = local_engine(
        &names("web0", nodes),
        EngineConfig::default(),
        Some(store.writer()),
    )
    .with_store(store.clone());
    (dir, Headless::new(engine, w, h))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn select_run_and_see_identical_output_folded() {
    let (_dir, mut h) = console(3, 100, 30);
    // Cursor on the source row: space selects every node under it.
    h.keys("<space>").unwrap();
    assert_eq!(h.state().inventory.selected_count, 3);
    h.keys("!echo same<enter>").unwrap();
    h.until(LIMIT, finished).await.unwrap();
    let screen = h.screen();
    assert!(screen.contains("web[00-02] (3)"), "{screen}");
    assert!(screen.contains("same"), "{screen}");
    assert!(screen.contains("3/3 done"), "{screen}");
    // Badges in the tree.
    assert_eq!(screen.matches('✓').count(), 3, "{screen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diverging_output_regroups_and_per_node_view_shows_each() {
    let (_dir, mut h) = console(3, 100, 30);
    h.keys("<space>").unwrap();
    h.keys(":run echo common; [ $DROVER_NODE = web01 ] && echo odd; true<enter>")
        .unwrap();
    h.until(LIMIT, finished).await.unwrap();
    let screen = h.screen();
    assert!(screen.contains("web[00,02] (2)"), "{screen}");
    assert!(screen.contains("web01 (1)"), "{screen}");
    // Focus the output, switch to one block per node, and diff.
    h.keys("<tab>f").unwrap();
    let screen = h.screen();
    for n in ["web00 (1)", "web01 (1)", "web02 (1)"] {
        assert!(screen.contains(n), "{n}\n{screen}");
    }
    h.keys("g]d").unwrap();
    assert!(
        matches!(h.state().overlays.last(), Some(Overlay::Diff { lines, .. }) if lines.iter().any(|(s, t)| *s == '+' && t == "odd")),
        "{}",
        h.screen()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_output_never_reaches_the_terminal_but_colours_do() {
    let (_dir, mut h) = console(1, 80, 20);
    h.keys("<space>").unwrap();
    h.keys(r"!printf '\033]0;pwned\007\033[2J\033[10;1Hx\033[31mred\033[0m\n'<enter>")
        .unwrap();
    h.until(LIMIT, finished).await.unwrap();
    let screen = h.screen();
    assert!(screen.contains("red"), "{screen}");
    let buf = h.buffer();
    let mut red = false;
    for cell in buf.content() {
        assert!(
            !cell.symbol().chars().any(|c| c.is_control()),
            "control character {:?} on screen",
            cell.symbol()
        );
        red |= cell.symbol() == "r" && cell.fg == Color::Red;
    }
    assert!(red, "the kept SGR colour is shown\n{screen}");
    // The title sequence's text is swallowed with it (the command line shows it).
    let node = h
        .state()
        .output
        .run
        .as_ref()
        .unwrap()
        .node("web00")
        .unwrap();
    assert_eq!(node.lines[0].text, "x\x1b[31mred\x1b[0m");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_search_replays_a_past_run() {
    let (_dir, mut h) = console(2, 100, 30);
    h.keys("<space>!echo first-run<enter>").unwrap();
    h.until(LIMIT, finished).await.unwrap();
    h.keys("!echo second-run<enter>").unwrap();
    h.until(LIMIT, |s| finished(s) && s.progress.runs.len() == 2)
        .await
        .unwrap();
    h.console.engine.flush().await.unwrap();
    h.keys("3").unwrap();
    assert_eq!(h.state().view, View::History);
    h.until(LIMIT, |s| s.history.records.len() == 2)
        .await
        .unwrap();
    h.keys("/first<enter>").unwrap();
    assert_eq!(h.state().history.matches.len(), 1);
    h.keys("<enter>").unwrap();
    h.until(LIMIT, |s| s.output.run.as_ref().is_some_and(|r| r.replay))
        .await
        .unwrap();
    let screen = h.screen();
    assert!(screen.contains("first-run"), "{screen}");
    assert!(screen.contains("replay"), "{screen}");
    // r puts it on the prompt; enter runs it again: a third run appears.
    h.keys("3").unwrap();
    h.until(LIMIT, |s| !s.history.loading).await.unwrap();
    h.keys("r").unwrap();
    assert_eq!(h.state().progress.runs.len(), 2, "r alone runs nothing");
    h.keys("<enter>").unwrap();
    h.until(LIMIT, |s| s.progress.runs.len() == 3 && finished(s))
        .await
        .unwrap();
    assert_eq!(h.state().progress.runs[0].command, "echo first-run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_note_written_in_the_editor_is_stored() {
    let (dir, mut h) = console(2, 100, 30);
    // Source, group, first node: the cursor goes to web00.
    h.keys("jj").unwrap();
    assert_eq!(h.state().inventory.current_node(), Some("web00"));
    h.keys("J").unwrap();
    assert_eq!(h.state().view, View::Journal);
    h.until(LIMIT, |s| !s.journal.loading).await.unwrap();
    h.keys("ndisk replaced<enter>by ops<ctrl-s>").unwrap();
    h.until(LIMIT, |s| {
        s.journal
            .entries
            .iter()
            .any(|e| e.action == "disk replaced\nby ops")
    })
    .await
    .unwrap();
    let store = drover::store::Store::open(&dir.path().join("drover.db")).unwrap();
    let entries = store.journal("web00", &[EntryType::Manual], None).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, "disk replaced\nby ops");
    assert!(h.screen().contains("disk replaced"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_runs_and_dangerous_commands_ask_first() {
    let (_dir, mut h) = console(60, 100, 30);
    h.keys("<space>!uptime<enter>").unwrap();
    assert!(matches!(
        h.state().overlays.last(),
        Some(Overlay::Confirm { count: 60, .. })
    ));
    assert!(h.screen().contains("60 nodes"));
    h.keys("n").unwrap();
    assert!(h.state().overlays.is_empty());
    assert!(h.state().progress.runs.is_empty(), "declined: nothing ran");
    h.keys("A").unwrap();
    h.keys("jj<space>!rm -rf /tmp/nothing-here<enter>").unwrap();
    assert!(
        matches!(h.state().overlays.last(), Some(Overlay::Confirm { reasons, .. }) if reasons[0].contains("rm -rf"))
    );
    h.keys("<esc>").unwrap();
    assert!(h.state().progress.runs.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_with_a_target_expression_and_errors_name_the_part() {
    let (_dir, mut h) = console(12, 100, 30);
    h.keys("/web0[1-3]<enter>").unwrap();
    let nodes = h
        .state()
        .inventory
        .rows
        .iter()
        .filter(|r| matches!(r, drover::app::tui::inventory::Row::Node(..)))
        .count();
    assert_eq!(nodes, 3);
    h.keys("a").unwrap();
    assert_eq!(h.state().inventory.selected_count, 3);
    h.keys("/nosuch*<enter>").unwrap();
    let status = h.state().status.clone().unwrap().1;
    assert!(status.contains("nosuch"), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_key_question_is_answered_from_a_prompt() {
    let engine = local_engine(&names("n", 1), EngineConfig::default(), None);
    let (interaction, questions) = Headless::interaction();
    let mut h = Headless::with_questions(engine, 100, 30, questions);
    let asked = tokio::spawn(async move {
        interaction
            .ask(Question::UnknownHostKey {
                host: "web01".into(),
                port: 22,
                key_type: "ssh-ed25519".into(),
                fingerprint: "SHA256:abc".into(),
            })
            .await
    });
    h.until(LIMIT, |s| {
        matches!(s.overlays.last(), Some(Overlay::Question { .. }))
    })
    .await
    .unwrap();
    let screen = h.screen();
    assert!(screen.contains("SHA256:abc"), "{screen}");
    h.keys("s").unwrap();
    assert_eq!(asked.await.unwrap(), Some(Answer::AcceptAndSave));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_key_stops_a_running_command() {
    let (_dir, mut h) = console(2, 100, 30);
    h.keys("<space>!echo started; sleep 30<enter>").unwrap();
    h.until(LIMIT, |s| {
        s.output
            .run
            .as_ref()
            .is_some_and(|r| r.nodes.iter().all(|n| !n.lines.is_empty()))
    })
    .await
    .unwrap();
    h.keys("<ctrl-x>").unwrap();
    h.until(LIMIT, finished).await.unwrap();
    assert_eq!(
        h.state().progress.runs[0].status,
        ExecutionStatus::Cancelled
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_size_draws_without_panic_and_small_screens_collapse() {
    let (_dir, mut h) = console(5, 80, 24);
    h.keys("<space>!echo hi<enter>").unwrap();
    h.until(LIMIT, finished).await.unwrap();
    for (w, hgt) in [
        (1, 1),
        (10, 3),
        (20, 5),
        (40, 12),
        (80, 24),
        (59, 30),
        (200, 60),
    ] {
        h.resize(w, hgt);
        let _ = h.screen();
        h.keys("?").unwrap();
        let _ = h.screen();
        h.keys("<esc>").unwrap();
    }
    h.resize(40, 12);
    let _ = h.screen();
    let areas = h.state().areas();
    assert!(
        areas.inventory.is_some() && areas.main.is_none(),
        "narrow: the focused pane only\n{}",
        h.screen()
    );
    h.keys("<tab>").unwrap();
    let areas = h.state().areas();
    assert!(
        areas.main.is_some() && areas.inventory.is_none(),
        "{}",
        h.screen()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_does_not_lose_the_live_run_and_search_highlights() {
    let (_dir, mut h) = console(1, 100, 30);
    h.keys("<space>!echo old-run<enter>").unwrap();
    h.until(LIMIT, finished).await.unwrap();
    h.console.engine.flush().await.unwrap();
    // A live run that prints, waits for a marker file, then prints again.
    let marker = _dir.path().join("go");
    let cmd = format!(
        "!echo live-one; while [ ! -e {} ]; do sleep 0.05; done; echo live-two<enter>",
        marker.display()
    );
    h.keys(&cmd).unwrap();
    h.until(LIMIT, |s| {
        s.output
            .run
            .as_ref()
            .is_some_and(|r| r.nodes[0].lines.iter().any(|l| l.text == "live-one"))
    })
    .await
    .unwrap();
    h.keys("3").unwrap();
    h.until(LIMIT, |s| s.history.records.len() == 2)
        .await
        .unwrap();
    h.keys("G<enter>").unwrap();
    h.until(LIMIT, |s| s.output.run.as_ref().is_some_and(|r| r.replay))
        .await
        .unwrap();
    assert!(h.screen().contains("old-run"));
    std::fs::write(&marker, b"").unwrap();
    h.until(LIMIT, |s| s.progress.runs.len() == 2 && finished(s))
        .await
        .unwrap();
    // Esc leaves the replay: the live run has everything it printed meanwhile.
    h.keys("<esc>").unwrap();
    let screen = h.screen();
    assert!(
        screen.contains("live-one") && screen.contains("live-two"),
        "{screen}"
    );
    h.keys("/two<enter>").unwrap();
    let (x, y) = {
        let text = h.screen();
        let (y, line) = text
            .lines()
            .enumerate()
            .find(|(_, l)| l.contains("│  live-two"))
            .unwrap();
        (
            line[..line.find("two").unwrap()].chars().count() as u16,
            y as u16,
        )
    };
    assert!(
        h.buffer()[(x, y)]
            .modifier
            .contains(ratatui::style::Modifier::REVERSED)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_that_fell_behind_catches_up_from_snapshots_and_rings() {
    let (_dir, store) = temp_store();
    let config = EngineConfig {
        event_capacity: 16,
        ..EngineConfig::default()
    };
    let engine =
        local_engine(&names("n", 40), config, Some(store.writer())).with_store(store.clone());
    let mut h = Headless::new(engine.clone(), 100, 30);
    h.state_mut().options.confirm_above = 100;
    h.keys("<space>!echo out-$DROVER_NODE<enter>").unwrap();
    // Nobody reads events while the run goes: the console's receiver lags.
    let id = loop {
        if let Some(e) = engine.executions().pop() {
            break e.id;
        }
        tokio::task::yield_now().await;
    };
    engine.wait(&id).await.unwrap();
    h.until(LIMIT, finished).await.unwrap();
    let run = &h.state().progress.runs[0];
    assert_eq!(run.progress().completed, 40, "{:?}", run.progress());
    let out = h.state().output.run.as_ref().unwrap();
    for n in &out.nodes {
        assert_eq!(n.lines.len(), 1, "{}: {:?}", n.name, n.lines);
        assert_eq!(n.lines[0].text, format!("out-{}", n.name));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passphrase_prompt_is_masked() {
    let engine = local_engine(&names("n", 1), EngineConfig::default(), None);
    let (interaction, questions) = Headless::interaction();
    let mut h = Headless::with_questions(engine, 100, 30, questions);
    let asked = tokio::spawn(async move {
        interaction
            .ask(Question::Passphrase {
                key_path: "/home/ops/.ssh/id_ed25519".into(),
            })
            .await
    });
    h.until(LIMIT, |s| {
        matches!(s.overlays.last(), Some(Overlay::Question { .. }))
    })
    .await
    .unwrap();
    h.keys("hunter2").unwrap();
    let screen = h.screen();
    assert!(screen.contains("id_ed25519"), "{screen}");
    assert!(!screen.contains("hunter2"), "{screen}");
    assert!(screen.contains("•••••••"), "{screen}");
    h.keys("<enter>").unwrap();
    assert_eq!(
        asked.await.unwrap(),
        Some(Answer::Passphrase("hunter2".into()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inventory_reload_updates_the_tree_keeping_the_selection() {
    use drover::engine::inventory::service::{Loaded, SourceFailure};
    use drover::engine::{Inventory, Node};
    let (_dir, mut h) = console(2, 100, 30);
    h.keys("jj<space>").unwrap();
    assert_eq!(h.state().inventory.selected_count, 1);
    let engine = h.console.engine.clone();
    let mut inv = Inventory::default();
    for n in ["web00", "web01", "web02-new"] {
        inv.add(Node::local(n, "test"));
    }
    engine.apply_inventory(&Loaded {
        inventory: std::sync::Arc::new(inv.clone()),
        failures: vec![SourceFailure {
            source: "broken.yaml".into(),
            reason: "broken.yaml:3: bad indentation".into(),
        }],
    });
    h.until(LIMIT, |s| {
        s.inventory.names.iter().any(|n| n == "web02-new")
    })
    .await
    .unwrap();
    assert_eq!(h.state().inventory.selected_count, 1, "selection kept");
    let (_, status) = h.state().status.clone().unwrap();
    assert!(status.contains("broken.yaml:3"), "{status}");
    assert!(status.contains("runs refused"), "{status}");
    assert!(h.screen().contains("web02-new"));

    // While a source fails, a run is refused (the fleet may be missing nodes).
    h.keys("!echo ran<enter>").unwrap();
    h.until(LIMIT, |s| {
        s.status
            .as_ref()
            .is_some_and(|(_, t)| t.contains("not run"))
    })
    .await
    .unwrap();
    let (_, status) = h.state().status.clone().unwrap();
    assert!(
        status.contains("broken.yaml:3: bad indentation"),
        "{status}"
    );
    assert!(h.state().progress.runs.is_empty());
    // Once the source loads again, the same run goes ahead.
    engine.apply_inventory(&Loaded {
        inventory: std::sync::Arc::new(inv),
        failures: Vec::new(),
    });
    h.until(LIMIT, |s| {
        s.status
            .as_ref()
            .is_some_and(|(_, t)| t.contains("inventory reloaded"))
    })
    .await
    .unwrap();
    h.keys("!echo ran<enter>").unwrap();
    h.until(LIMIT, finished).await.unwrap();
    assert_eq!(h.state().progress.runs.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facts_pane_shows_gathered_facts_with_their_source() {
    let (_dir, mut h) = console(1, 120, 30);
    h.keys("jjF").unwrap();
    assert_eq!(h.state().view, View::Facts);
    h.until(LIMIT, |s| !s.facts.loading).await.unwrap();
    let rows = &h.state().facts.rows;
    let kernel = rows
        .iter()
        .find(|r| r.key == "kernel")
        .expect("kernel fact");
    assert_eq!(kernel.source, "builtin");
    let uname = std::process::Command::new("uname")
        .arg("-r")
        .output()
        .unwrap();
    assert_eq!(kernel.value, String::from_utf8_lossy(&uname.stdout).trim());
    assert!(h.screen().contains("kernel"));
    // r refreshes (asks the providers again).
    h.keys("r").unwrap();
    assert!(h.state().facts.loading);
    h.until(LIMIT, |s| !s.facts.loading).await.unwrap();
    assert!(!h.state().facts.rows.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_runs_from_command_mode_and_bad_parameters_are_refused() {
    let (_dir, mut h) = console(1, 120, 30);
    h.keys("<space>:task drover::package action=explode name=curl<enter>")
        .unwrap();
    h.until(LIMIT, |s| {
        s.status
            .as_ref()
            .is_some_and(|(_, t)| t.contains("not run"))
    })
    .await
    .unwrap();
    let (_, status) = h.state().status.clone().unwrap();
    assert!(status.contains("action"), "{status}");
    assert!(h.state().progress.runs.is_empty());
    h.keys(":task drover::package action=status name=sh<enter>")
        .unwrap();
    h.until(LIMIT, finished).await.unwrap();
    assert_eq!(h.state().progress.runs.len(), 1);
    let screen = h.screen();
    assert!(screen.contains("web00 (1)"), "{screen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_ansible_inventory_select_all_leaves_localhost_and_the_filter_names_its_grammar() {
    use drover::engine::Inventory;
    use drover::engine::inventory::service::Loaded;
    use drover::engine::inventory::{detect, sources::merge_by_priority};
    let (_dir, mut h) = console(1, 120, 30);
    let files = tempfile::tempdir().unwrap();
    let path = files.path().join("hosts.ini");
    std::fs::write(&path, "[web]\nweb02\nweb01\n[db]\ndb1\n").unwrap();
    let merged = merge_by_priority(vec![
        (0, "builtin".into(), Inventory::builtin()),
        (100, "hosts.ini".into(), detect::load_any(&path).unwrap()),
    ]);
    h.console.engine.clone().apply_inventory(&Loaded {
        inventory: std::sync::Arc::new(merged),
        failures: Vec::new(),
    });
    h.until(LIMIT, |s| s.inventory.names.iter().any(|n| n == "db1"))
        .await
        .unwrap();
    assert!(h.state().inventory.names.iter().any(|n| n == "localhost"));
    h.keys("a").unwrap();
    assert_eq!(
        h.state().inventory.selected_count,
        3,
        "localhost is not selected"
    );
    h.keys("A:filter web*:!web01<enter>").unwrap();
    // The pane title (clipped to the pane) shows the grammar before the filter.
    assert!(h.screen().contains("filter [ansible]: w"), "{}", h.screen());
    assert_eq!(
        h.state().inventory.filter.as_ref().unwrap().0,
        "web*:!web01"
    );
    h.keys("a").unwrap();
    // Run targets are an Ansible list: a node set would read as a slice.
    assert_eq!(h.state().inventory.targets().unwrap().0, "web02");
    h.keys(":filter db1,nosuch<enter>").unwrap();
    let status = h.state().status.clone().unwrap().1;
    assert!(status.contains("[ansible]"), "{status}");
    assert!(
        status.contains("Could not match supplied host pattern, ignoring: nosuch"),
        "{status}"
    );
    h.keys(":filter nosuch<enter>").unwrap();
    let status = h.state().status.clone().unwrap().1;
    assert!(
        status.contains("filter [ansible]: no node matched: nosuch"),
        "{status}"
    );
}

/// The output pane's block headers (`── web00 (1) ok`), as drawn.
fn headers(screen: &str) -> Vec<String> {
    screen
        .lines()
        .filter_map(|l| {
            l.find("── web")
                .map(|i| l[i..].trim_end_matches('│').trim().to_string())
        })
        .collect()
}

const SAME_LINE_ONE_FAILS: &str = "echo same-line; test $DROVER_NODE != web01 || exit 3";

/// Two nodes printed the same line and web01 exited 3: it has its own block,
/// headed by its exit code and listed first, and no `ok` header names it.
fn assert_failure_kept_apart(screen: &str) {
    let headers = headers(screen);
    assert_eq!(
        headers,
        ["── web01 (1) exit 3", "── web00 (1) ok"],
        "{screen}"
    );
    let printed = screen
        .lines()
        .filter(|l| l.contains("│  same-line"))
        .count();
    assert_eq!(printed, 2, "{screen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_output_but_one_node_fails_the_failure_is_never_under_ok() {
    let (_dir, mut h) = console(2, 100, 30);
    h.keys(&format!("<space>!{SAME_LINE_ONE_FAILS}<enter>"))
        .unwrap();
    h.until(LIMIT, finished).await.unwrap();
    let screen = h.screen();
    assert_failure_kept_apart(&screen);
    assert!(
        screen.contains("2/2 done · 1 ok · 1 failed · 0 cancelled"),
        "{screen}"
    );
    // The per-node view says the same, node by node.
    h.keys("<tab>f").unwrap();
    let screen = h.screen();
    assert_eq!(
        headers(&screen),
        ["── web00 (1) ok", "── web01 (1) exit 3"],
        "{screen}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_replay_shows_each_nodes_stored_status() {
    let (_dir, mut h) = console(2, 100, 30);
    h.keys(&format!("<space>!{SAME_LINE_ONE_FAILS}<enter>"))
        .unwrap();
    h.until(LIMIT, finished).await.unwrap();
    h.console.engine.flush().await.unwrap();
    h.keys("3").unwrap();
    h.until(LIMIT, |s| s.history.records.len() == 1)
        .await
        .unwrap();
    h.keys("<enter>").unwrap();
    h.until(LIMIT, |s| s.output.run.as_ref().is_some_and(|r| r.replay))
        .await
        .unwrap();
    let screen = h.screen();
    assert!(screen.contains("replay"), "{screen}");
    assert!(!screen.contains("pending"), "{screen}");
    assert_failure_kept_apart(&screen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_id_replays_by_unique_prefix_and_lists_the_runs_an_ambiguous_one_matches() {
    let (_dir, mut h) = console(1, 120, 30);
    h.keys("<space>!echo first-run<enter>").unwrap();
    h.until(LIMIT, finished).await.unwrap();
    h.keys("!echo second-run<enter>").unwrap();
    h.until(LIMIT, |s| finished(s) && s.progress.runs.len() == 2)
        .await
        .unwrap();
    h.console.engine.flush().await.unwrap();
    let (newer, older) = {
        let runs = &h.state().progress.runs;
        (runs[0].id.0.clone(), runs[1].id.0.clone())
    };
    // Ids start with the time, so runs started close together share a prefix.
    let common = newer
        .chars()
        .zip(older.chars())
        .take_while(|(a, b)| a == b)
        .count();
    assert!(common >= 1, "{newer} {older}");
    h.keys(&format!(":history {}<enter>", &older[..common]))
        .unwrap();
    h.until(LIMIT, |s| !s.overlays.is_empty()).await.unwrap();
    match h.state().overlays.last() {
        Some(Overlay::Message { text, .. }) => {
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines.len(), 2, "{text}");
            assert!(lines[0].contains(&older) && lines[0].contains("echo first-run"));
            assert!(lines[1].contains(&newer) && lines[1].contains("echo second-run"));
            assert!(
                lines
                    .iter()
                    .all(|l| l.contains(" UTC ") && l.contains("success"))
            );
        }
        _ => panic!("no list of matching runs\n{}", h.screen()),
    }
    let status = &h.state().status.as_ref().unwrap().1;
    assert!(status.contains("ambiguous"), "{status}");
    assert!(h.state().output.run.as_ref().is_some_and(|r| !r.replay));
    // One more character makes it unique: the older run is replayed.
    h.keys("<esc>").unwrap();
    h.keys(&format!(":history {}<enter>", &older[..common + 1]))
        .unwrap();
    h.until(LIMIT, |s| s.output.run.as_ref().is_some_and(|r| r.replay))
        .await
        .unwrap();
    assert_eq!(h.state().output.run.as_ref().unwrap().id, older);
    assert!(h.screen().contains("first-run"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gauge_counts_running_nodes_and_says_when_an_older_run_is_picked() {
    let (dir, mut h) = console(2, 120, 30);
    h.keys("<space>!echo old<enter>").unwrap();
    h.until(LIMIT, finished).await.unwrap();
    let old = h.state().progress.runs[0].id.0.clone();
    // web01 waits for a marker file: it holds its slot, so it counts as running.
    let marker = dir.path().join("go");
    let cmd = format!(
        "!test $DROVER_NODE = web00 || while [ ! -e {} ]; do sleep 0.05; done<enter>",
        marker.display()
    );
    h.keys(&cmd).unwrap();
    // Both counts, not just the finished node: web01's dispatch may reach the
    // console a moment after web00's end.
    h.until(LIMIT, |s| {
        s.progress.runs.len() == 2
            && s.progress.runs[0].progress().completed == 1
            && s.progress.runs[0].progress().running == 1
    })
    .await
    .unwrap();
    let new = h.state().progress.runs[0].id.0.clone();
    let screen = h.screen();
    assert!(
        screen.contains("1/2 done · 1 ok · 0 failed · 0 cancelled · 1 running"),
        "{screen}"
    );
    assert!(!screen.contains("picked"), "{screen}");
    // In the progress pane ] picks the older run and both titles say so.
    h.keys("2]").unwrap();
    let screen = h.screen();
    assert_eq!(h.state().progress.current().unwrap().id.0, old);
    assert!(
        screen.contains(&format!("picked · newest {} · {}", &new[..8], &old[..8])),
        "{screen}"
    );
    assert!(screen.contains("picked run 2/2"), "{screen}");
    // [ goes back to the newest: no longer a pick.
    h.keys("[").unwrap();
    assert_eq!(h.state().progress.current().unwrap().id.0, new);
    assert!(!h.screen().contains("picked"), "{}", h.screen());
    std::fs::write(&marker, b"").unwrap();
    h.until(LIMIT, finished).await.unwrap();
    assert!(h.screen().contains("2/2 done · 2 ok"), "{}", h.screen());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enter_on_a_journal_entry_replays_its_run() {
    let (_dir, mut h) = console(2, 100, 30);
    h.keys("jjj").unwrap();
    assert_eq!(h.state().inventory.current_node(), Some("web01"));
    h.keys(&format!("<space>!{SAME_LINE_ONE_FAILS}<enter>"))
        .unwrap();
    h.until(LIMIT, finished).await.unwrap();
    let id = h.state().progress.runs[0].id.0.clone();
    h.console.engine.flush().await.unwrap();
    h.keys(":journal web01<enter>").unwrap();
    h.until(LIMIT, |s| {
        !s.journal.loading && !s.journal.entries.is_empty()
    })
    .await
    .unwrap();
    assert_eq!(
        h.state().journal.entries[0].execution_id.as_deref(),
        Some(id.as_str())
    );
    h.keys("g<enter>").unwrap();
    h.until(LIMIT, |s| {
        s.output
            .run
            .as_ref()
            .is_some_and(|r| r.replay && r.id == id)
    })
    .await
    .unwrap();
    assert_eq!(
        headers(&h.screen()),
        ["── web01 (1) exit 3"],
        "{}",
        h.screen()
    );
}
