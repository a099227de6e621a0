//! The event log in PostgreSQL: reads in `seq` order, trimming and retention. Rows
//! are written in bulk by `commit`.

use postgres::types::ToSql;
use postgres::{GenericClient, Row};

use crate::store::error::StoreError;
use crate::store::records::{EventFilter, EventRecord, Millis};

const EVENT_COLUMNS: &str = "seq, ts, type, execution, node, \"user\", pid, body";

fn from_row(row: &Row) -> Result<EventRecord, StoreError> {
    let seq: i64 = row.try_get(0)?;
    let body = EventRecord::parse_body(seq, &row.try_get::<_, String>(7)?)?;
    Ok(EventRecord {
        seq,
        ts: row.try_get(1)?,
        kind: row.try_get(2)?,
        execution: row.try_get(3)?,
        node: row.try_get(4)?,
        user: row.try_get(5)?,
        pid: row.try_get(6)?,
        body,
    })
}

/// Events matching `filter`, oldest first (by `seq`), at most `filter.limit`.
///
/// The node filter keeps events about a listed node, and events of an execution (no
/// node of their own) whose targets include a listed node, as in SQLite.
pub(crate) fn events(
    client: &mut impl GenericClient,
    filter: &EventFilter,
) -> Result<Vec<EventRecord>, StoreError> {
    let after = filter.after_seq.unwrap_or(0);
    let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
    let mut sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq > $1");
    let mut args: Vec<&(dyn ToSql + Sync)> = vec![&after];
    if let Some(since) = &filter.since {
        args.push(since);
        sql.push_str(&format!(" AND ts >= ${}", args.len()));
    }
    if !filter.types.is_empty() {
        args.push(&filter.types);
        sql.push_str(&format!(" AND type = ANY (${}::text[])", args.len()));
    }
    if let Some(nodes) = &filter.nodes {
        args.push(nodes);
        let n = args.len();
        sql.push_str(&format!(
            " AND (node = ANY (${n}::text[])
                   OR (node IS NULL AND execution IS NOT NULL AND EXISTS (
                       SELECT 1 FROM execution_targets t
                       WHERE t.execution_id = events.execution
                         AND t.node = ANY (${n}::text[]))))"
        ));
    }
    args.push(&limit);
    sql.push_str(&format!(" ORDER BY seq LIMIT ${}", args.len()));
    let rows = client.query(&sql, &args)?;
    rows.iter().map(from_row).collect()
}

/// The newest event's `seq` (0 for an empty log).
pub(crate) fn last_event_seq(client: &mut impl GenericClient) -> Result<i64, StoreError> {
    let row = client.query_one("SELECT MAX(seq) FROM events", &[])?;
    Ok(row.try_get::<_, Option<i64>>(0)?.unwrap_or(0))
}

/// Keeps only the newest `keep` events (by `seq`, as SQLite: the numbers, not the row
/// count, decide). A look at both ends of the key first, so nothing is locked when
/// there is nothing to trim.
pub(crate) fn trim_events(client: &mut impl GenericClient, keep: u64) -> Result<usize, StoreError> {
    let keep = i64::try_from(keep).unwrap_or(i64::MAX);
    let row = client.query_one("SELECT MIN(seq), MAX(seq) FROM events", &[])?;
    let (first, last): (Option<i64>, Option<i64>) = (row.try_get(0)?, row.try_get(1)?);
    let crowded = matches!((first, last), (Some(first), Some(last)) if last - first >= keep);
    if !crowded {
        return Ok(0);
    }
    let removed = client.execute(
        "DELETE FROM events WHERE seq <= (SELECT MAX(seq) FROM events) - $1",
        &[&keep],
    )?;
    Ok(removed as usize)
}

/// Deletes events stamped before `older_than` (retention, with history).
pub(crate) fn prune(
    client: &mut impl GenericClient,
    older_than: Millis,
) -> Result<u64, postgres::Error> {
    client.execute("DELETE FROM events WHERE ts < $1", &[&older_than])
}

#[cfg(test)]
mod tests {
    use super::super::test_db::{TestDb, commit};
    use super::*;
    use crate::store::records::ExecutionRecord;
    use crate::store::writer::WriteOp;

    fn event(kind: &str, execution: Option<&str>, node: Option<&str>) -> WriteOp {
        WriteOp::Event(EventRecord {
            seq: 0,
            ts: 1_000,
            kind: kind.into(),
            execution: execution.map(Into::into),
            node: node.map(Into::into),
            user: Some("ops".into()),
            pid: 42,
            body: serde_json::json!({"attempt": 1}),
        })
    }

    fn all(limit: usize) -> EventFilter {
        EventFilter {
            limit,
            ..EventFilter::default()
        }
    }

    #[test]
    fn events_come_back_in_seq_order_and_filter_as_in_sqlite() {
        let Some(mut db) = TestDb::open() else { return };
        let mut run = ExecutionRecord::sample("e1");
        run.nodes = vec!["web1".into(), "web2".into()];
        commit(
            &mut db,
            vec![
                WriteOp::UpsertExecution(run),
                event("execution_started", Some("e1"), None),
                event("node_started", Some("e1"), Some("web2")),
                event("execution_started", Some("e2"), None),
                event("inventory_reloaded", None, None),
            ],
        );
        let c = &mut db.client;
        let got = events(c, &all(10)).unwrap();
        assert_eq!(got.len(), 4);
        assert!(got.windows(2).all(|w| w[0].seq < w[1].seq));
        assert_eq!(last_event_seq(c).unwrap(), got[3].seq);
        let after = EventFilter {
            after_seq: Some(got[1].seq),
            ..all(1)
        };
        assert_eq!(events(c, &after).unwrap()[0].seq, got[2].seq);
        let mut only = |nodes: &[&str]| {
            let filter = EventFilter {
                nodes: Some(nodes.iter().map(|n| n.to_string()).collect()),
                ..all(10)
            };
            events(c, &filter)
                .unwrap()
                .into_iter()
                .map(|e| format!("{} {}", e.kind, e.node.unwrap_or_default()))
                .collect::<Vec<_>>()
        };
        assert_eq!(only(&["web1"]), ["execution_started "]);
        assert_eq!(only(&["web2"]), ["execution_started ", "node_started web2"]);
        assert!(only(&["db1"]).is_empty());
        assert!(only(&[]).is_empty());
        let types = EventFilter {
            types: vec!["inventory_reloaded".into(), "node_started".into()],
            ..all(10)
        };
        assert_eq!(events(c, &types).unwrap().len(), 2);
        let since = EventFilter {
            since: Some(1_001),
            ..all(10)
        };
        assert!(events(c, &since).unwrap().is_empty());
    }

    #[test]
    fn trimming_keeps_the_newest_and_never_reuses_a_seq() {
        let Some(mut db) = TestDb::open() else { return };
        commit(
            &mut db,
            (0..5).map(|_| event("node_started", None, None)).collect(),
        );
        let c = &mut db.client;
        assert_eq!(last_event_seq(c).unwrap(), 5);
        assert_eq!(trim_events(c, 2).unwrap(), 3);
        assert_eq!(trim_events(c, 2).unwrap(), 0);
        let seqs: Vec<i64> = events(c, &all(10)).unwrap().iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [4, 5]);
        trim_events(c, 0).unwrap();
        assert_eq!(last_event_seq(c).unwrap(), 0);
        commit(&mut db, vec![event("node_started", None, None)]);
        assert_eq!(last_event_seq(&mut db.client).unwrap(), 6);
    }
}
