//! Store tests through `Store`, each case against both backends (see
//! `store_backends`): a SQLite file in a temp dir and a real PostgreSQL server. The
//! `sqlite_` tests are about SQLite's file itself.

use std::collections::BTreeMap;

use crate::common::records;
use crate::store_backends::{Backend, CasePlaces, StorePlace};
use drover::store::*;
use proptest::prelude::*;
use serde_json::json;

on_both_backends! {
    places: [
        reopening_migrates_once_and_keeps_data,
        refuses_a_database_from_a_newer_drover,
        history_target_filter_follows_rewritten_node_list,
        metrics_of_an_empty_store_are_zero,
        journal_filters_by_type_limits_and_orders_newest_first,
        manual_entries_and_links_to_executions_round_trip,
        bursts_of_journal_entries_keep_every_field,
        backpressure_never_drops_a_record,
        rejected_write_is_reported_to_the_next_flush_and_the_rest_lands,
        blocking_calls_work_inside_a_runtime,
        output_chunks_keep_order_per_node,
        compressible_chunks_are_stored_small_and_a_damaged_one_is_named,
        close_commits_then_refuses_writes_and_keeps_reads,
        execution_by_exact_id_or_unique_prefix,
        an_ambiguous_prefix_lists_the_first_ten_and_says_there_are_more,
        prune_removes_old_executions_with_their_rows_and_old_journal_entries,
        recover_interrupted_marks_only_runs_of_dead_owners,
        corrupt_rows_give_typed_errors_and_do_not_block_recovery,
        an_idempotency_claim_answers_until_its_window_ends,
        events_facts_and_transcripts_round_trip,
    ],
    properties: [
        property_32_execution_history_persistence,
        property_34_performance_metrics_collection,
        property_35_history_query_filtering,
    ],
}

// ---------------------------------------------------------------- helpers

fn execution(
    id: &str,
    user: &str,
    status: &str,
    started_at: Millis,
    nodes: &[&str],
) -> ExecutionRecord {
    records::execution(id)
        .user(user)
        .status(status)
        .started_at(started_at)
        .nodes(nodes)
        .build()
}

fn node_result(execution_id: &str, node: &str, status: &str) -> NodeResultRecord {
    NodeResultRecord {
        execution_id: execution_id.to_string(),
        node: node.to_string(),
        status: status.to_string(),
        exit_code: Some(0),
        signal: None,
        started_at: 100,
        finished_at: 150,
        duration_ms: 50,
        attempts: 1,
        error_category: None,
        error: None,
        output_mode: OutputMode::Summary,
        stdout: format!("hello from {node}"),
        stderr: String::new(),
        stdout_bytes: 16,
        stderr_bytes: 0,
        data: Some(json!({ "load": [1, 2, 3] })),
    }
}

fn entry(node: &str, entry_type: EntryType, ts: Millis) -> JournalEntry {
    JournalEntry {
        id: 0,
        node: node.to_string(),
        entry_type,
        timestamp: ts,
        user: "alice".to_string(),
        action: format!("{} at {ts}", entry_type.as_str()),
        status: Some("success".to_string()),
        execution_id: None,
        details: json!({ "ts": ts }),
    }
}

fn send_all(store: &Store, ops: impl IntoIterator<Item = WriteOp>) {
    let writer = store.writer();
    for op in ops {
        writer.blocking_send(op).unwrap();
    }
    writer.blocking_flush().unwrap();
}

fn all_history(store: &Store) -> Vec<ExecutionRecord> {
    store.history(&HistoryFilter::default()).unwrap()
}

// ---------------------------------------------------------------- schema

#[test]
fn handles_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<Store>();
    assert_send_sync::<StoreWriter>();
}

fn reopening_migrates_once_and_keeps_data(place: StorePlace) {
    let store = place.open();
    send_all(
        &store,
        [WriteOp::UpsertExecution(execution(
            "a1",
            "alice",
            "success",
            10,
            &["n1"],
        ))],
    );
    store.close().unwrap();

    assert_eq!(place.schema_version(), SCHEMA_VERSION);
    const { assert!(SCHEMA_VERSION >= 1) };

    // A second open (and a concurrent third) must neither fail on existing tables nor
    // lose rows.
    let again = place.open();
    let third = place.open();
    assert_eq!(place.schema_version(), SCHEMA_VERSION);
    let ids: Vec<_> = all_history(&again).into_iter().map(|e| e.id).collect();
    assert_eq!(ids, ["a1"]);
    assert_eq!(all_history(&third).len(), 1);
}

#[test]
fn sqlite_file_is_in_wal_mode() {
    let place = StorePlace::new(Backend::Sqlite).unwrap();
    let _store = place.open();
    assert_eq!(
        place.query_text("PRAGMA journal_mode").as_deref(),
        Some("wal")
    );
}

fn refuses_a_database_from_a_newer_drover(place: StorePlace) {
    place.open().close().unwrap();
    place.set_schema_version(SCHEMA_VERSION + 1);
    match place.try_open() {
        Err(
            StoreError::TooNew {
                found, supported, ..
            }
            | StoreError::PgTooNew {
                found, supported, ..
            },
        ) => {
            assert_eq!(found, SCHEMA_VERSION + 1);
            assert_eq!(supported, SCHEMA_VERSION);
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("opened a database from the future"),
    }
}

#[test]
fn sqlite_open_error_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing-dir").join("drover.db");
    let err = Store::open(&path).expect_err("no directory, no database");
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    assert!(err.to_string().contains("missing-dir"), "{err}");
}

// ---------------------------------------------------------------- history

const USERS: [&str; 3] = ["alice", "bob", "carol"];
const STATUSES: [&str; 6] = [
    "queued",
    "running",
    "success",
    "failed",
    "partial",
    "interrupted",
];
const NODES: [&str; 5] = ["n1", "n2", "n3", "n4", "n5"];

