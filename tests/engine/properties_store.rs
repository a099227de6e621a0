//! Seeds properties of persistence, through an engine writing to a real store on
//! each backend (see `store_backends`): 30 (a complete history row and one journal
//! entry per node), 32 (executions are queryable afterwards) and 34 (metrics add up).

use crate::common;
use crate::store_backends::{Backend, CasePlaces};

use common::scripted::{ScriptedTransport, Step};
use common::{cases, ctx, names, request, runtime, scripted_engine, target_order, within};
use drover::engine::{
    EngineConfig, ExecutionOptions, ExecutionResult, ExecutionStatus, NodeStatus,
};
use drover::store::{EntryType, HistoryFilter};
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

const NODES: usize = 6;

on_both_backends! {
    places: [],
    properties: [
        property_30_history_row_and_journal_are_complete,
        property_32_finished_executions_are_queryable,
        property_34_metrics_match_the_executions,
    ],
}

/// Node `n<i>`: 0 succeeds, 1 exits 1, 2 is unreachable.
fn transport(kinds: &[u8]) -> Arc<ScriptedTransport> {
    let nodes = names("n", NODES);
    Arc::new(ScriptedTransport::uniform(nodes.iter().zip(kinds).map(
        |(n, k)| {
            (
                n,
                match k {
                    0 => Step::exit_after(0, Duration::from_millis(1)),
                    1 => Step::exit(1),
                    _ => Step::unreachable(),
                },
            )
        },
    )))
}

/// One execution to run: user index and targets.
fn runs() -> impl Strategy<Value = Vec<(usize, Vec<String>)>> {
    prop::collection::vec((0usize..3, target_order(names("n", NODES))), 1..5)
}

const USERS: [&str; 3] = ["ada", "grace", "linus"];

/// Submits every run at once, waits for all and flushes the store.
fn run_all(
    engine: &drover::engine::Engine,
    plan: &[(usize, Vec<String>)],
    command: &str,
) -> Result<Vec<Arc<ExecutionResult>>, TestCaseError> {
    runtime().block_on(async {
        let mut ids = Vec::new();
        for (user, targets) in plan {
            let req = request(command, targets, ExecutionOptions::default());
            ids.push(
                within("submit", common::submit(engine, req, ctx(USERS[*user])))
                    .await?
                    .expect("submit"),
            );
        }
        let mut results = Vec::new();
        for id in &ids {
            results.push(within("wait", engine.wait(id)).await?.expect("wait"));
        }
        within("flush", engine.flush()).await?.expect("flush");
        Ok(results)
    })
}

fn property_30_history_row_and_journal_are_complete(backend: Backend) {
    let places = CasePlaces::new(backend);
    proptest!(cases(16), |(
        kinds in prop::collection::vec(0u8..3, NODES),
        user in 0usize..3,
        targets in target_order(names("n", NODES)),
        command in "[a-z][a-z0-9 ]{0,20}",
    )| {
        let Some(place) = places.next() else { return Ok(()) };
        let store = place.open();
        let transport = transport(&kinds);
        let engine = scripted_engine(&transport, &names("n", NODES), EngineConfig::default(),
            Some(store.writer()));
        let before = drover::engine::common::ids::now_millis();
        let result = run_all(&engine, &[(user, targets.clone())], &command)?.remove(0);
        let after = drover::engine::common::ids::now_millis();
        let rows = store.history(&HistoryFilter::default()).expect("history");
        prop_assert_eq!(rows.len(), 1);
        let row = &rows[0];
        prop_assert_eq!(&row.id, &result.id.0);
        prop_assert_eq!(&row.user, USERS[user]);
        prop_assert_eq!(&row.correlation_id, &format!("corr-{}", USERS[user]));
        prop_assert_eq!(&row.action, &command);
        prop_assert_eq!(&row.target_expr, &targets.join(","));
        prop_assert_eq!(&row.nodes, &targets);
        prop_assert_eq!(row.status.as_str(), result.status.as_str());
        prop_assert_eq!(row.started_at, result.started_at);
        let finished = row.finished_at.expect("finished_at");
        prop_assert!(before <= row.started_at && row.started_at <= finished && finished <= after,
            "{before} <= {} <= {finished} <= {after}", row.started_at);
        prop_assert_eq!(row.duration_ms, Some(finished - row.started_at));
        let ok = result.nodes.iter().filter(|r| r.status == NodeStatus::Success).count();
        prop_assert_eq!((row.success_count, row.failed_count),
            (ok as i64, (targets.len() - ok) as i64));
        for name in &targets {
            let journal = store.journal(name, &[EntryType::Execution], None).expect("journal");
            prop_assert_eq!(journal.len(), 1, "journal of {}", name);
            let entry = &journal[0];
            prop_assert_eq!(entry.execution_id.as_deref(), Some(result.id.0.as_str()));
            prop_assert_eq!(&entry.user, USERS[user]);
            prop_assert_eq!(&entry.action, &command);
            let status = result.node(name).expect("result").status.as_str();
            prop_assert_eq!(entry.status.as_deref(), Some(status));
        }
        for name in names("n", NODES).iter().filter(|n| !targets.contains(n)) {
            prop_assert!(store.journal(name, &[], None).expect("journal").is_empty());
        }
        store.close().expect("close");
    });
}

