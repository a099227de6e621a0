//! Many rows in one statement: journal entries, node results, events and output
//! chunks arrive in bursts, and each statement is a round trip to the server. Every
//! column travels as one array parameter and `unnest` turns them back into rows, so
//! a statement has a fixed text (prepared once per commit) whatever the row count.

use std::borrow::Cow;

use postgres::GenericClient;

use super::rows::output_mode_str;
use super::statements::Statements;
use crate::store::chunk_codec;
use crate::store::records::{EventRecord, ExecutionRecord, JournalEntry, NodeResultRecord, Stream};

/// Inserts or updates executions by id and brings their target rows in line with
/// their node lists, in one statement. An upsert, never a delete and insert: deleting
/// would cascade to the node results and output chunks. Targets of nodes no longer
/// listed go; listed ones are inserted or get the new `started_at` (SQLite deletes all
/// and inserts again; the rows end up the same). The node lists travel as the JSON
/// stored in `executions.nodes` (arrays of arrays must be rectangular in PostgreSQL).
/// A statement may not touch one key twice: the ids of one call are distinct.
const EXECUTIONS: &str = "
WITH u AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
        $6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::bigint[],
        $12::bigint[], $13::bigint[], $14::text[], $15::text[], $16::bigint[],
        $17::bigint[], $18::text[])
    AS u (id, kind, action, target_expr, nodes, \"user\", correlation_id, status,
        started_at, finished_at, duration_ms, success_count, failed_count, options, error,
        owner_pid, owner_start_time, rerun_of)
), upserted AS (
    INSERT INTO executions (id, kind, action, target_expr, nodes, \"user\", correlation_id,
        status, started_at, finished_at, duration_ms, success_count, failed_count,
        options, error, owner_pid, owner_start_time, rerun_of, owner_host)
    SELECT id, kind, action, target_expr, nodes, \"user\", correlation_id, status,
        started_at, finished_at, duration_ms, success_count, failed_count, options, error,
        owner_pid, owner_start_time, rerun_of,
        COALESCE(current_setting('drover.owner_host', true), '')
    FROM u
    ON CONFLICT (id) DO UPDATE SET
        kind = excluded.kind, action = excluded.action,
        target_expr = excluded.target_expr, nodes = excluded.nodes,
        \"user\" = excluded.\"user\", correlation_id = excluded.correlation_id,
        status = excluded.status, started_at = excluded.started_at,
        finished_at = excluded.finished_at, duration_ms = excluded.duration_ms,
        success_count = excluded.success_count, failed_count = excluded.failed_count,
        options = excluded.options, error = excluded.error,
        owner_pid = excluded.owner_pid, owner_start_time = excluded.owner_start_time,
        rerun_of = excluded.rerun_of, owner_host = excluded.owner_host
    RETURNING id
), listed AS (
    SELECT DISTINCT u.id AS execution_id, n.node, u.started_at
    FROM u CROSS JOIN LATERAL json_array_elements_text(u.nodes::json) AS n (node)
), dropped AS (
    DELETE FROM execution_targets t
    WHERE t.execution_id = ANY ($1::text[]) AND NOT EXISTS (
        SELECT 1 FROM listed l WHERE l.execution_id = t.execution_id AND l.node = t.node)
)
INSERT INTO execution_targets (execution_id, node, started_at)
SELECT execution_id, node, started_at FROM listed
ON CONFLICT (execution_id, node) DO UPDATE SET started_at = excluded.started_at";

pub(crate) fn executions(
    client: &mut impl GenericClient,
    statements: &mut Statements,
    runs: &[&ExecutionRecord],
) -> Result<(), postgres::Error> {
    let stmt = statements.get(client, EXECUTIONS)?;
    let text =
        |f: fn(&ExecutionRecord) -> &str| -> Vec<&str> { runs.iter().map(|e| f(e)).collect() };
    let int = |f: fn(&ExecutionRecord) -> i64| -> Vec<i64> { runs.iter().map(|e| f(e)).collect() };
    let maybe_int = |f: fn(&ExecutionRecord) -> Option<i64>| -> Vec<Option<i64>> {
        runs.iter().map(|e| f(e)).collect()
    };
    let id = text(|e| &e.id);
    let kind = text(|e| &e.kind);
    let action = text(|e| &e.action);
    let target_expr = text(|e| &e.target_expr);
    let nodes: Vec<String> = runs
        .iter()
        .map(|e| serde_json::Value::from(e.nodes.clone()).to_string())
        .collect();
    let user = text(|e| &e.user);
    let correlation_id = text(|e| &e.correlation_id);
    let status = text(|e| &e.status);
    let started_at = int(|e| e.started_at);
    let finished_at = maybe_int(|e| e.finished_at);
    let duration_ms = maybe_int(|e| e.duration_ms);
    let success_count = int(|e| e.success_count);
    let failed_count = int(|e| e.failed_count);
    let options: Vec<String> = runs.iter().map(|e| e.options.to_string()).collect();
    let error: Vec<Option<&str>> = runs.iter().map(|e| e.error.as_deref()).collect();
    let owner_pid = int(|e| e.owner_pid);
    let owner_start_time = int(|e| e.owner_start_time);
    let rerun_of: Vec<Option<&str>> = runs.iter().map(|e| e.rerun_of.as_deref()).collect();
    client.execute(
        &stmt,
        &[
            &id,
            &kind,
            &action,
            &target_expr,
            &nodes,
            &user,
            &correlation_id,
            &status,
            &started_at,
            &finished_at,
            &duration_ms,
            &success_count,
            &failed_count,
            &options,
            &error,
            &owner_pid,
            &owner_start_time,
            &rerun_of,
        ],
    )?;
    Ok(())
}

