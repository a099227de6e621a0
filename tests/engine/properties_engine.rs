//! Seeds properties of the execution interface and lifecycle: 1, 2, 3, 10, 11.
//! Nodes run on the scripted transport, so timing is under the test's control.

use crate::common;

use common::scripted::{SCRIPTED, ScriptedTransport, Step};
use common::{
    cases, ctx, drain, events, names, next_matching, request, runtime, scripted_engine,
    scripted_engine_with, target_order, within,
};
use drover::engine::{
    Backoff, EngineConfig, EngineEvent, ErrorCategory, ExecutionOptions, ExecutionStatus,
    Inventory, Mode, Node, NodeResult, NodeStatus, StreamItem,
};
use drover::store::Stream;
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Any options inside the documented bounds. Timeouts stay at a second or more so
/// an instant scripted node cannot time out (and retry) by accident.
fn valid_options() -> impl Strategy<Value = ExecutionOptions> {
    (
        prop::option::of(1u64..=30 * 24 * 3600),
        prop::collection::btree_map("[A-Za-z_][A-Za-z0-9_]{0,10}", "[^\\x00]{0,16}", 0..4),
        1usize..=65_536,
        any::<bool>(),
        0u32..=100,
        any::<bool>(),
        0u64..=3_600_000,
        any::<bool>(),
    )
        .prop_map(
            |(timeout, env, fanout, seq, retries, linear, delay_ms, debug)| ExecutionOptions {
                timeout: timeout.map(Duration::from_secs),
                env,
                fanout,
                mode: if seq {
                    Mode::Sequential
                } else {
                    Mode::Parallel
                },
                retries,
                backoff: if linear {
                    Backoff::Linear
                } else {
                    Backoff::Exponential
                },
                retry_delay: Duration::from_millis(delay_ms),
                debug,
                ..ExecutionOptions::default()
            },
        )
}

#[derive(Debug, Clone)]
enum Targets {
    List(Vec<String>),
    Group,
    All,
}

fn targets_for(n: usize) -> impl Strategy<Value = Targets> {
    prop_oneof![
        target_order(names("n", n)).prop_map(Targets::List),
        Just(Targets::Group),
        Just(Targets::All),
    ]
}

/// What a node result says, without timings.
fn outcome(r: &NodeResult) -> (String, NodeStatus, Option<i32>, String, String, u32) {
    (
        r.node.clone(),
        r.status,
        r.exit_code,
        r.stdout.clone(),
        r.stderr.clone(),
        r.attempts,
    )
}

/// Per node: leading connection failures, then a final step (exit code, or a
/// non-retryable failure when `None`).
fn retry_script() -> impl Strategy<Value = Vec<(usize, Option<i32>)>> {
    prop::collection::vec((0usize..4, prop::option::of(0i32..3)), 1..7)
}

#[derive(Debug, Clone, PartialEq)]
enum NodeEv {
    Started(u32),
    Retry(u32),
    Finished,
    Journal,
}