fn property_32_finished_executions_are_queryable(backend: Backend) {
    let places = CasePlaces::new(backend);
    proptest!(cases(16), |(
        kinds in prop::collection::vec(0u8..3, NODES),
        plan in runs(),
    )| {
        let Some(place) = places.next() else { return Ok(()) };
        let store = place.open();
        let transport = transport(&kinds);
        let engine = scripted_engine(&transport, &names("n", NODES), EngineConfig::default(),
            Some(store.writer()));
        let results = run_all(&engine, &plan, "uptime")?;
        let all = store.history(&HistoryFilter::default()).expect("history");
        let ids = |v: &[drover::store::ExecutionRecord]| -> BTreeSet<String> {
            v.iter().map(|r| r.id.clone()).collect()
        };
        let want: BTreeSet<String> = results.iter().map(|r| r.id.0.clone()).collect();
        prop_assert_eq!(ids(&all), want);
        prop_assert!(all.windows(2).all(|w| w[0].started_at >= w[1].started_at), "newest first");
        for (result, (user, targets)) in results.iter().zip(&plan) {
            let (record, nodes) = store.execution(&result.id.0).expect("query").expect("stored");
            prop_assert_eq!(&record.user, USERS[*user]);
            prop_assert_eq!(record.status.as_str(), result.status.as_str());
            prop_assert!(result.status.is_terminal());
            let mut sorted = targets.clone();
            sorted.sort();
            prop_assert_eq!(nodes.iter().map(|n| n.node.clone()).collect::<Vec<_>>(), sorted);
            for n in &nodes {
                let r = result.node(&n.node).expect("result");
                prop_assert_eq!(&n.execution_id, &result.id.0);
                prop_assert_eq!(n.status.as_str(), r.status.as_str());
                prop_assert_eq!(n.exit_code, r.exit_code);
                prop_assert_eq!(n.attempts, i64::from(r.attempts));
                let category = r.error.as_ref().map(|e| e.category.as_str().to_string());
                prop_assert_eq!(&n.error_category, &category);
            }
        }
        // Filters narrow to exactly the matching executions.
        for (u, name) in USERS.iter().enumerate() {
            let f = HistoryFilter { user: Some(name.to_string()), ..Default::default() };
            let want: BTreeSet<String> = results.iter().zip(&plan)
                .filter(|(_, (user, _))| *user == u).map(|(r, _)| r.id.0.clone()).collect();
            prop_assert_eq!(ids(&store.history(&f).expect("history")), want);
        }
        for node in names("n", NODES) {
            let f = HistoryFilter { target: Some(node.clone()), ..Default::default() };
            let want: BTreeSet<String> = results.iter().zip(&plan)
                .filter(|(_, (_, t))| t.contains(&node)).map(|(r, _)| r.id.0.clone()).collect();
            prop_assert_eq!(ids(&store.history(&f).expect("history")), want);
        }
        store.close().expect("close");
    });
}

fn property_34_metrics_match_the_executions(backend: Backend) {
    let places = CasePlaces::new(backend);
    proptest!(cases(16), |(
        kinds in prop::collection::vec(0u8..3, NODES),
        plan in runs(),
    )| {
        let Some(place) = places.next() else { return Ok(()) };
        let store = place.open();
        let transport = transport(&kinds);
        let engine = scripted_engine(&transport, &names("n", NODES), EngineConfig::default(),
            Some(store.writer()));
        let results = run_all(&engine, &plan, "df -h")?;
        let m = store.metrics(None, None).expect("metrics");
        let targets: usize = plan.iter().map(|(_, t)| t.len()).sum();
        let failed_nodes = results.iter().flat_map(|r| &r.nodes)
            .filter(|n| n.status != NodeStatus::Success).count();
        let succeeded = results.iter().filter(|r| r.status == ExecutionStatus::Success).count();
        prop_assert_eq!(m.total_executions, results.len() as i64);
        prop_assert_eq!(m.target_count, targets as i64);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        prop_assert!(close(m.success_rate, succeeded as f64 / results.len() as f64),
            "success_rate {}", m.success_rate);
        prop_assert!(close(m.error_rate, failed_nodes as f64 / targets as f64),
            "error_rate {}", m.error_rate);
        let rows = store.history(&HistoryFilter::default()).expect("history");
        let durations: Vec<i64> = rows.iter().map(|r| r.duration_ms.expect("duration")).collect();
        let mean = durations.iter().sum::<i64>() as f64 / durations.len() as f64;
        prop_assert!(close(m.average_duration_ms, mean), "average {}", m.average_duration_ms);
        let latest = rows.iter().map(|r| r.started_at).max().expect("rows");
        let none = store.metrics(Some(latest + 1), None).expect("metrics");
        prop_assert_eq!(none.total_executions, 0);
        store.close().expect("close");
    });
}
