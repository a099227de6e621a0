//! Plans on local nodes: a diamond whose middle steps run at the same time and
//! whose last step waits for both, failure propagation and `continue_on_failure`,
//! cancellation in the middle of a plan, journal links to the plan run, and
//! `drover plan validate` naming every problem.

use crate::cli_support;
use crate::common;

use common::{LIMIT, ctx, local_engine, names, temp_store};
use drover::engine::orchestrator::plan::Plan;
use drover::engine::orchestrator::plan_run::{self, PlanResult, StepState};
use drover::engine::{EngineConfig, EngineEvent, ExecutionOptions};
use drover::store::EntryType;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn plan(dir: &Path, yaml: &str) -> Plan {
    let path = dir.join("plan.yaml");
    std::fs::write(&path, yaml).unwrap();
    Plan::load(
        &path,
        &[PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/tasks")],
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn state(r: &PlanResult, step: &str) -> StepState {
    r.steps.iter().find(|s| s.name == step).unwrap().state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diamond_runs_the_middle_together_and_the_end_last() {
    let dir = tempfile::tempdir().unwrap();
    let m = |n: &str| dir.path().join(n).display().to_string();
    // b and c each wait for the other's marker: they can only both finish when
    // they run at the same time. d checks that both finished before it started.
    let yaml = format!(
        r#"name: diamond
targets: n0,n1
steps:
  - name: a
    command: touch {a}.$DROVER_NODE
  - name: b
    depends_on: [a]
    command: test -e {a}.$DROVER_NODE && touch {b}.$DROVER_NODE && for i in $(seq 100); do test -e {c}.$DROVER_NODE && exit 0; sleep 0.1; done; exit 1
  - name: c
    depends_on: [a]
    command: touch {c}.$DROVER_NODE && for i in $(seq 100); do test -e {b}.$DROVER_NODE && exit 0; sleep 0.1; done; exit 1
  - name: d
    depends_on: [b, c]
    task: drover::package
    parameters: {{action: status, name: no-such-package-here}}
"#,
        a = m("a"),
        b = m("b"),
        c = m("c"),
    );
    let p = plan(dir.path(), &yaml);
    let (_db, store) = temp_store();
    let engine = local_engine(
        &names("n", 2),
        EngineConfig::default(),
        Some(store.writer()),
    );
    let mut events = engine.subscribe();
    let handle = plan_run::start(&engine, p, ExecutionOptions::default(), None, ctx("u")).unwrap();
    let plan_id = handle.id.clone();
    let r = tokio::time::timeout(LIMIT, handle.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.state, StepState::Completed, "{r:#?}");
    for s in ["a", "b", "c", "d"] {
        assert_eq!(state(&r, s), StepState::Completed, "{s}: {r:#?}");
    }
    let d = r.steps[3].result.as_ref().unwrap();
    assert_eq!(d.nodes[0].value.as_ref().unwrap()["status"], "absent");
    // Order of the step events: each step queued→running→completed, d last.
    let mut order = Vec::new();
    while let Ok(ev) = events.try_recv() {
        if let EngineEvent::PlanStepChanged {
            step,
            state,
            plan,
            progress,
            ..
        } = ev
        {
            assert_eq!(plan, plan_id);
            assert_eq!(progress.total, 4);
            order.push((step, state));
        }
    }
    let pos = |s: &str, st: StepState| order.iter().position(|o| o.0 == s && o.1 == st).unwrap();
    assert!(
        pos("d", StepState::Running) > pos("b", StepState::Completed),
        "{order:?}"
    );
    assert!(
        pos("d", StepState::Running) > pos("c", StepState::Completed),
        "{order:?}"
    );
    assert!(
        pos("b", StepState::Running) > pos("a", StepState::Completed),
        "{order:?}"
    );
    engine.flush().await.unwrap();
    let journal = store.journal("n1", &[EntryType::Package], None).unwrap();
    assert_eq!(journal.len(), 1, "{journal:?}");
    assert_eq!(journal[0].details["plan_run"], plan_id.0.as_str());
    assert_eq!(journal[0].details["step"], "d");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_step_cancels_its_dependents_unless_continued_past() {
    let dir = tempfile::tempdir().unwrap();
    let p = plan(
        dir.path(),
        r#"targets: n0
steps:
  - {name: bad, command: "exit 3"}
  - {name: after_bad, command: "true", depends_on: [bad]}
  - {name: tolerated, command: "exit 4", continue_on_failure: true}
  - {name: after_tolerated, command: "true", depends_on: [tolerated]}
"#,
    );
    let engine = local_engine(&names("n", 1), EngineConfig::default(), None);
    let h = plan_run::start(&engine, p, ExecutionOptions::default(), None, ctx("u")).unwrap();
    let r = tokio::time::timeout(LIMIT, h.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state(&r, "bad"), StepState::Failed);
    assert_eq!(state(&r, "after_bad"), StepState::Cancelled);
    assert!(r.steps[1].execution.is_none(), "never started");
    assert!(
        r.steps[1]
            .reason
            .as_deref()
            .unwrap()
            .contains("step bad failed")
    );
    assert_eq!(state(&r, "tolerated"), StepState::Failed);
    assert_eq!(state(&r, "after_tolerated"), StepState::Completed);
    assert_eq!(r.state, StepState::Failed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_mid_plan_stops_the_running_step_and_skips_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let pid = dir.path().join("pid");
    let p = plan(
        dir.path(),
        &format!(
            r#"targets: n0
steps:
  - {{name: first, command: "true"}}
  - {{name: long, command: "echo $$ > {pid}; exec sleep 60", depends_on: [first]}}
  - {{name: side, command: "exec sleep 60"}}
  - {{name: last, command: "true", depends_on: [long]}}
"#,
            pid = pid.display()
        ),
    );
    let engine = local_engine(&names("n", 1), EngineConfig::default(), None);
    let mut events = engine.subscribe();
    let h = plan_run::start(&engine, p, ExecutionOptions::default(), None, ctx("u")).unwrap();
    tokio::time::timeout(LIMIT, async {
        loop {
            if let Ok(EngineEvent::PlanStepChanged {
                step,
                state: StepState::Running,
                ..
            }) = events.recv().await
                && step == "long"
            {
                break;
            }
        }
    })
    .await
    .expect("step long started");
    h.cancel();
    let r = tokio::time::timeout(LIMIT, h.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.state, StepState::Cancelled, "{r:#?}");
    assert_eq!(state(&r, "first"), StepState::Completed);
    assert_eq!(state(&r, "long"), StepState::Cancelled);
    assert_eq!(state(&r, "side"), StepState::Cancelled);
    assert_eq!(state(&r, "last"), StepState::Cancelled);
    assert!(r.steps[3].execution.is_none(), "queued step never started");
    let long = r.steps[1].result.as_ref().unwrap();
    assert!(
        long.duration < Duration::from_secs(30),
        "sleep was not ended"
    );
}

#[test]
fn validate_names_every_problem_with_file_and_line() {
    let f = cli_support::Fleet::nodes(&["n0"]);
    let path = f.path("bad.yaml");
    std::fs::write(
        &path,
        "steps:\n  - name: a\n    command: x\n    depends_on: [c]\n  - name: b\n    command: y\n    \
         depends_on: [zz]\n  - name: c\n    depends_on: [a]\n    task: drover::package\n    \
         parameters: {action: nope, name: x}\n  - name: e\n    command: z\n    script: s.sh\n",
    )
    .unwrap();
    let p = path.display().to_string();
    let out = f.drover(&["plan", "validate", &p]);
    out.expect(2);
    let err = out.err();
    for want in [
        format!("{p}:8: step c: task drover::package: action: \"nope\" is not one of"),
        format!("{p}:5: step b: depends on unknown step \"zz\""),
        format!("{p}:2: dependency cycle: a -> c -> a"),
        format!("{p}:12: step e: needs exactly one of command, task, script, upload"),
    ] {
        assert!(err.contains(&want), "{want:?} not in:\n{err}");
    }
    let good = f.path("good.yaml");
    std::fs::write(
        &good,
        "steps:\n  - {name: only, command: hostname, targets: n0}\n",
    )
    .unwrap();
    let g = good.display().to_string();
    f.drover(&["plan", "validate", &g]).expect(0);
    let out = f.drover(&["plan", "run", &g]);
    out.expect(0);
    assert!(out.out().contains("only/n0: "), "{out:?}");
    assert!(out.out().contains("plan good: completed"), "{out:?}");
}

/// `drover plan run` stopped by SIGTERM: the running step is cancelled, the step after
/// it never starts, and drover exits 143.
#[test]
fn sigterm_cancels_a_plan_run_and_exits_143() {
    use nix::sys::signal::{Signal, kill};
    let f = cli_support::Fleet::nodes(&["n0"]);
    let after = f.path("after-ran");
    let file = f.path("slow.yaml");
    std::fs::write(
        &file,
        format!(
            "steps:\n  - {{name: slow, command: 'echo started; exec sleep 300', targets: n0}}\n  \
             - {{name: after, command: 'touch {}', targets: n0, depends_on: [slow]}}\n",
            after.display()
        ),
    )
    .unwrap();
    let path = file.display().to_string();
    let mut run = cli_support::Running::start(f.cmd(&["plan", "run", &path]));
    run.expect_line(Duration::from_secs(30), |l| {
        l.contains("step slow: running")
    });
    assert!(cli_support::eventually(Duration::from_secs(10), || {
        f.history(&["--status", "running"]).len() == 1
    }));
    assert!(cli_support::wait_idle(
        run.pid().as_raw(),
        Duration::from_secs(10)
    ));
    let t = std::time::Instant::now();
    kill(run.pid(), Signal::SIGTERM).unwrap();
    let (status, lines, err) = run.wait(Duration::from_secs(30));
    let took = t.elapsed();
    assert_eq!(status.code(), Some(143), "{lines:?} {err}");
    assert!(err.contains("SIGTERM"), "{err}");
    assert!(
        lines.iter().any(|l| l == "plan slow: cancelled"),
        "{lines:?}"
    );
    assert!(!after.exists(), "the next step ran");
    assert!(f.history(&["--status", "running"]).is_empty());
    println!(
        "FAULT-ROW sigterm-plan: exit 143 in {:.2} s, plan cancelled, 0 later steps started, 0 runs left running",
        took.as_secs_f64()
    );
}

/// A second SIGTERM while a plan's cancel waits for a node that ignores TERM: drover
/// leaves at once, exit 143, and the next start records the step's run interrupted.
#[test]
fn a_second_sigterm_leaves_a_plan_run_at_once() {
    use nix::sys::signal::{Signal, kill};
    let f = cli_support::Fleet::nodes(&["n0"]);
    std::fs::create_dir_all(f.path("config/drover")).unwrap();
    std::fs::write(
        f.path("config/drover/config.toml"),
        "[execution]\nkill_grace = \"30s\"\n",
    )
    .unwrap();
    let seen = f.path("term-seen");
    let pidfile = f.path("shell.pid");
    let file = f.path("deaf.yaml");
    std::fs::write(
        &file,
        format!(
            "steps:\n  - {{name: deaf, targets: n0, command: \"trap 'touch {}' TERM; echo $$ > {}; \
             while :; do sleep 1; done\"}}\n",
            seen.display(),
            pidfile.display()
        ),
    )
    .unwrap();
    let path = file.display().to_string();
    let mut guard = cli_support::KillOnDrop::default();
    let mut run = cli_support::Running::start(f.cmd(&["plan", "run", &path]));
    run.expect_line(Duration::from_secs(30), |l| {
        l.contains("step deaf: running")
    });
    let written = || std::fs::read_to_string(&pidfile).is_ok_and(|t| t.ends_with('\n'));
    assert!(cli_support::eventually(Duration::from_secs(10), written));
    // The shell ignores TERM and outlives drover (a local node): the guard ends it.
    guard.group(cli_support::read_pid(&pidfile));
    assert!(cli_support::wait_idle(
        run.pid().as_raw(),
        Duration::from_secs(10)
    ));
    kill(run.pid(), Signal::SIGTERM).unwrap();
    assert!(
        cli_support::eventually(Duration::from_secs(5), || seen.exists()),
        "the cancel never reached the node"
    );
    let t = std::time::Instant::now();
    kill(run.pid(), Signal::SIGTERM).unwrap();
    let (status, _, err) = run.wait(Duration::from_secs(30));
    let took = t.elapsed();
    assert_eq!(status.code(), Some(143), "{err}");
    assert!(err.contains("second SIGTERM"), "{err}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let runs = f.history(&[]);
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["status"], "interrupted", "{runs:?}");
    println!(
        "FAULT-ROW second-sigterm-plan: exit 143 {:.2} s after the second signal, history interrupted at the next start",
        took.as_secs_f64()
    );
}
