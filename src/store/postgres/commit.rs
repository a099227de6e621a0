//! Committing a writer batch to PostgreSQL, the twin of the SQLite writer's `commit`.
//!
//! Round trips are the cost, so a batch is cut into units of one statement each.
//! The first attempt collapses it: each execution's last upsert (the final state of
//! its row and targets) and each node's last result, then all executions in one
//! statement, all node results in one, all output chunks in one, then the other ops
//! in order, then all journal entries and all events. That lands the same rows as
//! applying the ops in order: results and chunks only need their execution to exist,
//! journal entries and events refer to nothing, and their own order (hence their
//! ids) is kept. A batch where a result or chunk comes before its execution's first
//! upsert is not collapsed (SQLite would reject it; so does the ordered plan).
//!
//! A failed statement aborts a PostgreSQL transaction. The first attempt runs without
//! savepoints (no extra round trips); if an op is rejected on its own (a constraint
//! or a value the server refuses) it is rolled back and the batch runs again in the
//! order of its ops (consecutive node results or chunks still one statement), with a
//! savepoint around each unit, and around each op of a unit that fails, so the
//! rejected ops are left out and listed and the rest commits, exactly as with SQLite.
//!
//! Events go last for a reason: inserting them takes the schema's lock that keeps
//! event numbers in commit order (see `schema`, step 5), held until commit, so the
//! batch holding it never waits for anything else meanwhile.

use std::collections::{HashMap, HashSet};

use postgres::{Client, GenericClient, Transaction};

use super::bulk::{self, Chunk};
use super::statements::Statements;
use super::{breakers, facts, transcripts};
use crate::store::error::pg_reason;
use crate::store::records::{EventRecord, ExecutionRecord, JournalEntry, NodeResultRecord};
use crate::store::writer::{WriteOp, describe};

/// Bytes of row data per multi-row statement, so one statement never nears the
/// protocol's 1 GiB message limit (a full-mode node result may hold megabytes).
const BULK_MAX_BYTES: usize = 16 << 20;

/// One attempt at committing `ops`: the descriptions of the ops the server rejected
/// on their own (left out; the rest is committed), or the error that failed the batch
/// (connection lost, server shutting down, ...: nothing is committed).
#[cfg(test)]
pub(crate) fn commit(client: &mut Client, ops: &[WriteOp]) -> Result<Vec<String>, postgres::Error> {
    commit_with(client, &mut Statements::default(), None, ops)
}

/// [`commit`] with statements kept from earlier commits on the same connection (they
/// are the connection's: start afresh with a new one).
///
/// With a `batch` id, the id is committed with the batch (`writer_batches`), and a
/// batch whose id is already there was committed before (its answer was lost with a
/// connection): nothing is written again.
pub(crate) fn commit_with(
    client: &mut Client,
    statements: &mut Statements,
    batch: Option<&str>,
    ops: &[WriteOp],
) -> Result<Vec<String>, postgres::Error> {
    {
        let units = collapsed(ops).unwrap_or_else(|| in_order(ops));
        let mut tx = client.transaction()?;
        if !first_commit_of(&mut tx, batch)? {
            return Ok(Vec::new());
        }
        match run_fast(&mut tx, statements, &units) {
            Ok(()) => {
                tx.commit()?;
                return Ok(Vec::new());
            }
            Err(e) if is_about_the_op(&e) => {
                // Dropping `tx` rolls it back; go again, op by op where needed.
            }
            Err(e) => return Err(e),
        }
    }
    let mut tx = client.transaction()?;
    if !first_commit_of(&mut tx, batch)? {
        return Ok(Vec::new());
    }
    let mut rejected = Vec::new();
    for unit in &in_order(ops) {
        run_isolated(&mut tx, statements, unit, &mut rejected)?;
    }
    tx.commit()?;
    Ok(rejected)
}

/// Records `batch` as committed by this transaction; false when an earlier
/// transaction already did (the batch is in the database).
fn first_commit_of(tx: &mut Transaction<'_>, batch: Option<&str>) -> Result<bool, postgres::Error> {
    let Some(id) = batch else { return Ok(true) };
    let inserted = tx.execute(
        "INSERT INTO writer_batches (id, committed_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        &[&id, &crate::store::owner::now_millis()],
    )?;
    Ok(inserted == 1)
}

/// Applies one op in a savepoint of its own: if the server rejects it, nothing of it
/// stays and `tx` is still usable.
#[cfg(test)]
pub(crate) fn apply(tx: &mut Transaction<'_>, op: &WriteOp) -> Result<(), postgres::Error> {
    let mut statements = Statements::default();
    apply_with(tx, &mut statements, op)
}

