//! Tests of `schema` against a real PostgreSQL server (`test_db`); a file of
//! their own so the module graph stays free of circles.

use ::postgres::fallible_iterator::FallibleIterator;

use super::*;
use crate::store::postgres::connect::PgLocation;

#[test]
fn both_backends_have_the_same_steps() {
    assert_eq!(PG_SCHEMA_VERSION, crate::store::SCHEMA_VERSION);
}

#[test]
fn every_user_column_is_quoted() {
    for (step, sql) in MIGRATIONS.iter().enumerate() {
        let bare = sql
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '"'))
            .any(|word| word == "user");
        assert!(!bare, "step {} names the column user unquoted", step + 1);
    }
}

/// A schema of its own on the test server (see `test_db`), dropped at the end, so
/// tests neither see nor disturb each other's tables.
struct Scratch {
    location: PgLocation,
    schema: String,
}

impl Scratch {
    fn new(name: &str) -> Option<Scratch> {
        let url = crate::store::postgres::test_db::server_url()?;
        let location: PgLocation = url.parse().expect("the test server's url");
        let schema = format!("drover_test_{name}_{}", std::process::id());
        let mut client = location.connect().expect("connect to the test server");
        client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
            ))
            .unwrap();
        Some(Scratch { location, schema })
    }

    fn client(&self) -> Client {
        let mut client = self.location.connect().unwrap();
        client
            .batch_execute(&format!("SET search_path TO {}", self.schema))
            .unwrap();
        client
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Ok(mut client) = self.location.connect() {
            let _ = client.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.schema));
        }
    }
}

