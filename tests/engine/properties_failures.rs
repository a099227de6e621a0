//! Seeds properties of failures: 45 (unreachable nodes do not stop the others), 46
//! (overall status), 47 (structured node errors), 48 (a panicking plug-in) and 55
//! (invalid requests are refused before anything runs).

use crate::common;

use common::scripted::{SCRIPTED, STOP_BOUND, ScriptedTransport, Step};
use common::{
    cases, ctx, drain, events, inventory, names, request, runtime, scripted_engine,
    scripted_engine_with, within,
};
use drover::engine::{
    EngineConfig, EngineError, EngineEvent, ErrorCategory, ExecutionOptions, ExecutionStatus, Mode,
    NodeStatus,
};
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// What one node is scripted to do in the status properties.
#[derive(Debug, Clone)]
enum Kind {
    Ok,
    Exit(i32),
    Fail(ErrorCategory, String),
    /// Runs past the request's timeout.
    Hang,
    Panic,
    /// Names a transport nobody registered.
    NoTransport,
}

fn kind() -> impl Strategy<Value = Kind> {
    let category = prop::sample::select(vec![
        ErrorCategory::Connection,
        ErrorCategory::Execution,
        ErrorCategory::Plugin,
        ErrorCategory::Authorization,
    ]);
    prop_oneof![
        3 => Just(Kind::Ok),
        2 => (1i32..256).prop_map(Kind::Exit),
        2 => (category, "[a-z]{3,12}").prop_map(|(c, r)| Kind::Fail(c, r)),
        1 => Just(Kind::Hang),
        1 => Just(Kind::Panic),
        1 => Just(Kind::NoTransport),
    ]
}

fn step(kind: &Kind) -> Step {
    match kind {
        Kind::Ok | Kind::NoTransport => Step::exit(0),
        Kind::Exit(code) => Step::exit(*code),
        Kind::Fail(category, reason) => Step::Fail {
            category: *category,
            reason: reason.clone(),
        },
        Kind::Hang => Step::Hang,
        Kind::Panic => Step::Panic,
    }
}

/// Keeps the scripted panics out of the test output (other panics still print).
fn quiet_scripted_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let msg = info
                .payload()
                .downcast_ref::<String>()
                .map(String::as_str)
                .unwrap_or("");
            if !msg.starts_with("scripted transport panics") {
                previous(info);
            }
        }));
    });
}

/// Engine over `kinds` (node `n<i>` gets `kinds[i]`) plus its transport.
fn engine_for(kinds: &[Kind]) -> (drover::engine::Engine, Arc<ScriptedTransport>, Vec<String>) {
    quiet_scripted_panics();
    let nodes = names("n", kinds.len());
    let transport = Arc::new(ScriptedTransport::uniform(
        nodes.iter().zip(kinds).map(|(n, k)| (n, step(k))),
    ));
    let mut inv = inventory(&nodes, SCRIPTED);
    for (n, k) in nodes.iter().zip(kinds) {
        if matches!(k, Kind::NoTransport) {
            let mut node = drover::engine::Node::local(n, "test");
            node.transport = "nowhere".into();
            inv.add(node);
        }
    }
    let engine = scripted_engine_with(&transport, inv, EngineConfig::default(), None);
    (engine, transport, nodes)
}

const TIMEOUT: Duration = Duration::from_millis(40);

/// A node that answers nothing after its timeout holds the run for the
/// transport's stop bound, no longer, and is not reported as killed.
#[test]
fn a_stopped_node_that_never_answers_ends_unconfirmed_at_the_stop_bound() {
    let nodes = names("n", 2);
    let transport = Arc::new(ScriptedTransport::uniform([
        (&nodes[0], Step::Deaf),
        (&nodes[1], Step::exit(0)),
    ]));
    let engine = scripted_engine(&transport, &nodes, EngineConfig::default(), None);
    let options = ExecutionOptions {
        timeout: Some(TIMEOUT),
        ..Default::default()
    };
    let t = std::time::Instant::now();
    let result = runtime()
        .block_on(common::run(
            &engine,
            request("deaf", &nodes, options),
            ctx("u"),
        ))
        .expect("run");
    let took = t.elapsed();
    assert!(took >= TIMEOUT + STOP_BOUND, "{took:?}");
    assert!(
        took < TIMEOUT + STOP_BOUND + Duration::from_secs(3),
        "{took:?}"
    );
    let deaf = result.node(&nodes[0]).expect("result");
    assert_eq!(deaf.status, NodeStatus::Timeout);
    let reason = &deaf.error.as_ref().expect("error").reason;
    assert!(reason.contains("remote kill unconfirmed"), "{reason}");
    assert!(!reason.contains("were terminated"), "{reason}");
    assert_eq!(
        result.node(&nodes[1]).expect("result").status,
        NodeStatus::Success
    );
}

