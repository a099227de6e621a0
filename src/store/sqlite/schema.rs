//! Schema migrations keyed by `PRAGMA user_version`.
//!
//! `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`. All pending steps run in
//! one IMMEDIATE transaction together with the `user_version` bump, so a crash mid-way
//! leaves the old schema intact, and two processes opening the same file at once cannot
//! both migrate it (the second waits for the lock, then sees the new version).

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use crate::store::error::StoreError;

/// Version 1: the initial schema.
///
/// Notes on the less obvious choices:
/// - every history index ends in `started_at, id` so `ORDER BY started_at DESC, id DESC`
///   is read straight off the index and `LIMIT` stops early;
/// - `execution_targets` repeats the execution's `started_at` so the target filter walks
///   `(node, started_at)` in order instead of sorting every run of a busy node;
/// - the journal has only the `(node, ts)` index (its rowid, the entry id, rides along
///   for the `ts DESC, id DESC` order): it takes the heaviest write traffic, and each
///   extra index costs every insert, while prune (the only query by time alone) is rare
///   and may scan;
/// - `journal.execution_id` is a soft link (no foreign key): a node's journal is its
///   durable record, must accept entries in any order, and outlives pruned history.
const V1: &str = "
CREATE TABLE executions (
    id               TEXT PRIMARY KEY NOT NULL,
    kind             TEXT NOT NULL,
    action           TEXT NOT NULL,
    target_expr      TEXT NOT NULL,
    nodes            TEXT NOT NULL,
    user             TEXT NOT NULL,
    correlation_id   TEXT NOT NULL,
    status           TEXT NOT NULL,
    started_at       INTEGER NOT NULL,
    finished_at      INTEGER,
    duration_ms      INTEGER,
    success_count    INTEGER NOT NULL,
    failed_count     INTEGER NOT NULL,
    options          TEXT NOT NULL,
    error            TEXT,
    owner_pid        INTEGER NOT NULL,
    owner_start_time INTEGER NOT NULL
);
CREATE INDEX executions_by_time        ON executions (started_at, id);
CREATE INDEX executions_by_user        ON executions (user, started_at, id);
CREATE INDEX executions_by_status      ON executions (status, started_at, id);
CREATE INDEX executions_by_user_status ON executions (user, status, started_at, id);

CREATE TABLE execution_targets (
    execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    node         TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    PRIMARY KEY (execution_id, node)
) WITHOUT ROWID;
CREATE INDEX execution_targets_by_node ON execution_targets (node, started_at, execution_id);

CREATE TABLE node_results (
    execution_id   TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    node           TEXT NOT NULL,
    status         TEXT NOT NULL,
    exit_code      INTEGER,
    signal         INTEGER,
    started_at     INTEGER NOT NULL,
    finished_at    INTEGER NOT NULL,
    duration_ms    INTEGER NOT NULL,
    attempts       INTEGER NOT NULL,
    error_category TEXT,
    error          TEXT,
    output_mode    TEXT NOT NULL,
    stdout         TEXT NOT NULL,
    stderr         TEXT NOT NULL,
    stdout_bytes   INTEGER NOT NULL,
    stderr_bytes   INTEGER NOT NULL,
    data           TEXT,
    PRIMARY KEY (execution_id, node)
);

CREATE TABLE output_chunks (
    execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    node         TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    stream       TEXT NOT NULL,
    data         BLOB NOT NULL,
    PRIMARY KEY (execution_id, node, seq)
);

CREATE TABLE journal (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    node         TEXT NOT NULL,
    entry_type   TEXT NOT NULL,
    ts           INTEGER NOT NULL,
    user         TEXT NOT NULL,
    action       TEXT NOT NULL,
    status       TEXT,
    execution_id TEXT,
    details      TEXT NOT NULL
);
CREATE INDEX journal_by_node ON journal (node, ts);
";

/// Version 2: the fact cache, one row per node. `providers` names the provider set
/// that gathered the facts, so a changed configuration never serves stale keys.
const V2: &str = "
CREATE TABLE fact_cache (
    node         TEXT PRIMARY KEY NOT NULL,
    providers    TEXT NOT NULL,
    collected_at INTEGER NOT NULL,
    facts        TEXT NOT NULL
);
";

/// Version 3: idempotency keys claimed by `drover run --idempotency-key`, shared by
/// every drover process on this store. `execution_id` is empty between the claim and
/// the run's start.
const V3: &str = "
CREATE TABLE idempotency_keys (
    key          TEXT PRIMARY KEY NOT NULL,
    execution_id TEXT NOT NULL,
    claimed_at   INTEGER NOT NULL
);
";

/// Version 4: which run a run repeated (`drover run --rerun`, the console's `R`);
/// NULL for every other run, and for all runs recorded before.
const V4: &str = "
ALTER TABLE executions ADD COLUMN rerun_of TEXT;
";