/// (user, status, started_at, nodes, duration, failed_count seed)
type Shape = (usize, usize, i64, Vec<usize>, Option<i64>, i64);

fn shape() -> impl Strategy<Value = Shape> {
    (
        0..USERS.len(),
        0..STATUSES.len(),
        0i64..50,
        prop::collection::vec(0..NODES.len(), 0..4),
        prop::option::of(0i64..10_000),
        0i64..5,
    )
}

fn from_shape(i: usize, salt: u16, s: &Shape) -> ExecutionRecord {
    let nodes: Vec<&str> = s.3.iter().map(|&n| NODES[n]).collect();
    let mut e = execution(
        &format!("{salt:04x}-{i}"),
        USERS[s.0],
        STATUSES[s.1],
        s.2,
        &nodes,
    );
    e.duration_ms = s.4;
    e.finished_at = s.4.map(|d| s.2 + d);
    e.failed_count = s.5.min(nodes.len() as i64);
    e.success_count = nodes.len() as i64 - e.failed_count;
    e
}

fn filter() -> impl Strategy<Value = HistoryFilter> {
    (
        prop::option::of(0i64..50),
        prop::option::of(0i64..50),
        prop::option::of(prop::sample::select(vec![
            "alice", "bob", "carol", "nobody",
        ])),
        prop::option::of(prop::sample::select(vec![
            "n1", "n2", "n3", "n4", "n5", "n9",
        ])),
        prop::option::of(prop::sample::select(STATUSES.to_vec())),
        prop::option::of(0usize..12),
        any::<bool>(),
    )
        .prop_map(
            |(since, until, user, target, status, limit, without_nodes)| HistoryFilter {
                since,
                until,
                user: user.map(str::to_string),
                target: target.map(str::to_string),
                status: status.map(str::to_string),
                limit,
                without_nodes,
            },
        )
}

fn brute_force_history(records: &[ExecutionRecord], f: &HistoryFilter) -> Vec<ExecutionRecord> {
    let mut hits: Vec<ExecutionRecord> = records
        .iter()
        .filter(|e| f.since.is_none_or(|s| e.started_at >= s))
        .filter(|e| f.until.is_none_or(|u| e.started_at <= u))
        .filter(|e| f.user.as_ref().is_none_or(|u| &e.user == u))
        .filter(|e| f.status.as_ref().is_none_or(|s| &e.status == s))
        .filter(|e| f.target.as_ref().is_none_or(|t| e.nodes.contains(t)))
        .cloned()
        .collect();
    hits.sort_by(|a, b| (b.started_at, &b.id).cmp(&(a.started_at, &a.id)));
    hits.truncate(f.limit.unwrap_or(usize::MAX));
    if f.without_nodes {
        // Everything but the node list, which the caller asked to leave out.
        for hit in &mut hits {
            hit.nodes.clear();
        }
    }
    hits
}

fn property_35_history_query_filtering(backend: Backend) {
    let places = CasePlaces::new(backend);
    proptest!(ProptestConfig::with_cases(64), |(
        salt in any::<u16>(),
        shapes in prop::collection::vec(shape(), 0..40),
        // Earlier versions of some executions, overwritten by the final upsert: the
        // query must only see the final user, status, time and node list.
        stale in prop::collection::vec((any::<prop::sample::Index>(), shape()), 0..10),
        filters in prop::collection::vec(filter(), 1..6),
    )| {
        let Some(place) = places.next() else { return Ok(()) };
        let store = place.open();
        let records: Vec<_> = shapes.iter().enumerate().map(|(i, s)| from_shape(i, salt, s)).collect();
        let mut ops = Vec::new();
        for (index, s) in &stale {
            if !records.is_empty() {
                let i = index.index(records.len());
                ops.push(WriteOp::UpsertExecution(from_shape(i, salt, s)));
            }
        }
        ops.extend(records.iter().cloned().map(WriteOp::UpsertExecution));
        send_all(&store, ops);

        for f in &filters {
            let got = store.history(f).unwrap();
            let want = brute_force_history(&records, f);
            let got_ids: Vec<_> = got.iter().map(|e| e.id.as_str()).collect();
            let want_ids: Vec<_> = want.iter().map(|e| e.id.as_str()).collect();
            prop_assert_eq!(got_ids, want_ids, "filter {:?}", f);
            prop_assert_eq!(got, want);
        }
    });
}

fn history_target_filter_follows_rewritten_node_list(place: StorePlace) {
    let store = place.open();
    send_all(
        &store,
        [
            WriteOp::UpsertExecution(execution("x", "alice", "queued", 5, &["old"])),
            WriteOp::UpsertExecution(execution("x", "alice", "running", 5, &["new", "new"])),
        ],
    );
    let by = |node: &str| HistoryFilter {
        target: Some(node.to_string()),
        ..HistoryFilter::default()
    };
    assert!(store.history(&by("old")).unwrap().is_empty());
    let hits = store.history(&by("new")).unwrap();
    assert_eq!(
        hits.len(),
        1,
        "duplicate node names must not duplicate the row"
    );
    assert_eq!(hits[0].status, "running");
}

// ---------------------------------------------------------------- persistence

type ResultShape = (
    usize,
    Option<i32>,
    Option<i32>,
    Option<String>,
    bool,
    String,
    Option<i64>,
);

fn result_shape() -> impl Strategy<Value = ResultShape> {
    (
        0..3usize,
        prop::option::of(any::<i32>()),
        prop::option::of(1..64i32),
        prop::option::of("\\PC{0,12}"),
        any::<bool>(),
        "\\PC{0,40}",
        prop::option::of(any::<i64>()),
    )
}

