//! Schema migrations for a PostgreSQL store, kept in step with the SQLite ones.
//!
//! `MIGRATIONS[i]` takes the schema from version `i` to `i + 1` and means what SQLite's
//! step of the same number means: same tables, same column names, so a query reads the
//! same on both backends. The version lives in the one-row table `drover_schema`.
//!
//! How the SQLite types translate:
//! - every `INTEGER` is `BIGINT`, so each integer column reads back as an `i64` as it
//!   does from SQLite (the `postgres` crate will not read an `INT4` into an `i64`);
//! - `BLOB` is `BYTEA`; `INTEGER PRIMARY KEY AUTOINCREMENT` is
//!   `BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY` (a sequence never hands a number
//!   out twice); `WITHOUT ROWID` has no counterpart and is dropped;
//! - `user` is a reserved word in PostgreSQL: the column keeps its name but is written
//!   `"user"`, quoted, in every PostgreSQL statement;
//! - text that is a key, indexed, or compared by range (`id > ?` for id prefixes,
//!   `ORDER BY node`) is `COLLATE "C"`: SQLite compares text byte by byte, and so does
//!   the "C" collation, whatever the database's default locale (which may, for one,
//!   ignore punctuation and so break prefix ranges over ids).
//!
//! A SQLite rowid rides along in every index of its table; a PostgreSQL index holds only
//! the columns it names, so where an order relies on the rowid (`journal`'s `id`,
//! `events`' `seq`), the index here names it.

use ::postgres::{Client, IsolationLevel, Transaction};

use crate::store::error::StoreError;

/// Version 1: the initial schema (see SQLite's step 1 for the choices behind the
/// indexes). `journal_by_node` names `id` because the `(node, ts DESC, id DESC)` order
/// must be read off it here too.
const V1: &str = r#"
CREATE TABLE executions (
    id               TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    kind             TEXT NOT NULL,
    action           TEXT NOT NULL,
    target_expr      TEXT NOT NULL,
    nodes            TEXT NOT NULL,
    "user"           TEXT COLLATE "C" NOT NULL,
    correlation_id   TEXT NOT NULL,
    status           TEXT COLLATE "C" NOT NULL,
    started_at       BIGINT NOT NULL,
    finished_at      BIGINT,
    duration_ms      BIGINT,
    success_count    BIGINT NOT NULL,
    failed_count     BIGINT NOT NULL,
    options          TEXT NOT NULL,
    error            TEXT,
    owner_pid        BIGINT NOT NULL,
    owner_start_time BIGINT NOT NULL
);
CREATE INDEX executions_by_time        ON executions (started_at, id);
CREATE INDEX executions_by_user        ON executions ("user", started_at, id);
CREATE INDEX executions_by_status      ON executions (status, started_at, id);
CREATE INDEX executions_by_user_status ON executions ("user", status, started_at, id);

CREATE TABLE execution_targets (
    execution_id TEXT COLLATE "C" NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    node         TEXT COLLATE "C" NOT NULL,
    started_at   BIGINT NOT NULL,
    PRIMARY KEY (execution_id, node)
);
CREATE INDEX execution_targets_by_node ON execution_targets (node, started_at, execution_id);

CREATE TABLE node_results (
    execution_id   TEXT COLLATE "C" NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    node           TEXT COLLATE "C" NOT NULL,
    status         TEXT NOT NULL,
    exit_code      BIGINT,
    signal         BIGINT,
    started_at     BIGINT NOT NULL,
    finished_at    BIGINT NOT NULL,
    duration_ms    BIGINT NOT NULL,
    attempts       BIGINT NOT NULL,
    error_category TEXT,
    error          TEXT,
    output_mode    TEXT NOT NULL,
    stdout         TEXT NOT NULL,
    stderr         TEXT NOT NULL,
    stdout_bytes   BIGINT NOT NULL,
    stderr_bytes   BIGINT NOT NULL,
    data           TEXT,
    PRIMARY KEY (execution_id, node)
);

CREATE TABLE output_chunks (
    execution_id TEXT COLLATE "C" NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    node         TEXT COLLATE "C" NOT NULL,
    seq          BIGINT NOT NULL,
    stream       TEXT NOT NULL,
    data         BYTEA NOT NULL,
    PRIMARY KEY (execution_id, node, seq)
);

CREATE TABLE journal (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    node         TEXT COLLATE "C" NOT NULL,
    entry_type   TEXT NOT NULL,
    ts           BIGINT NOT NULL,
    "user"       TEXT NOT NULL,
    action       TEXT NOT NULL,
    status       TEXT,
    execution_id TEXT,
    details      TEXT NOT NULL
);
CREATE INDEX journal_by_node ON journal (node, ts, id);
"#;

