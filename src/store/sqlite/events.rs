//! The event log: what every drover process on this store did, in the order the
//! database numbered it (`seq`), for `drover events` to tail.
//!
//! Rows come in through the writer's batches like any other record (never one
//! transaction per event); reads filter in SQL and walk the primary key, so a
//! follower asking "after seq N" costs one index seek however long the log is.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use super::SqliteBackend;
use crate::store::error::StoreError;
use crate::store::records::{EventFilter, EventRecord, Millis};

const EVENT_COLUMNS: &str = "seq, ts, type, execution, node, user, pid, body";

/// Appends an event; the record's own `seq` is ignored, the database assigns one.
pub(crate) fn insert(conn: &Connection, e: &EventRecord) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO events (ts, type, execution, node, user, pid, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        e.ts,
        e.kind,
        e.execution,
        e.node,
        e.user,
        e.pid,
        e.body.to_string(),
    ])?;
    Ok(())
}

fn from_row(row: &Row<'_>) -> Result<EventRecord, StoreError> {
    let seq: i64 = row.get(0)?;
    let body = EventRecord::parse_body(seq, &row.get::<_, String>(7)?)?;
    Ok(EventRecord {
        seq,
        ts: row.get(1)?,
        kind: row.get(2)?,
        execution: row.get(3)?,
        node: row.get(4)?,
        user: row.get(5)?,
        pid: row.get(6)?,
        body,
    })
}

/// The query for `filter` and its arguments.
///
/// The node filter keeps events about a listed node, and events of an execution
/// (no node of their own) whose targets include a listed node: the engine writes
/// an execution's targets before its first event, so the lookup never races it.
fn select_sql(filter: &EventFilter) -> (String, Vec<Value>) {
    let mut sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq > ?1");
    let mut args = vec![Value::Integer(filter.after_seq.unwrap_or(0))];
    if let Some(since) = filter.since {
        args.push(Value::Integer(since));
        sql.push_str(&format!(" AND ts >= ?{}", args.len()));
    }
    if !filter.types.is_empty() {
        args.push(Value::Text(json_list(&filter.types)));
        sql.push_str(&format!(
            " AND type IN (SELECT value FROM json_each(?{}))",
            args.len()
        ));
    }
    if let Some(nodes) = &filter.nodes {
        args.push(Value::Text(json_list(nodes)));
        let n = args.len();
        sql.push_str(&format!(
            " AND (node IN (SELECT value FROM json_each(?{n}))
                   OR (node IS NULL AND execution IS NOT NULL AND EXISTS (
                       SELECT 1 FROM execution_targets t
                       WHERE t.execution_id = events.execution
                         AND t.node IN (SELECT value FROM json_each(?{n})))))"
        ));
    }
    args.push(Value::Integer(filter.limit.min(i64::MAX as usize) as i64));
    sql.push_str(&format!(" ORDER BY seq LIMIT ?{}", args.len()));
    (sql, args)
}

fn json_list(items: &[String]) -> String {
    serde_json::Value::from(items.to_vec()).to_string()
}

impl SqliteBackend {
    /// Events matching `filter`, oldest first (by `seq`), at most `filter.limit`.
    pub fn events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError> {
        let (sql, args) = select_sql(filter);
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_and_then(params_from_iter(args), from_row)?;
        rows.collect()
    }

    /// The newest event's `seq` (0 for an empty log): where a follower that
    /// wants only what comes next starts.
    pub fn last_event_seq(&self) -> Result<i64, StoreError> {
        let conn = self.reader();
        let seq: Option<i64> = conn
            .query_row("SELECT MAX(seq) FROM events", [], |r| r.get(0))
            .optional()?
            .flatten();
        Ok(seq.unwrap_or(0))
    }

    /// Keeps only the newest `keep` events. Cheap: a look at both ends of the
    /// primary key (no write lock when there is nothing to trim), then one
    /// range delete, on a short-lived connection like [`Store::prune`].
    pub fn trim_events(&self, keep: u64) -> Result<usize, StoreError> {
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        let (first, last): (Option<i64>, Option<i64>) =
            self.reader()
                .query_row("SELECT MIN(seq), MAX(seq) FROM events", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
        let crowded = matches!((first, last), (Some(first), Some(last)) if last - first >= keep);
        if !crowded {
            return Ok(0);
        }
        let conn = super::connection::open(self.path())?;
        let removed = conn.execute(
            "DELETE FROM events WHERE seq <= (SELECT MAX(seq) FROM events) - ?1",
            [keep],
        )?;
        Ok(removed)
    }
}

/// Deletes events stamped before `older_than` (retention, with history).
pub(crate) fn prune(conn: &Connection, older_than: Millis) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM events WHERE ts < ?1", [older_than])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::store::WriteOp;
    use crate::store::records::ExecutionRecord;

