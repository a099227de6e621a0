//! Seeds properties of the orchestrator: 9 (task definitions accepted), 10 (step
//! state machine), 11 (plan progress), 12 (dependency order), 13–14 (parallel and
//! sequential steps), 49 (retries logged), 50 (circuit breakers), 52 (plans stay
//! under the global limit), 54 (plan cancellation), 55–56 (task parameter
//! validation). Plans run over the scripted transport: step i targets node `s{i}`,
//! whose script decides whether the step succeeds.

use crate::common;

use common::scripted::{ScriptedTransport, Step as Script};
use common::{cases, ctx, names, runtime, scripted_engine, within};
use drover::engine::orchestrator::plan::{Plan, Step, StepAction, dependency_problems};
use drover::engine::orchestrator::plan_run::{self, StepState};
use drover::engine::orchestrator::task::{Param, Task};
use drover::engine::orchestrator::task_run;
use drover::engine::orchestrator::types::PType;
use drover::engine::resilience::breaker::{BreakerConfig, Breakers, Verdict};
use drover::engine::{
    EngineConfig, EngineEvent, ErrorCategory, ExecutionOptions, Mode, StreamItem, Submission,
};
use drover::store::EntryType;
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

fn step(i: usize, deps: &[usize], targets: String, mode: Mode) -> Step {
    Step {
        name: format!("step{i}"),
        line: i as u64 + 1,
        action: StepAction::Command("work".into()),
        targets: Some(targets),
        depends_on: deps.iter().map(|d| format!("step{d}")).collect(),
        mode,
        timeout: None,
        retries: 0,
        continue_on_failure: false,
        priority: None,
    }
}

fn plan_of(steps: Vec<Step>) -> Plan {
    Plan {
        name: "p".into(),
        description: None,
        path: "p.yaml".into(),
        targets: None,
        steps,
    }
}

/// A random DAG: each step depends on some earlier ones; `fails[i]` makes step i fail.
fn dag() -> impl Strategy<Value = (Vec<Vec<usize>>, Vec<bool>)> {
    (1usize..7).prop_flat_map(|n| {
        let deps = (0..n)
            .map(|i| proptest::sample::subsequence((0..i).collect::<Vec<_>>(), 0..=i.min(3)))
            .collect::<Vec<_>>();
        (
            deps,
            proptest::collection::vec(prop::bool::weighted(0.2), n),
        )
    })
}

/// (step, state) in the order the plan announced them.
fn step_events(
    rx: &mut tokio::sync::broadcast::Receiver<EngineEvent>,
) -> Vec<(String, StepState, usize)> {
    let mut v = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        if let EngineEvent::PlanStepChanged {
            step,
            state,
            progress,
            ..
        } = ev
        {
            v.push((
                step,
                state,
                progress.completed + progress.failed + progress.cancelled,
            ));
        }
    }
    v
}

fn task_with(params: Vec<(&str, &str, Option<Value>)>) -> Task {
    let mut t = Task::from_script("m::t".into(), "t.sh".into(), EntryType::Task);
    t.params = Some(
        params
            .into_iter()
            .map(|(n, t, default)| Param {
                name: n.into(),
                ptype: PType::parse(t).unwrap(),
                description: None,
                default,
                sensitive: false,
            })
            .collect(),
    );
    t
}