fn apply_with(
    tx: &mut Transaction<'_>,
    statements: &mut Statements,
    op: &WriteOp,
) -> Result<(), postgres::Error> {
    if matches!(op, WriteOp::Flush(_)) {
        return Ok(());
    }
    let mut savepoint = tx.transaction()?;
    apply_bare(&mut savepoint, statements, op)?;
    savepoint.commit()
}

/// Errors an op earns on its own: data exceptions (class 22: a NUL in text, a value
/// out of range), integrity constraints (class 23: an unknown execution, a duplicate
/// key) and program limits (class 54: a key too large for its index). Anything else
/// (no server error at all, a lost connection, a shutdown, a serialisation failure)
/// fails the batch so the writer retries it.
pub(crate) fn is_about_the_op(e: &postgres::Error) -> bool {
    e.code()
        .is_some_and(|state| matches!(state.code().get(..2), Some("22" | "23" | "54")))
}

/// What one statement (or, for an execution, one upsert) writes.
enum Unit<'a> {
    One(&'a WriteOp),
    Executions(Vec<&'a WriteOp>),
    NodeResults(Vec<&'a WriteOp>),
    Chunks(Vec<&'a WriteOp>),
    Journal(Vec<&'a WriteOp>),
    Events(Vec<&'a WriteOp>),
}

impl<'a> Unit<'a> {
    fn ops(&self) -> &[&'a WriteOp] {
        match self {
            Unit::One(op) => std::slice::from_ref(op),
            Unit::Executions(ops)
            | Unit::NodeResults(ops)
            | Unit::Chunks(ops)
            | Unit::Journal(ops)
            | Unit::Events(ops) => ops,
        }
    }
}

/// The collapsed plan (see the module documentation), or `None` when a node result
/// or chunk comes before its execution's first upsert in the batch.
fn collapsed(ops: &[WriteOp]) -> Option<Vec<Unit<'_>>> {
    let mut last_upsert: HashMap<&str, usize> = HashMap::new();
    let mut last_result: HashMap<(&str, &str), usize> = HashMap::new();
    let mut upserted: HashSet<&str> = HashSet::new();
    // Executions with a result or chunk before (or without) an upsert in the batch.
    let mut later: HashSet<&str> = HashSet::new();
    for (at, op) in ops.iter().enumerate() {
        match op {
            WriteOp::UpsertExecution(e) => {
                last_upsert.insert(&e.id, at);
                upserted.insert(&e.id);
            }
            WriteOp::NodeResult(r) => {
                last_result.insert((&r.execution_id, &r.node), at);
                if !upserted.contains(r.execution_id.as_str()) {
                    later.insert(&r.execution_id);
                }
            }
            WriteOp::OutputChunk { execution_id, .. }
                if !upserted.contains(execution_id.as_str()) =>
            {
                later.insert(execution_id);
            }
            _ => {}
        }
    }
    if later.iter().any(|id| upserted.contains(id)) {
        return None;
    }
    // A superseded op is not sent, so the server could not reject it: keep the
    // ordered plan when one would be (a NUL in its text), so it is reported.
    let superseded = ops.iter().enumerate().any(|(at, op)| match op {
        WriteOp::UpsertExecution(e) => last_upsert[e.id.as_str()] != at && refusable(op),
        WriteOp::NodeResult(r) => {
            last_result[&(r.execution_id.as_str(), r.node.as_str())] != at && refusable(op)
        }
        _ => false,
    });
    if superseded {
        return None;
    }
    let mut executions = Vec::new();
    let mut results = Vec::new();
    let mut chunks = Vec::new();
    let mut others = Vec::new();
    let mut journal = Vec::new();
    let mut events = Vec::new();
    for (at, op) in ops.iter().enumerate() {
        match op {
            WriteOp::UpsertExecution(e) if last_upsert[e.id.as_str()] == at => executions.push(op),
            WriteOp::NodeResult(r)
                if last_result[&(r.execution_id.as_str(), r.node.as_str())] == at =>
            {
                results.push(op)
            }
            WriteOp::UpsertExecution(_) | WriteOp::NodeResult(_) | WriteOp::Flush(_) => {}
            WriteOp::OutputChunk { .. } => chunks.push(op),
            WriteOp::Journal(_) => journal.push(op),
            WriteOp::Event(_) => events.push(op),
            _ => others.push(Unit::One(op)),
        }
    }
    let mut units: Vec<Unit<'_>> = by_size(executions)
        .into_iter()
        .map(Unit::Executions)
        .collect();
    units.extend(by_size(results).into_iter().map(Unit::NodeResults));
    units.extend(by_size(chunks).into_iter().map(Unit::Chunks));
    units.extend(others);
    units.extend(by_size(journal).into_iter().map(Unit::Journal));
    units.extend(by_size(events).into_iter().map(Unit::Events));
    Some(units)
}

/// Whether the server would refuse an execution or node result for its content: a
/// NUL in text it stores as is (output text has its NULs replaced; JSON escapes them,
/// except in the node list, which is read back as text).
fn refusable(op: &WriteOp) -> bool {
    let nul = |s: &str| s.contains('\0');
    let maybe = |s: &Option<String>| s.as_deref().is_some_and(nul);
    match op {
        WriteOp::UpsertExecution(e) => {
            [&e.id, &e.kind, &e.action, &e.target_expr, &e.user]
                .into_iter()
                .chain([&e.correlation_id, &e.status])
                .chain(&e.nodes)
                .any(|s| nul(s))
                || maybe(&e.error)
                || maybe(&e.rerun_of)
        }
        WriteOp::NodeResult(r) => {
            [&r.execution_id, &r.node, &r.status]
                .into_iter()
                .any(|s| nul(s))
                || maybe(&r.error_category)
                || maybe(&r.error)
        }
        _ => false,
    }
}

/// The ordered plan: units in the order of the ops, consecutive node results (of
/// distinct nodes) and consecutive chunks as one; journal entries and events last.
fn in_order(ops: &[WriteOp]) -> Vec<Unit<'_>> {
    let mut units = Vec::new();
    let mut journal = Vec::new();
    let mut events = Vec::new();
    // Keys and bytes of the node-result or chunk unit being filled (the last one).
    let mut keys: HashSet<(&str, &str)> = HashSet::new();
    let mut bytes = 0;
    for op in ops {
        match op {
            WriteOp::Flush(_) => {}
            WriteOp::Journal(_) => journal.push(op),
            WriteOp::Event(_) => events.push(op),
            WriteOp::NodeResult(r) => {
                let size = op_bytes(op);
                let key = (r.execution_id.as_str(), r.node.as_str());
                // One statement may not touch a key twice: a second result of the
                // same node starts a new unit (and replaces the first, in order).
                let fits = matches!(units.last(), Some(Unit::NodeResults(_)))
                    && !keys.contains(&key)
                    && bytes + size <= BULK_MAX_BYTES;
                if !fits {
                    units.push(Unit::NodeResults(Vec::new()));
                    keys.clear();
                    bytes = 0;
                }
                if let Some(Unit::NodeResults(run)) = units.last_mut() {
                    run.push(op);
                }
                keys.insert(key);
                bytes += size;
            }
            WriteOp::OutputChunk { .. } => {
                let size = op_bytes(op);
                let fits =
                    matches!(units.last(), Some(Unit::Chunks(_))) && bytes + size <= BULK_MAX_BYTES;
                if !fits {
                    units.push(Unit::Chunks(Vec::new()));
                    bytes = 0;
                }
                if let Some(Unit::Chunks(run)) = units.last_mut() {
                    run.push(op);
                }
                bytes += size;
            }
            _ => units.push(Unit::One(op)),
        }
    }
    units.extend(by_size(journal).into_iter().map(Unit::Journal));
    units.extend(by_size(events).into_iter().map(Unit::Events));
    units
}

/// Splits `ops` into runs of at most [`BULK_MAX_BYTES`] (a larger op alone).
fn by_size(ops: Vec<&WriteOp>) -> Vec<Vec<&WriteOp>> {
    let mut runs: Vec<Vec<&WriteOp>> = Vec::new();
    let mut bytes = 0;
    for op in ops {
        let size = op_bytes(op);
        match runs.last_mut() {
            Some(run) if bytes + size <= BULK_MAX_BYTES => run.push(op),
            _ => {
                runs.push(vec![op]);
                bytes = 0;
            }
        }
        bytes += size;
    }
    runs
}

/// Roughly the bytes an op sends: its text and blobs.
fn op_bytes(op: &WriteOp) -> usize {
    match op {
        WriteOp::NodeResult(r) => {
            r.stdout.len() + r.stderr.len() + r.error.as_ref().map_or(0, String::len) + 256
        }
        WriteOp::OutputChunk { data, .. } => data.len() + 64,
        WriteOp::Journal(j) => j.action.len() + j.node.len() + 256,
        _ => 256,
    }
}

fn run_fast(
    tx: &mut Transaction<'_>,
    statements: &mut Statements,
    units: &[Unit<'_>],
) -> Result<(), postgres::Error> {
    for unit in units {
        run_unit(tx, statements, unit)?;
    }
    Ok(())
}

/// Runs `unit` in a savepoint; if the server rejects it, runs its ops one by one,
/// each in a savepoint, and lists those rejected.
fn run_isolated(
    tx: &mut Transaction<'_>,
    statements: &mut Statements,
    unit: &Unit<'_>,
    rejected: &mut Vec<String>,
) -> Result<(), postgres::Error> {
    if unit.ops().len() > 1 {
        let mut savepoint = tx.transaction()?;
        match run_unit(&mut savepoint, statements, unit) {
            Ok(()) => return savepoint.commit(),
            Err(e) if is_about_the_op(&e) => drop(savepoint),
            Err(e) => return Err(e),
        }
    }
    for op in unit.ops() {
        match apply_with(tx, statements, op) {
            Ok(()) => {}
            Err(e) if is_about_the_op(&e) => {
                let reason = pg_reason(&e);
                tracing::error!(op = describe(op), error = %reason, "store write rejected");
                rejected.push(format!("{}: {reason}", describe(op)));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn run_unit(
    client: &mut impl GenericClient,
    statements: &mut Statements,
    unit: &Unit<'_>,
) -> Result<(), postgres::Error> {
    match unit {
        Unit::One(op) => apply_bare(client, statements, op),
        Unit::Executions(ops) => {
            let runs: Vec<&ExecutionRecord> = ops
                .iter()
                .filter_map(|op| match op {
                    WriteOp::UpsertExecution(e) => Some(e),
                    _ => None,
                })
                .collect();
            bulk::executions(client, statements, &runs)
        }
        Unit::NodeResults(ops) => {
            let results: Vec<&NodeResultRecord> = ops
                .iter()
                .filter_map(|op| match op {
                    WriteOp::NodeResult(r) => Some(r),
                    _ => None,
                })
                .collect();
            bulk::node_results(client, statements, &results)
        }
        Unit::Chunks(ops) => {
            let chunks: Vec<Chunk<'_>> = ops.iter().filter_map(|op| chunk(op)).collect();
            bulk::chunks(client, statements, &chunks)
        }
        Unit::Journal(ops) => {
            let entries: Vec<&JournalEntry> = ops
                .iter()
                .filter_map(|op| match op {
                    WriteOp::Journal(j) => Some(j),
                    _ => None,
                })
                .collect();
            bulk::journal(client, statements, &entries)
        }
        Unit::Events(ops) => {
            let events: Vec<&EventRecord> = ops
                .iter()
                .filter_map(|op| match op {
                    WriteOp::Event(e) => Some(e),
                    _ => None,
                })
                .collect();
            bulk::events(client, statements, &events)
        }
    }
}

fn chunk(op: &WriteOp) -> Option<Chunk<'_>> {
    match op {
        WriteOp::OutputChunk {
            execution_id,
            node,
            stream,
            data,
        } => Some(Chunk {
            execution_id,
            node,
            stream: *stream,
            data,
        }),
        _ => None,
    }
}

/// One op, without a savepoint of its own.
fn apply_bare(
    client: &mut impl GenericClient,
    statements: &mut Statements,
    op: &WriteOp,
) -> Result<(), postgres::Error> {
    match op {
        WriteOp::UpsertExecution(e) => bulk::executions(client, statements, &[e]),
        WriteOp::NodeResult(r) => bulk::node_results(client, statements, &[r]),
        WriteOp::Journal(j) => bulk::journal(client, statements, &[j]),
        WriteOp::OutputChunk { .. } => {
            let chunks: Vec<Chunk<'_>> = chunk(op).into_iter().collect();
            bulk::chunks(client, statements, &chunks)
        }
        WriteOp::PutFacts(f) => facts::put(client, statements, f),
        WriteOp::PutBreaker(b) => breakers::put(client, statements, b),
        WriteOp::Event(e) => bulk::events(client, statements, &[e]),
        WriteOp::TranscriptStart(t) => transcripts::insert(client, statements, t),
        WriteOp::TranscriptChunk { id, seq, data } => {
            transcripts::insert_chunk(client, statements, id, *seq, data)
        }
        WriteOp::TranscriptEnd {
            id,
            ended_at,
            bytes,
            cut_at,
        } => transcripts::end(client, statements, id, *ended_at, *bytes, *cut_at),
        WriteOp::Flush(_) => Ok(()),
    }
}

#[cfg(test)]
#[path = "commit_tests.rs"]
mod tests;
