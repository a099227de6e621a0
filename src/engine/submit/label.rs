//! How an execution presents itself when it is more than a bare command: a task or a
//! plan step has a name and parameters to show instead of the generated script,
//! a journal type of its own, and output worth parsing as JSON.

use crate::engine::rbac::Capability;
use crate::store::EntryType;

#[derive(Debug, Clone, PartialEq)]
pub struct RunLabel {
    /// History kind: `command`, `task`, `plan-step`.
    pub kind: String,
    /// What history, events, logs and snapshots show instead of the command text
    /// (secrets already redacted). `None` shows the command.
    pub action: Option<String>,
    /// The type of the per-node journal entries.
    pub entry_type: EntryType,
    /// Merged into each node's journal details (parameters, plan run, step).
    pub details: serde_json::Map<String, serde_json::Value>,
    /// Parse each node's stdout as JSON into `NodeResult::value`.
    pub parse_json: bool,
    /// What the user needs to run it: `task.run:NAME` for a task, `plan.run` for
    /// a plan step, `command.run` otherwise.
    pub capability: Capability,
    /// The run this one repeats on some of its nodes (`--rerun`, `R`).
    pub rerun: Option<RerunOf>,
}

/// What a re-run repeats: the earlier run's id, recorded with the new run, and
/// the nodes it may touch (the earlier run's targets, or fewer). The engine
/// refuses a re-run whose targets resolve to any other node, so an inventory
/// that changed since (a node name that became a group) cannot widen it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RerunOf {
    pub execution: String,
    pub nodes: std::collections::BTreeSet<String>,
}

impl Default for RunLabel {
    fn default() -> Self {
        RunLabel {
            kind: "command".into(),
            action: None,
            entry_type: EntryType::Execution,
            details: serde_json::Map::new(),
            parse_json: false,
            capability: Capability::CommandRun,
            rerun: None,
        }
    }
}

impl RunLabel {
    pub fn shown<'a>(
        &'a self,
        request: &'a crate::engine::common::request::ExecutionRequest,
    ) -> &'a str {
        self.action.as_deref().unwrap_or(&request.command)
    }
}