proptest! {
    #![proptest_config(cases(32))]

    #[test]
    fn property_45_unreachable_nodes_fail_alone(
        unreachable in prop::collection::vec(any::<bool>(), 1..12),
        fanout in 1usize..12,
        sequential in any::<bool>(),
    ) {
        let nodes = names("n", unreachable.len());
        let transport = Arc::new(ScriptedTransport::uniform(nodes.iter().zip(&unreachable)
            .map(|(n, u)| (n, if *u { Step::unreachable() }
                              else { Step::exit_after(0, Duration::from_millis(1)) }))));
        let engine = scripted_engine(&transport, &nodes, EngineConfig::default(), None);
        let mode = if sequential { Mode::Sequential } else { Mode::Parallel };
        let options = ExecutionOptions { fanout, mode, ..Default::default() };
        let result = runtime().block_on(within("run",
            common::run(&engine, request("ping", &nodes, options), ctx("u"))))?.expect("run");
        // Every node was attempted, whatever failed before it.
        let started: HashSet<String> = transport.starts().into_iter().collect();
        prop_assert_eq!(started, nodes.iter().cloned().collect::<HashSet<_>>());
        for (name, u) in nodes.iter().zip(&unreachable) {
            let r = result.node(name).expect("result");
            if *u {
                prop_assert_eq!(r.status, NodeStatus::Failed);
                let e = r.error.as_ref().expect("error");
                prop_assert_eq!(e.category, ErrorCategory::Connection);
                prop_assert_eq!(&e.node, name);
            } else {
                prop_assert_eq!(r.status, NodeStatus::Success);
            }
        }
        let bad = unreachable.iter().filter(|u| **u).count();
        let want = match bad {
            0 => ExecutionStatus::Success,
            b if b == nodes.len() => ExecutionStatus::Failed,
            _ => ExecutionStatus::Partial,
        };
        prop_assert_eq!(result.status, want);
    }

    #[test]
    fn property_46_overall_status_from_node_outcomes(
        kinds in prop::collection::vec(kind(), 1..10),
    ) {
        let (engine, _transport, nodes) = engine_for(&kinds);
        let options = ExecutionOptions { timeout: Some(TIMEOUT), ..Default::default() };
        let result = runtime().block_on(within("run",
            common::run(&engine, request("mix", &nodes, options), ctx("u"))))?.expect("run");
        let ok = kinds.iter().filter(|k| matches!(k, Kind::Ok)).count();
        let timeouts = kinds.iter().filter(|k| matches!(k, Kind::Hang)).count();
        let want = if ok == kinds.len() {
            ExecutionStatus::Success
        } else if ok > 0 {
            ExecutionStatus::Partial
        } else if timeouts == kinds.len() {
            ExecutionStatus::Timeout
        } else {
            ExecutionStatus::Failed
        };
        prop_assert_eq!(result.status, want);
        for (name, k) in nodes.iter().zip(&kinds) {
            let want = match k {
                Kind::Ok => NodeStatus::Success,
                Kind::Hang => NodeStatus::Timeout,
                _ => NodeStatus::Failed,
            };
            prop_assert_eq!(result.node(name).expect("result").status, want, "{}", name);
        }
    }

    #[test]
    fn property_47_node_errors_name_node_category_and_reason(
        kinds in prop::collection::vec(kind(), 1..10),
    ) {
        let (engine, _transport, nodes) = engine_for(&kinds);
        let options = ExecutionOptions { timeout: Some(TIMEOUT), ..Default::default() };
        runtime().block_on(async {
            let (id, mut rx) = within("submit", common::streamed(&engine, request("err", &nodes, options), ctx("u"), 256)).await?.expect("submit");
            let evs = events(&drain(&mut rx).await?);
            let result = within("wait", engine.wait(&id)).await?.expect("wait");
            let snap = engine.snapshot(&id).expect("snapshot");
            for (name, k) in nodes.iter().zip(&kinds) {
                let r = result.node(name).expect("result");
                let finished = evs.iter().find_map(|e| match e {
                    EngineEvent::NodeFinished { node, error, .. } if node == name => Some(error),
                    _ => None,
                }).expect("NodeFinished");
                let snap_err = &snap.nodes.iter().find(|s| &s.name == name).expect("snap").error;
                prop_assert_eq!(finished, &r.error);
                prop_assert_eq!(snap_err, &r.error);
                let (category, needle) = match k {
                    Kind::Ok => {
                        prop_assert!(r.error.is_none(), "{name} succeeded with {:?}", r.error);
                        continue;
                    }
                    Kind::Exit(code) => (ErrorCategory::Execution, code.to_string()),
                    Kind::Fail(c, reason) => (*c, reason.clone()),
                    Kind::Hang => (ErrorCategory::Timeout, "timed out".to_string()),
                    Kind::Panic => (ErrorCategory::Plugin, "panic".to_string()),
                    Kind::NoTransport => (ErrorCategory::Plugin, "nowhere".to_string()),
                };
                let e = r.error.as_ref().ok_or_else(|| TestCaseError::fail(
                    format!("{name} ({k:?}) has no error")))?;
                prop_assert_eq!(&e.node, name);
                prop_assert_eq!(e.category, category, "{}", name);
                prop_assert!(e.reason.contains(&needle), "{name}: {:?} lacks {needle:?}", e.reason);
                let shown = e.to_string();
                prop_assert!(shown.contains(name.as_str()) && shown.contains(category.as_str())
                    && shown.contains(&e.reason), "{shown}");
            }
            Ok(())
        })?;
    }

    #[test]
    fn property_48_plugin_panic_fails_only_that_node(
        panics in prop::collection::vec(any::<bool>(), 1..10),
        fanout in 1usize..10,
    ) {
        let mut panics = panics;
        panics[0] = true;
        let kinds: Vec<Kind> = panics.iter()
            .map(|p| if *p { Kind::Panic } else { Kind::Ok }).collect();
        let (engine, transport, nodes) = engine_for(&kinds);
        let options = ExecutionOptions { fanout, ..Default::default() };
        runtime().block_on(async {
            for round in 0..2 {
                // A second round shows the engine survived the first.
                let result = within("run", common::run(&engine, request("boom", &nodes, options.clone()), ctx("u"))).await?.expect("run");
                for (name, p) in nodes.iter().zip(&panics) {
                    let r = result.node(name).expect("result");
                    if *p {
                        prop_assert_eq!(r.status, NodeStatus::Failed);
                        let e = r.error.as_ref().expect("error");
                        prop_assert_eq!(e.category, ErrorCategory::Plugin);
                        prop_assert_eq!(&e.node, name);
                    } else {
                        prop_assert_eq!(r.status, NodeStatus::Success, "round {}", round);
                    }
                }
                let want = if panics.iter().all(|p| *p) {
                    ExecutionStatus::Failed
                } else {
                    ExecutionStatus::Partial
                };
                prop_assert_eq!(result.status, want);
            }
            Ok(())
        })?;
        prop_assert_eq!(transport.calls(), 2 * nodes.len());
    }
}