/// Version 5: the event log that `drover events` tails, written by every drover
/// process on this store. `seq` is AUTOINCREMENT so a number is never handed out
/// twice, even after old rows were trimmed: a follower resuming after `seq` N
/// never skips or repeats an event. `type` and `node` are columns (not only in
/// `body`) so the filters run in SQL; `ts` has an index for `--since` and
/// retention. The JSON `body` holds the type's own fields.
const V5: &str = "
CREATE TABLE events (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    ts        INTEGER NOT NULL,
    type      TEXT NOT NULL,
    execution TEXT,
    node      TEXT,
    user      TEXT,
    pid       INTEGER NOT NULL,
    body      TEXT NOT NULL
);
CREATE INDEX events_by_ts ON events (ts);
";

/// Version 6: session transcripts (`drover ssh --record`, `[sessions] record`).
/// A transcript row is written when the session starts and completed when it
/// ends (`ended_at` stays NULL when drover died during it); its output is in
/// chunks of timed frames, numbered from 0, deleted with it.
const V6: &str = "
CREATE TABLE transcripts (
    id         TEXT PRIMARY KEY NOT NULL,
    node       TEXT NOT NULL,
    user       TEXT NOT NULL,
    action     TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    width      INTEGER,
    height     INTEGER,
    term       TEXT,
    ended_at   INTEGER,
    bytes      INTEGER NOT NULL,
    cut_at     INTEGER
);
CREATE INDEX transcripts_by_time ON transcripts (started_at);

CREATE TABLE transcript_chunks (
    transcript_id TEXT NOT NULL REFERENCES transcripts (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    data          BLOB NOT NULL,
    PRIMARY KEY (transcript_id, seq)
);
";

/// Version 7: debug-mode output chunks may be stored compressed; `encoding` says
/// how (`raw` or `lz4`). Rows written before it are raw.
const V7: &str = "
ALTER TABLE output_chunks ADD COLUMN encoding TEXT NOT NULL DEFAULT 'raw';
";

/// Version 8: the host of the process that owns a run (empty for runs recorded
/// before). A shared database holds runs from many machines, and crash recovery
/// judges only the runs whose owner is on its own host: a pid means nothing elsewhere.
/// And `breakers`: each circuit breaker's last change, so every drover process on
/// the store refuses a node another one found dead (`changed_at` in wall-clock
/// milliseconds of the process that changed it).
/// `IF NOT EXISTS`: the table joined this step after the step's first version, and
/// a database set back to an older version by hand keeps it.
const V8: &str = "
ALTER TABLE executions ADD COLUMN owner_host TEXT NOT NULL DEFAULT '';

CREATE TABLE IF NOT EXISTS breakers (
    scope      TEXT NOT NULL,
    name       TEXT NOT NULL,
    state      TEXT NOT NULL,
    failures   INTEGER NOT NULL,
    changed_at INTEGER NOT NULL,
    PRIMARY KEY (scope, name)
);
CREATE INDEX IF NOT EXISTS breakers_by_change ON breakers (changed_at);
";

/// All migrations, oldest first. Append only; never edit a released step. The
/// PostgreSQL backend has a step of the same number and meaning for each.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7, V8];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`SCHEMA_VERSION`]; a no-op when it already is.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let fail = |version, source| StoreError::Migration {
        path: path.to_path_buf(),
        version,
        source,
    };
    // Cheap check first so an up-to-date open never takes the write lock.
    let current = user_version(conn).map_err(|e| fail(SCHEMA_VERSION, e))?;
    check_not_newer(current, path)?;
    if current == SCHEMA_VERSION {
        return Ok(());
    }

    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| fail(SCHEMA_VERSION, e))?;
    // Re-read under the lock: another process may have migrated meanwhile.
    let current = user_version(&tx).map_err(|e| fail(SCHEMA_VERSION, e))?;
    check_not_newer(current, path)?;
    for (step, sql) in MIGRATIONS.iter().enumerate().skip(version_index(current)) {
        let target = step as i64 + 1;
        tx.execute_batch(sql).map_err(|e| fail(target, e))?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(|e| fail(SCHEMA_VERSION, e))?;
    tx.commit().map_err(|e| fail(SCHEMA_VERSION, e))?;
    tracing::info!(path = %path.display(), from = current, to = SCHEMA_VERSION, "migrated store schema");
    Ok(())
}

/// Reads `PRAGMA user_version`.
pub(crate) fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

fn check_not_newer(found: i64, path: &Path) -> Result<(), StoreError> {
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// A negative `user_version` (never written by us) is treated as a fresh database.
fn version_index(version: i64) -> usize {
    usize::try_from(version).unwrap_or(0)
}
