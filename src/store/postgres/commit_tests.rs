//! Round trips of every write op through `commit` and the reads, and the isolation
//! of rejected ops. On a real server (see `test_db`).

use super::super::test_db::{TestDb, commit, entry, result};
use super::super::{facts, queries, transcripts};
use crate::store::records::CachedFacts;
use crate::store::records::TranscriptRecord;
use crate::store::records::{
    EntryType, EventFilter, EventRecord, ExecutionRecord, JournalEntry, Stream,
};
use crate::store::writer::WriteOp;

fn run(id: &str, nodes: &[&str]) -> ExecutionRecord {
    ExecutionRecord {
        nodes: nodes.iter().map(|n| n.to_string()).collect(),
        started_at: 1_000,
        options: serde_json::json!({"timeout": 30}),
        rerun_of: Some("r0".into()),
        error: Some("none".into()),
        finished_at: Some(2_000),
        duration_ms: Some(1_000),
        ..ExecutionRecord::sample(id)
    }
}

fn chunk(execution_id: &str, node: &str, stream: Stream, data: &[u8]) -> WriteOp {
    WriteOp::OutputChunk {
        execution_id: execution_id.into(),
        node: node.into(),
        stream,
        data: data.to_vec(),
    }
}

fn event(kind: &str) -> EventRecord {
    EventRecord {
        seq: 0,
        ts: 1_000,
        kind: kind.into(),
        execution: Some("e1".into()),
        node: Some("web1".into()),
        user: None,
        pid: 42,
        body: serde_json::json!({"attempt": 1}),
    }
}

fn transcript(id: &str) -> TranscriptRecord {
    TranscriptRecord {
        id: id.into(),
        node: "web1".into(),
        user: "ops".into(),
        action: "session: shell".into(),
        started_at: 1_000,
        width: Some(80),
        height: Some(24),
        term: Some("xterm".into()),
        ended_at: None,
        bytes: 0,
        cut_at: None,
    }
}