fn from_result_shape(execution_id: &str, node: &str, s: &ResultShape) -> NodeResultRecord {
    let mut r = node_result(execution_id, node, ["success", "failed", "timeout"][s.0]);
    r.exit_code = s.1;
    r.signal = s.2;
    r.error = s.3.clone();
    r.error_category = s.3.as_ref().map(|_| "Execution".to_string());
    r.output_mode = if s.4 {
        OutputMode::Full
    } else {
        OutputMode::Summary
    };
    r.stdout = s.5.clone();
    r.stdout_bytes = s.5.len() as i64;
    r.stderr = s.5.chars().rev().collect();
    r.data = s.6.map(|n| json!({ "value": n, "text": s.5 }));
    r
}

fn property_32_execution_history_persistence(backend: Backend) {
    let places = CasePlaces::new(backend);
    proptest!(ProptestConfig::with_cases(32), |(
        salt in any::<u16>(),
        shapes in prop::collection::vec(shape(), 1..12),
        action in "\\PC{0,30}",
        error in prop::option::of("\\PC{0,30}"),
        results in prop::collection::vec(result_shape(), 5),
        journal in prop::collection::vec((0..NODES.len(), 0..EntryType::ALL.len(), 0i64..20, "\\PC{0,20}"), 0..30),
        chunks in prop::collection::vec((0..NODES.len(), any::<bool>(), prop::collection::vec(any::<u8>(), 0..64)), 0..20),
    )| {
        let Some(place) = places.next() else { return Ok(()) };
        let store = place.open();

        let mut records: Vec<_> = shapes.iter().enumerate().map(|(i, s)| from_shape(i, salt, s)).collect();
        for (i, e) in records.iter_mut().enumerate() {
            e.action = action.clone();
            e.error = error.clone();
            e.options = json!({ "timeout": i, "mode": action, "tags": [salt, i] });
        }
        let mut expected_results = BTreeMap::new();
        let mut ops: Vec<WriteOp> = records.iter().cloned().map(WriteOp::UpsertExecution).collect();
        for e in &records {
            for (node, s) in e.nodes.iter().zip(&results) {
                let r = from_result_shape(&e.id, node, s);
                expected_results.insert((e.id.clone(), node.clone()), r.clone());
                ops.push(WriteOp::NodeResult(r));
            }
        }
        let mut expected_journal = Vec::new();
        for (i, (node, kind, ts, text)) in journal.iter().enumerate() {
            let mut j = entry(NODES[*node], EntryType::ALL[*kind], *ts);
            j.action = text.clone();
            j.execution_id = Some(records[i % records.len()].id.clone());
            ops.push(WriteOp::Journal(j.clone()));
            j.id = i as i64 + 1; // fresh database: ids count from 1 in send order
            expected_journal.push(j);
        }
        let first = records[0].id.clone();
        let mut expected_chunks: BTreeMap<&str, Vec<(Stream, Vec<u8>)>> = BTreeMap::new();
        for (node, err, data) in &chunks {
            let stream = if *err { Stream::Stderr } else { Stream::Stdout };
            expected_chunks.entry(NODES[*node]).or_default().push((stream, data.clone()));
            ops.push(WriteOp::OutputChunk {
                execution_id: first.clone(),
                node: NODES[*node].to_string(),
                stream,
                data: data.clone(),
            });
        }
        send_all(&store, ops);
        store.close().unwrap();
        drop(store);

        let store = place.open();
        for e in &records {
            let (got, got_results) = store.execution(&e.id).unwrap().expect("execution persisted");
            prop_assert_eq!(&got, e);
            let want_results: Vec<_> = expected_results
                .range((e.id.clone(), String::new())..)
                .take_while(|((id, _), _)| id == &e.id)
                .map(|(_, r)| r.clone())
                .collect();
            prop_assert_eq!(got_results, want_results);
        }
        let mut history = all_history(&store);
        history.sort_by(|a, b| a.id.cmp(&b.id));
        let mut want = records.clone();
        want.sort_by(|a, b| a.id.cmp(&b.id));
        prop_assert_eq!(history, want);

        for node in NODES {
            let mut want: Vec<_> = expected_journal.iter().filter(|j| j.node == node).cloned().collect();
            want.sort_by_key(|j| std::cmp::Reverse((j.timestamp, j.id)));
            prop_assert_eq!(store.journal(node, &[], None).unwrap(), want);
            let want_chunks = expected_chunks.get(node).cloned().unwrap_or_default();
            prop_assert_eq!(store.full_output(&first, node).unwrap(), want_chunks);
        }
    });
}

// ---------------------------------------------------------------- metrics

fn brute_force_metrics(
    records: &[ExecutionRecord],
    since: Option<Millis>,
    until: Option<Millis>,
) -> Metrics {
    let sel: Vec<_> = records
        .iter()
        .filter(|e| {
            since.is_none_or(|s| e.started_at >= s) && until.is_none_or(|u| e.started_at <= u)
        })
        .collect();
    let finished: Vec<_> = sel
        .iter()
        .filter(|e| e.status != "queued" && e.status != "running")
        .collect();
    let succeeded = finished.iter().filter(|e| e.status == "success").count();
    let durations: Vec<i64> = finished.iter().filter_map(|e| e.duration_ms).collect();
    let targets: i64 = sel.iter().map(|e| e.nodes.len() as i64).sum();
    let failed: i64 = sel.iter().map(|e| e.failed_count).sum();
    let ratio = |a: f64, b: f64| if b == 0.0 { 0.0 } else { a / b };
    Metrics {
        total_executions: sel.len() as i64,
        success_rate: ratio(succeeded as f64, finished.len() as f64),
        average_duration_ms: ratio(durations.iter().sum::<i64>() as f64, durations.len() as f64),
        target_count: targets,
        error_rate: ratio(failed as f64, targets as f64).min(1.0),
    }
}

