//! Capability names: what a role may do.

use crate::engine::inventory::glob_match;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Capability {
    InventoryRead,
    FactsRead,
    FactsRefresh,
    CommandRun,
    /// Running tasks whose name matches the glob (`task.run:deploy_*`); in a
    /// request, the task's name.
    TaskRun(String),
    PlanRun,
    HistoryRead,
    JournalRead,
    JournalWrite,
    /// Every capability, and acting as another user (`--as`).
    Admin,
}

const SIMPLE: &[(&str, Capability)] = &[
    ("inventory.read", Capability::InventoryRead),
    ("facts.read", Capability::FactsRead),
    ("facts.refresh", Capability::FactsRefresh),
    ("command.run", Capability::CommandRun),
    ("plan.run", Capability::PlanRun),
    ("history.read", Capability::HistoryRead),
    ("journal.read", Capability::JournalRead),
    ("journal.write", Capability::JournalWrite),
    ("admin", Capability::Admin),
];

impl Capability {
    /// Parses a capability name; the error lists the valid ones.
    pub fn parse(s: &str) -> Result<Capability, String> {
        if let Some((_, c)) = SIMPLE.iter().find(|(name, _)| *name == s) {
            return Ok(c.clone());
        }
        if s == "task.run" {
            return Ok(Capability::TaskRun("*".into()));
        }
        if let Some(glob) = s.strip_prefix("task.run:") {
            if glob.is_empty() {
                return Err("task.run: needs a task name or glob after ':'".into());
            }
            return Ok(Capability::TaskRun(glob.into()));
        }
        let names: Vec<&str> = SIMPLE.iter().map(|(n, _)| *n).collect();
        Err(format!(
            "{s:?} is not a capability (expected one of {}, task.run:<glob>)",
            names.join(", ")
        ))
    }

    /// Whether holding `self` allows `wanted`.
    pub fn grants(&self, wanted: &Capability) -> bool {
        match (self, wanted) {
            (Capability::Admin, _) => true,
            (Capability::TaskRun(glob), Capability::TaskRun(name)) => glob_match(glob, name),
            (a, b) => a == b,
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Capability::TaskRun(t) => write!(f, "task.run:{t}"),
            other => {
                let name = SIMPLE
                    .iter()
                    .find(|(_, c)| c == other)
                    .map(|(n, _)| *n)
                    .unwrap_or("?");
                f.write_str(name)
            }
        }
    }
}