fn tables(client: &mut Client) -> Vec<String> {
    client
        .query(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = current_schema() ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn migrating_twice_is_a_no_op_and_records_read_back() {
    let Some(scratch) = Scratch::new("twice") else {
        return;
    };
    let mut client = scratch.client();
    migrate(&mut client, "test").unwrap();
    assert_eq!(stored_version(&mut client).unwrap(), PG_SCHEMA_VERSION);
    let before = tables(&mut client);
    assert!(before.contains(&"events".to_string()), "{before:?}");
    migrate(&mut client, "test").unwrap();
    assert_eq!(stored_version(&mut client).unwrap(), PG_SCHEMA_VERSION);
    assert_eq!(tables(&mut client), before);
    let rows: i64 = client
        .query_one("SELECT count(*) FROM drover_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 1);

    // Queries read as they do on SQLite, with "user" quoted.
    client
        .batch_execute(
            r#"INSERT INTO executions (id, kind, action, target_expr, nodes, "user",
                   correlation_id, status, started_at, success_count, failed_count,
                   options, owner_pid, owner_start_time)
               VALUES ('e1', 'command', 'uptime', 'n1', '["n1"]', 'ops', 'c',
                   'running', 5, 0, 0, '{}', 1, 1);
               INSERT INTO journal (node, entry_type, ts, "user", action, details)
               VALUES ('n1', 'run', 5, 'ops', 'uptime', '{}'), ('n1', 'run', 6, 'ops', 'uptime', '{}');
               INSERT INTO events (ts, type, pid, body) VALUES (5, 'run', 1, '{}');"#,
        )
        .unwrap();
    let row = client
        .query_one(
            r#"SELECT "user", owner_host, rerun_of FROM executions WHERE id = 'e1'"#,
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "ops");
    assert_eq!(row.get::<_, String>(1), "");
    assert_eq!(row.get::<_, Option<String>>(2), None);
    let ids: Vec<i64> = client
        .query(
            "SELECT id FROM journal WHERE node = 'n1' ORDER BY ts DESC, id DESC",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, [2, 1]);
}

#[test]
fn new_records_are_announced_at_commit() {
    let Some(scratch) = Scratch::new("notify") else {
        return;
    };
    let mut writer = scratch.client();
    migrate(&mut writer, "test").unwrap();
    let mut listener = scratch.client();
    listener
        .batch_execute("LISTEN drover_events; LISTEN drover_journal; LISTEN drover_runs")
        .unwrap();
    let writer_pid: i32 = writer
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    writer
        .batch_execute(
            r#"INSERT INTO events (ts, type, pid, body) VALUES (5, 'run', 1, '{}');
               INSERT INTO journal (node, entry_type, ts, "user", action, details)
               VALUES ('n1', 'run', 5, 'ops', 'uptime', '{}');
               INSERT INTO executions (id, kind, action, target_expr, nodes, "user",
                   correlation_id, status, started_at, success_count, failed_count,
                   options, owner_pid, owner_start_time)
               VALUES ('e1', 'command', 'uptime', 'n1', '["n1"]', 'ops', 'c',
                   'running', 5, 0, 0, '{}', 1, 1);"#,
        )
        .unwrap();
    // A second transaction: PostgreSQL folds equal notifications within one.
    writer
        .batch_execute("UPDATE executions SET status = 'success' WHERE id = 'e1'")
        .unwrap();
    // The channels are the database's, shared with other tests' schemas: keep only
    // the writer's. One session's notifications arrive in commit order; the bound
    // only keeps a broken trigger from hanging the test.
    let mut notes = listener.notifications();
    let mut arriving = notes.timeout_iter(std::time::Duration::from_secs(30));
    let mut got = Vec::new();
    while got.len() < 4 {
        let note = arriving.next().unwrap().expect("a notification");
        if note.process_id() == writer_pid {
            got.push((note.channel().to_string(), note.payload().to_string()));
        }
    }
    // One per table per transaction, without a payload (see V8).
    let want = [
        ("drover_events", ""),
        ("drover_journal", ""),
        ("drover_runs", ""),
        ("drover_runs", ""),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(c, p)| (c.to_string(), p.to_string()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn processes_migrating_at_once_all_succeed() {
    let Some(scratch) = Scratch::new("race") else {
        return;
    };
    let scratch = &scratch;
    std::thread::scope(|s| {
        let racers: Vec<_> = (0..4)
            .map(|_| s.spawn(|| migrate(&mut scratch.client(), "test")))
            .collect();
        for racer in racers {
            racer.join().unwrap().unwrap();
        }
    });
    let mut client = scratch.client();
    assert_eq!(stored_version(&mut client).unwrap(), PG_SCHEMA_VERSION);
}

#[test]
fn a_version_7_database_gains_step_8_only() {
    let Some(scratch) = Scratch::new("step8") else {
        return;
    };
    let mut client = scratch.client();
    migrate(&mut client, "test").unwrap();
    client
        .batch_execute(
            "ALTER TABLE executions DROP COLUMN owner_host;
             DROP FUNCTION drover_notify CASCADE;
             DROP TABLE writer_batches, store_copies, breakers;
             UPDATE drover_schema SET version = 7;",
        )
        .unwrap();
    migrate(&mut client, "test").unwrap();
    assert_eq!(stored_version(&mut client).unwrap(), PG_SCHEMA_VERSION);
    let columns: i64 = client
        .query_one(
            "SELECT count(*) FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = 'executions'
               AND column_name = 'owner_host'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(columns, 1);
    let step8 = ["breakers", "store_copies", "writer_batches"].map(String::from);
    let tables = tables(&mut client);
    assert!(step8.iter().all(|t| tables.contains(t)), "{tables:?}");
}

#[test]
fn refuses_a_database_from_a_newer_drover() {
    let Some(scratch) = Scratch::new("newer") else {
        return;
    };
    let mut client = scratch.client();
    migrate(&mut client, "test").unwrap();
    client
        .execute(
            "UPDATE drover_schema SET version = $1",
            &[&(PG_SCHEMA_VERSION + 1)],
        )
        .unwrap();
    match migrate(&mut client, "postgres://db/x") {
        Err(StoreError::PgTooNew {
            location,
            found,
            supported,
        }) => {
            assert_eq!(location, "postgres://db/x");
            assert_eq!(found, PG_SCHEMA_VERSION + 1);
            assert_eq!(supported, PG_SCHEMA_VERSION);
        }
        other => panic!("unexpected {other:?}"),
    }
}