/// Version 2: the fact cache, one row per node.
const V2: &str = r#"
CREATE TABLE fact_cache (
    node         TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    providers    TEXT NOT NULL,
    collected_at BIGINT NOT NULL,
    facts        TEXT NOT NULL
);
"#;

/// Version 3: idempotency keys shared by every drover process on this store.
const V3: &str = r#"
CREATE TABLE idempotency_keys (
    key          TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    execution_id TEXT NOT NULL,
    claimed_at   BIGINT NOT NULL
);
"#;

/// Version 4: which run a run repeated.
const V4: &str = "
ALTER TABLE executions ADD COLUMN rerun_of TEXT;
";

/// Version 5: the event log. SQLite's promise is that a follower resuming after `seq` N
/// never skips an event. A sequence alone does not keep it here: two writers may take
/// 5 and 6 and commit 6 first, and a follower reading then would pass over 5 for good.
/// So a statement-level trigger takes a transaction-long lock (key "drover" in ASCII,
/// then 2) before any row of the statement draws its number: numbers are then drawn and committed in one order.
/// Writers of events wait for each other's commits; a write batch is short.
/// `events_by_ts` names `seq`, which rides along in SQLite's index for free.
const V5: &str = r#"
CREATE TABLE events (
    seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ts        BIGINT NOT NULL,
    type      TEXT COLLATE "C" NOT NULL,
    execution TEXT,
    node      TEXT COLLATE "C",
    "user"    TEXT,
    pid       BIGINT NOT NULL,
    body      TEXT NOT NULL
);
CREATE INDEX events_by_ts ON events (ts, seq);

CREATE FUNCTION drover_events_in_commit_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7237970105436602370);
    RETURN NULL;
END
$$;
CREATE TRIGGER events_in_commit_order BEFORE INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION drover_events_in_commit_order();
"#;

/// Version 6: session transcripts and their chunks of timed frames.
const V6: &str = r#"
CREATE TABLE transcripts (
    id         TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    node       TEXT COLLATE "C" NOT NULL,
    "user"     TEXT NOT NULL,
    action     TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    width      BIGINT,
    height     BIGINT,
    term       TEXT,
    ended_at   BIGINT,
    bytes      BIGINT NOT NULL,
    cut_at     BIGINT
);
CREATE INDEX transcripts_by_time ON transcripts (started_at);

CREATE TABLE transcript_chunks (
    transcript_id TEXT COLLATE "C" NOT NULL REFERENCES transcripts (id) ON DELETE CASCADE,
    seq           BIGINT NOT NULL,
    data          BYTEA NOT NULL,
    PRIMARY KEY (transcript_id, seq)
);
"#;

/// Version 7: how a debug-mode output chunk is encoded (`raw` or `lz4`).
const V7: &str = "
ALTER TABLE output_chunks ADD COLUMN encoding TEXT NOT NULL DEFAULT 'raw';
";

/// Version 8: the host of a run's owning process (as in SQLite's step 8), and, for this
/// backend only:
/// - notifications, so other drover processes learn of new records at once (`LISTEN
///   drover_events` / `drover_journal` / `drover_runs`). One per statement, with no
///   payload: PostgreSQL folds identical notifications of a transaction into one, so
///   a batch of thousands of rows wakes each listener once, and a listener reads what
///   is new after the last `seq` it saw anyway;
/// - `writer_batches`, the id of every batch a writer committed, written in the same
///   transaction: when a connection breaks after `COMMIT` was sent but before its
///   answer came, the writer reconnects, finds its batch there, and does not write it
///   twice. Ids older than a day are deleted as writers connect;
/// - `store_copies`: how far `drover store copy` has come with each source's journal.
///
/// And, as in SQLite's step 8, `breakers`: each circuit breaker's last change.
/// `IF NOT EXISTS`: the table joined this step after the step's first version, and
/// a database set back to an older version by hand keeps it.
const V8: &str = "
ALTER TABLE executions ADD COLUMN owner_host TEXT NOT NULL DEFAULT '';

CREATE FUNCTION drover_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_ARGV[0], '');
    RETURN NULL;
END
$$;
CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION drover_notify('drover_events');
CREATE TRIGGER journal_notify AFTER INSERT ON journal
    FOR EACH STATEMENT EXECUTE FUNCTION drover_notify('drover_journal');
CREATE TRIGGER executions_notify AFTER INSERT OR UPDATE ON executions
    FOR EACH STATEMENT EXECUTE FUNCTION drover_notify('drover_runs');

