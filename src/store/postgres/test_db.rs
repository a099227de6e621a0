//! A throwaway PostgreSQL schema for the tests of this backend, on the server named
//! by `DROVER_TEST_PG_URL` (tests skip when it is unset). Each test gets a schema of
//! its own, so tests run in parallel, and the schema is dropped afterwards.
//!
//! The tables are this module's own translation of the SQLite schema (V1..V7, plus
//! `executions.owner_host`), used until the backend's migrations land.

use std::sync::atomic::{AtomicU64, Ordering};

use postgres::{Client, NoTls};

pub(crate) const URL_VAR: &str = "DROVER_TEST_PG_URL";

const TABLES: &str = "
CREATE TABLE executions (
    id TEXT PRIMARY KEY NOT NULL, kind TEXT NOT NULL, action TEXT NOT NULL,
    target_expr TEXT NOT NULL, nodes TEXT NOT NULL, \"user\" TEXT NOT NULL,
    correlation_id TEXT NOT NULL, status TEXT NOT NULL, started_at BIGINT NOT NULL,
    finished_at BIGINT, duration_ms BIGINT, success_count BIGINT NOT NULL,
    failed_count BIGINT NOT NULL, options TEXT NOT NULL, error TEXT,
    owner_pid BIGINT NOT NULL, owner_start_time BIGINT NOT NULL, rerun_of TEXT,
    owner_host TEXT NOT NULL DEFAULT ''
);
CREATE INDEX executions_by_time ON executions (started_at, id);
CREATE TABLE execution_targets (
    execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    node TEXT NOT NULL, started_at BIGINT NOT NULL,
    PRIMARY KEY (execution_id, node)
);
CREATE INDEX execution_targets_by_node ON execution_targets (node, started_at, execution_id);
CREATE TABLE node_results (
    execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    node TEXT NOT NULL, status TEXT NOT NULL, exit_code BIGINT, signal BIGINT,
    started_at BIGINT NOT NULL, finished_at BIGINT NOT NULL, duration_ms BIGINT NOT NULL,
    attempts BIGINT NOT NULL, error_category TEXT, error TEXT, output_mode TEXT NOT NULL,
    stdout TEXT NOT NULL, stderr TEXT NOT NULL, stdout_bytes BIGINT NOT NULL,
    stderr_bytes BIGINT NOT NULL, data TEXT,
    PRIMARY KEY (execution_id, node)
);
CREATE TABLE output_chunks (
    execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    node TEXT NOT NULL, seq BIGINT NOT NULL, stream TEXT NOT NULL, data BYTEA NOT NULL,
    encoding TEXT NOT NULL DEFAULT 'raw',
    PRIMARY KEY (execution_id, node, seq)
);
CREATE TABLE journal (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, node TEXT NOT NULL,
    entry_type TEXT NOT NULL, ts BIGINT NOT NULL, \"user\" TEXT NOT NULL,
    action TEXT NOT NULL, status TEXT, execution_id TEXT, details TEXT NOT NULL
);
CREATE INDEX journal_by_node ON journal (node, ts);
CREATE TABLE fact_cache (
    node TEXT PRIMARY KEY NOT NULL, providers TEXT NOT NULL,
    collected_at BIGINT NOT NULL, facts TEXT NOT NULL
);
CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY NOT NULL, execution_id TEXT NOT NULL, claimed_at BIGINT NOT NULL
);
CREATE TABLE events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, ts BIGINT NOT NULL,
    type TEXT NOT NULL, execution TEXT, node TEXT, \"user\" TEXT, pid BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX events_by_ts ON events (ts);
CREATE TABLE transcripts (
    id TEXT PRIMARY KEY NOT NULL, node TEXT NOT NULL, \"user\" TEXT NOT NULL,
    action TEXT NOT NULL, started_at BIGINT NOT NULL, width BIGINT, height BIGINT,
    term TEXT, ended_at BIGINT, bytes BIGINT NOT NULL, cut_at BIGINT
);
CREATE TABLE transcript_chunks (
    transcript_id TEXT NOT NULL REFERENCES transcripts (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL, data BYTEA NOT NULL,
    PRIMARY KEY (transcript_id, seq)
);
";

/// A schema of one test's own; dropped with it.
pub(crate) struct TestDb {
    url: String,
    schema: String,
    pub(crate) client: Client,
}

impl TestDb {
    /// A fresh schema with the tables, or `None` (the test skips) without a server.
    pub(crate) fn open() -> Option<TestDb> {
        let Ok(url) = std::env::var(URL_VAR) else {
            eprintln!("{URL_VAR} is not set: skipping a PostgreSQL test");
            return None;
        };
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let schema = format!(
            "drover_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut client = Client::connect(&url, NoTls).expect("connect to the test server");
        client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};
                 SET search_path TO {schema};"
            ))
            .unwrap();
        client.batch_execute(TABLES).unwrap();
        Some(TestDb {
            url,
            schema,
            client,
        })
    }

    /// Another connection to the same schema, as a second drover process would have.
    pub(crate) fn connect(&self) -> Client {
        let mut client = Client::connect(&self.url, NoTls).expect("connect to the test server");
        client
            .batch_execute(&format!("SET search_path TO {}", self.schema))
            .unwrap();
        client
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = self
            .client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
    }
}

use crate::store::records::{EntryType, JournalEntry, NodeResultRecord, OutputMode};
use crate::store::writer::WriteOp;

/// Commits `ops` as the writer would; the descriptions of the rejected ones.
pub(crate) fn commit(db: &mut TestDb, ops: Vec<WriteOp>) -> Vec<String> {
    super::commit::commit(&mut db.client, &ops).expect("commit")
}

/// A successful node result with some output.
pub(crate) fn result(execution_id: &str, node: &str, status: &str) -> NodeResultRecord {
    NodeResultRecord {
        execution_id: execution_id.into(),
        node: node.into(),
        status: status.into(),
        exit_code: Some(0),
        signal: None,
        started_at: 1_000,
        finished_at: 1_500,
        duration_ms: 500,
        attempts: 1,
        error_category: None,
        error: None,
        output_mode: OutputMode::Summary,
        stdout: "up 3 days\n".into(),
        stderr: String::new(),
        stdout_bytes: 10,
        stderr_bytes: 0,
        data: Some(serde_json::json!({"load": [0.1, 0.2]})),
    }
}

/// An execution journal entry of `node` at `ts`.
pub(crate) fn entry(node: &str, ts: i64, action: &str) -> JournalEntry {
    JournalEntry {
        id: 0,
        node: node.into(),
        entry_type: EntryType::Execution,
        timestamp: ts,
        user: "ops".into(),
        action: action.into(),
        status: Some("success".into()),
        execution_id: None,
        details: serde_json::json!({"exit": 0}),
    }
}
