//! Aggregate figures over history in PostgreSQL, defined exactly as `Store::metrics`.

use postgres::GenericClient;

use crate::store::error::StoreError;
use crate::store::records::{Metrics, Millis};

/// See `Store::metrics` for what each figure means. `SUM` of BIGINT is NUMERIC and
/// `AVG` is NUMERIC in PostgreSQL, hence the casts.
pub(crate) fn metrics(
    client: &mut impl GenericClient,
    since: Option<Millis>,
    until: Option<Millis>,
) -> Result<Metrics, StoreError> {
    let row = client.query_one(
        "SELECT COUNT(*),
             COUNT(*) FILTER (WHERE status NOT IN ('queued', 'running')),
             COUNT(*) FILTER (WHERE status = 'success'),
             AVG(CASE WHEN status NOT IN ('queued', 'running') THEN duration_ms END)::float8,
             COALESCE(SUM(json_array_length(nodes::json)), 0)::bigint,
             COALESCE(SUM(failed_count), 0)::bigint
         FROM executions
         WHERE ($1::bigint IS NULL OR started_at >= $1::bigint)
           AND ($2::bigint IS NULL OR started_at <= $2::bigint)",
        &[&since, &until],
    )?;
    let total: i64 = row.try_get(0)?;
    let finished: i64 = row.try_get(1)?;
    let succeeded: i64 = row.try_get(2)?;
    let average: Option<f64> = row.try_get(3)?;
    let targets: i64 = row.try_get(4)?;
    let failed: i64 = row.try_get(5)?;
    Ok(Metrics::from_counts(
        total, finished, succeeded, average, targets, failed,
    ))
}

#[cfg(test)]
mod tests {
    use super::super::test_db::{TestDb, commit};
    use super::*;
    use crate::store::records::ExecutionRecord;
    use crate::store::writer::WriteOp;

    fn run(id: &str, started_at: i64, status: &str, nodes: usize, failed: i64) -> WriteOp {
        let finished = !matches!(status, "queued" | "running");
        WriteOp::UpsertExecution(ExecutionRecord {
            started_at,
            status: status.into(),
            nodes: (0..nodes).map(|n| format!("n{n}")).collect(),
            failed_count: failed,
            duration_ms: finished.then_some(started_at * 10),
            ..ExecutionRecord::sample(id)
        })
    }

    #[test]
    fn metrics_are_defined_as_in_sqlite() {
        let Some(mut db) = TestDb::open() else { return };
        let c = &mut db.client;
        assert_eq!(metrics(c, None, None).unwrap(), Metrics::default());
        commit(
            &mut db,
            vec![
                run("a", 1, "success", 2, 0),
                run("b", 2, "failed", 2, 2),
                run("c", 3, "running", 4, 0),
                run("d", 9, "success", 1, 0),
            ],
        );
        let c = &mut db.client;
        let m = metrics(c, Some(1), Some(3)).unwrap();
        assert_eq!(m.total_executions, 3);
        assert_eq!(m.success_rate, 0.5);
        assert_eq!(m.average_duration_ms, 15.0);
        assert_eq!(m.target_count, 8);
        assert_eq!(m.error_rate, 0.25);
        assert_eq!(metrics(c, Some(4), None).unwrap().total_executions, 1);
        assert_eq!(metrics(c, None, Some(0)).unwrap(), Metrics::default());
    }
}