/// One bad field of a request, or several.
#[derive(Debug, Clone, Default)]
struct Invalid {
    command: Option<&'static str>,
    targets: Option<&'static str>,
    fanout: Option<usize>,
    timeout: Option<Duration>,
    retries: Option<u32>,
    retry_delay: Option<Duration>,
    bad_env_names: Vec<&'static str>,
    nul_env_values: Vec<&'static str>,
}

fn invalid() -> impl Strategy<Value = Invalid> {
    let o = |s: &[&'static str]| prop::option::of(prop::sample::select(s.to_vec()));
    (
        o(&["", "   ", "\t\n", "echo a\0b"]),
        o(&["", "  "]),
        prop::option::of(prop_oneof![Just(0usize), 65_537usize..10_000_000]),
        prop::option::of(prop_oneof![
            Just(Duration::ZERO),
            (30 * 24 * 3600 + 1u64..400 * 24 * 3600).prop_map(Duration::from_secs),
        ]),
        prop::option::of(101u32..=u32::MAX),
        prop::option::of((3601u64..1_000_000).prop_map(Duration::from_secs)),
        prop::sample::subsequence(vec!["", "1X", "A-B", "A B", "X=1", "é", "9_"], 0..=3),
        prop::sample::subsequence(vec!["OK_A", "OK_B"], 0..=2),
    )
        .prop_map(
            |(command, targets, fanout, timeout, retries, retry_delay, names, nuls)| Invalid {
                command,
                targets,
                fanout,
                timeout,
                retries,
                retry_delay,
                bad_env_names: names,
                nul_env_values: nuls,
            },
        )
        .prop_filter("at least one bad field", |i| {
            i.command.is_some()
                || i.targets.is_some()
                || i.fanout.is_some()
                || i.timeout.is_some()
                || i.retries.is_some()
                || i.retry_delay.is_some()
                || !i.bad_env_names.is_empty()
                || !i.nul_env_values.is_empty()
        })
}

proptest! {
    #![proptest_config(cases(64))]

    #[test]
    fn property_55_invalid_requests_rejected_before_running(
        bad in invalid(),
        entry in 0u8..3,
    ) {
        let nodes = names("n", 3);
        let transport = Arc::new(ScriptedTransport::new(HashMap::new()));
        let engine = scripted_engine(&transport, &nodes, EngineConfig::default(), None);
        let mut env: BTreeMap<String, String> =
            bad.bad_env_names.iter().map(|k| (k.to_string(), "v".to_string())).collect();
        env.extend(bad.nul_env_values.iter().map(|k| (k.to_string(), "a\0b".to_string())));
        env.insert("GOOD".into(), "fine".into());
        let options = ExecutionOptions {
            fanout: bad.fanout.unwrap_or(4),
            timeout: bad.timeout.or(Some(Duration::from_secs(5))),
            retries: bad.retries.unwrap_or(0),
            retry_delay: bad.retry_delay.unwrap_or(Duration::from_millis(10)),
            env,
            ..Default::default()
        };
        let req = drover::engine::ExecutionRequest {
            command: bad.command.unwrap_or("true").to_string(),
            targets: bad.targets.unwrap_or("n0,n1").to_string(),
            options,
        };
        let mut want: Vec<String> = [
            ("command", bad.command.is_some()), ("targets", bad.targets.is_some()),
            ("fanout", bad.fanout.is_some()), ("timeout", bad.timeout.is_some()),
            ("retries", bad.retries.is_some()), ("retry_delay", bad.retry_delay.is_some()),
        ].iter().filter(|(_, b)| *b).map(|(f, _)| f.to_string()).collect();
        want.extend(bad.bad_env_names.iter().chain(&bad.nul_env_values).map(|k| format!("env {k}")));
        runtime().block_on(async {
            let mut sub = engine.subscribe();
            let err = match entry {
                0 => within("submit", common::submit(&engine, req, ctx("u"))).await?.err(),
                1 => within("run", common::run(&engine, req, ctx("u"))).await?.err(),
                _ => within("stream", common::streamed(&engine, req, ctx("u"), 8)).await?.err(),
            };
            let Some(EngineError::Validation(fields)) = err else {
                return Err(TestCaseError::fail(format!("expected Validation, got {err:?}")));
            };
            // Env fields may quote the name (`env "A-B"`); strip quotes to compare.
            let mut got: Vec<String> = fields.iter().map(|f| f.field.replace('"', "")).collect();
            got.sort();
            want.sort();
            prop_assert_eq!(&got, &want);
            prop_assert!(fields.iter().all(|f| !f.reason.trim().is_empty()));
            prop_assert_eq!(transport.calls(), 0);
            prop_assert!(engine.executions().is_empty());
            prop_assert!(sub.try_recv().is_err(), "an event was sent for a refused request");
            // The next event anyone sees belongs to the next valid request.
            let ok = request("true", &nodes, ExecutionOptions::default());
            let id = within("valid run", common::submit(&engine, ok, ctx("u"))).await?.expect("valid");
            let first = within("event", sub.recv()).await?.expect("event");
            let first_is_new = matches!(&first,
                EngineEvent::ExecutionQueued { execution, .. } if *execution == id);
            prop_assert!(first_is_new, "first event {first:?}");
            within("wait", engine.wait(&id)).await?.expect("wait");
            prop_assert_eq!(transport.calls(), nodes.len());
            Ok(())
        })?;
    }
}
