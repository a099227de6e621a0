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
    Ok(Metrics {
        total_executions: total,
        success_rate: ratio(succeeded, finished),
        average_duration_ms: average.unwrap_or(0.0),
        target_count: targets,
        error_rate: ratio(failed, targets).min(1.0),
    })
}

fn ratio(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}
