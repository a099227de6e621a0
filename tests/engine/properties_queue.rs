//! Seeds property 58 (every execution takes its slots from the engine's queue
//! before starting and gives them back) and the queue's own rules: higher priority
//! first, first come first served within a priority, aging so nothing starves,
//! `QueueFull` beyond the configured depth with nothing recorded, cancelled waiters
//! leaving the line, and plan steps waiting for room instead of failing.
//!
//! Every case holds the only slot with a gated node, lines work up behind it,
//! then opens the gate and reads the order in which the transport saw runs start.

use crate::common;

use common::scripted::{ScriptedTransport, Step as Script};
use common::{cases, ctx, names, request, runtime, scripted_engine, temp_store, within};
use drover::engine::common::priority::Priority;
use drover::engine::orchestrator::plan::{Plan, Step, StepAction};
use drover::engine::orchestrator::plan_run::{self, StepState};
use drover::engine::{
    Engine, EngineConfig, EngineError, EngineEvent, ErrorCategory, ExecutionId, ExecutionOptions,
    ExecutionStatus, Mode, StreamItem,
};
use drover::store::HistoryFilter;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::sync::Arc;
use std::time::Duration;

const HOLD: &str = "hold";

/// One slot; node `hold` keeps it until released; every other node exits 0.
fn one_slot(others: &[String], depth: usize, aging: Duration) -> (Arc<ScriptedTransport>, Engine) {
    let mut all = vec![HOLD.to_string()];
    all.extend(others.iter().cloned());
    let transport = Arc::new(ScriptedTransport::uniform([(
        &all[0],
        Script::Gated { code: 0 },
    )]));
    let config = EngineConfig {
        max_concurrency: 1,
        queue_depth: depth,
        queue_aging: aging,
        ..EngineConfig::default()
    };
    let engine = scripted_engine(&transport, &all, config, None);
    (transport, engine)
}

fn at(priority: Priority) -> ExecutionOptions {
    ExecutionOptions {
        priority,
        ..ExecutionOptions::default()
    }
}

/// Starts the holder and waits until it has the slot.
async fn hold_the_slot(
    transport: &ScriptedTransport,
    engine: &Engine,
) -> Result<ExecutionId, TestCaseError> {
    let hold = [HOLD.to_string()];
    let id = within(
        "submit hold",
        common::submit(
            engine,
            request("hold", &hold, at(Priority::NORMAL)),
            ctx("u"),
        ),
    )
    .await?
    .expect("submit hold");
    within("hold starts", transport.wait_starts(1)).await?;
    Ok(id)
}

/// Waits until `n` node-runs wait for a slot (the executions' tasks got there).
async fn until_waiting(engine: &Engine, n: usize) -> Result<(), TestCaseError> {
    within("waiters", async {
        while engine.queue().waiting_slots < n {
            tokio::task::yield_now().await;
        }
    })
    .await
}