CREATE TABLE writer_batches (
    id           TEXT COLLATE \"C\" PRIMARY KEY NOT NULL,
    committed_at BIGINT NOT NULL
);

CREATE TABLE store_copies (
    source     TEXT COLLATE \"C\" PRIMARY KEY NOT NULL,
    journal_id BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS breakers (
    scope      TEXT COLLATE \"C\" NOT NULL,
    name       TEXT COLLATE \"C\" NOT NULL,
    state      TEXT NOT NULL,
    failures   BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    PRIMARY KEY (scope, name)
);
CREATE INDEX IF NOT EXISTS breakers_by_change ON breakers (changed_at);
";

/// All migrations, oldest first. Append only; never edit a released step.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7, V8];

/// The schema version this build writes to PostgreSQL; always SQLite's
/// [`SCHEMA_VERSION`](crate::store::SCHEMA_VERSION), step for step.
pub const PG_SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Key of the transaction-level advisory lock that migrations hold, so two drover
/// processes starting at once on an old database migrate it once, one after the other
/// ("drover" in ASCII, then 1).
const MIGRATION_LOCK: i64 = 0x6472_6f76_6572_0001;

/// Holds the version. The unique index on a constant lets it have one row at most.
const VERSION_TABLE: &str = "
CREATE TABLE IF NOT EXISTS drover_schema (version BIGINT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS drover_schema_one_row ON drover_schema ((true));
INSERT INTO drover_schema (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM drover_schema);
";

/// Brings the database up to [`PG_SCHEMA_VERSION`]; a no-op when it already is.
/// All pending steps and the version bump commit together or not at all.
/// `location` names the database in errors and must already be redacted.
pub(crate) fn migrate(client: &mut Client, location: &str) -> Result<(), StoreError> {
    let fail = |version, source| StoreError::PgMigration {
        location: location.to_string(),
        version,
        source,
    };
    // Cheap check first so an up-to-date start never waits for the lock.
    let current = stored_version(client).map_err(|e| fail(PG_SCHEMA_VERSION, e))?;
    check_not_newer(current, location)?;
    if current == PG_SCHEMA_VERSION {
        return Ok(());
    }

    // READ COMMITTED whatever the database's default: each statement after the lock
    // must see what the process that held it before us committed.
    let mut tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()
        .map_err(|e| fail(PG_SCHEMA_VERSION, e))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(|e| fail(PG_SCHEMA_VERSION, e))?;
    tx.batch_execute(VERSION_TABLE)
        .map_err(|e| fail(PG_SCHEMA_VERSION, e))?;
    // Re-read under the lock: another process may have migrated meanwhile.
    let current = locked_version(&mut tx).map_err(|e| fail(PG_SCHEMA_VERSION, e))?;
    check_not_newer(current, location)?;
    for (step, sql) in MIGRATIONS.iter().enumerate().skip(version_index(current)) {
        let target = step as i64 + 1;
        tx.batch_execute(sql).map_err(|e| fail(target, e))?;
    }
    tx.execute(
        "UPDATE drover_schema SET version = $1",
        &[&PG_SCHEMA_VERSION],
    )
    .map_err(|e| fail(PG_SCHEMA_VERSION, e))?;
    tx.commit().map_err(|e| fail(PG_SCHEMA_VERSION, e))?;
    if current != PG_SCHEMA_VERSION {
        tracing::info!(%location, from = current, to = PG_SCHEMA_VERSION, "migrated store schema");
    }
    Ok(())
}

/// The stored version, 0 when the database has no `drover_schema` table yet.
pub(crate) fn stored_version(client: &mut Client) -> Result<i64, ::postgres::Error> {
    let exists: bool = client
        .query_one("SELECT to_regclass('drover_schema') IS NOT NULL", &[])?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let row = client.query_opt("SELECT version FROM drover_schema", &[])?;
    Ok(row.map_or(0, |r| r.get(0)))
}

fn locked_version(tx: &mut Transaction<'_>) -> Result<i64, ::postgres::Error> {
    Ok(tx
        .query_one("SELECT version FROM drover_schema", &[])?
        .get(0))
}

fn check_not_newer(found: i64, location: &str) -> Result<(), StoreError> {
    if found > PG_SCHEMA_VERSION {
        return Err(StoreError::PgTooNew {
            location: location.to_string(),
            found,
            supported: PG_SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// A negative version (never written by us) is treated as a fresh database.
fn version_index(version: i64) -> usize {
    usize::try_from(version).unwrap_or(0)
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
