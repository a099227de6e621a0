//! Seeds properties of scheduling: 13 and 51 (parallel runs overlap), 14
//! (sequential order), 52 (concurrency limits) and 54 (cancellation). The scripted
//! transport holds the first K starts on a barrier: if the engine ran fewer than K
//! nodes at once the barrier would never fill and the case fails by timeout.

use crate::common;

use common::scripted::{Entry, ScriptedTransport, Step, max_overlap};
use common::{cases, ctx, names, request, runtime, scripted_engine, target_order, within};
use drover::engine::{EngineConfig, ExecutionOptions, ExecutionStatus, Mode, NodeStatus};
use proptest::prelude::*;
use proptest::sample::Index;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

fn quick(n: &String, ms: u64) -> (&String, Step) {
    (n, Step::exit_after(0, Duration::from_millis(ms)))
}

proptest! {
    #![proptest_config(cases(32))]

    #[test]
    fn property_13_parallel_mode_overlaps_nodes(
        n in 2usize..12,
        fanout in 2usize..12,
        work in 0u64..3,
    ) {
        let nodes = names("n", n);
        let k = n.min(fanout);
        let transport = Arc::new(
            ScriptedTransport::uniform(nodes.iter().map(|x| quick(x, work))).with_barrier(k),
        );
        let engine = scripted_engine(&transport, &nodes, EngineConfig::default(), None);
        let options = ExecutionOptions { fanout, mode: Mode::Parallel, ..Default::default() };
        runtime().block_on(async {
            let result = within("parallel run (barrier of min(n, fanout))",
                common::run(&engine, request("par", &nodes, options), ctx("u"))).await?.expect("run");
            prop_assert_eq!(result.status, ExecutionStatus::Success);
            prop_assert_eq!(transport.max_in_flight(), k);
            prop_assert_eq!(max_overlap(&transport.log(), |_| true), k);
            Ok(())
        })?;
    }

    #[test]
    fn property_14_sequential_mode_runs_in_target_order(
        order in (1usize..10).prop_flat_map(|n| target_order(names("n", n))),
        kinds in prop::collection::vec(0u8..3, 10),
        fanout in 1usize..10,
    ) {
        let steps = order.iter().zip(&kinds).map(|(n, k)| (n, match k {
            0 => Step::exit_after(0, Duration::from_millis(1)),
            1 => Step::exit(3),
            _ => Step::unreachable(),
        }));
        let transport = Arc::new(ScriptedTransport::uniform(steps));
        let engine = scripted_engine(&transport, &order, EngineConfig::default(), None);
        let options = ExecutionOptions { fanout, mode: Mode::Sequential, ..Default::default() };
        runtime().block_on(async {
            let result = within("run", common::run(&engine, request("seq", &order, options), ctx("u")))
                .await?.expect("run");
            prop_assert_eq!(result.nodes.len(), order.len());
            Ok(())
        })?;
        prop_assert_eq!(transport.starts(), order.clone());
        // Never overlapping: every start is followed by the same node's finish.
        let log = transport.log();
        for pair in log.chunks(2) {
            match pair {
                [Entry::Start { node: a, .. }, Entry::Finish { node: b }] => prop_assert_eq!(a, b),
                other => prop_assert!(false, "overlap or stray entry: {other:?}"),
            }
        }
        prop_assert_eq!(transport.max_in_flight(), 1);
    }

    #[test]
    fn property_51_multi_node_executions_run_concurrently(n in 2usize..40, work in 0u64..3) {
        let nodes = names("n", n);
        let transport = Arc::new(
            ScriptedTransport::uniform(nodes.iter().map(|x| quick(x, work))).with_barrier(n),
        );
        let engine = scripted_engine(&transport, &nodes, EngineConfig::default(), None);
        runtime().block_on(async {
            let result = within("run with every node on the barrier",
                common::run(&engine, request("all", &nodes, ExecutionOptions::default()), ctx("u")))
                .await?.expect("run");
            prop_assert_eq!(result.status, ExecutionStatus::Success);
            prop_assert_eq!(transport.max_in_flight(), n);
            Ok(())
        })?;
    }

    #[test]
    fn property_52_concurrency_never_exceeds_limits(
        n in 1usize..16,
        fanout in 1usize..16,
        global in 1usize..16,
        work in 0u64..3,
    ) {
        let nodes = names("n", n);
        let k = n.min(fanout).min(global);
        let transport = Arc::new(
            ScriptedTransport::uniform(nodes.iter().map(|x| quick(x, work))).with_barrier(k),
        );
        let config = EngineConfig { max_concurrency: global, ..EngineConfig::default() };
        let engine = scripted_engine(&transport, &nodes, config, None);
        let options = ExecutionOptions { fanout, ..Default::default() };
        runtime().block_on(async {
            let result = within("run", common::run(&engine, request("lim", &nodes, options), ctx("u")))
                .await?.expect("run");
            prop_assert_eq!(result.status, ExecutionStatus::Success);
            Ok(())
        })?;
        // At least k (the barrier filled), at most min(fanout, max_concurrency).
        prop_assert_eq!(transport.max_in_flight(), k);
        prop_assert_eq!(max_overlap(&transport.log(), |_| true), k);
    }

    #[test]
    fn property_52_two_executions_share_the_global_limit(
        (na, nb) in (1usize..10, 1usize..10),
        (fa, fb) in (1usize..10, 1usize..10),
        global in 1usize..12,
        work in 0u64..3,
    ) {
        let (a, b) = (names("a", na), names("b", nb));
        let all: Vec<String> = a.iter().chain(&b).cloned().collect();
        let k = global.min(na.min(fa) + nb.min(fb));
        let transport = Arc::new(
            ScriptedTransport::uniform(all.iter().map(|x| quick(x, work))).with_barrier(k),
        );
        let config = EngineConfig { max_concurrency: global, ..EngineConfig::default() };
        let engine = scripted_engine(&transport, &all, config, None);
        runtime().block_on(async {
            let opts = |fanout| ExecutionOptions { fanout, ..Default::default() };
            let ida = within("submit a", common::submit(&engine, request("a", &a, opts(fa)), ctx("u")))
                .await?.expect("submit a");
            let idb = within("submit b", common::submit(&engine, request("b", &b, opts(fb)), ctx("u")))
                .await?.expect("submit b");
            for id in [ida, idb] {
                let r = within("wait", engine.wait(&id)).await?.expect("wait");
                prop_assert_eq!(r.status, ExecutionStatus::Success);
            }
            Ok(())
        })?;
        let log = transport.log();
        prop_assert_eq!(transport.max_in_flight(), k);
        prop_assert_eq!(max_overlap(&log, |_| true), k);
        prop_assert!(max_overlap(&log, |n| n.starts_with('a')) <= fa.min(global));
        prop_assert!(max_overlap(&log, |n| n.starts_with('b')) <= fb.min(global));
    }

    #[test]
    fn property_54_cancel_stops_running_and_pending_nodes(
        hangs in prop::collection::vec(any::<bool>(), 1..10),
        work in prop::collection::vec(0u64..4, 10),
        fanout in 1usize..6,
        sequential in any::<bool>(),
        point in any::<Index>(),
    ) {
        let mut hangs = hangs;
        let last = hangs.len() - 1;
        if !hangs.contains(&true) {
            hangs[last] = true;
        }
        let nodes = names("n", hangs.len());
        let steps = nodes.iter().zip(&hangs).zip(&work).map(|((n, h), ms)| {
            (n, if *h { Step::Hang } else { Step::exit_after(0, Duration::from_millis(*ms)) })
        });
        let transport = Arc::new(ScriptedTransport::uniform(steps));
        let engine = scripted_engine(&transport, &nodes, EngineConfig::default(), None);
        // Nodes start in order until `slots` hanging nodes fill every slot.
        let slots = if sequential { 1 } else { fanout };
        let reachable = hangs.iter().enumerate().filter(|(_, h)| **h).nth(slots - 1)
            .map_or(nodes.len(), |(i, _)| i + 1);
        let k = point.index(reachable + 1); // 0 = cancel before waiting for any start
        let mode = if sequential { Mode::Sequential } else { Mode::Parallel };
        let options = ExecutionOptions { fanout, mode, ..Default::default() };
        let result = runtime().block_on(async {
            let id = within("submit", common::submit(&engine, request("stop", &nodes, options), ctx("u")))
                .await?.expect("submit");
            within("k starts", transport.wait_starts(k)).await?;
            // Two marks bracket the cancel: what finished before the first was done
            // before it; what starts after the second started after it.
            transport.mark("cancelling");
            engine.cancel(&id).expect("cancel");
            transport.mark("cancelled");
            let r = within("wait after cancel", engine.wait(&id)).await?.expect("wait");
            prop_assert_eq!(engine.snapshot(&id).map(|s| s.status), Some(ExecutionStatus::Cancelled));
            Ok::<_, TestCaseError>(r)
        })?;
        prop_assert_eq!(result.status, ExecutionStatus::Cancelled);
        let log = transport.log();
        let mark = |m: &str| log.iter().position(|e| *e == Entry::Mark(m.into())).expect("mark");
        let (before, after) = (mark("cancelling"), mark("cancelled"));
        let late: Vec<&Entry> = log[after..].iter()
            .filter(|e| matches!(e, Entry::Start { .. })).collect();
        // A node handed to its transport while the cancel was being issued may log its
        // start just after; it must then be stopped at once. No other node may start.
        for entry in &late {
            let Entry::Start { node, .. } = entry else { continue };
            let stopped = log[after..].contains(&Entry::Stopped { node: node.clone() })
                || log[after..].contains(&Entry::Finish { node: node.clone() });
            prop_assert!(stopped, "{node} started after cancel and ran on: {log:?}");
        }
        prop_assert!(late.len() <= slots, "more starts after cancel than slots: {log:?}");
        let doomed: Vec<&Entry> = log.iter()
            .filter(|e| matches!(e, Entry::Start { stop_already_cancelled: true, .. })).collect();
        prop_assert!(doomed.is_empty(), "started with a cancelled stop: {doomed:?} in {log:?}");
        let started: HashSet<&str> = log.iter().filter_map(|e| match e {
            Entry::Start { node, .. } => Some(node.as_str()), _ => None }).collect();
        let finished_before: HashSet<&str> = log[..before].iter().filter_map(|e| match e {
            Entry::Finish { node } => Some(node.as_str()), _ => None }).collect();
        for (name, hang) in nodes.iter().zip(&hangs) {
            let r = result.node(name).expect("every node has a result");
            if !started.contains(name.as_str()) {
                prop_assert_eq!(r.status, NodeStatus::Cancelled, "pending {}", name);
                prop_assert_eq!(r.attempts, 0, "pending {}", name);
            } else if *hang {
                let saw_stop = log.contains(&Entry::Stopped { node: name.clone() });
                prop_assert!(saw_stop, "running {name} never saw stop");
                prop_assert_eq!(r.status, NodeStatus::Cancelled, "running {} {:?}", name, r.error);
            } else if finished_before.contains(name.as_str()) {
                prop_assert_eq!(r.status, NodeStatus::Success, "done before cancel {}", name);
            }
        }
    }
}
