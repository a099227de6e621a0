//! The event log's schema, version 1 (`drover events`; documented in the README,
//! "Event tail"): which [`EngineEvent`]s become log entries, under which type
//! names and with which fields, and the JSON line a reader prints for one.
//!
//! Columns the log filters on (type, execution, node, user) are kept apart from
//! the type's own fields (`body`); a line puts them back together. A field is
//! never renamed or retyped within a version: new fields and types may appear,
//! so readers must ignore what they do not know.

use crate::engine::common::error::NodeError;
use crate::engine::report::event::EngineEvent;
use crate::engine::report::plan_state::PlanProgress;
use crate::engine::report::result::Progress;
use crate::engine::resilience::breaker::{BreakerScope, BreakerState};
use crate::store::{EventRecord, Millis};
use serde_json::{Map, Value, json};

/// The `v` of every line.
pub const SCHEMA_VERSION: u32 = 1;

/// Every type the log holds, for `--type` and its error message.
pub const EVENT_TYPES: &[&str] = &[
    "execution_queued",
    "execution_started",
    "node_started",
    "node_output",
    "retry_attempt",
    "node_finished",
    "execution_finished",
    "journal_appended",
    "breaker_opened",
    "breaker_half_open",
    "breaker_closed",
    "plan_step_changed",
    "plan_finished",
    "inventory_reloaded",
];

/// Who and where, for every entry: the process, the clock, who asked.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub pid: i64,
    pub ts: Millis,
    pub user: Option<&'a str>,
}

/// How much one node has printed in its current attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputCounts {
    pub stdout_bytes: u64,
    pub stderr_bytes: u64,
    pub stdout_lines: u64,
    pub stderr_lines: u64,
}

fn entry(
    origin: Origin<'_>,
    kind: &str,
    execution: Option<&str>,
    node: Option<&str>,
    body: Value,
) -> EventRecord {
    EventRecord {
        seq: 0,
        ts: origin.ts,
        kind: kind.to_string(),
        execution: execution.map(str::to_string),
        node: node.map(str::to_string),
        user: origin.user.map(str::to_string),
        pid: origin.pid,
        body,
    }
}

fn progress(p: &Progress) -> Value {
    json!({"total": p.total, "completed": p.completed, "failed": p.failed,
           "cancelled": p.cancelled, "running": p.running})
}

fn plan_progress(p: &PlanProgress) -> Value {
    json!({"total": p.total, "completed": p.completed, "failed": p.failed,
           "cancelled": p.cancelled, "running": p.running})
}

fn error(e: Option<&NodeError>) -> Value {
    match e {
        Some(e) => json!({"category": e.category.as_str(), "reason": e.reason}),
        None => Value::Null,
    }
}

fn breaker_type(state: BreakerState) -> &'static str {
    match state {
        BreakerState::Open => "breaker_opened",
        BreakerState::HalfOpen => "breaker_half_open",
        BreakerState::Closed => "breaker_closed",
    }
}

