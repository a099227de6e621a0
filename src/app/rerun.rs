//! Repeating a stored run on some of its nodes, as Bolt's `--rerun failure`:
//! which nodes a scope picks from the run's stored results, and what the run
//! did (a command, or a task with its parameters). Shared by `drover run
//! --rerun`, `drover task run --rerun` and the console's `R` and `:rerun`.

use crate::engine::records::{ExecutionRecord, NodeResultRecord};
use crate::engine::secrets::REDACTED;
use crate::engine::submit::label::RerunOf;
use std::collections::HashMap;

/// Which of the stored run's nodes run again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every node that did not succeed: failed, timed out, unreachable,
    /// cancelled, interrupted, or without a result at all.
    Failed,
    /// Only the nodes that could not be reached.
    Unreachable,
    /// Every node the run targeted.
    All,
}

impl Scope {
    pub fn parse(word: &str) -> Result<Scope, String> {
        match word {
            "failed" | "failure" => Ok(Scope::Failed),
            "unreachable" => Ok(Scope::Unreachable),
            "all" => Ok(Scope::All),
            other => Err(format!(
                "{other:?} is not a re-run scope (failed, unreachable or all)"
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scope::Failed => "failed",
            Scope::Unreachable => "unreachable",
            Scope::All => "all",
        }
    }
}

/// What the stored run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repeat {
    Command(String),
    Task {
        name: String,
        /// `key=value` as `drover task run` takes them (JSON for non-strings).
        params: Vec<(String, String)>,
        noop: bool,
    },
}

/// A re-run ready to submit: what, on which nodes, as a repeat of which run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rerun {
    pub repeat: Repeat,
    pub nodes: Vec<String>,
    pub of: RerunOf,
}

impl Rerun {
    /// The picked nodes as a target expression: their names, comma separated
    /// (both grammars read that as exactly these nodes; the engine refuses any
    /// other node for a re-run).
    pub fn targets(&self) -> String {
        self.nodes.join(",")
    }
}

/// Why a stored run cannot be repeated; nothing runs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RerunError {
    #[error("run {0} is still running: wait for it to end, or cancel it first")]
    StillRunning(String),
    #[error("run {id} has no {scope} nodes: nothing to re-run")]
    NothingToRerun { id: String, scope: &'static str },
    #[error("run {id} is a {kind}, which cannot be re-run (only commands and tasks can)")]
    Kind { id: String, kind: String },
    #[error(
        "run {id}: task parameter {param} is sensitive and was not stored; run the task again with its parameters"
    )]
    Sensitive { id: String, param: String },
    #[error("run {id}: the stored task is unreadable ({reason})")]
    Unreadable { id: String, reason: String },
}

/// The nodes `scope` picks, in the run's target order. Only nodes the run
/// targeted are ever picked, whatever else its results name.
pub fn pick(record: &ExecutionRecord, results: &[NodeResultRecord], scope: Scope) -> Vec<String> {
    let by_node: HashMap<&str, &NodeResultRecord> =
        results.iter().map(|r| (r.node.as_str(), r)).collect();
    record
        .nodes
        .iter()
        .filter(|n| {
            let result = by_node.get(n.as_str());
            match scope {
                Scope::All => true,
                Scope::Failed => result.is_none_or(|r| r.status != "success"),
                Scope::Unreachable => result.is_some_and(|r| unreachable(r)),
            }
        })
        .cloned()
        .collect()
}

/// A node that could not be reached: its failure is a connection's.
fn unreachable(r: &NodeResultRecord) -> bool {
    r.status != "success"
        && r.error_category
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("connection"))
}

/// The re-run of a stored run for `scope`, or why there is none.
pub fn plan(
    record: &ExecutionRecord,
    results: &[NodeResultRecord],
    scope: Scope,
) -> Result<Rerun, RerunError> {
    if matches!(record.status.as_str(), "queued" | "running") {
        return Err(RerunError::StillRunning(record.id.clone()));
    }
    let repeat = repeat_of(record)?;
    let nodes = pick(record, results, scope);
    if nodes.is_empty() {
        return Err(RerunError::NothingToRerun {
            id: record.id.clone(),
            scope: scope.name(),
        });
    }
    Ok(Rerun {
        repeat,
        of: RerunOf {
            execution: record.id.clone(),
            nodes: nodes.iter().cloned().collect(),
        },
        nodes,
    })
}

/// The command, or the task with its parameters, that the run ran.
pub fn repeat_of(record: &ExecutionRecord) -> Result<Repeat, RerunError> {
    match record.kind.as_str() {
        "command" => Ok(Repeat::Command(record.action.clone())),
        "task" => task_of(record),
        other => Err(RerunError::Kind {
            id: record.id.clone(),
            kind: other.to_string(),
        }),
    }
}

