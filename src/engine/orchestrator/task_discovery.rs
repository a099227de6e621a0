//! Finding tasks on the task path as Bolt does: every file in a module's
//! `tasks/` directory belongs to the task named by its base name; `NAME.json` is
//! its metadata, any other file (but `.md` and `.conf`, which Bolt ignores) an
//! executable. A task needs no metadata file. A directory on the path that is a
//! Bolt project's own `tasks/` gives tasks named after the project, whose name
//! comes from `bolt-project.yaml`.

use super::task::{TaskError, valid_name};
use crate::engine::inventory::yaml11;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The project file Bolt reads the project's name from.
pub const PROJECT_FILE: &str = "bolt-project.yaml";

/// The files of one task, before its metadata is read.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// `module::task`, or `module` for `init`.
    pub name: String,
    pub module: String,
    pub tasks_dir: PathBuf,
    pub metadata: Option<PathBuf>,
    /// Sorted.
    pub executables: Vec<PathBuf>,
}

/// Every task under `dir` (a directory of modules, or a project's `tasks/`),
/// sorted by name, and the problems that hid some (a badly named project).
pub fn candidates(dir: &Path) -> (Vec<Candidate>, Vec<(String, TaskError)>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (out, problems);
    };
    let mut modules: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    modules.sort();
    for m in &modules {
        let module = m.file_name().and_then(|s| s.to_str()).unwrap_or_default();
        if m.join("tasks").is_dir() && valid_name(module) {
            out.extend(tasks_in(&m.join("tasks"), module));
        }
    }
    if is_tasks_dir(dir) {
        match project_name(dir) {
            Ok(Some(project)) => out.extend(tasks_in(dir, &project)),
            Ok(None) => {}
            Err(e) => problems.push((dir.display().to_string(), e)),
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    (out, problems)
}

fn is_tasks_dir(dir: &Path) -> bool {
    dir.file_name().is_some_and(|n| n == "tasks")
}

/// The name a project's `tasks/` directory gives its tasks: `name` in the
/// `bolt-project.yaml` beside it; without that file, the directory holding
/// `tasks/` (drover's convenience for a bare directory of tasks).
fn project_name(tasks_dir: &Path) -> Result<Option<String>, TaskError> {
    let Some(root) = std::fs::canonicalize(tasks_dir)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    else {
        return Ok(None);
    };
    let file = root.join(PROJECT_FILE);
    let bad = |reason: String| TaskError::Project {
        path: file.clone(),
        reason,
    };
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let dir = root
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            return Ok(valid_name(&dir).then_some(dir));
        }
        Err(e) => return Err(bad(format!("cannot read: {e}"))),
    };
    let doc = yaml11::parse(&text).map_err(|e| bad(format!("line {}: {}", e.line, e.reason)))?;
    let name = doc
        .as_ref()
        .and_then(|d| d.as_map())
        .and_then(|m| m.iter().find(|(k, _)| k.as_str() == Some("name")))
        .map(|(_, v)| v);
    match name {
        None => Err(bad(
            "no `name`: Bolt loads a project's tasks only from a named project".into(),
        )),
        Some(v) => match v.as_str() {
            Some(n) if valid_name(n) => Ok(Some(n.to_string())),
            _ => Err(bad(format!(
                "line {}: name must be lowercase letters, digits and underscores, \
                 starting with a letter",
                v.line
            ))),
        },
    }
}

/// The directory a module's `files`, `lib`, `scripts` and `tasks` live in: the
/// first `DIR/MODULE` on the path, or the project a `tasks/` directory on the
/// path belongs to.
pub fn module_root(path: &[PathBuf], module: &str) -> Option<PathBuf> {
    for dir in path {
        let m = dir.join(module);
        if m.is_dir() {
            return Some(m);
        }
        if is_tasks_dir(dir) && project_name(dir).ok().flatten().as_deref() == Some(module) {
            return dir.parent().map(Path::to_path_buf);
        }
    }
    None
}

fn tasks_in(tasks_dir: &Path, module: &str) -> Vec<Candidate> {
    let Ok(entries) = std::fs::read_dir(tasks_dir) else {
        return Vec::new();
    };
    let mut by_stem: BTreeMap<String, (Option<PathBuf>, Vec<PathBuf>)> = BTreeMap::new();
    for p in entries.flatten().map(|e| e.path()).filter(|p| p.is_file()) {
        let Some(stem) = p.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if !valid_name(stem) {
            continue;
        }
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
        let slot = by_stem.entry(stem.to_string()).or_default();
        match ext {
            "md" | "conf" => {}
            "json" => slot.0 = Some(p),
            _ => slot.1.push(p),
        }
    }
    by_stem
        .into_iter()
        .filter(|(_, (meta, exes))| meta.is_some() || !exes.is_empty())
        .map(|(stem, (metadata, mut executables))| {
            executables.sort();
            Candidate {
                name: if stem == "init" {
                    module.to_string()
                } else {
                    format!("{module}::{stem}")
                },
                module: module.to_string(),
                tasks_dir: tasks_dir.to_path_buf(),
                metadata,
                executables,
            }
        })
        .collect()
}