/// The log entry of `event`; `None` for the coalesced output notification, which
/// the log replaces with [`output_summary`] entries.
pub fn record_of(event: &EngineEvent, origin: Origin<'_>) -> Option<EventRecord> {
    Some(match event {
        EngineEvent::ExecutionQueued {
            execution,
            action,
            nodes,
            user,
            correlation_id,
        } => entry(
            Origin {
                user: Some(user),
                ..origin
            },
            "execution_queued",
            Some(&execution.0),
            None,
            json!({"action": action, "nodes": nodes, "correlation_id": correlation_id}),
        ),
        EngineEvent::ExecutionStarted { execution, total } => entry(
            origin,
            "execution_started",
            Some(&execution.0),
            None,
            json!({"total": total}),
        ),
        EngineEvent::NodeStarted {
            execution,
            node,
            attempt,
        } => entry(
            origin,
            "node_started",
            Some(&execution.0),
            Some(node),
            json!({"attempt": attempt}),
        ),
        EngineEvent::NodeOutput { .. } => return None,
        EngineEvent::RetryAttempt {
            execution,
            node,
            attempt,
            max_attempts,
            delay,
            reason,
        } => entry(
            origin,
            "retry_attempt",
            Some(&execution.0),
            Some(node),
            json!({"attempt": attempt, "max_attempts": max_attempts,
                   "delay_ms": delay.as_millis() as u64, "error": error(Some(reason))}),
        ),
        EngineEvent::NodeFinished {
            execution,
            node,
            status,
            exit_code,
            duration,
            error: e,
            progress: p,
        } => entry(
            origin,
            "node_finished",
            Some(&execution.0),
            Some(node),
            json!({"status": status.as_str(), "exit_code": exit_code,
                   "duration_ms": duration.as_millis() as u64, "error": error(e.as_ref()),
                   "progress": progress(p)}),
        ),
        EngineEvent::ExecutionFinished {
            execution,
            status,
            duration,
            progress: p,
        } => entry(
            origin,
            "execution_finished",
            Some(&execution.0),
            None,
            json!({"status": status.as_str(), "duration_ms": duration.as_millis() as u64,
                   "progress": progress(p)}),
        ),
        EngineEvent::JournalAppended {
            node,
            entry_type,
            execution,
        } => entry(
            origin,
            "journal_appended",
            execution.as_ref().map(|e| e.0.as_str()),
            Some(node),
            json!({"entry_type": entry_type.as_str()}),
        ),
        EngineEvent::BreakerChanged { scope, name, state } => entry(
            origin,
            breaker_type(*state),
            None,
            // A node's breaker is about that node; a transport's about none.
            (*scope == BreakerScope::Node).then_some(name.as_str()),
            json!({"scope": scope.as_str(), "name": name, "state": state.as_str()}),
        ),
        EngineEvent::PlanStepChanged {
            plan,
            step,
            state,
            execution,
            progress: p,
        } => entry(
            origin,
            "plan_step_changed",
            None,
            None,
            json!({"plan": plan, "step": step, "state": state.as_str(),
                   "step_execution": execution, "progress": plan_progress(p)}),
        ),
        EngineEvent::PlanFinished {
            plan,
            name,
            state,
            progress: p,
        } => entry(
            origin,
            "plan_finished",
            None,
            None,
            json!({"plan": plan, "name": name, "state": state.as_str(),
                   "progress": plan_progress(p)}),
        ),
        EngineEvent::InventoryReloaded {
            nodes,
            failed_sources,
        } => entry(
            origin,
            "inventory_reloaded",
            None,
            None,
            json!({"nodes": nodes, "failed_sources": failed_sources
                .iter()
                .map(|f| json!({"source": f.source, "reason": f.reason}))
                .collect::<Vec<_>>()}),
        ),
    })
}

/// A `node_output` entry: what `node` has printed so far in this attempt
/// (never the output itself); `last` marks the one written as the node ends.
pub fn output_summary(
    origin: Origin<'_>,
    execution: &str,
    node: &str,
    counts: OutputCounts,
    last: bool,
) -> EventRecord {
    entry(
        origin,
        "node_output",
        Some(execution),
        Some(node),
        json!({"stdout_bytes": counts.stdout_bytes, "stderr_bytes": counts.stderr_bytes,
               "stdout_lines": counts.stdout_lines, "stderr_lines": counts.stderr_lines,
               "final": last}),
    )
}

/// `ts` as RFC 3339 in UTC with milliseconds: `2026-12-06T13:54:03.120Z`.
pub fn rfc3339_millis(ts: Millis) -> String {
    match jiff::Timestamp::from_millisecond(ts) {
        Ok(t) => format!("{t:.3}"),
        Err(_) => ts.to_string(),
    }
}