proptest! {
    #![proptest_config(cases(32))]

    #[test]
    fn property_01_valid_requests_are_accepted(
        (n, web, targets) in (1usize..=9).prop_flat_map(|n| {
            (Just(n), prop::collection::vec(any::<bool>(), n), targets_for(n))
        }),
        command in "[a-zA-Z][^\\x00]{0,30}",
        options in valid_options(),
    ) {
        let all = names("n", n);
        let mut web = web;
        if !web.contains(&true) {
            web[0] = true;
        }
        let mut inv = Inventory::default();
        for (name, in_web) in all.iter().zip(&web) {
            let mut node = Node::local(name, "test");
            node.transport = SCRIPTED.into();
            if *in_web {
                node.groups.push("web".into());
            }
            inv.add(node);
        }
        let (expr, expected) = match &targets {
            Targets::List(v) => (v.join(","), v.clone()),
            Targets::Group => (
                "@web".to_string(),
                all.iter().zip(&web).filter(|(_, w)| **w).map(|(n, _)| n.clone()).collect(),
            ),
            Targets::All => ("all".to_string(), all.clone()),
        };
        let transport = Arc::new(ScriptedTransport::new(HashMap::new()));
        let engine = scripted_engine_with(&transport, inv, EngineConfig::default(), None);
        let req = drover::engine::ExecutionRequest { command, targets: expr, options };
        prop_assert_eq!(req.validate(), Ok(()));
        runtime().block_on(async {
            let id = within("submit", common::submit(&engine, req, ctx("alice"))).await?;
            let id = id.map_err(|e| TestCaseError::fail(format!("rejected: {e}")))?;
            let result = within("wait", engine.wait(&id)).await?.expect("wait");
            let got: Vec<&str> = result.nodes.iter().map(|r| r.node.as_str()).collect();
            prop_assert_eq!(got, expected.iter().map(String::as_str).collect::<Vec<_>>());
            prop_assert!(result.nodes.iter().all(|r| r.status == NodeStatus::Success));
            prop_assert_eq!(result.status, ExecutionStatus::Success);
            Ok(())
        })?;
    }

    #[test]
    fn property_02_sync_and_async_modes_agree(
        scripts in prop::collection::vec((0i32..4, "[a-z0-9 ]{0,12}", "[a-z0-9 ]{0,12}"), 1..8),
        fanout in 1usize..8,
    ) {
        let nodes = names("n", scripts.len());
        let steps = nodes.iter().zip(&scripts).map(|(n, (code, out, err))| {
            (n, Step::Exit { code: *code, stdout: out.clone(), stderr: err.clone(),
                             work: Duration::ZERO })
        });
        let transport = Arc::new(ScriptedTransport::uniform(steps));
        let engine = scripted_engine(&transport, &nodes, EngineConfig::default(), None);
        let options = ExecutionOptions { fanout, ..ExecutionOptions::default() };
        let req = request("work", &nodes, options);
        let expected: Vec<_> = nodes.iter().zip(&scripts).map(|(n, (code, out, err))| {
            let status = if *code == 0 { NodeStatus::Success } else { NodeStatus::Failed };
            (n.clone(), status, Some(*code), out.clone(), err.clone(), 1)
        }).collect();
        runtime().block_on(async {
            // Synchronous: one call, the result at the end.
            let sync = within("run", common::run(&engine, req.clone(), ctx("u"))).await?.expect("run");
            // Asynchronous: an id now, the result later.
            let id = within("submit", common::submit(&engine, req.clone(), ctx("u"))).await?.expect("submit");
            let asynch = within("wait", engine.wait(&id)).await?.expect("wait");
            // Asynchronous with a live stream.
            let (sid, mut rx) = within("submit with a tap",
                common::streamed(&engine, req.clone(), ctx("u"), 64)).await?.expect("stream");
            let items = drain(&mut rx).await?;
            let streamed = within("wait", engine.wait(&sid)).await?.expect("wait");
            prop_assert!(id != sid && id != sync.id);
            for result in [&sync, &asynch, &streamed] {
                let got: Vec<_> = result.nodes.iter().map(outcome).collect();
                prop_assert_eq!(&got, &expected);
            }
            for (node, _, _, out, err, _) in &expected {
                for (stream, want) in [(Stream::Stdout, out), (Stream::Stderr, err)] {
                    let bytes: Vec<u8> = items.iter().filter_map(|i| match i {
                        StreamItem::Output { node: n, stream: s, data }
                            if n == node && *s == stream => Some(data.clone()),
                        _ => None,
                    }).flatten().collect();
                    prop_assert_eq!(String::from_utf8_lossy(&bytes), want.as_str());
                }
            }
            Ok(())
        })?;
    }

    #[test]
    fn property_03_submit_returns_id_before_completion(
        gated in prop::collection::vec(any::<bool>(), 1..8),
        fanout in 1usize..8,
    ) {
        let mut gated = gated;
        gated[0] = true;
        let nodes = names("n", gated.len());
        let steps = nodes.iter().zip(&gated)
            .map(|(n, g)| (n, if *g { Step::Gated { code: 0 } } else { Step::exit(0) }));
        let transport = Arc::new(ScriptedTransport::uniform(steps));
        let engine = scripted_engine(&transport, &nodes, EngineConfig::default(), None);
        let options = ExecutionOptions { fanout, ..ExecutionOptions::default() };
        runtime().block_on(async {
            let mut sub = engine.subscribe();
            // Gated nodes never finish until released below: if submit waited for
            // the execution, this would time out.
            let id = within("submit", common::submit(&engine, request("hold", &nodes, options), ctx("u")))
                .await?.expect("submit");
            let is_gated = |n: &str| nodes.iter().zip(&gated).any(|(m, g)| *g && m == n);
            let started = next_matching(&mut sub, |e| matches!(e,
                EngineEvent::NodeStarted { execution, node, .. }
                    if *execution == id && is_gated(node))).await?;
            let EngineEvent::NodeStarted { node: held, .. } = started else { unreachable!() };
            let snap = engine.snapshot(&id).expect("snapshot of a running execution");
            prop_assert_eq!(snap.status, ExecutionStatus::Running);
            let held_snap = snap.nodes.iter().find(|s| s.name == held).expect("held node");
            prop_assert_eq!(held_snap.status, NodeStatus::Running);
            transport.release(gated.len());
            let result = within("wait", engine.wait(&id)).await?.expect("wait");
            prop_assert_eq!(result.status, ExecutionStatus::Success);
            prop_assert_eq!(result.nodes.len(), nodes.len());
            prop_assert!(result.nodes.iter().all(|r| r.exit_code == Some(0)));
            Ok(())
        })?;
    }

    #[test]
    fn property_10_lifecycle_events_in_order(
        script in retry_script(),
        retries in 0u32..3,
        sequential in any::<bool>(),
        fanout in 1usize..6,
    ) {
        let nodes = names("n", script.len());
        let scripts: HashMap<String, Vec<Step>> = nodes.iter().zip(&script).map(|(n, (f, last))| {
            let mut steps = vec![Step::unreachable(); *f];
            steps.push(match last {
                Some(code) => Step::exit(*code),
                None => Step::Fail { category: ErrorCategory::Execution, reason: "no".into() },
            });
            (n.clone(), steps)
        }).collect();
        let transport = Arc::new(ScriptedTransport::new(scripts));
        let engine = scripted_engine(&transport, &nodes, EngineConfig::default(), None);
        let options = ExecutionOptions {
            fanout,
            mode: if sequential { Mode::Sequential } else { Mode::Parallel },
            retries,
            backoff: Backoff::Linear,
            retry_delay: Duration::from_millis(1),
            ..ExecutionOptions::default()
        };
        runtime().block_on(async {
            let (id, mut rx) = within("submit", common::streamed(&engine, request("life", &nodes, options), ctx("bob"), 256)).await?.expect("submit");
            let evs = events(&drain(&mut rx).await?);
            let result = within("wait", engine.wait(&id)).await?.expect("wait");
            prop_assert!(rx.try_recv().is_err(), "stream items after ExecutionFinished");
            prop_assert!(evs.iter().all(|e| e.execution() == Some(&id)));
            match &evs[0] {
                EngineEvent::ExecutionQueued { nodes: queued, user, correlation_id, action, .. } => {
                    prop_assert_eq!(queued, &nodes);
                    prop_assert_eq!(user, "bob");
                    prop_assert_eq!(correlation_id, "corr-bob");
                    prop_assert_eq!(action, "life");
                }
                other => prop_assert!(false, "first event {other:?}"),
            }
            prop_assert_eq!(&evs[1], &EngineEvent::ExecutionStarted {
                execution: id.clone(), total: nodes.len() });
            let middle = &evs[2..evs.len() - 1];
            let ends_with_result = matches!(evs.last(),
                Some(EngineEvent::ExecutionFinished { status, .. }) if *status == result.status);
            prop_assert!(ends_with_result, "last event {:?}", evs.last());
            let lifecycle_once = middle.iter().all(|e| !matches!(e,
                EngineEvent::ExecutionQueued { .. } | EngineEvent::ExecutionStarted { .. }
                | EngineEvent::ExecutionFinished { .. }));
            prop_assert!(lifecycle_once, "execution lifecycle event among node events");
            for (node, (fails, _)) in nodes.iter().zip(&script) {
                let seen: Vec<NodeEv> = middle.iter().filter_map(|e| match e {
                    EngineEvent::NodeStarted { node: n, attempt, .. } if n == node =>
                        Some(NodeEv::Started(*attempt)),
                    EngineEvent::RetryAttempt { node: n, attempt, .. } if n == node =>
                        Some(NodeEv::Retry(*attempt)),
                    EngineEvent::NodeFinished { node: n, .. } if n == node => Some(NodeEv::Finished),
                    EngineEvent::JournalAppended { node: n, .. } if n == node => Some(NodeEv::Journal),
                    _ => None,
                }).collect();
                let attempts = (*fails as u32).min(retries) + 1;
                let mut want = Vec::new();
                for a in 1..=attempts {
                    if a > 1 {
                        want.push(NodeEv::Retry(a));
                    }
                    want.push(NodeEv::Started(a));
                }
                want.extend([NodeEv::Finished, NodeEv::Journal]);
                prop_assert_eq!(&seen, &want, "events of {}", node);
                prop_assert_eq!(result.node(node).expect("node result").attempts, attempts);
            }
            Ok(())
        })?;
    }

    #[test]
    fn property_11_progress_counts_each_finished_node_once(
        script in prop::collection::vec((0u8..3, 0u64..3), 1..24),
        fanout in 1usize..24,
    ) {
        let nodes = names("n", script.len());
        let steps = nodes.iter().zip(&script).map(|(n, (kind, ms))| {
            let work = Duration::from_millis(*ms);
            (n, match kind {
                0 => Step::exit_after(0, work),
                1 => Step::exit_after(2, work),
                _ => Step::unreachable(),
            })
        });
        let transport = Arc::new(ScriptedTransport::uniform(steps));
        let engine = scripted_engine(&transport, &nodes, EngineConfig::default(), None);
        let options = ExecutionOptions { fanout, ..ExecutionOptions::default() };
        runtime().block_on(async {
            let (id, mut rx) = within("submit", common::streamed(&engine, request("count", &nodes, options), ctx("u"), 256)).await?.expect("submit");
            let evs = events(&drain(&mut rx).await?);
            within("wait", engine.wait(&id)).await?.expect("wait");
            let (mut ok, mut bad) = (0usize, 0usize);
            for (k, e) in evs.iter().filter(|e| matches!(e, EngineEvent::NodeFinished { .. }))
                .enumerate()
            {
                let EngineEvent::NodeFinished { node, status, progress, .. } = e else {
                    unreachable!()
                };
                if *status == NodeStatus::Success { ok += 1 } else { bad += 1 }
                prop_assert_eq!(progress.total, nodes.len());
                prop_assert_eq!(progress.finished(), k + 1,
                    "NodeFinished #{} ({}) reports {:?}", k + 1, node, progress);
                prop_assert_eq!((progress.completed, progress.failed), (ok, bad));
            }
            prop_assert_eq!(ok + bad, nodes.len());
            let want_ok = script.iter().filter(|(kind, _)| *kind == 0).count();
            prop_assert_eq!(ok, want_ok);
            match evs.last() {
                Some(EngineEvent::ExecutionFinished { progress, .. }) => {
                    prop_assert_eq!(progress.total, nodes.len());
                    prop_assert_eq!(progress.completed, want_ok);
                    prop_assert_eq!(progress.failed, nodes.len() - want_ok);
                    prop_assert_eq!(progress.running, 0);
                }
                other => prop_assert!(false, "last event {other:?}"),
            }
            let snap = engine.snapshot(&id).expect("snapshot");
            prop_assert_eq!(snap.progress.finished(), nodes.len());
            Ok(())
        })?;
    }
}
