//! Stored runs for store and history tests: one builder, so that a new field
//! of `ExecutionRecord` is given its default here and nowhere else.

use drover::store::{ExecutionRecord, Millis};
use serde_json::json;

/// A finished-or-not command run: `execution("e1").status("failed").build()`.
pub fn execution(id: &str) -> ExecutionBuilder {
    ExecutionBuilder(ExecutionRecord {
        id: id.to_string(),
        kind: "command".to_string(),
        action: "uptime".to_string(),
        target_expr: "all".to_string(),
        nodes: Vec::new(),
        user: "alice".to_string(),
        correlation_id: format!("corr-{id}"),
        status: "success".to_string(),
        started_at: 0,
        finished_at: None,
        duration_ms: None,
        success_count: 0,
        failed_count: 0,
        options: json!({ "timeout": 30, "debug": false }),
        error: None,
        owner_pid: 1,
        owner_start_time: 1,
        rerun_of: None,
    })
}

pub struct ExecutionBuilder(ExecutionRecord);

impl ExecutionBuilder {
    pub fn user(mut self, user: &str) -> Self {
        self.0.user = user.to_string();
        self
    }

    pub fn status(mut self, status: &str) -> Self {
        self.0.status = status.to_string();
        self
    }

    pub fn target(mut self, expr: &str) -> Self {
        self.0.target_expr = expr.to_string();
        self
    }

    pub fn nodes(mut self, nodes: &[&str]) -> Self {
        self.0.nodes = nodes.iter().map(|n| n.to_string()).collect();
        self
    }

    pub fn started_at(mut self, at: Millis) -> Self {
        self.0.started_at = at;
        self
    }

    /// Ended `duration_ms` after it started.
    pub fn took(mut self, duration_ms: i64) -> Self {
        self.0.duration_ms = Some(duration_ms);
        self.0.finished_at = Some(self.0.started_at + duration_ms);
        self
    }

    pub fn counts(mut self, success: i64, failed: i64) -> Self {
        self.0.success_count = success;
        self.0.failed_count = failed;
        self
    }

    pub fn rerun_of(mut self, of: Option<&str>) -> Self {
        self.0.rerun_of = of.map(String::from);
        self
    }

    pub fn build(self) -> ExecutionRecord {
        self.0
    }
}
