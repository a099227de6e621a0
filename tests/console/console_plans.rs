//! Plans and circuit breakers in the console, driven headless by key strings
//! against real local nodes and a real store: `:plan FILE` runs a diamond and
//! shows every step, a step's output is one enter away, a failing step cancels
//! its dependants, a bad file names file:line, a plan is cancelled from its
//! view, a refused plan says why, and an open breaker badges its node.

use crate::common;

use common::scripted::{ScriptedTransport, Step};
use common::{local_engine, names, scripted_engine, temp_store};
use drover::app::tui::headless::Headless;
use drover::app::tui::state::{AppState, Focus, Level, View};
use drover::config::{RbacConfig, RoleConfig};
use drover::engine::common::request::local_user_name;
use drover::engine::orchestrator::plan_run::StepState;
use drover::engine::resilience::breaker::{BreakerConfig, BreakerState};
use drover::engine::{EngineConfig, ExecutionId};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

fn console(nodes: usize) -> (tempfile::TempDir, Headless) {
    let (dir, store) = temp_store();
    let engine = local_engine(
        &names("web0", nodes),
        EngineConfig::default(),
        Some(store.writer()),
    )
    .with_store(store.clone());
    (dir, Headless::new(engine, 120, 30))
}

fn write_plan(dir: &Path, yaml: &str) -> PathBuf {
    let path = dir.join("plan.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

/// The plan ended and its result (with reasons) reached the console.
fn plan_done(s: &AppState) -> bool {
    s.progress.plan.as_ref().is_some_and(|p| !p.running())
        && s.status
            .as_ref()
            .is_some_and(|(_, t)| t.starts_with("plan ") && t.contains(" of "))
}

fn step_state(s: &AppState, step: &str) -> StepState {
    let plan = s.progress.plan.as_ref().expect("a plan");
    plan.steps.iter().find(|r| r.name == step).unwrap().state
}

const DIAMOND: &str = r#"name: diamond
steps:
  - name: a
    command: echo a-$DROVER_NODE
  - name: b
    depends_on: [a]
    command: echo b-$DROVER_NODE
  - name: c
    depends_on: [a]
    command: echo c-$DROVER_NODE
  - name: d
    depends_on: [b, c]
    command: echo d-$DROVER_NODE
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_diamond_plan_runs_on_the_selection_and_a_steps_output_is_one_enter_away() {
    let (dir, mut h) = console(2);
    let file = write_plan(dir.path(), DIAMOND);
    // The plan names no targets: its steps run on the selection (both nodes).
    h.keys(&format!("<space>:plan {}<enter>", file.display()))
        .unwrap();
    h.until(LIMIT, plan_done).await.unwrap();
    let s = h.state();
    let plan = s.progress.plan.as_ref().unwrap();
    assert_eq!(plan.name, "diamond");
    assert_eq!(plan.state, StepState::Completed);
    let names: Vec<&str> = plan.steps.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "d"], "file order");
    for r in &plan.steps {
        assert_eq!(r.state, StepState::Completed, "{r:?}");
        assert!(r.execution.is_some() && r.duration.is_some(), "{r:?}");
    }
    assert_eq!(plan.progress.completed, 4);
    assert_eq!((s.view, s.focus), (View::Progress, Focus::Main));
    assert_eq!(s.status.as_ref().unwrap().0, Level::Info);
    let screen = h.screen();
    assert!(screen.contains("plan diamond · completed"), "{screen}");
    assert!(
        screen.contains("4/4 steps · 4 completed · 0 failed"),
        "{screen}"
    );
    for step in ["a", "b", "c", "d"] {
        assert!(
            screen
                .lines()
                .any(|l| l.contains(&format!("│{step} ")) && l.contains("completed")),
            "{step}: {screen}"
        );
    }
    // Down to step b, enter: the output pane shows b's execution, read back
    // from the engine's rings.
    let b: ExecutionId = h.state().progress.plan.as_ref().unwrap().steps[1]
        .execution
        .clone()
        .unwrap();
    h.keys("j<enter>").unwrap();
    let shows_b = |s: &AppState| {
        s.output.run.as_ref().is_some_and(|r| {
            r.id == b.0
                && r.nodes
                    .iter()
                    .all(|n| n.lines.iter().any(|l| l.text == format!("b-{}", n.name)))
        })
    };
    h.until(LIMIT, shows_b).await.unwrap();
    assert_eq!(h.state().view, View::Output);
    let screen = h.screen();
    assert!(screen.contains("b-web00"), "{screen}");
    assert!(!screen.contains("d-web00"), "{screen}");
    // 2 goes back to the plan; p switches to the nodes of the run shown (b's).
    h.keys("2").unwrap();
    assert!(h.screen().contains("plan diamond"));
    h.keys("p").unwrap();
    let s = h.state();
    assert!(!s.progress.plan_shown);
    assert_eq!(s.progress.current().unwrap().id, b);
    h.keys("p").unwrap();
    assert!(h.state().progress.plan_shown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_step_is_shown_failed_and_its_dependants_cancelled() {
    let (dir, mut h) = console(1);
    let file = write_plan(
        dir.path(),
        r#"name: breaks
targets: web00
steps:
  - name: a
    command: "true"
  - name: b
    depends_on: [a]
    command: exit 3
  - name: c
    depends_on: [b]
    command: echo never
  - name: d
    depends_on: [a]
    command: echo side
"#,
    );
    // The plan names its own targets: nothing needs selecting.
    h.keys(&format!(":plan {}<enter>", file.display())).unwrap();
    h.until(LIMIT, plan_done).await.unwrap();
    let s = h.state();
    assert_eq!(s.progress.plan.as_ref().unwrap().state, StepState::Failed);
    assert_eq!(step_state(s, "a"), StepState::Completed);
    assert_eq!(step_state(s, "b"), StepState::Failed);
    assert_eq!(step_state(s, "c"), StepState::Cancelled);
    assert_eq!(step_state(s, "d"), StepState::Completed);
    let c = &s.progress.plan.as_ref().unwrap().steps[2];
    assert!(c.execution.is_none(), "a cancelled dependant never ran");
    assert_eq!(c.reason.as_deref(), Some("not run: step b failed"));
    let (level, text) = s.status.clone().unwrap();
    assert_eq!(level, Level::Error);
    assert!(
        text.contains("failed") && text.contains("step b: execution failed"),
        "{text}"
    );
    let screen = h.screen();
    assert!(
        screen.contains("4/4 steps · 2 completed · 1 failed · 1 cancelled"),
        "{screen}"
    );
    assert!(screen.contains("not run: step b failed"), "{screen}");
    // Enter on the step that never ran says so instead of switching.
    h.keys("jj<enter>").unwrap();
    assert_eq!(h.state().view, View::Progress);
    let (_, text) = h.state().status.clone().unwrap();
    assert!(text.contains("step c has not run (cancelled)"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_with_errors_names_file_and_line_and_nothing_runs() {
    let (dir, mut h) = console(1);
    let file = write_plan(
        dir.path(),
        "name: bad\nsteps:\n  - name: a\n    command: echo a\n  - name: b\n    depends_on: [nowhere]\n    command: echo b\n",
    );
    h.keys(&format!("<space>:plan {}<enter>", file.display()))
        .unwrap();
    let errored = |s: &AppState| s.status.as_ref().is_some_and(|(l, _)| *l == Level::Error);
    h.until(LIMIT, errored).await.unwrap();
    let (_, text) = h.state().status.clone().unwrap();
    assert!(
        text.contains(&format!("{}:5", file.display())) && text.contains("nowhere"),
        "{text}"
    );
    assert!(h.state().progress.plan.is_none());
    assert!(h.console.engine.executions().is_empty(), "nothing ran");
    // A file that does not exist is named too; `~` is the home directory.
    h.keys(":plan ~/no-such-plan-here.yaml<enter>").unwrap();
    h.until(LIMIT, |s| {
        s.status
            .as_ref()
            .is_some_and(|(_, t)| t.contains("no-such-plan-here.yaml: cannot read"))
    })
    .await
    .unwrap();
    let (_, text) = h.state().status.clone().unwrap();
    assert!(!text.contains('~'), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cancel_key_in_the_plan_view_cancels_running_and_queued_steps() {
    let (dir, mut h) = console(1);
    let file = write_plan(
        dir.path(),
        r#"name: slow
targets: web00
steps:
  - name: wait
    command: echo waiting; sleep 30
  - name: after
    depends_on: [wait]
    command: echo after
"#,
    );
    h.keys(&format!(":plan {}<enter>", file.display())).unwrap();
    h.until(LIMIT, |s| {
        s.view == View::Progress
            && s.progress.plan.as_ref().is_some_and(|p| {
                p.steps
                    .first()
                    .is_some_and(|r| r.state == StepState::Running)
            })
    })
    .await
    .unwrap();
    // A second plan is refused while this one runs.
    h.keys(&format!(":plan {}<enter>", file.display())).unwrap();
    assert!(
        h.state()
            .status
            .as_ref()
            .unwrap()
            .1
            .contains("still running"),
        "{:?}",
        h.state().status
    );
    // The plan view has focus: ctrl-x cancels the plan, not just the newest run.
    assert_eq!(h.state().focus, Focus::Main);
    h.keys("<ctrl-x>").unwrap();
    h.until(LIMIT, plan_done).await.unwrap();
    let s = h.state();
    assert_eq!(
        s.progress.plan.as_ref().unwrap().state,
        StepState::Cancelled
    );
    assert_eq!(step_state(s, "wait"), StepState::Cancelled);
    assert_eq!(step_state(s, "after"), StepState::Cancelled);
    assert!(
        s.progress.plan.as_ref().unwrap().steps[1]
            .execution
            .is_none()
    );
    assert!(h.screen().contains("plan slow · cancelled"));
    h.keys(":plan cancel<enter>").unwrap();
    assert_eq!(h.state().status.as_ref().unwrap().1, "no plan is running");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_plan_says_permission_denied() {
    let (dir, store) = temp_store();
    let rbac = RbacConfig {
        roles: BTreeMap::from([(
            "commands-only".to_string(),
            RoleConfig {
                capabilities: vec!["command.run".into()],
                ..RoleConfig::default()
            },
        )]),
        users: BTreeMap::from([(local_user_name(), vec!["commands-only".into()])]),
        default_roles: Vec::new(),
    };
    let engine = local_engine(
        &names("web0", 1),
        EngineConfig::default(),
        Some(store.writer()),
    )
    .with_authorizer(Arc::new(rbac.policy().expect("policy")))
    .with_store(store.clone());
    let mut h = Headless::new(engine.clone(), 120, 30);
    let file = write_plan(dir.path(), DIAMOND);
    h.keys(&format!("<space>:plan {}<enter>", file.display()))
        .unwrap();
    h.until(LIMIT, plan_done).await.unwrap();
    let (level, text) = h.state().status.clone().unwrap();
    assert_eq!(level, Level::Error);
    assert!(
        text.contains("permission denied") && text.contains("plan.run"),
        "{text}"
    );
    assert_eq!(step_state(h.state(), "a"), StepState::Failed);
    assert!(engine.executions().is_empty(), "no step started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_breaker_badges_its_node_until_it_closes() {
    let (_dir, store) = temp_store();
    let nodes = names("n", 2);
    // n0 is unreachable once, then answers; n1 always answers.
    let transport = Arc::new(ScriptedTransport::new(HashMap::from([(
        "n0".to_string(),
        vec![Step::unreachable(), Step::exit(0)],
    )])));
    let config = EngineConfig {
        breakers: BreakerConfig {
            failure_threshold: 1,
            // The next run is the probe at once: it closes the breaker.
            reset_timeout: Duration::ZERO,
            ..BreakerConfig::default()
        },
        ..EngineConfig::default()
    };
    let engine =
        scripted_engine(&transport, &nodes, config, Some(store.writer())).with_store(store.clone());
    let mut h = Headless::new(engine, 100, 20);
    h.keys("<space>!true<enter>").unwrap();
    h.until(LIMIT, |s| {
        s.inventory.breaker_of("n0") == Some(BreakerState::Open)
            && s.progress.runs.front().is_some_and(|r| !r.running())
    })
    .await
    .unwrap();
    assert_eq!(h.state().inventory.breaker_of("n1"), None);
    let screen = h.screen();
    let row = |screen: &str, node: &str| {
        let y = screen
            .lines()
            .position(|l| l.contains(&format!("] {node}")))
            .unwrap();
        (y, screen.lines().nth(y).unwrap().to_string())
    };
    let (y0, line) = row(&screen, "n0");
    assert!(line.contains('⊗'), "{line}");
    let (_, line) = row(&screen, "n1");
    assert!(!line.contains('⊗') && line.contains('✓'), "{line}");
    let theme = drover::ui::theme::Theme::get(false);
    let x = screen
        .lines()
        .nth(y0)
        .unwrap()
        .chars()
        .position(|c| c == '⊗')
        .unwrap();
    assert_eq!(h.buffer()[(x as u16, y0 as u16)].fg, theme.breaker);
    // The next run is the probe; it succeeds and the badge goes.
    h.keys("!true<enter>").unwrap();
    h.until(LIMIT, |s| s.inventory.breaker_of("n0").is_none())
        .await
        .unwrap();
    assert!(!h.screen().contains('⊗'));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_picked_steps_output_stays_while_later_steps_start() {
    let (dir, mut h) = console(1);
    let mark = dir.path().join("go");
    let file = write_plan(
        dir.path(),
        &format!(
            r#"name: gated
targets: web00
steps:
  - name: first
    command: echo first
  - name: gate
    depends_on: [first]
    command: for i in $(seq 300); do test -e {mark} && exit 0; sleep 0.1; done; exit 1
  - name: last
    depends_on: [gate]
    command: echo last
"#,
            mark = mark.display()
        ),
    );
    h.keys(&format!(":plan {}<enter>", file.display())).unwrap();
    h.until(LIMIT, |s| {
        s.view == View::Progress
            && s.progress
                .plan
                .as_ref()
                .is_some_and(|p| p.steps.len() == 3 && p.steps[1].state == StepState::Running)
    })
    .await
    .unwrap();
    let first = h.state().progress.plan.as_ref().unwrap().steps[0]
        .execution
        .clone()
        .unwrap();
    // Enter on the first step (the cursor starts there): its output, pinned.
    h.keys("<enter>").unwrap();
    assert_eq!(h.state().output.run.as_ref().unwrap().id, first.0);
    std::fs::write(&mark, "").unwrap();
    h.until(LIMIT, plan_done).await.unwrap();
    assert_eq!(step_state(h.state(), "last"), StepState::Completed);
    let run = h.state().output.run.as_ref().unwrap();
    assert_eq!(run.id, first.0, "the last step did not take the pane");
    assert!(h.screen().contains("first"));
    // A run of the user's own takes the pane again.
    h.keys("<esc><space>!echo mine<enter>").unwrap();
    h.until(LIMIT, |s| {
        s.output
            .run
            .as_ref()
            .is_some_and(|r| r.command == "echo mine")
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_steps_output_keeps_a_failed_node_apart_from_the_same_output() {
    let (dir, mut h) = console(2);
    let file = write_plan(
        dir.path(),
        "name: split\nsteps:\n  - name: a\n    command: echo same-line; test $DROVER_NODE != web01 || exit 3\n",
    );
    h.keys(&format!("<space>:plan {}<enter>", file.display()))
        .unwrap();
    h.until(LIMIT, plan_done).await.unwrap();
    assert_eq!(step_state(h.state(), "a"), StepState::Failed);
    h.keys("<enter>").unwrap();
    h.until(LIMIT, |s| {
        s.output.run.as_ref().is_some_and(|r| {
            r.nodes
                .iter()
                .all(|n| n.lines.iter().any(|l| l.text == "same-line"))
        })
    })
    .await
    .unwrap();
    let screen = h.screen();
    let headers: Vec<&str> = screen
        .lines()
        .filter_map(|l| {
            l.find("── web")
                .map(|i| l[i..].trim_end_matches('│').trim())
        })
        .collect();
    assert_eq!(
        headers,
        ["── web01 (1) exit 3", "── web00 (1) ok"],
        "{screen}"
    );
}