/// Rows keep their order (`WITH ORDINALITY`), so ids rise in the order of the ops.
const JOURNAL: &str = "
INSERT INTO journal (node, entry_type, ts, \"user\", action, status, execution_id, details)
SELECT node, entry_type, ts, \"user\", action, status, execution_id, details
FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[],
            $7::text[], $8::text[])
     WITH ORDINALITY AS u (node, entry_type, ts, \"user\", action, status, execution_id,
                          details, ord)
ORDER BY ord";

pub(crate) fn journal(
    client: &mut impl GenericClient,
    statements: &mut Statements,
    entries: &[&JournalEntry],
) -> Result<(), postgres::Error> {
    let stmt = statements.get(client, JOURNAL)?;
    let node: Vec<&str> = entries.iter().map(|j| j.node.as_str()).collect();
    let entry_type: Vec<&str> = entries.iter().map(|j| j.entry_type.as_str()).collect();
    let ts: Vec<i64> = entries.iter().map(|j| j.timestamp).collect();
    let user: Vec<&str> = entries.iter().map(|j| j.user.as_str()).collect();
    let action: Vec<&str> = entries.iter().map(|j| j.action.as_str()).collect();
    let status: Vec<Option<&str>> = entries.iter().map(|j| j.status.as_deref()).collect();
    let execution_id: Vec<Option<&str>> =
        entries.iter().map(|j| j.execution_id.as_deref()).collect();
    let details: Vec<String> = entries.iter().map(|j| j.details.to_string()).collect();
    client.execute(
        &stmt,
        &[
            &node,
            &entry_type,
            &ts,
            &user,
            &action,
            &status,
            &execution_id,
            &details,
        ],
    )?;
    Ok(())
}

/// Insert or replace by `(execution_id, node)`. A statement may not touch one key
/// twice, so the caller never puts two results of one node in one call.
const NODE_RESULTS: &str = "
INSERT INTO node_results (execution_id, node, status, exit_code, signal, started_at,
    finished_at, duration_ms, attempts, error_category, error, output_mode, stdout, stderr,
    stdout_bytes, stderr_bytes, data)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[],
    $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::text[], $11::text[],
    $12::text[], $13::text[], $14::text[], $15::bigint[], $16::bigint[], $17::text[])
ON CONFLICT (execution_id, node) DO UPDATE SET
    status = excluded.status, exit_code = excluded.exit_code, signal = excluded.signal,
    started_at = excluded.started_at, finished_at = excluded.finished_at,
    duration_ms = excluded.duration_ms, attempts = excluded.attempts,
    error_category = excluded.error_category, error = excluded.error,
    output_mode = excluded.output_mode, stdout = excluded.stdout, stderr = excluded.stderr,
    stdout_bytes = excluded.stdout_bytes, stderr_bytes = excluded.stderr_bytes,
    data = excluded.data";

