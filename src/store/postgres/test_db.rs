//! A throwaway PostgreSQL schema for the tests of this backend. The server is the one
//! named by `DROVER_TEST_PG_URL` when it is set; otherwise a real one that this test
//! binary starts itself (`tests/pg_support`, shared with the integration tests: initdb
//! as an unprivileged user, readiness, cleanup at exit), one database per test. Without
//! PostgreSQL installed a test prints a loud SKIPPED line, and fails under
//! `DROVER_REQUIRE_FLEET=1` (`tests/prereq`). Each test gets a schema of its own, so
//! tests run in parallel, and the schema is dropped afterwards.
//!
//! The tables are made by the backend's own migrations.

use std::sync::atomic::{AtomicU64, Ordering};

use postgres::{Client, NoTls};

pub(crate) const URL_VAR: &str = "DROVER_TEST_PG_URL";

#[path = "../../../tests/prereq/mod.rs"]
mod prereq;

#[path = "../../../tests/pg_support/mod.rs"]
mod pg_support;

/// The url of a database for one test: `DROVER_TEST_PG_URL`'s, or a fresh database on
/// the server this test binary started; `None` (after a SKIPPED line, or a panic under
/// `DROVER_REQUIRE_FLEET=1`) when PostgreSQL is not installed.
pub(crate) fn server_url() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) => Some(url),
        Err(_) => pg_support::fresh_database(),
    }
}

/// A schema of one test's own; dropped with it.
pub(crate) struct TestDb {
    url: String,
    schema: String,
    pub(crate) client: Client,
}

impl TestDb {
    /// A fresh schema with the tables, or `None` as [`server_url`] gives.
    pub(crate) fn open() -> Option<TestDb> {
        let url = server_url()?;
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
        super::schema::migrate(&mut client, &schema).expect("migrate the test schema");
        Some(TestDb {
            url,
            schema,
            client,
        })
    }

    /// The test server's database url (the schema is this test's own).
    pub(crate) fn url(&self) -> &str {
        &self.url
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