proptest! {
    #![proptest_config(cases(24))]

    #[test]
    fn property_58_slots_go_by_priority_then_arrival(
        levels in prop::collection::vec(0u8..=9, 1..8),
    ) {
        let nodes = names("e", levels.len());
        let (transport, engine) = one_slot(&nodes, 100, Duration::from_secs(3600));
        runtime().block_on(async {
            let hold = hold_the_slot(&transport, &engine).await?;
            let mut ids = Vec::new();
            for (i, level) in levels.iter().enumerate() {
                let opts = at(Priority::new(*level).expect("level"));
                let one = [nodes[i].clone()];
                ids.push(within("submit", common::submit(&engine, request("x", &one, opts), ctx("u")))
                    .await?.expect("submit"));
                // Each in line before the next arrives: arrival order is submit order.
                until_waiting(&engine, i + 1).await?;
            }
            prop_assert_eq!(engine.queue().waiting_executions, levels.len());
            transport.release(1);
            for id in ids.iter().chain([&hold]) {
                let r = within("wait", engine.wait(id)).await?.expect("wait");
                prop_assert_eq!(r.status, ExecutionStatus::Success);
            }
            let q = engine.queue();
            prop_assert_eq!((q.in_use, q.waiting_slots, q.waiting_executions), (0, 0, 0));
            Ok(())
        })?;
        let mut want: Vec<usize> = (0..levels.len()).collect();
        want.sort_by_key(|&i| (std::cmp::Reverse(levels[i]), i));
        let want: Vec<String> = want.into_iter().map(|i| nodes[i].clone()).collect();
        prop_assert_eq!(&transport.starts()[1..], &want[..]);
    }

    #[test]
    fn property_58_queue_full_beyond_depth_records_nothing(depth in 1usize..6) {
        let nodes = names("e", depth + 1);
        let (dir, store) = temp_store();
        let mut all = vec![HOLD.to_string()];
        all.extend(nodes.iter().cloned());
        let transport = Arc::new(ScriptedTransport::uniform([(&all[0], Script::Gated { code: 0 })]));
        let config = EngineConfig { max_concurrency: 1, queue_depth: depth, ..EngineConfig::default() };
        let engine = scripted_engine(&transport, &all, config, Some(store.writer()));
        runtime().block_on(async {
            let hold = hold_the_slot(&transport, &engine).await?;
            let mut events = engine.subscribe();
            let mut ids = Vec::new();
            for n in &nodes[..depth] {
                let one = [n.clone()];
                ids.push(within("submit", common::submit(&engine, request("x", &one, at(Priority::LOW)), ctx("u")))
                    .await?.expect("room in the queue"));
            }
            let last = [nodes[depth].clone()];
            let refused = within("submit", common::submit(&engine, request("x", &last, at(Priority::HIGH)), ctx("u")))
                .await?;
            match refused {
                Err(e @ EngineError::QueueFull(_)) => {
                    prop_assert_eq!(e.category(), ErrorCategory::QueueFull);
                    prop_assert!(e.to_string().contains(&format!("{depth} executions")), "{}", e);
                }
                other => prop_assert!(false, "expected QueueFull, got {other:?}"),
            }
            // The refused one was never announced: only the admitted ones were.
            let mut queued = 0;
            while let Ok(ev) = events.try_recv() {
                if matches!(ev, EngineEvent::ExecutionQueued { .. }) {
                    queued += 1;
                }
            }
            prop_assert_eq!(queued, depth);
            transport.release(1);
            for id in ids.iter().chain([&hold]) {
                let r = within("wait", engine.wait(id)).await?.expect("wait");
                prop_assert_eq!(r.status, ExecutionStatus::Success);
            }
            // Room again once the line has moved.
            let again = within("submit", common::run(&engine, request("x", &last, at(Priority::HIGH)), ctx("u")))
                .await?.expect("room again");
            prop_assert_eq!(again.status, ExecutionStatus::Success);
            within("flush", engine.flush()).await?.expect("flush");
            Ok(())
        })?;
        let recorded = store.history(&HistoryFilter::default()).expect("history");
        prop_assert_eq!(recorded.len(), depth + 2, "hold, the admitted, the retry");
        drop(dir);
    }

    #[test]
    fn property_58_a_cancelled_waiter_never_starts_and_leaves_the_line(
        n in 1usize..5,
        cancel_at in 0usize..5,
    ) {
        let nodes = names("e", n);
        let cancel_at = cancel_at % n;
        let (transport, engine) = one_slot(&nodes, 10, Duration::from_secs(3600));
        runtime().block_on(async {
            let hold = hold_the_slot(&transport, &engine).await?;
            let mut ids = Vec::new();
            let mut streams = Vec::new();
            for (i, node) in nodes.iter().enumerate() {
                let one = [node.clone()];
                let (id, rx) = within("submit", common::streamed(&engine, request("x", &one, at(Priority::NORMAL)), ctx("u"), 64)).await?.expect("submit");
                ids.push(id);
                streams.push(rx);
                until_waiting(&engine, i + 1).await?;
            }
            engine.cancel(&ids[cancel_at]).expect("cancel");
            let cancelled = within("wait", engine.wait(&ids[cancel_at])).await?.expect("wait");
            prop_assert_eq!(cancelled.status, ExecutionStatus::Cancelled);
            prop_assert_eq!(engine.queue().waiting_executions, n - 1);
            let items = common::drain(&mut streams[cancel_at]).await?;
            let started = items.iter().any(|i| matches!(i,
                StreamItem::Event(EngineEvent::ExecutionStarted { .. } | EngineEvent::NodeStarted { .. })));
            prop_assert!(!started, "a cancelled waiter started: {items:?}");
            transport.release(1);
            for (i, id) in ids.iter().enumerate().filter(|(i, _)| *i != cancel_at) {
                let r = within("wait", engine.wait(id)).await?.expect("wait");
                prop_assert_eq!(r.status, ExecutionStatus::Success, "execution {}", i);
            }
            within("wait hold", engine.wait(&hold)).await?.expect("hold");
            Ok(())
        })?;
        prop_assert!(!transport.starts().contains(&nodes[cancel_at]));
        prop_assert_eq!(transport.starts().len(), n);
    }

    #[test]
    fn property_58_plan_steps_wait_for_room_instead_of_failing(
        steps_n in 2usize..8,
        depth in 1usize..3,
    ) {
        let nodes = names("s", steps_n);
        let (transport, engine) = one_slot(&nodes, depth, Duration::from_secs(3600));
        let steps = nodes.iter().enumerate().map(|(i, n)| Step {
            name: format!("step{i}"),
            line: i as u64 + 1,
            action: StepAction::Command("work".into()),
            targets: Some(n.clone()),
            depends_on: Vec::new(),
            mode: Mode::Parallel,
            timeout: None,
            retries: 0,
            continue_on_failure: false,
            priority: None,
        }).collect();
        let plan = Plan { name: "wide".into(), description: None, path: "wide.yaml".into(),
            targets: None, steps };
        runtime().block_on(async {
            let hold = hold_the_slot(&transport, &engine).await?;
            let h = plan_run::start(&engine, plan, ExecutionOptions::default(), None, ctx("u"))
                .expect("plan starts");
            // The queue fills to its depth; the other steps wait for room.
            until_waiting(&engine, 1).await?;
            prop_assert!(engine.queue().waiting_executions <= depth);
            transport.release(1);
            let r = within("plan", h.wait()).await?.expect("plan");
            prop_assert_eq!(r.state, StepState::Completed);
            prop_assert!(r.steps.iter().all(|s| s.state == StepState::Completed));
            within("hold", engine.wait(&hold)).await?.expect("hold");
            Ok(())
        })?;
        prop_assert_eq!(transport.starts().len(), steps_n + 1);
    }
}

/// Aging: low-priority work that has waited long enough goes before high-priority
/// work that just arrived, so a stream of urgent runs cannot starve it.
#[test]
fn property_58_aging_lets_long_waiting_work_go_first() {
    let nodes = names("e", 2);
    let aging = Duration::from_millis(5);
    let (transport, engine) = one_slot(&nodes, 10, aging);
    runtime().block_on(async {
        hold_the_slot(&transport, &engine).await.expect("hold");
        let low = common::submit(
            &engine,
            request("x", &nodes[..1], at(Priority::new(0).unwrap())),
            ctx("u"),
        )
        .await
        .expect("low");
        // Time itself is the input here: more than 9 levels' worth of waiting.
        tokio::time::sleep(aging * 12).await;
        let high = common::submit(
            &engine,
            request("x", &nodes[1..], at(Priority::new(9).unwrap())),
            ctx("u"),
        )
        .await
        .expect("high");
        until_waiting(&engine, 2).await.expect("both waiting");
        transport.release(1);
        for id in [low, high] {
            engine.wait(&id).await.expect("wait");
        }
    });
    assert_eq!(transport.starts(), vec![HOLD, "e0", "e1"]);
}