fn close_enough(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn property_34_performance_metrics_collection(backend: Backend) {
    let places = CasePlaces::new(backend);
    proptest!(ProptestConfig::with_cases(64), |(
        salt in any::<u16>(),
        shapes in prop::collection::vec(shape(), 0..40),
        since in prop::option::of(0i64..50),
        until in prop::option::of(0i64..50),
    )| {
        let Some(place) = places.next() else { return Ok(()) };
        let store = place.open();
        let records: Vec<_> = shapes.iter().enumerate().map(|(i, s)| from_shape(i, salt, s)).collect();
        send_all(&store, records.iter().cloned().map(WriteOp::UpsertExecution));
        for (since, until) in [(since, until), (None, None)] {
            let got = store.metrics(since, until).unwrap();
            let want = brute_force_metrics(&records, since, until);
            prop_assert_eq!(got.total_executions, want.total_executions);
            prop_assert_eq!(got.target_count, want.target_count);
            prop_assert!(close_enough(got.success_rate, want.success_rate), "{:?} vs {:?}", got, want);
            prop_assert!(close_enough(got.average_duration_ms, want.average_duration_ms), "{:?} vs {:?}", got, want);
            prop_assert!(close_enough(got.error_rate, want.error_rate), "{:?} vs {:?}", got, want);
            prop_assert!((0.0..=1.0).contains(&got.success_rate) && (0.0..=1.0).contains(&got.error_rate));
        }
    });
}

fn metrics_of_an_empty_store_are_zero(place: StorePlace) {
    let store = place.open();
    assert_eq!(store.metrics(None, None).unwrap(), Metrics::default());
    send_all(
        &store,
        [WriteOp::UpsertExecution(execution(
            "a",
            "alice",
            "success",
            10,
            &["n1"],
        ))],
    );
    assert_eq!(store.metrics(Some(11), None).unwrap(), Metrics::default());
    assert_eq!(store.metrics(None, None).unwrap().total_executions, 1);
}

// ---------------------------------------------------------------- journal

fn journal_filters_by_type_limits_and_orders_newest_first(place: StorePlace) {
    let store = place.open();
    send_all(
        &store,
        [
            WriteOp::Journal(entry("web1", EntryType::Package, 10)),
            WriteOp::Journal(entry("web1", EntryType::Execution, 30)),
            WriteOp::Journal(entry("web1", EntryType::Manual, 20)),
            WriteOp::Journal(entry("web1", EntryType::Execution, 30)), // same ts: id breaks the tie
            WriteOp::Journal(entry("db1", EntryType::Execution, 40)),
            WriteOp::Journal(entry("web1", EntryType::Event, 5)),
        ],
    );
    let all = store.journal("web1", &[], None).unwrap();
    let order: Vec<_> = all.iter().map(|j| (j.timestamp, j.id)).collect();
    assert_eq!(order, [(30, 4), (30, 2), (20, 3), (10, 1), (5, 6)]);
    assert!(all.iter().all(|j| j.node == "web1"));

    let execs = store
        .journal("web1", &[EntryType::Execution], None)
        .unwrap();
    assert_eq!(execs.iter().map(|j| j.id).collect::<Vec<_>>(), [4, 2]);

    let some = store
        .journal(
            "web1",
            &[EntryType::Manual, EntryType::Package, EntryType::Event],
            Some(2),
        )
        .unwrap();
    assert_eq!(
        some.iter().map(|j| j.entry_type).collect::<Vec<_>>(),
        [EntryType::Manual, EntryType::Package]
    );

    assert!(store.journal("web1", &[], Some(0)).unwrap().is_empty());
    assert!(
        store
            .journal("web1", &[EntryType::Provisioning], None)
            .unwrap()
            .is_empty()
    );
    assert!(store.journal("nobody", &[], None).unwrap().is_empty());
}

fn manual_entries_and_links_to_executions_round_trip(place: StorePlace) {
    let store = place.open();
    let mut note = entry("web1", EntryType::Manual, 50);
    note.action = "replaced disk /dev/sdb".to_string();
    note.status = None;
    note.user = "bob".to_string();
    note.details = json!({ "ticket": "OPS-42", "note": "rebooted twice" });
    let mut linked = entry("web1", EntryType::Execution, 60);
    linked.execution_id = Some("exec-1".to_string());
    send_all(
        &store,
        [
            WriteOp::UpsertExecution(execution("exec-1", "alice", "success", 55, &["web1"])),
            WriteOp::Journal(note.clone()),
            WriteOp::Journal(linked.clone()),
        ],
    );
    let got = store.journal("web1", &[], None).unwrap();
    note.id = 1;
    linked.id = 2;
    assert_eq!(got, [linked.clone(), note]);
    let execution_id = got[0].execution_id.as_deref().unwrap();
    let (e, _) = store.execution(execution_id).unwrap().unwrap();
    assert_eq!(e.id, "exec-1");
}

fn bursts_of_journal_entries_keep_every_field(place: StorePlace) {
    // Enough entries, sent back to back, that the writer stores most of them with its
    // multi-row insert; every field and the send order must survive it.
    let store = place.open();
    let mut expected: Vec<JournalEntry> = (0..1000i64)
        .map(|i| JournalEntry {
            id: i + 1,
            node: format!("n{}", i % 7),
            entry_type: EntryType::ALL[(i % 6) as usize],
            timestamp: 1000 - i / 3,
            user: format!("user{}", i % 5),
            action: format!("action #{i} ✓"),
            status: (i % 4 != 0).then(|| format!("status{}", i % 3)),
            execution_id: (i % 2 == 0).then(|| format!("exec-{i}")),
            details: json!({ "i": i, "nested": { "even": i % 2 == 0 } }),
        })
        .collect();
    // One entry too large for a multi-row insert: its group goes row by row.
    expected[500].details = json!({ "blob": "x".repeat(100_000) });
    // Hold the write lock while queuing, so the writer (stuck on its first entry) finds
    // the rest queued and takes them as one batch, which makes the grouping certain.
    let lock = place.hold_journal_lock();
    let writer = store.writer();
    for j in &expected {
        writer.blocking_send(WriteOp::Journal(j.clone())).unwrap();
    }
    lock.release();
    writer.blocking_flush().unwrap();
    expected.sort_by_key(|j| std::cmp::Reverse((j.timestamp, j.id)));
    for n in 0..7 {
        let node = format!("n{n}");
        let want: Vec<_> = expected
            .iter()
            .filter(|j| j.node == node)
            .cloned()
            .collect();
        assert_eq!(
            store.journal(&node, &[], None).unwrap(),
            want,
            "node {node}"
        );
    }
}

fn backpressure_never_drops_a_record(place: StorePlace) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(backpressure_never_drops_a_record_in(place));
}

