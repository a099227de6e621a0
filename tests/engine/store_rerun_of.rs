//! Schema version 4: `executions.rerun_of`. A re-run's link is stored and read back
//! (on both backends, see `store_backends`); a SQLite file written before the step
//! gains the column on open and its runs read back with no `rerun_of`.

use crate::common::records;
use crate::store_backends::StorePlace;
use drover::store::*;

on_both_backends! {
    places: [a_rerun_link_is_stored_and_read_back],
    properties: [],
}

fn execution(id: &str, rerun_of: Option<&str>) -> ExecutionRecord {
    records::execution(id)
        .user("ops")
        .status("failed")
        .target("n1")
        .nodes(&["n1"])
        .started_at(10)
        .took(10)
        .counts(0, 1)
        .rerun_of(rerun_of)
        .build()
}

fn write(store: &Store, record: ExecutionRecord) {
    let writer = store.writer();
    writer
        .blocking_send(WriteOp::UpsertExecution(record))
        .unwrap();
    writer.blocking_flush().unwrap();
}

fn a_rerun_link_is_stored_and_read_back(place: StorePlace) {
    let store = place.open();
    write(&store, execution("old1", None));
    write(&store, execution("new1", Some("old1")));
    let (new, _) = store.execution("new1").unwrap().unwrap();
    assert_eq!(new.rerun_of.as_deref(), Some("old1"));
    let (old, _) = store.execution("old1").unwrap().unwrap();
    assert_eq!(old.rerun_of, None);
    let mut listed: Vec<_> = store
        .history(&HistoryFilter::default())
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.rerun_of))
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            ("new1".to_string(), Some("old1".to_string())),
            ("old1".to_string(), None)
        ]
    );
}

#[test]
fn sqlite_a_version_3_database_gains_rerun_of_and_keeps_its_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("drover.db");
    // A version 3 database: today's schema without the column, the event log,
    // the transcripts, the chunks' encoding and the owner's host, with one run and one
    // raw chunk.
    let store = Store::open(&path).unwrap();
    store.close().unwrap();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "ALTER TABLE executions DROP COLUMN rerun_of; DROP TABLE events;
             DROP TABLE transcript_chunks; DROP TABLE transcripts;
             ALTER TABLE output_chunks DROP COLUMN encoding;
             ALTER TABLE executions DROP COLUMN owner_host;
             PRAGMA user_version = 3;
             INSERT INTO executions (id, kind, action, target_expr, nodes, user,
                 correlation_id, status, started_at, success_count, failed_count,
                 options, owner_pid, owner_start_time)
             VALUES ('old1', 'command', 'uptime', 'n1', '[\"n1\"]', 'ops', 'c',
                 'failed', 5, 0, 1, '{}', 1, 1);
             INSERT INTO output_chunks (execution_id, node, seq, stream, data)
             VALUES ('old1', 'n1', 0, 'stdout', X'6f6c640a');",
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    assert_eq!(SCHEMA_VERSION, 8);
    let (old, _) = store.execution("old1").unwrap().unwrap();
    assert_eq!(old.rerun_of, None);
    // Chunks written before step 7 read back as they were stored (raw).
    assert_eq!(
        store.full_output("old1", "n1").unwrap(),
        vec![(Stream::Stdout, b"old\n".to_vec())]
    );

    write(&store, execution("new1", Some("old1")));
    let (new, _) = store.execution("new1").unwrap().unwrap();
    assert_eq!(new.rerun_of.as_deref(), Some("old1"));
    let listed = store.history(&HistoryFilter::default()).unwrap();
    let link: Vec<_> = listed.iter().map(|r| r.rerun_of.clone()).collect();
    assert_eq!(link, [Some("old1".to_string()), None]);
}