/// The JSON line of a stored entry: the common fields first, then the type's own.
pub fn json_line(r: &EventRecord) -> Value {
    let mut line = Map::new();
    line.insert("v".into(), SCHEMA_VERSION.into());
    line.insert("seq".into(), r.seq.into());
    line.insert("ts".into(), rfc3339_millis(r.ts).into());
    line.insert("type".into(), r.kind.clone().into());
    line.insert("pid".into(), r.pid.into());
    line.insert("user".into(), r.user.clone().into());
    line.insert("execution".into(), r.execution.clone().into());
    line.insert("node".into(), r.node.clone().into());
    if let Value::Object(body) = &r.body {
        for (k, v) in body {
            // The common fields win: a body can never forge them.
            line.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    Value::Object(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::common::error::ErrorCategory;
    use crate::engine::common::ids::ExecutionId;
    use crate::engine::report::result::NodeStatus;
    use std::time::Duration;

    const ORIGIN: Origin<'static> = Origin {
        pid: 4242,
        ts: 1_765_029_243_120,
        user: Some("ops"),
    };

    fn line(event: EngineEvent) -> Value {
        let mut r = record_of(&event, ORIGIN).expect("logged");
        r.seq = 7;
        json_line(&r)
    }

    #[test]
    fn a_node_finished_line_has_the_common_fields_then_its_own() {
        let v = line(EngineEvent::NodeFinished {
            execution: ExecutionId("e1".into()),
            node: "web1".into(),
            status: NodeStatus::Failed,
            exit_code: Some(3),
            duration: Duration::from_millis(1500),
            error: Some(NodeError {
                node: "web1".into(),
                category: ErrorCategory::Execution,
                reason: "exit 3".into(),
            }),
            progress: Progress {
                total: 2,
                completed: 1,
                failed: 1,
                cancelled: 0,
                running: 0,
            },
        });
        assert_eq!(
            v,
            json!({"v": 1, "seq": 7, "ts": "2025-12-06T13:54:03.120Z", "type": "node_finished",
                   "pid": 4242, "user": "ops", "execution": "e1", "node": "web1",
                   "status": "failed", "exit_code": 3, "duration_ms": 1500,
                   "error": {"category": ErrorCategory::Execution.as_str(), "reason": "exit 3"},
                   "progress": {"total": 2, "completed": 1, "failed": 1, "cancelled": 0,
                                "running": 0}})
        );
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(
            keys[..8],
            ["v", "seq", "ts", "type", "pid", "user", "execution", "node"]
        );
    }

    #[test]
    fn the_queued_run_names_its_own_user_and_nodes() {
        let v = line(EngineEvent::ExecutionQueued {
            execution: ExecutionId("e1".into()),
            action: "uptime".into(),
            nodes: vec!["a".into(), "b".into()],
            user: "alice".into(),
            correlation_id: "c1".into(),
        });
        assert_eq!(v["type"], "execution_queued");
        assert_eq!(v["user"], "alice");
        assert_eq!(v["node"], Value::Null);
        assert_eq!(v["nodes"], json!(["a", "b"]));
        assert_eq!(v["action"], "uptime");
    }

    #[test]
    fn breakers_are_typed_by_their_new_state_and_name_their_node() {
        let v = line(EngineEvent::BreakerChanged {
            scope: BreakerScope::Node,
            name: "web1".into(),
            state: BreakerState::Open,
        });
        assert_eq!(
            (v["type"].as_str(), v["node"].as_str()),
            (Some("breaker_opened"), Some("web1"))
        );
        let v = line(EngineEvent::BreakerChanged {
            scope: BreakerScope::Transport,
            name: "ssh".into(),
            state: BreakerState::Closed,
        });
        assert_eq!(v["type"], "breaker_closed");
        assert_eq!(v["node"], Value::Null);
        assert_eq!(v["name"], "ssh");
    }

    #[test]
    fn output_is_summarised_never_copied_and_the_coalesced_notice_is_not_logged() {
        let notice = EngineEvent::NodeOutput {
            execution: ExecutionId("e1".into()),
            node: "web1".into(),
            stream: crate::store::Stream::Stdout,
        };
        assert!(record_of(&notice, ORIGIN).is_none());
        let counts = OutputCounts {
            stdout_bytes: 10,
            stderr_bytes: 0,
            stdout_lines: 2,
            stderr_lines: 0,
        };
        let v = json_line(&output_summary(ORIGIN, "e1", "web1", counts, true));
        assert_eq!(v["type"], "node_output");
        assert_eq!(v["stdout_bytes"], 10);
        assert_eq!(v["stdout_lines"], 2);
        assert_eq!(v["final"], true);
    }

    #[test]
    fn every_logged_type_is_listed() {
        let r = record_of(
            &EngineEvent::InventoryReloaded {
                nodes: 3,
                failed_sources: Vec::new(),
            },
            ORIGIN,
        )
        .unwrap();
        assert!(EVENT_TYPES.contains(&r.kind.as_str()));
        assert!(EVENT_TYPES.contains(&"node_output"));
        assert_eq!(r.body, json!({"nodes": 3, "failed_sources": []}));
    }
}