async fn backpressure_never_drops_a_record_in(place: StorePlace) {
    const TASKS: usize = 8;
    const PER_TASK: usize = 12_500;
    let store = place.open();
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let writer = store.writer();
        tasks.push(tokio::spawn(async move {
            for i in 0..PER_TASK {
                let j = entry(&format!("node-{t}"), EntryType::Event, i as i64);
                writer.send(WriteOp::Journal(j)).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    store.writer().flush().await.unwrap();
    assert_eq!(place.count("journal"), (TASKS * PER_TASK) as i64);
    let check = store.clone();
    tokio::task::spawn_blocking(move || {
        for t in 0..TASKS {
            let got = check.journal(&format!("node-{t}"), &[], None).unwrap();
            assert_eq!(got.len(), PER_TASK);
            // Each task's entries arrive in send order, so ids rise as ts rises.
            assert!(
                got.windows(2)
                    .all(|w| w[0].timestamp == w[1].timestamp + 1 && w[0].id > w[1].id)
            );
        }
    })
    .await
    .unwrap();
}

// ---------------------------------------------------------------- writer

fn rejected_write_is_reported_to_the_next_flush_and_the_rest_lands(place: StorePlace) {
    let store = place.open();
    let writer = store.writer();
    writer
        .blocking_send(WriteOp::Journal(entry("n1", EntryType::Event, 1)))
        .unwrap();
    // No such execution: the foreign key rejects this one op.
    writer
        .blocking_send(WriteOp::NodeResult(node_result("ghost", "n1", "success")))
        .unwrap();
    writer
        .blocking_send(WriteOp::Journal(entry("n1", EntryType::Event, 2)))
        .unwrap();
    let err = writer
        .blocking_flush()
        .expect_err("the orphan result must be reported");
    match &err {
        StoreError::WriteFailed { ops, reason } => {
            assert_eq!(*ops, 1);
            assert!(reason.contains("ghost"), "{reason}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(place.count("journal"), 2);
    assert_eq!(place.count("node_results"), 0);
    writer
        .blocking_flush()
        .expect("the failure is reported once");
}

fn blocking_calls_work_inside_a_runtime(place: StorePlace) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(blocking_calls_work_inside_a_runtime_in(place));
}

async fn blocking_calls_work_inside_a_runtime_in(place: StorePlace) {
    // More than the channel holds, from a runtime thread: the sync calls must wait for
    // room instead of panicking or spinning.
    let store = place.open();
    let writer = store.writer();
    for ts in 0..10_000 {
        writer
            .blocking_send(WriteOp::Journal(entry("n1", EntryType::Event, ts)))
            .unwrap();
    }
    writer.blocking_flush().unwrap();
    assert_eq!(place.count("journal"), 10_000);
    store.close().unwrap();
}

fn output_chunks_keep_order_per_node(place: StorePlace) {
    let store = place.open();
    let chunk = |node: &str, stream, data: &[u8]| WriteOp::OutputChunk {
        execution_id: "e".to_string(),
        node: node.to_string(),
        stream,
        data: data.to_vec(),
    };
    send_all(
        &store,
        [
            WriteOp::UpsertExecution(execution("e", "alice", "running", 1, &["a", "b"])),
            chunk("a", Stream::Stdout, b"one"),
            chunk("b", Stream::Stdout, b"other"),
            chunk("a", Stream::Stderr, b"\xff\x00two"),
        ],
    );
    send_all(&store, [chunk("a", Stream::Stdout, b"three")]);
    assert_eq!(
        store.full_output("e", "a").unwrap(),
        [
            (Stream::Stdout, b"one".to_vec()),
            (Stream::Stderr, b"\xff\x00two".to_vec()),
            (Stream::Stdout, b"three".to_vec()),
        ]
    );
    assert_eq!(
        store.full_output("e", "b").unwrap(),
        [(Stream::Stdout, b"other".to_vec())]
    );
    assert!(store.full_output("e", "c").unwrap().is_empty());
}

fn compressible_chunks_are_stored_small_and_a_damaged_one_is_named(place: StorePlace) {
    let store = place.open();
    let text = "a log line that repeats\n".repeat(4000).into_bytes();
    send_all(
        &store,
        [
            WriteOp::UpsertExecution(execution("e", "alice", "running", 1, &["a"])),
            WriteOp::OutputChunk {
                execution_id: "e".to_string(),
                node: "a".to_string(),
                stream: Stream::Stdout,
                data: text.clone(),
            },
        ],
    );
    assert_eq!(
        store.full_output("e", "a").unwrap(),
        [(Stream::Stdout, text.clone())]
    );
    let encoding = place.query_text("SELECT encoding FROM output_chunks WHERE node = 'a'");
    assert_eq!(encoding.as_deref(), Some("lz4"));
    let stored: i64 = place
        .query_text("SELECT CAST(length(data) AS TEXT) FROM output_chunks WHERE node = 'a'")
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(stored < text.len() as i64 / 10, "{stored} bytes stored");
    let damaged = match place.backend() {
        Backend::Sqlite => "X'ffffff7f0102'",
        Backend::Postgres => "'\\xffffff7f0102'::bytea",
    };
    place.execute(&format!("UPDATE output_chunks SET data = {damaged}"));
    let err = store.full_output("e", "a").unwrap_err().to_string();
    assert!(
        err.contains("output chunk 0 of node a in execution e"),
        "{err}"
    );
}

fn close_commits_then_refuses_writes_and_keeps_reads(place: StorePlace) {
    let store = place.open();
    let writer = store.writer();
    for ts in 0..100 {
        writer
            .blocking_send(WriteOp::Journal(entry("n1", EntryType::Event, ts)))
            .unwrap();
    }
    store.close().unwrap();
    assert_eq!(store.journal("n1", &[], None).unwrap().len(), 100);
    let err = writer.blocking_send(WriteOp::Journal(entry("n1", EntryType::Event, 0)));
    assert!(matches!(err, Err(StoreError::Closed)), "{err:?}");
    assert!(matches!(writer.blocking_flush(), Err(StoreError::Closed)));
    store.close().expect("closing twice is harmless");
}

// ---------------------------------------------------------------- lookup by prefix

fn execution_by_exact_id_or_unique_prefix(place: StorePlace) {
    let store = place.open();
    send_all(
        &store,
        [
            WriteOp::UpsertExecution(execution(
                "abc123",
                "alice",
                "success",
                1,
                &["web3", "db1", "app2"],
            )),
            WriteOp::UpsertExecution(execution("abc456", "alice", "success", 2, &[])),
            WriteOp::UpsertExecution(execution("abd789", "alice", "success", 3, &[])),
            WriteOp::UpsertExecution(execution("ab", "alice", "success", 4, &[])),
            WriteOp::NodeResult(node_result("abc123", "web3", "success")),
            WriteOp::NodeResult(node_result("abc123", "db1", "failed")),
            WriteOp::NodeResult(node_result("abc123", "app2", "success")),
        ],
    );
    let (e, results) = store.execution("abc1").unwrap().unwrap();
    assert_eq!(e.id, "abc123");
    let nodes: Vec<_> = results.iter().map(|r| r.node.as_str()).collect();
    assert_eq!(nodes, ["app2", "db1", "web3"]);
    assert_eq!(results[1].status, "failed");

    assert_eq!(store.execution("abd").unwrap().unwrap().0.id, "abd789");
    // An exact id wins even though it is also a prefix of others.
    assert_eq!(store.execution("ab").unwrap().unwrap().0.id, "ab");
    assert!(store.execution("zzz").unwrap().is_none());
    assert!(store.execution("abc1234").unwrap().is_none());
    assert!(store.execution("").unwrap().is_none());

    match store.execution("abc") {
        Err(StoreError::Ambiguous {
            prefix,
            candidates,
            more,
        }) => {
            assert_eq!(prefix, "abc");
            let ids: Vec<&str> = candidates.iter().map(|c| c.id.as_str()).collect();
            assert_eq!(ids, ["abc123", "abc456"]);
            // Enough to tell them apart: when each started, what and how it ended.
            assert_eq!(candidates[1].started_at, 2);
            assert_eq!(candidates[1].status, "success");
            assert!(!more);
        }
        other => panic!("expected ambiguity, got {other:?}"),
    }
    let message = store.execution("abc").unwrap_err().to_string();
    assert!(
        message.contains("abc123") && message.contains("abc456"),
        "{message}"
    );
}

fn an_ambiguous_prefix_lists_the_first_ten_and_says_there_are_more(place: StorePlace) {
    let store = place.open();
    send_all(
        &store,
        (0..12).map(|i| {
            WriteOp::UpsertExecution(execution(&format!("f{i:02}"), "bob", "failed", i, &[]))
        }),
    );
    match store.execution("f") {
        Err(StoreError::Ambiguous {
            candidates, more, ..
        }) => {
            let ids: Vec<&str> = candidates.iter().map(|c| c.id.as_str()).collect();
            assert_eq!(ids, (0..10).map(|i| format!("f{i:02}")).collect::<Vec<_>>());
            assert!(more);
        }
        other => panic!("expected ambiguity, got {other:?}"),
    }
    assert!(
        store
            .execution("f")
            .unwrap_err()
            .to_string()
            .ends_with("f09 and more")
    );
    match store.execution("f1") {
        Err(StoreError::Ambiguous {
            candidates, more, ..
        }) => assert_eq!((candidates.len(), more), (2, false)),
        other => panic!("expected ambiguity, got {other:?}"),
    }
}

// ---------------------------------------------------------------- prune

fn prune_removes_old_executions_with_their_rows_and_old_journal_entries(place: StorePlace) {
    let store = place.open();
    let chunk = |id: &str| WriteOp::OutputChunk {
        execution_id: id.to_string(),
        node: "n1".to_string(),
        stream: Stream::Stdout,
        data: b"x".to_vec(),
    };
    send_all(
        &store,
        [
            WriteOp::UpsertExecution(execution("old", "alice", "success", 10, &["n1", "n2"])),
            WriteOp::UpsertExecution(execution("edge", "alice", "failed", 20, &["n1"])),
            WriteOp::UpsertExecution(execution("new", "alice", "success", 30, &["n1"])),
            WriteOp::UpsertExecution(execution("live", "alice", "running", 5, &["n1"])),
            WriteOp::NodeResult(node_result("old", "n1", "success")),
            WriteOp::NodeResult(node_result("new", "n1", "success")),
            chunk("old"),
            chunk("new"),
            WriteOp::Journal(entry("n1", EntryType::Event, 10)),
            WriteOp::Journal(entry("n1", EntryType::Event, 19)),
            WriteOp::Journal(entry("n1", EntryType::Event, 20)),
        ],
    );
    let report = store.prune(20).unwrap();
    assert_eq!(
        report,
        PruneReport {
            executions: 1,
            journal_entries: 2,
            events: 0,
            transcripts: 0,
        }
    );

    let mut ids: Vec<_> = all_history(&store).into_iter().map(|e| e.id).collect();
    ids.sort();
    assert_eq!(ids, ["edge", "live", "new"]);
    assert!(store.execution("old").unwrap().is_none());
    assert!(store.full_output("old", "n1").unwrap().is_empty());
    assert_eq!(store.full_output("new", "n1").unwrap().len(), 1);
    assert_eq!(place.count("node_results"), 1);
    assert_eq!(place.count("output_chunks"), 1);
    assert_eq!(place.count("execution_targets"), 3);
    let left: Vec<_> = store
        .journal("n1", &[], None)
        .unwrap()
        .into_iter()
        .map(|j| j.timestamp)
        .collect();
    assert_eq!(left, [20]);
    assert_eq!(store.prune(20).unwrap(), PruneReport::default());
}

// ---------------------------------------------------------------- crash recovery

/// A pid and start time of a process that has certainly exited.
fn dead_process() -> (i64, i64) {
    let mut child = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let pid = i64::from(child.id());
    let start = process_start_time(pid).expect("child is running");
    child.kill().unwrap();
    child.wait().unwrap();
    (pid, start)
}

#[test]
fn process_identity_needs_pid_and_start_time() {
    let me = i64::from(std::process::id());
    let start = process_start_time(me).expect("we are running");
    assert!(process_is_alive(me, start));
    assert!(
        !process_is_alive(me, start + 1),
        "a reused pid is not the owner"
    );
    assert_eq!(process_start_time(i64::MAX), None);
    assert_eq!(process_start_time(-1), None);
    let (pid, start) = dead_process();
    assert!(!process_is_alive(pid, start));
}

fn recover_interrupted_marks_only_runs_of_dead_owners(place: StorePlace) {
    let store = place.open();
    let (dead_pid, dead_start) = dead_process();
    let me = i64::from(std::process::id());
    let my_start = process_start_time(me).unwrap();

    let mut crashed = execution("crashed", "bob", "running", 100, &["n1", "n2", "n3"]);
    crashed.action = "apt upgrade".to_string();
    (crashed.owner_pid, crashed.owner_start_time) = (dead_pid, dead_start);
    let mut queued = execution("queued", "bob", "queued", 110, &["n4"]);
    (queued.owner_pid, queued.owner_start_time) = (i64::MAX, 0);
    let mut live = execution("live", "alice", "running", 120, &["n1"]);
    (live.owner_pid, live.owner_start_time) = (me, my_start);
    let mut done = execution("done", "alice", "success", 90, &["n1"]);
    (done.owner_pid, done.owner_start_time) = (dead_pid, dead_start);
    send_all(
        &store,
        [
            WriteOp::UpsertExecution(crashed),
            WriteOp::UpsertExecution(queued),
            WriteOp::UpsertExecution(live),
            WriteOp::UpsertExecution(done),
            WriteOp::NodeResult(node_result("crashed", "n1", "success")),
        ],
    );

    let recovered = store.recover_interrupted(process_is_alive).unwrap();
    assert_eq!(recovered, ["crashed", "queued"]);

    let (e, results) = store.execution("crashed").unwrap().unwrap();
    assert_eq!(e.status, "interrupted");
    assert!(e.finished_at.is_some_and(|t| t >= 100));
    assert_eq!((e.success_count, e.failed_count), (1, 2));
    let statuses: Vec<_> = results
        .iter()
        .map(|r| (r.node.as_str(), r.status.as_str()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("n1", "success"),
            ("n2", "interrupted"),
            ("n3", "interrupted")
        ]
    );

    assert!(
        store.journal("n1", &[], None).unwrap().is_empty(),
        "n1 had a result"
    );
    for node in ["n2", "n3"] {
        let journal = store.journal(node, &[], None).unwrap();
        assert_eq!(journal.len(), 1);
        let j = &journal[0];
        assert_eq!(j.entry_type, EntryType::Execution);
        assert_eq!(j.status.as_deref(), Some("interrupted"));
        assert_eq!(j.execution_id.as_deref(), Some("crashed"));
        assert_eq!((j.action.as_str(), j.user.as_str()), ("apt upgrade", "bob"));
    }
    assert_eq!(
        store.execution("queued").unwrap().unwrap().0.status,
        "interrupted"
    );
    assert_eq!(
        store
            .journal("n4", &[EntryType::Execution], None)
            .unwrap()
            .len(),
        1
    );

    let (live, live_results) = store.execution("live").unwrap().unwrap();
    assert_eq!((live.status.as_str(), live.finished_at), ("running", None));
    assert!(live_results.is_empty());
    assert_eq!(
        store.execution("done").unwrap().unwrap().0.status,
        "success"
    );

    assert!(
        store
            .recover_interrupted(process_is_alive)
            .unwrap()
            .is_empty(),
        "idempotent"
    );
    assert_eq!(place.count("journal"), 3);
}

// ---------------------------------------------------------------- bad data

fn corrupt_rows_give_typed_errors_and_do_not_block_recovery(place: StorePlace) {
    let store = place.open();
    send_all(
        &store,
        [
            WriteOp::UpsertExecution(execution("bad", "alice", "running", 1, &["n1"])),
            WriteOp::Journal(entry("n1", EntryType::Event, 1)),
        ],
    );
    place.execute(
        "UPDATE executions SET options = '{not json', nodes = 'nope';
         UPDATE journal SET entry_type = 'gossip';",
    );

    match store.history(&HistoryFilter::default()) {
        Err(StoreError::Corrupt { what, reason }) => {
            assert!(what.contains("bad"), "{what}");
            assert!(reason.contains("JSON"), "{reason}");
        }
        other => panic!("expected a corrupt-row error, got {other:?}"),
    }
    match store.journal("n1", &[], None) {
        Err(StoreError::Corrupt { reason, .. }) => assert!(reason.contains("gossip"), "{reason}"),
        other => panic!("expected a corrupt-row error, got {other:?}"),
    }
    assert_eq!(store.recover_interrupted(|_, _| false).unwrap(), ["bad"]);
    let status = place.query_text("SELECT status FROM executions WHERE id = 'bad'");
    assert_eq!(status.as_deref(), Some("interrupted"));
}

fn an_idempotency_claim_answers_until_its_window_ends(place: StorePlace) {
    let store = place.open();
    assert_eq!(store.claim_key("k", 1_000, 100).unwrap(), KeyClaim::New);
    // Claimed, not yet tied to an execution: another process is starting it.
    let taken = KeyClaim::Taken {
        execution_id: String::new(),
        status: None,
    };
    assert_eq!(store.claim_key("k", 1_050, 100).unwrap(), taken);
    assert_eq!(store.claim_key("other", 1_050, 100).unwrap(), KeyClaim::New);
    // Its process died before starting anything: the claim lapses with the window.
    assert_eq!(store.claim_key("k", 1_101, 100).unwrap(), KeyClaim::New);
    store.release_key("k").unwrap();
    assert_eq!(store.claim_key("k", 1_102, 100).unwrap(), KeyClaim::New);
}

fn events_facts_and_transcripts_round_trip(place: StorePlace) {
    let store = place.open();
    assert_eq!(store.last_event_seq().unwrap(), 0);
    let event = |kind: &str, node: Option<&str>| EventRecord {
        seq: 0,
        ts: 7,
        kind: kind.to_string(),
        execution: Some("e1".to_string()),
        node: node.map(str::to_string),
        user: Some("ops".to_string()),
        pid: 42,
        body: json!({ "kind": kind }),
    };
    let facts = CachedFacts {
        node: "web1".to_string(),
        providers: "builtin:10".to_string(),
        collected_at: 99,
        facts: r#"{"os":"linux"}"#.to_string(),
    };
    let transcript = TranscriptRecord {
        id: "00000000000000aa".to_string(),
        node: "web1".to_string(),
        user: "ops".to_string(),
        action: "session: shell".to_string(),
        started_at: 5,
        width: Some(80),
        height: Some(24),
        term: Some("xterm".to_string()),
        ended_at: None,
        bytes: 0,
        cut_at: None,
    };
    send_all(
        &store,
        [
            WriteOp::UpsertExecution(execution("e1", "ops", "running", 1, &["web1", "web2"])),
            WriteOp::Event(event("execution_started", None)),
            WriteOp::Event(event("node_started", Some("web2"))),
            WriteOp::Event(event("node_finished", Some("web2"))),
            WriteOp::Journal(entry("web1", EntryType::Manual, 3)),
            WriteOp::PutFacts(facts.clone()),
            WriteOp::TranscriptStart(transcript.clone()),
            WriteOp::TranscriptChunk {
                id: transcript.id.clone(),
                seq: 0,
                data: b"\x00frames".to_vec(),
            },
            WriteOp::TranscriptEnd {
                id: transcript.id.clone(),
                ended_at: 9,
                bytes: 7,
                cut_at: Some(7),
            },
        ],
    );

    let all = EventFilter {
        limit: 10,
        ..EventFilter::default()
    };
    let got = store.events(&all).unwrap();
    let seqs: Vec<i64> = got.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
    let mut want = event("node_started", Some("web2"));
    want.seq = 2;
    assert_eq!(got[1], want);
    assert_eq!(store.last_event_seq().unwrap(), 3);
    let after = EventFilter {
        after_seq: Some(1),
        nodes: Some(vec!["web1".to_string()]),
        ..all.clone()
    };
    assert!(
        store.events(&after).unwrap().is_empty(),
        "web1 has no events after 1"
    );
    assert_eq!(store.trim_events(1).unwrap(), 2);
    assert_eq!(store.events(&all).unwrap().len(), 1);
    assert_eq!(
        store.last_event_seq().unwrap(),
        3,
        "numbers are never reused"
    );

    let journal = store.journal("web1", &[], None).unwrap();
    assert_eq!(
        store.journal_entry(journal[0].id).unwrap().as_ref(),
        Some(&journal[0])
    );
    assert_eq!(store.journal_entry(journal[0].id + 100).unwrap(), None);

    assert_eq!(store.cached_facts("web1").unwrap(), Some(facts));
    assert_eq!(store.cached_facts("web2").unwrap(), None);

    let stored = store
        .transcript(&transcript.id)
        .unwrap()
        .expect("transcript");
    assert_eq!(
        (stored.ended_at, stored.bytes, stored.cut_at),
        (Some(9), 7, Some(7))
    );
    assert_eq!(stored.width, Some(80));
    assert_eq!(
        store
            .transcript_chunk(&transcript.id, 0)
            .unwrap()
            .as_deref(),
        Some(&b"\x00frames"[..])
    );
    assert_eq!(store.transcript_chunk(&transcript.id, 1).unwrap(), None);
    assert_eq!(store.transcript("nope").unwrap(), None);
}