#[test]
fn every_op_comes_back_as_written() {
    let Some(mut db) = TestDb::open() else { return };
    let log = "a line of output that repeats\n".repeat(200);
    let rejected = commit(
        &mut db,
        vec![
            WriteOp::UpsertExecution(run("e1", &["web1", "web2"])),
            WriteOp::NodeResult(result("e1", "web2", "success")),
            WriteOp::Journal(entry("web1", 10, "first")),
            chunk("e1", "web1", Stream::Stdout, log.as_bytes()),
            WriteOp::Event(event("node_started")),
            chunk("e1", "web1", Stream::Stderr, b"oops"),
            WriteOp::Journal(entry("web1", 20, "second")),
            WriteOp::PutFacts(CachedFacts {
                node: "web1".into(),
                providers: "ssh:1".into(),
                collected_at: 5,
                facts: "{\"os\":\"linux\"}".into(),
            }),
            WriteOp::TranscriptStart(transcript("t1")),
            WriteOp::TranscriptChunk {
                id: "t1".into(),
                seq: 0,
                data: vec![0, 1, 2, 255],
            },
            WriteOp::TranscriptEnd {
                id: "t1".into(),
                ended_at: 9_000,
                bytes: 4,
                cut_at: Some(4),
            },
            WriteOp::Event(event("node_finished")),
        ],
    );
    assert!(rejected.is_empty(), "{rejected:?}");
    let c = &mut db.client;

    let (record, results) = queries::execution(c, "e1").unwrap().unwrap();
    assert_eq!(record, run("e1", &["web1", "web2"]));
    assert_eq!(results, [result("e1", "web2", "success")]);

    let output = queries::full_output(c, "e1", "web1").unwrap();
    assert_eq!(
        output,
        [
            (Stream::Stdout, log.as_bytes().to_vec()),
            (Stream::Stderr, b"oops".to_vec())
        ]
    );
    let encodings: Vec<String> = c
        .query("SELECT encoding FROM output_chunks ORDER BY seq", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(encodings, ["lz4", "raw"]);

    let journal = queries::journal(c, "web1", &[], None).unwrap();
    let actions: Vec<&str> = journal.iter().map(|j| j.action.as_str()).collect();
    assert_eq!(actions, ["second", "first"]);
    assert!(journal[0].id > journal[1].id);
    let one = queries::journal_entry(c, journal[1].id).unwrap().unwrap();
    assert_eq!(
        one,
        JournalEntry {
            id: one.id,
            ..entry("web1", 10, "first")
        }
    );

    let cached = facts::cached_facts(c, "web1").unwrap().unwrap();
    assert_eq!(cached.facts, "{\"os\":\"linux\"}");
    assert_eq!(facts::cached_facts(c, "web9").unwrap(), None);

    let events = super::super::events::events(
        c,
        &EventFilter {
            limit: 10,
            ..EventFilter::default()
        },
    )
    .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["node_started", "node_finished"]);
    assert_eq!(events[0].body, serde_json::json!({"attempt": 1}));
    assert_eq!(events[0].user, None);

    let t = transcripts::transcript(c, "t1").unwrap().unwrap();
    assert_eq!(
        t,
        TranscriptRecord {
            ended_at: Some(9_000),
            bytes: 4,
            cut_at: Some(4),
            ..transcript("t1")
        }
    );
    assert_eq!(
        transcripts::transcript_chunk(c, "t1", 0).unwrap(),
        Some(vec![0, 1, 2, 255])
    );
    assert_eq!(transcripts::transcript_chunk(c, "t1", 1).unwrap(), None);

    // A second batch: the upsert updates in place and rewrites the targets, a result
    // is replaced, chunk numbers go on, facts are replaced.
    let mut finished = run("e1", &["web2", "web3"]);
    finished.status = "failed".into();
    let rejected = commit(
        &mut db,
        vec![
            WriteOp::UpsertExecution(finished.clone()),
            WriteOp::NodeResult(result("e1", "web2", "failed")),
            chunk("e1", "web1", Stream::Stdout, b"more"),
            WriteOp::PutFacts(CachedFacts {
                node: "web1".into(),
                providers: "ssh:1".into(),
                collected_at: 6,
                facts: "{}".into(),
            }),
        ],
    );
    assert!(rejected.is_empty(), "{rejected:?}");
    let c = &mut db.client;
    let (record, results) = queries::execution(c, "e1").unwrap().unwrap();
    assert_eq!(record, finished);
    assert_eq!(results, [result("e1", "web2", "failed")]);
    let targets: Vec<String> = c
        .query(
            "SELECT node FROM execution_targets WHERE execution_id = 'e1' ORDER BY node",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(targets, ["web2", "web3"]);
    let output = queries::full_output(c, "e1", "web1").unwrap();
    assert_eq!(output.len(), 3);
    assert_eq!(output[2], (Stream::Stdout, b"more".to_vec()));
    assert_eq!(
        facts::cached_facts(c, "web1")
            .unwrap()
            .unwrap()
            .collected_at,
        6
    );
}

#[test]
fn a_rejected_op_is_left_out_alone_and_the_batch_commits() {
    let Some(mut db) = TestDb::open() else { return };
    let rejected = commit(
        &mut db,
        vec![
            WriteOp::UpsertExecution(run("e1", &["web1"])),
            WriteOp::NodeResult(result("e1", "web1", "success")),
            // No such execution: the foreign key refuses it.
            WriteOp::NodeResult(result("ghost", "web1", "success")),
            WriteOp::NodeResult(result("e1", "web2", "success")),
            WriteOp::Journal(entry("web1", 10, "kept")),
            // PostgreSQL text cannot hold NUL.
            WriteOp::Journal(entry("web1", 11, "bad\0action")),
            WriteOp::Journal(entry("web1", 12, "kept too")),
            chunk("ghost", "web1", Stream::Stdout, b"lost"),
            chunk("e1", "web1", Stream::Stdout, b"kept"),
            WriteOp::TranscriptChunk {
                id: "no-such-transcript".into(),
                seq: 0,
                data: vec![1],
            },
            WriteOp::Event(event("node_finished")),
        ],
    );
    assert_eq!(rejected.len(), 4, "{rejected:#?}");
    assert!(rejected[0].starts_with("result of node web1 in execution ghost: db error: ERROR"));
    assert!(
        rejected
            .iter()
            .any(|r| r.starts_with("journal entry for node web1"))
    );
    assert!(
        rejected
            .iter()
            .any(|r| r.starts_with("output chunk of node web1 in execution ghost"))
    );
    assert!(
        rejected
            .iter()
            .any(|r| r.starts_with("chunk 0 of transcript no-such-transcript"))
    );
    let c = &mut db.client;
    let (_, results) = queries::execution(c, "e1").unwrap().unwrap();
    let nodes: Vec<&str> = results.iter().map(|r| r.node.as_str()).collect();
    assert_eq!(nodes, ["web1", "web2"]);
    let journal = queries::journal(c, "web1", &[EntryType::Execution], None).unwrap();
    let actions: Vec<&str> = journal.iter().map(|j| j.action.as_str()).collect();
    assert_eq!(actions, ["kept too", "kept"]);
    assert_eq!(
        queries::full_output(c, "e1", "web1").unwrap(),
        [(Stream::Stdout, b"kept".to_vec())]
    );
    assert!(super::super::events::last_event_seq(c).unwrap() > 0);
}

#[test]
fn two_results_of_one_node_in_a_batch_leave_the_last() {
    let Some(mut db) = TestDb::open() else { return };
    let rejected = commit(
        &mut db,
        vec![
            WriteOp::UpsertExecution(run("e1", &["web1"])),
            WriteOp::NodeResult(result("e1", "web1", "running")),
            WriteOp::NodeResult(result("e1", "web1", "success")),
        ],
    );
    assert!(rejected.is_empty(), "{rejected:?}");
    let (_, results) = queries::execution(&mut db.client, "e1").unwrap().unwrap();
    assert_eq!(results, [result("e1", "web1", "success")]);
}

#[test]
fn nul_in_output_text_is_kept_as_a_replacement_character() {
    let Some(mut db) = TestDb::open() else { return };
    let mut r = result("e1", "web1", "success");
    r.stdout = "a\0b".into();
    let rejected = commit(
        &mut db,
        vec![
            WriteOp::UpsertExecution(run("e1", &["web1"])),
            WriteOp::NodeResult(r),
        ],
    );
    assert!(rejected.is_empty(), "{rejected:?}");
    let (_, results) = queries::execution(&mut db.client, "e1").unwrap().unwrap();
    assert_eq!(results[0].stdout, "a\u{FFFD}b");
}

#[test]
fn executions_are_stamped_with_the_sessions_host() {
    let Some(mut db) = TestDb::open() else { return };
    super::super::owner::set_owner_host(&mut db.client, "build-7").unwrap();
    commit(&mut db, vec![WriteOp::UpsertExecution(run("e1", &[]))]);
    let host: String = db
        .client
        .query_one("SELECT owner_host FROM executions WHERE id = 'e1'", &[])
        .unwrap()
        .get(0);
    assert_eq!(host, "build-7");
}

#[test]
fn apply_leaves_the_transaction_usable_after_a_rejection() {
    let Some(mut db) = TestDb::open() else { return };
    let mut tx = db.client.transaction().unwrap();
    let ghost = WriteOp::NodeResult(result("ghost", "web1", "success"));
    let e = super::apply(&mut tx, &ghost).unwrap_err();
    assert!(super::is_about_the_op(&e));
    super::apply(&mut tx, &WriteOp::UpsertExecution(run("e1", &["web1"]))).unwrap();
    tx.commit().unwrap();
    assert!(queries::execution(&mut db.client, "e1").unwrap().is_some());
}

#[test]
fn a_result_before_its_executions_first_upsert_is_rejected_as_in_sqlite() {
    let Some(mut db) = TestDb::open() else { return };
    let rejected = commit(
        &mut db,
        vec![
            WriteOp::NodeResult(result("e1", "web1", "success")),
            WriteOp::UpsertExecution(run("e1", &["web1"])),
            WriteOp::NodeResult(result("e1", "web2", "success")),
        ],
    );
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert!(rejected[0].starts_with("result of node web1 in execution e1"));
    let (_, results) = queries::execution(&mut db.client, "e1").unwrap().unwrap();
    assert_eq!(results, [result("e1", "web2", "success")]);
}

#[test]
fn several_upserts_of_a_run_in_one_batch_leave_its_last_state() {
    let Some(mut db) = TestDb::open() else { return };
    let mut done = run("e1", &["web2", "web3", "web3"]);
    done.status = "success".into();
    let rejected = commit(
        &mut db,
        vec![
            WriteOp::UpsertExecution(run("e1", &["web1", "web2"])),
            WriteOp::NodeResult(result("e1", "web1", "success")),
            WriteOp::UpsertExecution(run("e2", &["web1"])),
            chunk("e1", "web1", Stream::Stdout, b"one"),
            WriteOp::UpsertExecution(done.clone()),
            chunk("e1", "web1", Stream::Stdout, b"two"),
        ],
    );
    assert!(rejected.is_empty(), "{rejected:?}");
    let c = &mut db.client;
    let (record, results) = queries::execution(c, "e1").unwrap().unwrap();
    assert_eq!(record, done);
    assert_eq!(results.len(), 1);
    let targets: Vec<(String, String)> = c
        .query(
            "SELECT execution_id, node FROM execution_targets ORDER BY 1, 2",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let pairs: Vec<(&str, &str)> = targets
        .iter()
        .map(|(e, n)| (e.as_str(), n.as_str()))
        .collect();
    assert_eq!(pairs, [("e1", "web2"), ("e1", "web3"), ("e2", "web1")]);
    let output = queries::full_output(c, "e1", "web1").unwrap();
    assert_eq!(
        output,
        [
            (Stream::Stdout, b"one".to_vec()),
            (Stream::Stdout, b"two".to_vec())
        ]
    );
}

#[test]
fn a_superseded_upsert_the_server_refuses_is_still_reported() {
    let Some(mut db) = TestDb::open() else { return };
    let mut bad = run("e1", &["web1"]);
    bad.action = "bad\0action".into();
    let rejected = commit(
        &mut db,
        vec![
            WriteOp::UpsertExecution(run("e1", &["web1"])),
            WriteOp::UpsertExecution(bad),
            WriteOp::UpsertExecution(run("e1", &["web1"])),
        ],
    );
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert!(rejected[0].starts_with("execution e1: db error: ERROR"));
    let (record, _) = queries::execution(&mut db.client, "e1").unwrap().unwrap();
    assert_eq!(record, run("e1", &["web1"]));
}
