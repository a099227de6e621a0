//! The engine's limits and sizes, with the defaults a front end starts from.

use super::common::error::ErrorCategory;
use super::executor::journal::JournalRule;
use super::resilience::breaker;
use super::secrets;
use std::time::Duration;

/// Engine-wide limits and sizes.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Most node-runs at once across all executions.
    pub max_concurrency: usize,
    /// Most executions waiting for their first slot; one more is `QueueFull`.
    pub queue_depth: usize,
    /// Waiting this long counts as one priority level (so nothing starves).
    pub queue_aging: Duration,
    /// Bytes kept per node per stream for live views and summaries (at most).
    pub ring_capacity: usize,
    /// Bytes of rings one execution may hold in all: a run over many nodes gets
    /// smaller rings per node (never under `MIN_RING`), so memory stays bounded by
    /// the run, not by nodes × ring_capacity.
    pub output_budget: usize,
    /// Lines kept at each end of a summarised output.
    pub summary_lines: usize,
    /// Broadcast buffer; a subscriber that falls further behind is told it lagged.
    pub event_capacity: usize,
    /// Finished executions kept in memory for snapshots (older ones: the store).
    /// Few, because each keeps its output rings (up to `output_budget`).
    pub keep_finished: usize,
    /// Error categories worth another attempt (when a request asks for retries).
    pub retry_on: Vec<ErrorCategory>,
    /// Random spread of retry delays, as a fraction of each delay.
    pub retry_jitter: f64,
    pub breakers: breaker::BreakerConfig,
    /// How long a finished execution still answers for its idempotency key.
    pub idempotency_window: Duration,
    /// Env var name globs whose values are secret.
    pub secret_patterns: Vec<String>,
    /// Journaling for nodes of transports not named in `journal_by_transport`.
    pub journal: JournalRule,
    pub journal_by_transport: std::collections::BTreeMap<String, JournalRule>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            max_concurrency: 512,
            queue_depth: 1000,
            queue_aging: Duration::from_secs(10),
            ring_capacity: 1 << 20,
            output_budget: 24 << 20,
            summary_lines: 20,
            event_capacity: 8192,
            keep_finished: 8,
            retry_on: vec![ErrorCategory::Connection, ErrorCategory::Timeout],
            retry_jitter: 0.2,
            breakers: breaker::BreakerConfig::default(),
            idempotency_window: Duration::from_secs(600),
            secret_patterns: secrets::DEFAULT_PATTERNS
                .iter()
                .map(|p| p.to_string())
                .collect(),
            journal: JournalRule::default(),
            journal_by_transport: Default::default(),
        }
    }
}

/// Smallest ring per node and stream, whatever the budget.
pub const MIN_RING: usize = 64 * 1024;

impl EngineConfig {
    /// Ring size for each stream of each node of a run over `nodes` nodes.
    pub fn ring_for(&self, nodes: usize) -> usize {
        let share = self.output_budget / (2 * nodes.max(1));
        share.clamp(MIN_RING.min(self.ring_capacity), self.ring_capacity)
    }
}