pub(crate) fn node_results(
    client: &mut impl GenericClient,
    statements: &mut Statements,
    results: &[&NodeResultRecord],
) -> Result<(), postgres::Error> {
    let stmt = statements.get(client, NODE_RESULTS)?;
    let text =
        |f: fn(&NodeResultRecord) -> &str| -> Vec<&str> { results.iter().map(|r| f(r)).collect() };
    let int =
        |f: fn(&NodeResultRecord) -> i64| -> Vec<i64> { results.iter().map(|r| f(r)).collect() };
    let execution_id = text(|r| &r.execution_id);
    let node = text(|r| &r.node);
    let status = text(|r| &r.status);
    let exit_code: Vec<Option<i64>> = results.iter().map(|r| r.exit_code.map(i64::from)).collect();
    let signal: Vec<Option<i64>> = results.iter().map(|r| r.signal.map(i64::from)).collect();
    let started_at = int(|r| r.started_at);
    let finished_at = int(|r| r.finished_at);
    let duration_ms = int(|r| r.duration_ms);
    let attempts = int(|r| r.attempts);
    let error_category: Vec<Option<&str>> = results
        .iter()
        .map(|r| r.error_category.as_deref())
        .collect();
    let error: Vec<Option<&str>> = results.iter().map(|r| r.error.as_deref()).collect();
    let output_mode: Vec<&str> = results
        .iter()
        .map(|r| output_mode_str(r.output_mode))
        .collect();
    let stdout: Vec<Cow<'_, str>> = results.iter().map(|r| without_nul(&r.stdout)).collect();
    let stderr: Vec<Cow<'_, str>> = results.iter().map(|r| without_nul(&r.stderr)).collect();
    let stdout_bytes = int(|r| r.stdout_bytes);
    let stderr_bytes = int(|r| r.stderr_bytes);
    let data: Vec<Option<String>> = results
        .iter()
        .map(|r| r.data.as_ref().map(|d| d.to_string()))
        .collect();
    client.execute(
        &stmt,
        &[
            &execution_id,
            &node,
            &status,
            &exit_code,
            &signal,
            &started_at,
            &finished_at,
            &duration_ms,
            &attempts,
            &error_category,
            &error,
            &output_mode,
            &stdout,
            &stderr,
            &stdout_bytes,
            &stderr_bytes,
            &data,
        ],
    )?;
    Ok(())
}

/// PostgreSQL text cannot hold NUL, which SQLite stores. Output text is lossy UTF-8
/// already, so a NUL there becomes U+FFFD like any other byte it cannot show.
fn without_nul(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Rows keep their order, so `seq` rises in the order of the ops.
const EVENTS: &str = "
INSERT INTO events (ts, type, execution, node, \"user\", pid, body)
SELECT ts, type, execution, node, \"user\", pid, body
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[],
            $7::text[])
     WITH ORDINALITY AS u (ts, type, execution, node, \"user\", pid, body, ord)
ORDER BY ord";

pub(crate) fn events(
    client: &mut impl GenericClient,
    statements: &mut Statements,
    events: &[&EventRecord],
) -> Result<(), postgres::Error> {
    let stmt = statements.get(client, EVENTS)?;
    let ts: Vec<i64> = events.iter().map(|e| e.ts).collect();
    let kind: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    let execution: Vec<Option<&str>> = events.iter().map(|e| e.execution.as_deref()).collect();
    let node: Vec<Option<&str>> = events.iter().map(|e| e.node.as_deref()).collect();
    let user: Vec<Option<&str>> = events.iter().map(|e| e.user.as_deref()).collect();
    let pid: Vec<i64> = events.iter().map(|e| e.pid).collect();
    let body: Vec<String> = events.iter().map(|e| e.body.to_string()).collect();
    client.execute(&stmt, &[&ts, &kind, &execution, &node, &user, &pid, &body])?;
    Ok(())
}

/// Each chunk takes the next `seq` of its `(execution_id, node)`: one past the highest
/// stored (0 for the first), plus its rank among this call's chunks of that node.
const CHUNKS: &str = "
INSERT INTO output_chunks (execution_id, node, seq, stream, data, encoding)
SELECT u.execution_id, u.node,
    COALESCE((SELECT MAX(c.seq) + 1 FROM output_chunks c
              WHERE c.execution_id = u.execution_id AND c.node = u.node), 0)
        + row_number() OVER (PARTITION BY u.execution_id, u.node ORDER BY u.ord) - 1,
    u.stream, u.data, u.encoding
FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::text[])
     WITH ORDINALITY AS u (execution_id, node, stream, data, encoding, ord)";

/// An output chunk as the op carries it.
pub(crate) struct Chunk<'a> {
    pub execution_id: &'a str,
    pub node: &'a str,
    pub stream: Stream,
    pub data: &'a [u8],
}

/// Appends debug-mode output chunks, compressed when that saves room (`chunk_codec`).
pub(crate) fn chunks(
    client: &mut impl GenericClient,
    statements: &mut Statements,
    chunks: &[Chunk<'_>],
) -> Result<(), postgres::Error> {
    let stmt = statements.get(client, CHUNKS)?;
    let execution_id: Vec<&str> = chunks.iter().map(|c| c.execution_id).collect();
    let node: Vec<&str> = chunks.iter().map(|c| c.node).collect();
    let stream: Vec<&str> = chunks.iter().map(|c| c.stream.as_str()).collect();
    let stored: Vec<chunk_codec::Stored> =
        chunks.iter().map(|c| chunk_codec::encode(c.data)).collect();
    let data: Vec<&[u8]> = stored.iter().map(|s| s.data.as_slice()).collect();
    let encoding: Vec<&str> = stored.iter().map(|s| s.encoding).collect();
    client.execute(&stmt, &[&execution_id, &node, &stream, &data, &encoding])?;
    Ok(())
}