fn task_of(record: &ExecutionRecord) -> Result<Repeat, RerunError> {
    let unreadable = |reason: &str| RerunError::Unreadable {
        id: record.id.clone(),
        reason: reason.to_string(),
    };
    let task = record
        .options
        .get("task")
        .ok_or_else(|| unreadable("no task recorded with the run"))?;
    let name = task
        .get("task")
        .and_then(|v| v.as_str())
        .ok_or_else(|| unreadable("no task name"))?;
    let mut params = Vec::new();
    if let Some(map) = task.get("parameters").and_then(|v| v.as_object()) {
        for (k, v) in map {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if text == REDACTED {
                return Err(RerunError::Sensitive {
                    id: record.id.clone(),
                    param: k.clone(),
                });
            }
            params.push((k.clone(), text));
        }
    }
    Ok(Repeat::Task {
        name: name.to_string(),
        params,
        noop: task.get("noop").and_then(|v| v.as_bool()).unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::records::OutputMode;

    fn record(kind: &str, status: &str) -> ExecutionRecord {
        ExecutionRecord {
            kind: kind.into(),
            target_expr: "n[1-5]".into(),
            nodes: ["n1", "n2", "n3", "n4", "n5"].map(String::from).to_vec(),
            status: status.into(),
            options: serde_json::json!({}),
            ..ExecutionRecord::sample("run1")
        }
    }

    fn result(node: &str, status: &str, category: Option<&str>) -> NodeResultRecord {
        NodeResultRecord {
            execution_id: "run1".into(),
            node: node.into(),
            status: status.into(),
            exit_code: None,
            signal: None,
            started_at: 0,
            finished_at: 0,
            duration_ms: 0,
            attempts: 1,
            error_category: category.map(String::from),
            error: None,
            output_mode: OutputMode::Summary,
            stdout: String::new(),
            stderr: String::new(),
            stdout_bytes: 0,
            stderr_bytes: 0,
            data: None,
        }
    }

    #[test]
    fn scopes_pick_only_targeted_nodes_by_their_stored_status() {
        let r = record("command", "partial");
        let results = vec![
            result("n1", "success", None),
            result("n2", "failed", Some("Execution")),
            result("n3", "failed", Some("Connection")),
            result("n4", "cancelled", None),
            // n5 has no result (interrupted before it ran); x9 was never targeted.
            result("x9", "failed", None),
        ];
        assert_eq!(pick(&r, &results, Scope::Failed), ["n2", "n3", "n4", "n5"]);
        assert_eq!(pick(&r, &results, Scope::Unreachable), ["n3"]);
        assert_eq!(
            pick(&r, &results, Scope::All),
            ["n1", "n2", "n3", "n4", "n5"]
        );
        let rerun = plan(&r, &results, Scope::Unreachable).unwrap();
        assert_eq!(rerun.targets(), "n3");
        assert_eq!(rerun.of.execution, "run1");
        assert_eq!(rerun.repeat, Repeat::Command("uptime".into()));
    }

    #[test]
    fn nothing_to_rerun_running_runs_and_odd_kinds_are_refused() {
        let all_ok: Vec<_> = ["n1", "n2", "n3", "n4", "n5"]
            .iter()
            .map(|n| result(n, "success", None))
            .collect();
        let e = plan(&record("command", "success"), &all_ok, Scope::Failed).unwrap_err();
        assert_eq!(
            e.to_string(),
            "run run1 has no failed nodes: nothing to re-run"
        );
        let e = plan(&record("command", "running"), &[], Scope::All).unwrap_err();
        assert!(e.to_string().contains("still running"), "{e}");
        let e = plan(&record("plan-step", "failed"), &[], Scope::All).unwrap_err();
        assert!(e.to_string().contains("plan-step"), "{e}");
        assert!(Scope::parse("broken").is_err());
    }

    #[test]
    fn a_task_repeats_with_its_stored_parameters_unless_one_was_secret() {
        let mut r = record("task", "failed");
        r.options = serde_json::json!({"task": {"task": "pkg::install",
            "parameters": {"name": "curl", "count": 2}, "noop": true}});
        let Repeat::Task { name, params, noop } = repeat_of(&r).unwrap() else {
            panic!("a task");
        };
        assert_eq!(name, "pkg::install");
        assert_eq!(
            params,
            [
                ("name".to_string(), "curl".to_string()),
                ("count".into(), "2".into())
            ]
        );
        assert!(noop);
        r.options = serde_json::json!({"task": {"task": "t", "parameters": {"pw": REDACTED}}});
        let e = repeat_of(&r).unwrap_err();
        assert!(e.to_string().contains("pw is sensitive"), "{e}");
    }
}
