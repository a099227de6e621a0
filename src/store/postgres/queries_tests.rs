//! History reads against a real server: filters, order, prefixes, the journal.
//! On a real server (see `test_db`).

use super::super::test_db::{TestDb, commit, entry, result};
use crate::store::error::StoreError;
use crate::store::records::{EntryType, ExecutionRecord, HistoryFilter};
use crate::store::writer::WriteOp;

fn run(id: &str, started_at: i64, user: &str, status: &str, nodes: &[&str]) -> WriteOp {
    WriteOp::UpsertExecution(ExecutionRecord {
        started_at,
        user: user.into(),
        status: status.into(),
        nodes: nodes.iter().map(|n| n.to_string()).collect(),
        ..ExecutionRecord::sample(id)
    })
}

fn ids(db: &mut TestDb, filter: HistoryFilter) -> Vec<String> {
    super::history(&mut db.client, &filter)
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect()
}

#[test]
fn history_filters_and_orders_newest_first_ties_by_id() {
    let Some(mut db) = TestDb::open() else { return };
    commit(
        &mut db,
        vec![
            run("a", 100, "ops", "success", &["web1"]),
            run("b", 200, "dev", "failed", &["web1", "web2"]),
            // Same start as b: the id breaks the tie, byte order descending.
            run("B", 200, "ops", "success", &["web2"]),
            run("c", 300, "ops", "running", &["web2"]),
        ],
    );
    assert_eq!(ids(&mut db, HistoryFilter::default()), ["c", "b", "B", "a"]);
    let since = HistoryFilter {
        since: Some(200),
        until: Some(200),
        ..HistoryFilter::default()
    };
    assert_eq!(ids(&mut db, since), ["b", "B"]);
    let user = HistoryFilter {
        user: Some("ops".into()),
        limit: Some(2),
        ..HistoryFilter::default()
    };
    assert_eq!(ids(&mut db, user), ["c", "B"]);
    let status = HistoryFilter {
        status: Some("success".into()),
        ..HistoryFilter::default()
    };
    assert_eq!(ids(&mut db, status), ["B", "a"]);
    let target = HistoryFilter {
        target: Some("web2".into()),
        since: Some(150),
        ..HistoryFilter::default()
    };
    assert_eq!(ids(&mut db, target), ["c", "b", "B"]);
    let target_user = HistoryFilter {
        target: Some("web1".into()),
        user: Some("dev".into()),
        ..HistoryFilter::default()
    };
    assert_eq!(ids(&mut db, target_user), ["b"]);
    let none = HistoryFilter {
        limit: Some(0),
        ..HistoryFilter::default()
    };
    assert!(ids(&mut db, none).is_empty());
}

#[test]
fn a_unique_prefix_finds_the_run_and_an_ambiguous_one_lists_candidates() {
    let Some(mut db) = TestDb::open() else { return };
    let mut ops = vec![
        run("abc1", 1, "ops", "success", &[]),
        run("abc2", 2, "ops", "failed", &[]),
        run("abd", 3, "ops", "success", &[]),
        run("ab", 4, "ops", "success", &[]),
    ];
    ops.extend((0..12).map(|i| run(&format!("zz{i:02}"), 5, "ops", "success", &[])));
    commit(&mut db, ops);
    let c = &mut db.client;
    let found =
        |c: &mut postgres::Client, p: &str| super::execution(c, p).map(|r| r.map(|(e, _)| e.id));
    assert_eq!(found(c, "abd").unwrap().as_deref(), Some("abd"));
    assert_eq!(found(c, "abc1").unwrap().as_deref(), Some("abc1"));
    // An exact id wins over the longer ids it prefixes.
    assert_eq!(found(c, "ab").unwrap().as_deref(), Some("ab"));
    assert_eq!(found(c, "abx").unwrap(), None);
    assert_eq!(found(c, "").unwrap(), None);
    match found(c, "abc") {
        Err(StoreError::Ambiguous {
            prefix,
            candidates,
            more,
        }) => {
            assert_eq!(prefix, "abc");
            let ids: Vec<&str> = candidates.iter().map(|c| c.id.as_str()).collect();
            assert_eq!(ids, ["abc1", "abc2"]);
            assert_eq!(candidates[1].status, "failed");
            assert_eq!(candidates[1].started_at, 2);
            assert!(!more);
        }
        other => panic!("expected an ambiguous prefix, got {other:?}"),
    }
    match found(c, "zz") {
        Err(StoreError::Ambiguous {
            candidates, more, ..
        }) => {
            assert_eq!(candidates.len(), 10);
            assert_eq!(candidates[0].id, "zz00");
            assert!(more);
        }
        other => panic!("expected an ambiguous prefix, got {other:?}"),
    }
    // `%` and `_` are not patterns here.
    assert_eq!(found(c, "a%").unwrap(), None);
    assert_eq!(found(c, "a_c").unwrap(), None);
}

#[test]
fn node_results_sort_by_node_name_byte_by_byte() {
    let Some(mut db) = TestDb::open() else { return };
    commit(
        &mut db,
        vec![
            run("e1", 1, "ops", "success", &["web1", "web-2", "Web3"]),
            WriteOp::NodeResult(result("e1", "web1", "success")),
            WriteOp::NodeResult(result("e1", "web-2", "success")),
            WriteOp::NodeResult(result("e1", "Web3", "success")),
        ],
    );
    let (_, results) = super::execution(&mut db.client, "e1").unwrap().unwrap();
    let nodes: Vec<&str> = results.iter().map(|r| r.node.as_str()).collect();
    assert_eq!(nodes, ["Web3", "web-2", "web1"]);
}

#[test]
fn the_journal_is_newest_first_by_time_then_id_with_types_and_limit() {
    let Some(mut db) = TestDb::open() else { return };
    let mut manual = entry("web1", 20, "reboot");
    manual.entry_type = EntryType::Manual;
    manual.status = None;
    commit(
        &mut db,
        vec![
            WriteOp::Journal(entry("web1", 10, "one")),
            WriteOp::Journal(entry("web1", 30, "three")),
            WriteOp::Journal(entry("web1", 30, "three, later")),
            WriteOp::Journal(manual.clone()),
            WriteOp::Journal(entry("web2", 40, "elsewhere")),
        ],
    );
    let c = &mut db.client;
    let actions = |c: &mut postgres::Client, types: &[EntryType], limit| {
        super::journal(c, "web1", types, limit)
            .unwrap()
            .into_iter()
            .map(|j| j.action)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        actions(c, &[], None),
        ["three, later", "three", "reboot", "one"]
    );
    assert_eq!(actions(c, &[], Some(2)), ["three, later", "three"]);
    assert_eq!(actions(c, &[EntryType::Manual], None), ["reboot"]);
    assert_eq!(
        actions(c, &[EntryType::Manual, EntryType::Execution], Some(10)).len(),
        4
    );
    assert!(actions(c, &[EntryType::Package], None).is_empty());
    let read = super::journal(c, "web1", &[EntryType::Manual], None).unwrap();
    assert_eq!(read[0].status, None);
    assert_eq!(
        super::journal_entry(c, read[0].id).unwrap(),
        Some(read[0].clone())
    );
    assert_eq!(super::journal_entry(c, -1).unwrap(), None);
}
