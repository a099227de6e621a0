//! Aggregate figures over history, computed in SQL so no rows cross into Rust.

use rusqlite::params;

use super::SqliteBackend;
use crate::store::error::StoreError;
use crate::store::records::{Metrics, Millis};

impl SqliteBackend {
    /// Aggregates over executions whose `started_at` lies in `since..=until` (either
    /// bound optional). Precisely:
    /// - *finished* means any status other than `queued` or `running`;
    /// - `success_rate` = finished with status `success` / finished;
    /// - `average_duration_ms` = mean `duration_ms` of finished executions that have one
    ///   (an interrupted run's duration is unknown and left out);
    /// - `target_count` = sum of the executions' node-list lengths;
    /// - `error_rate` = sum of `failed_count` / `target_count`, capped at 1, so nodes
    ///   still pending in a running execution do not count as errors.
    ///
    /// Every ratio is 0 when its denominator is 0.
    pub fn metrics(
        &self,
        since: Option<Millis>,
        until: Option<Millis>,
    ) -> Result<Metrics, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT COUNT(*),
                 COALESCE(SUM(status NOT IN ('queued', 'running')), 0),
                 COALESCE(SUM(status = 'success'), 0),
                 AVG(CASE WHEN status NOT IN ('queued', 'running') THEN duration_ms END),
                 COALESCE(SUM(json_array_length(nodes)), 0),
                 COALESCE(SUM(failed_count), 0)
             FROM executions
             WHERE (?1 IS NULL OR started_at >= ?1) AND (?2 IS NULL OR started_at <= ?2)",
        )?;
        let (total, finished, succeeded, average, targets, failed) =
            stmt.query_row(params![since, until], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, Option<f64>>(3)?,
                    row.get::<_, i64>(4)?,
                    row.get::<_, i64>(5)?,
                ))
            })?;
        Ok(Metrics::from_counts(
            total, finished, succeeded, average, targets, failed,
        ))
    }
}
