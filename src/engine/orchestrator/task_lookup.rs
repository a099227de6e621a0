//! Looking tasks up on the task path: all of them, or one by name.

use super::task::{Task, TaskError};
use super::{task_discovery, task_meta};
use std::path::PathBuf;

/// What the task path holds: every loadable task and every broken one.
#[derive(Debug, Default)]
pub struct Discovered {
    /// By name, first found wins, sorted; private ones included.
    pub tasks: Vec<Task>,
    /// (task name, or the directory for a project problem; why), sorted by name.
    pub broken: Vec<(String, TaskError)>,
}

/// Every task on the path, by name (first found wins), sorted.
pub fn discover(path: &[PathBuf]) -> Discovered {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Discovered::default();
    for dir in path {
        let (candidates, problems) = task_discovery::candidates(dir);
        for (where_, e) in problems {
            out.broken.push((where_, e));
        }
        for c in candidates {
            if !seen.insert(c.name.clone()) {
                continue;
            }
            match task_meta::load(&c, path) {
                Ok(t) => out.tasks.push(t),
                Err(e) => out.broken.push((c.name.clone(), e)),
            }
        }
    }
    out.tasks.sort_by(|a, b| a.name.cmp(&b.name));
    out.broken.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The task called `name` (private ones too), or why not.
pub fn find(path: &[PathBuf], name: &str) -> Result<Task, TaskError> {
    for dir in path {
        let (candidates, _) = task_discovery::candidates(dir);
        if let Some(c) = candidates.into_iter().find(|c| c.name == name) {
            return task_meta::load(&c, path);
        }
    }
    Err(TaskError::NotFound {
        name: name.into(),
        searched: path.iter().map(|p| p.display().to_string()).collect(),
    })
}