    fn event(kind: &str, execution: Option<&str>, node: Option<&str>) -> EventRecord {
        EventRecord {
            seq: 0,
            ts: 1_000,
            kind: kind.into(),
            execution: execution.map(Into::into),
            node: node.map(Into::into),
            user: Some("ops".into()),
            pid: 42,
            body: serde_json::json!({"attempt": 1}),
        }
    }

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("drover.db")).unwrap();
        (dir, store)
    }

    fn all(limit: usize) -> EventFilter {
        EventFilter {
            limit,
            ..EventFilter::default()
        }
    }

    #[test]
    fn events_come_back_in_seq_order_with_their_fields() {
        let (_dir, store) = open();
        let w = store.writer();
        for i in 0..3 {
            let node = format!("n{i}");
            w.blocking_send(WriteOp::Event(event(
                "node_started",
                Some("e1"),
                Some(&node),
            )))
            .unwrap();
        }
        w.blocking_flush().unwrap();
        let got = store.events(&all(10)).unwrap();
        let seqs: Vec<i64> = got.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [1, 2, 3]);
        assert_eq!(got[1].node.as_deref(), Some("n1"));
        assert_eq!(got[1].body["attempt"], 1);
        assert_eq!(store.last_event_seq().unwrap(), 3);
        let after = EventFilter {
            after_seq: Some(2),
            ..all(10)
        };
        assert_eq!(store.events(&after).unwrap()[0].node.as_deref(), Some("n2"));
        assert_eq!(store.events(&all(2)).unwrap().len(), 2);
    }

    #[test]
    fn the_node_filter_keeps_the_runs_that_target_the_node() {
        let (_dir, store) = open();
        let w = store.writer();
        let mut run = ExecutionRecord::sample("e1");
        run.nodes = vec!["web1".into(), "web2".into()];
        w.blocking_send(WriteOp::UpsertExecution(run)).unwrap();
        w.blocking_send(WriteOp::Event(event("execution_started", Some("e1"), None)))
            .unwrap();
        w.blocking_send(WriteOp::Event(event(
            "node_started",
            Some("e1"),
            Some("web2"),
        )))
        .unwrap();
        w.blocking_send(WriteOp::Event(event("execution_started", Some("e2"), None)))
            .unwrap();
        w.blocking_send(WriteOp::Event(event("inventory_reloaded", None, None)))
            .unwrap();
        w.blocking_flush().unwrap();
        let only = |nodes: &[&str]| {
            let filter = EventFilter {
                nodes: Some(nodes.iter().map(|n| n.to_string()).collect()),
                ..all(10)
            };
            let got = store.events(&filter).unwrap();
            got.into_iter()
                .map(|e| format!("{} {}", e.kind, e.node.unwrap_or_default()))
                .collect::<Vec<_>>()
        };
        assert_eq!(only(&["web1"]), ["execution_started "]);
        assert_eq!(only(&["web2"]), ["execution_started ", "node_started web2"]);
        assert!(only(&["db1"]).is_empty());
        let types = EventFilter {
            types: vec!["inventory_reloaded".into()],
            ..all(10)
        };
        assert_eq!(store.events(&types).unwrap().len(), 1);
    }

    #[test]
    fn trimming_keeps_the_newest_and_never_reuses_a_seq() {
        let (_dir, store) = open();
        let w = store.writer();
        for _ in 0..5 {
            w.blocking_send(WriteOp::Event(event("node_started", None, None)))
                .unwrap();
        }
        w.blocking_flush().unwrap();
        assert_eq!(store.trim_events(2).unwrap(), 3);
        let seqs: Vec<i64> = store
            .events(&all(10))
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, [4, 5]);
        store.trim_events(0).unwrap();
        w.blocking_send(WriteOp::Event(event("node_started", None, None)))
            .unwrap();
        w.blocking_flush().unwrap();
        assert_eq!(store.last_event_seq().unwrap(), 6);
    }
}
