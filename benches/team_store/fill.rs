//! Filling a store with a large history fast: one bulk SQL statement per table
//! instead of the writer, producing the rows the writer would (an `executions`
//! row with its node list, and one `execution_targets` row per node).
//!
//! Run `i` of `n` starts at `T0 + i * 30 days / n` (so ids, which begin with
//! the start time, are unique and in time order), by one of 10 users, on
//! `targets` of 300 nodes picked by a hash of `i`; 80% succeed, 10% fail, 10%
//! are partial. Node results, journal entries and events are not filled:
//! history reads none of them.

use std::path::Path;

/// 2023-11-14, well before any run the throughput figures write.
pub const T0: i64 = 1_700_000_000_000;
const SPAN_MS: i64 = 30 * 86_400_000;
pub const FLEET: usize = 300;
pub const USERS: usize = 10;

/// The name of node `k` of the fleet, as the fill writes it.
pub fn node(k: usize) -> String {
    format!("node-{:03}", k % FLEET)
}

/// The name of user `k`, as the fill writes it.
pub fn user(k: usize) -> String {
    format!("user{:02}", k % USERS)
}

const SQLITE_EXECUTIONS: &str = r#"
INSERT INTO executions (id, kind, action, target_expr, nodes, user, correlation_id, status,
    started_at, finished_at, duration_ms, success_count, failed_count, options, error,
    owner_pid, owner_start_time, rerun_of, owner_host)
WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < ?1 - 1),
ks(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM ks WHERE k < ?2 - 1),
r AS (SELECT i, ?3 + i * ?4 / ?1 AS ts, (i * 2654435761) % 4294967296 AS h FROM c)
SELECT printf('%011x%05x', ts, i % 1048576), 'command', 'uptime', 'role:web',
    (SELECT json_group_array(printf('node-%03d', (h + k * 97) % 300)) FROM ks),
    printf('user%02d', h % 10), 'corr-' || i,
    CASE (h / 256) % 10 WHEN 0 THEN 'failed' WHEN 1 THEN 'partial' ELSE 'success' END,
    ts, ts + 1500, 1500, ?2, 0, '{"timeout":30,"fanout":50}', NULL, 1, 1, NULL, ''
FROM r
"#;

const SQLITE_TARGETS: &str = "
INSERT INTO execution_targets (execution_id, node, started_at)
SELECT e.id, j.value, e.started_at FROM executions e, json_each(e.nodes) j
";

/// Fills the SQLite store at `path` (already created by `Store::open`) with `n`
/// runs of `targets` nodes each, in one transaction.
pub fn sqlite(path: &Path, n: usize, targets: usize) {
    let mut conn = rusqlite::Connection::open(path).expect("open for filling");
    // The fill's own page cache, so the target index is not spilled half-way.
    conn.execute_batch("PRAGMA cache_size = -1000000; PRAGMA temp_store = MEMORY;")
        .expect("pragmas");
    let tx = conn.transaction().expect("begin");
    let (n, targets) = (n as i64, targets as i64);
    tx.execute(
        SQLITE_EXECUTIONS,
        rusqlite::params![n, targets, T0, SPAN_MS],
    )
    .expect("fill executions");
    tx.execute(SQLITE_TARGETS, []).expect("fill targets");
    tx.commit().expect("commit fill");
}

const PG_EXECUTIONS: &str = r#"
INSERT INTO executions (id, kind, action, target_expr, nodes, "user", correlation_id, status,
    started_at, finished_at, duration_ms, success_count, failed_count, options, error,
    owner_pid, owner_start_time, rerun_of, owner_host)
SELECT lpad(to_hex(ts), 11, '0') || lpad(to_hex(i % 1048576), 5, '0'), 'command', 'uptime',
    'role:web',
    (SELECT '["' || string_agg('node-' || lpad(((h + k * 97) % 300)::text, 3, '0'), '","'
                               ORDER BY k) || '"]'
     FROM generate_series(0::bigint, $2::bigint - 1) k),
    'user' || lpad((h % 10)::text, 2, '0'), 'corr-' || i,
    CASE (h / 256) % 10 WHEN 0 THEN 'failed' WHEN 1 THEN 'partial' ELSE 'success' END,
    ts, ts + 1500, 1500, $2::bigint, 0, '{"timeout":30,"fanout":50}', NULL, 1, 1, NULL, ''
FROM (SELECT i, $3::bigint + i * $4::bigint / $1::bigint AS ts, (i * 2654435761) % 4294967296 AS h
      FROM generate_series(0::bigint, $1::bigint - 1) i) r
"#;

const PG_TARGETS: &str = "
INSERT INTO execution_targets (execution_id, node, started_at)
SELECT e.id, n.node, e.started_at
FROM executions e CROSS JOIN LATERAL json_array_elements_text(e.nodes::json) AS n (node)
";

/// Fills the PostgreSQL store at `url` (schema already migrated by
/// `Store::open_location`) likewise, then `ANALYZE`s it as autovacuum would
/// soon after a load this size. Call from a plain thread (no tokio runtime).
pub fn postgres(url: &str, n: usize, targets: usize) {
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect to fill");
    let mut tx = client.transaction().expect("begin");
    let (n, targets) = (n as i64, targets as i64);
    tx.execute(PG_EXECUTIONS, &[&n, &targets, &T0, &SPAN_MS])
        .expect("fill executions");
    tx.execute(PG_TARGETS, &[]).expect("fill targets");
    tx.commit().expect("commit fill");
    client
        .batch_execute("ANALYZE executions; ANALYZE execution_targets;")
        .expect("analyze");
}