proptest! {
    #![proptest_config(cases(24))]

    #[test]
    fn property_09_valid_task_definitions_are_accepted(
        count in -1000i64..1000,
        name in "[a-z][a-z0-9_-]{0,20}",
        flag in any::<bool>(),
        pick in 0usize..3,
        with_optional in any::<bool>(),
    ) {
        let t = task_with(vec![
            ("count", "Integer", None),
            ("name", "String[1]", None),
            ("flag", "Boolean", None),
            ("level", "Enum[low, mid, high]", None),
            ("note", "Optional[String]", None),
            ("retries", "Integer[0, 5]", Some(json!(2))),
        ]);
        let mut given = Map::new();
        given.insert("count".into(), json!(count));
        given.insert("name".into(), json!(name));
        given.insert("flag".into(), json!(flag));
        given.insert("level".into(), json!(["low", "mid", "high"][pick]));
        if with_optional {
            given.insert("note".into(), json!("n"));
        }
        let params = task_run::validate(&t, &given, false).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(&params["retries"], &json!(2), "default filled in");
        // And the command-line form of the same values means the same thing.
        let pairs: Vec<(String, String)> = given.iter().map(|(k, v)| {
            (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
        }).collect();
        prop_assert_eq!(task_run::coerce_cli(&t, &pairs), given);
    }

    #[test]
    fn property_10_11_12_steps_follow_the_state_machine_in_dependency_order(
        (deps, fails) in dag(),
    ) {
        let n = deps.len();
        let nodes = names("s", n);
        let transport = Arc::new(ScriptedTransport::uniform(
            nodes.iter().zip(&fails).map(|(x, f)| (x, Script::exit(if *f { 1 } else { 0 }))),
        ));
        let engine = scripted_engine(&transport, &nodes, EngineConfig::default(), None);
        let steps = (0..n).map(|i| step(i, &deps[i], nodes[i].clone(), Mode::Parallel)).collect();
        let events = runtime().block_on(async {
            let mut rx = engine.subscribe();
            let h = plan_run::start(&engine, plan_of(steps), ExecutionOptions::default(), None, ctx("u"))
                .expect("plan starts");
            let r = within("plan", h.wait()).await?.expect("plan result");
            prop_assert!(r.steps.iter().all(|s| s.state.is_terminal()));
            Ok(step_events(&mut rx))
        })?;
        let mut seen: HashMap<String, Vec<StepState>> = HashMap::new();
        let mut finished = 0;
        for (s, st, done) in &events {
            let history = seen.entry(s.clone()).or_default();
            // Property 10: queued (implicit) → running → one terminal state, or
            // queued → cancelled when it never ran.
            match (history.last(), st) {
                (None, StepState::Running | StepState::Cancelled) => {}
                (Some(StepState::Running), t) if t.is_terminal() => {}
                other => prop_assert!(false, "step {s}: bad transition {other:?}: {events:?}"),
            }
            history.push(*st);
            if st.is_terminal() {
                finished += 1;
            }
            // Property 11: progress counts exactly the steps finished so far.
            prop_assert_eq!(*done, finished, "{:?}", events);
        }
        prop_assert_eq!(finished, n);
        // Property 12: a step runs only after every dependency completed; a failed
        // dependency means it never runs.
        let pos = |s: &str, st: StepState| events.iter().position(|e| e.0 == s && e.1 == st);
        for (i, mine) in deps.iter().enumerate() {
            let me = format!("step{i}");
            let deps_ok = mine.iter().all(|d| pos(&format!("step{d}"), StepState::Completed).is_some());
            match pos(&me, StepState::Running) {
                Some(started) => {
                    prop_assert!(deps_ok, "{me} ran after a failed dependency");
                    for d in mine {
                        let done = pos(&format!("step{d}"), StepState::Completed).unwrap();
                        prop_assert!(done < started, "{me} started before step{d} completed");
                    }
                }
                None => prop_assert!(!deps_ok, "{me} never ran though its dependencies completed"),
            }
        }
    }

    #[test]
    fn property_12_cycles_and_unknown_dependencies_are_named(n in 2usize..7, extra in 0usize..7) {
        // A ring step0 -> step1 -> ... -> step0, plus one unknown name.
        let mut steps: Vec<Step> = (0..n)
            .map(|i| step(i, &[(i + 1) % n], "x".into(), Mode::Parallel))
            .collect();
        steps[extra % n].depends_on.push("ghost".into());
        let problems = dependency_problems(&steps, &|l| format!("p.yaml:{l}"));
        prop_assert!(problems.iter().any(|p| p.contains("dependency cycle")
            && (0..n).all(|i| p.contains(&format!("step{i}")))), "{:?}", problems);
        prop_assert!(problems.iter().any(|p| p.contains(&format!("step step{}: depends on unknown step \"ghost\"", extra % n))), "{:?}", problems);
    }

    #[test]
    fn property_13_independent_steps_run_concurrently(k in 2usize..5) {
        // Every step's node waits on a barrier of k parties: the plan can only
        // finish if all k steps were running at once.
        let nodes = names("s", k);
        let transport = Arc::new(
            ScriptedTransport::uniform(nodes.iter().map(|x| (x, Script::exit(0)))).with_barrier(k),
        );
        let engine = scripted_engine(&transport, &nodes, EngineConfig::default(), None);
        let steps = (0..k).map(|i| step(i, &[], nodes[i].clone(), Mode::Parallel)).collect();
        runtime().block_on(async {
            let h = plan_run::start(&engine, plan_of(steps), ExecutionOptions::default(), None, ctx("u")).unwrap();
            let r = within("plan", h.wait()).await?.unwrap();
            prop_assert_eq!(r.state, StepState::Completed);
            Ok(())
        })?;
        prop_assert_eq!(transport.max_in_flight(), k);
    }

    #[test]
    fn property_14_sequential_step_runs_nodes_in_target_order(n in 2usize..6) {
        let nodes = names("s", n);
        let transport = Arc::new(ScriptedTransport::uniform(
            nodes.iter().map(|x| (x, Script::exit_after(0, Duration::from_millis(2)))),
        ));
        let engine = scripted_engine(&transport, &nodes, EngineConfig::default(), None);
        let mut reversed = nodes.clone();
        reversed.reverse();
        let steps = vec![step(0, &[], reversed.join(","), Mode::Sequential)];
        runtime().block_on(async {
            let h = plan_run::start(&engine, plan_of(steps), ExecutionOptions::default(), None, ctx("u")).unwrap();
            within("plan", h.wait()).await?.unwrap();
            Ok::<_, TestCaseError>(())
        })?;
        prop_assert_eq!(transport.starts(), reversed);
        prop_assert_eq!(transport.max_in_flight(), 1);
    }

    #[test]
    fn property_49_retries_follow_configured_categories_and_are_logged(
        retries in 0u32..4,
        retry_connection in any::<bool>(),
    ) {
        let nodes = names("s", 1);
        let transport = Arc::new(ScriptedTransport::uniform(nodes.iter().map(|x| (x, Script::unreachable()))));
        let retry_on = if retry_connection { vec![ErrorCategory::Connection] } else { vec![ErrorCategory::Timeout] };
        let config = EngineConfig { retry_on, ..EngineConfig::default() };
        let engine = scripted_engine(&transport, &nodes, config, None);
        let options = ExecutionOptions { retries, retry_delay: Duration::from_millis(1), ..Default::default() };
        let items = runtime().block_on(async {
            let (_, mut rx) = common::streamed(&engine, common::request("x", &nodes, options), ctx("u"), 64)
                .await
                .expect("accepted");
            common::drain(&mut rx).await
        })?;
        let attempts: Vec<u32> = items.iter().filter_map(|i| match i {
            StreamItem::Event(EngineEvent::RetryAttempt { attempt, max_attempts, .. }) => {
                assert_eq!(*max_attempts, retries + 1);
                Some(*attempt)
            }
            _ => None,
        }).collect();
        let want: Vec<u32> = if retry_connection { (2..=retries + 1).collect() } else { vec![] };
        prop_assert_eq!(attempts, want);
        prop_assert_eq!(transport.calls(), if retry_connection { retries as usize + 1 } else { 1 });
    }

    #[test]
    fn property_50_breaker_opens_at_the_threshold_and_rejects(
        threshold in 1u32..6,
        verdicts in proptest::collection::vec(any::<bool>(), 1..30),
    ) {
        let b = Arc::new(Breakers::new(BreakerConfig {
            failure_threshold: threshold,
            transport_failure_threshold: 0,
            reset_timeout: Duration::from_secs(3600),
            ..BreakerConfig::default()
        }));
        // Model: consecutive failures; open (for the rest of the case) at threshold.
        let mut consecutive = 0;
        let mut open = false;
        for ok in verdicts {
            let (admitted, _) = b.admit("n", "t");
            prop_assert_eq!(admitted.is_err(), open);
            let Ok(a) = admitted else { continue };
            let changes = a.record(if ok { Verdict::Success } else { Verdict::Failure });
            consecutive = if ok { 0 } else { consecutive + 1 };
            let opens = consecutive >= threshold;
            prop_assert_eq!(changes.len(), usize::from(opens), "{:?}", changes);
            open = opens;
        }
        let snap = b.snapshot();
        prop_assert_eq!(snap[0].state == drover::engine::resilience::breaker::BreakerState::Open, open);
    }

    #[test]
    fn property_52_plan_steps_share_the_global_limit(
        steps_n in 2usize..5,
        nodes_per_step in 1usize..4,
        global in 1usize..6,
    ) {
        let all = names("s", steps_n * nodes_per_step);
        let k = global.min(all.len());
        let transport = Arc::new(
            ScriptedTransport::uniform(all.iter().map(|x| (x, Script::exit_after(0, Duration::from_millis(2)))))
                .with_barrier(k),
        );
        let config = EngineConfig { max_concurrency: global, ..EngineConfig::default() };
        let engine = scripted_engine(&transport, &all, config, None);
        let steps = (0..steps_n)
            .map(|i| step(i, &[], all[i * nodes_per_step..(i + 1) * nodes_per_step].join(","), Mode::Parallel))
            .collect();
        runtime().block_on(async {
            let h = plan_run::start(&engine, plan_of(steps), ExecutionOptions::default(), None, ctx("u")).unwrap();
            let r = within("plan", h.wait()).await?.unwrap();
            prop_assert_eq!(r.state, StepState::Completed);
            Ok(())
        })?;
        prop_assert_eq!(transport.max_in_flight(), k);
    }

    #[test]
    fn property_54_cancelling_a_plan_leaves_nothing_running(n in 2usize..6, cut in 0usize..6) {
        // A chain whose step `cut % n` hangs: cancelling ends it and skips the rest.
        let nodes = names("s", n);
        let hang = cut % n;
        let transport = Arc::new(ScriptedTransport::new(
            nodes.iter().enumerate()
                .map(|(i, x)| (x.clone(), vec![if i == hang { Script::Hang } else { Script::exit(0) }]))
                .collect(),
        ));
        let engine = scripted_engine(&transport, &nodes, EngineConfig::default(), None);
        let steps = (0..n)
            .map(|i| step(i, &(0..i).skip(i.saturating_sub(1)).collect::<Vec<_>>(), nodes[i].clone(), Mode::Parallel))
            .collect::<Vec<_>>();
        let hung = format!("step{hang}");
        let r = runtime().block_on(async {
            let mut rx = engine.subscribe();
            let h = plan_run::start(&engine, plan_of(steps), ExecutionOptions::default(), None, ctx("u")).unwrap();
            within("hung step starts", async {
                loop {
                    if let Ok(EngineEvent::PlanStepChanged { step, state: StepState::Running, .. }) = rx.recv().await
                        && step == hung { break; }
                }
            }).await?;
            h.cancel();
            within("plan", h.wait()).await.map(|r| r.unwrap())
        })?;
        prop_assert_eq!(r.state, StepState::Cancelled);
        for (i, s) in r.steps.iter().enumerate() {
            let want = if i < hang { StepState::Completed } else { StepState::Cancelled };
            prop_assert_eq!(s.state, want, "{}", s.name);
            prop_assert_eq!(s.execution.is_some(), i <= hang, "{}", s.name);
        }
    }

    #[test]
    fn property_55_56_invalid_parameters_are_all_named_before_running(
        missing in any::<bool>(),
        mistyped in any::<bool>(),
        out_of_enum in any::<bool>(),
        unknown in any::<bool>(),
    ) {
        prop_assume!(missing || mistyped || out_of_enum || unknown);
        let t = task_with(vec![
            ("name", "String", None),
            ("count", "Integer", Some(json!(1))),
            ("level", "Enum[low, high]", Some(json!("low"))),
        ]);
        let mut given = Map::new();
        if !missing { given.insert("name".into(), json!("x")); }
        if mistyped { given.insert("count".into(), json!("many")); }
        if out_of_enum { given.insert("level".into(), json!("extreme")); }
        if unknown { given.insert("colour".into(), json!("red")); }
        let errors = task_run::validate(&t, &given, false).expect_err("invalid");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        let mut want = Vec::new();
        if unknown { want.push("colour"); }
        if mistyped { want.push("count"); }
        if out_of_enum { want.push("level"); }
        if missing { want.push("name"); }
        let mut sorted = fields.clone();
        sorted.sort();
        prop_assert_eq!(sorted, want);
        for e in &errors {
            let why = match e.field.as_str() {
                "name" => "is required (String) and missing",
                "count" => "expects Integer, got String \"many\"",
                "level" => "\"extreme\" is not one of low, high",
                _ => "not a parameter of m::t (accepted: name, count, level)",
            };
            prop_assert_eq!(e.reason.as_str(), why);
        }
    }
}

#[test]
fn idempotency_key_returns_the_execution_while_running_and_within_the_window() {
    let nodes = names("s", 1);
    for window in [Duration::ZERO, Duration::from_secs(600)] {
        let transport = Arc::new(ScriptedTransport::uniform(
            nodes.iter().map(|x| (x, Script::Gated { code: 0 })),
        ));
        let config = EngineConfig {
            idempotency_window: window,
            ..EngineConfig::default()
        };
        let engine = scripted_engine(&transport, &nodes, config, None);
        let req = || common::request("x", &nodes, ExecutionOptions::default());
        runtime().block_on(async {
            let once = |key: &str| {
                let submission = Submission::request(req())
                    .as_user(ctx("u"))
                    .key(Some(key.to_string()));
                let engine = engine.clone();
                async move {
                    let s = engine.submit(submission).await.unwrap();
                    (s.id, s.earlier.is_none())
                }
            };
            let (first, new) = once("k").await;
            assert!(new);
            let (again, new) = once("k").await;
            assert_eq!((&again, new), (&first, false), "running: same execution");
            let (other, new) = once("other").await;
            assert!(new && other != first);
            transport.release(2);
            engine.wait(&first).await.unwrap();
            engine.wait(&other).await.unwrap();
            let (after, new) = once("k").await;
            if window.is_zero() {
                assert!(new && after != first, "outside the window: runs again");
                transport.release(1);
                engine.wait(&after).await.unwrap();
            } else {
                assert_eq!((&after, new), (&first, false), "within the window");
            }
        });
        assert_eq!(transport.calls(), if window.is_zero() { 3 } else { 2 });
    }
}

/// A transport's breaker opens after consecutive failures across its nodes,
/// rejects even nodes it never tried with `CircuitOpen`, and each change is
/// journaled (on the engine's pseudo node, as no single node owns it).
#[test]
fn transport_breaker_opens_across_nodes_and_is_journaled() {
    let nodes = names("n", 4);
    let transport = Arc::new(ScriptedTransport::uniform(
        nodes.iter().map(|x| (x, Script::unreachable())),
    ));
    let (dir, store) = common::temp_store();
    let config = EngineConfig {
        breakers: BreakerConfig {
            failure_threshold: 100,
            transport_failure_threshold: 3,
            reset_timeout: Duration::from_secs(3600),
            ..BreakerConfig::default()
        },
        ..EngineConfig::default()
    };
    let engine = scripted_engine(&transport, &nodes, config, Some(store.writer()));
    let sequential = ExecutionOptions {
        mode: Mode::Sequential,
        ..ExecutionOptions::default()
    };
    runtime().block_on(async {
        let r = common::run(
            &engine,
            common::request("x", &nodes[..3], sequential.clone()),
            ctx("u"),
        )
        .await
        .expect("run");
        assert!(
            r.nodes
                .iter()
                .all(|n| n.error.as_ref().unwrap().category == ErrorCategory::Connection)
        );
        let r = common::run(
            &engine,
            common::request("x", &nodes[3..], sequential),
            ctx("u"),
        )
        .await
        .expect("run");
        let err = r.nodes[0].error.as_ref().expect("rejected");
        assert_eq!(err.category, ErrorCategory::CircuitOpen, "{err:?}");
        engine.flush().await.expect("flush");
    });
    assert_eq!(transport.calls(), 3, "the fourth node was never contacted");
    let journal = store
        .journal("drover", &[EntryType::Event], None)
        .expect("journal");
    assert_eq!(journal.len(), 1, "{journal:?}");
    assert_eq!(
        journal[0].action,
        "circuit breaker of transport scripted open"
    );
    assert_eq!(journal[0].details["scope"], "transport");
    drop(dir);
}
