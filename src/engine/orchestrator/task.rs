//! Bolt tasks: a script beside a `<name>.json` metadata file in a module's `tasks/`
//! directory, found on the task path. Existing Bolt tasks are read unchanged;
//! unknown metadata keys are ignored as Bolt ignores them.

use super::types::PType;
use crate::store::EntryType;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `[tasks]` in the config file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TaskSettings {
    /// Directories of modules, searched in order; the first task of a name wins.
    pub path: Vec<PathBuf>,
}

impl Default for TaskSettings {
    fn default() -> Self {
        let mut path = vec![PathBuf::from("./modules"), PathBuf::from("./tasks")];
        path.extend(assets_tasks());
        TaskSettings { path }
    }
}

/// drover's own task modules: `share/drover/tasks` beside an installed binary's
/// `bin/`, `assets/tasks` beside the binary, else the source tree it was built from.
pub fn assets_tasks() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok();
    let dir = exe.as_deref().and_then(Path::parent);
    let candidates = [
        dir.and_then(Path::parent)
            .map(|p| p.join("share/drover/tasks")),
        dir.map(|d| d.join("assets/tasks")),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/tasks")),
    ];
    candidates.into_iter().flatten().find(|p| p.is_dir())
}

#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("{}: {reason}", path.display())]
    Metadata { path: PathBuf, reason: String },
    #[error("no task {name:?} on the task path ({})", searched.join(", "))]
    NotFound { name: String, searched: Vec<String> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum InputMethod {
    Environment,
    Stdin,
    #[default]
    Both,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ParamMeta {
    #[serde(rename = "type")]
    pub type_text: Option<String>,
    pub description: Option<String>,
    pub default: Option<serde_json::Value>,
    #[serde(default)]
    pub sensitive: bool,
}

#[derive(Debug, Clone, Deserialize)]
struct Implementation {
    name: String,
    #[serde(default)]
    requirements: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
struct RawMetadata {
    description: Option<String>,
    #[serde(default)]
    parameters: Option<BTreeMap<String, ParamMeta>>,
    input_method: Option<InputMethod>,
    #[serde(default)]
    supports_noop: bool,
    #[serde(default)]
    implementations: Vec<Implementation>,
    journal_type: Option<String>,
}

/// One parameter, its type parsed.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub ptype: PType,
    pub description: Option<String>,
    pub default: Option<serde_json::Value>,
    pub sensitive: bool,
}

impl Param {
    pub fn required(&self) -> bool {
        self.default.is_none() && !self.ptype.is_optional()
    }
}

#[derive(Debug, Clone)]
pub struct Task {
    /// `module::task`, or `module` for a module's `init` task.
    pub name: String,
    pub description: Option<String>,
    /// `None` when the metadata declares no `parameters` (any parameter accepted,
    /// as Bolt does); `Some` lists every one accepted.
    pub params: Option<Vec<Param>>,
    pub input_method: InputMethod,
    pub supports_noop: bool,
    pub journal_type: EntryType,
    pub metadata: PathBuf,
    pub script: PathBuf,
}

/// Every task on the path, by name (first found wins), sorted.
pub fn discover(path: &[PathBuf]) -> (Vec<Task>, Vec<TaskError>) {
    let mut found: BTreeMap<String, Task> = BTreeMap::new();
    let mut errors = Vec::new();
    for dir in path {
        for (name, meta) in task_files(dir) {
            if found.contains_key(&name) {
                continue;
            }
            match load(&name, &meta) {
                Ok(t) => {
                    found.insert(name, t);
                }
                Err(e) => errors.push(e),
            }
        }
    }
    (found.into_values().collect(), errors)
}

/// The task called `name`, or why not.
pub fn find(path: &[PathBuf], name: &str) -> Result<Task, TaskError> {
    for dir in path {
        if let Some((_, meta)) = task_files(dir).into_iter().find(|(n, _)| n == name) {
            return load(name, &meta);
        }
    }
    Err(TaskError::NotFound {
        name: name.into(),
        searched: path.iter().map(|p| p.display().to_string()).collect(),
    })
}

/// (task name, metadata file) for `<dir>/<module>/tasks/<task>.json`, and for a
/// directory that is itself a `tasks/` directory (a Bolt project's own tasks,
/// named after the directory holding it).
fn task_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut modules: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    modules.sort();
    for m in &modules {
        let module = m.file_name().and_then(|s| s.to_str()).unwrap_or_default();
        if m.join("tasks").is_dir() && valid_name(module) {
            out.extend(json_files(&m.join("tasks"), module));
        }
    }
    if dir.file_name().is_some_and(|n| n == "tasks") {
        let project = std::fs::canonicalize(dir)
            .ok()
            .and_then(|p| {
                p.parent()
                    .and_then(|p| p.file_name())
                    .map(|s| s.to_string_lossy().into_owned())
            })
            .unwrap_or_default();
        if valid_name(&project) {
            out.extend(json_files(dir, &project));
        }
    }
    out
}

fn json_files(tasks_dir: &Path, module: &str) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(tasks_dir) else {
        return Vec::new();
    };
    let mut v: Vec<(String, PathBuf)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter_map(|p| {
            let stem = p.file_stem()?.to_str()?.to_string();
            valid_name(&stem).then(|| {
                let name = if stem == "init" {
                    module.to_string()
                } else {
                    format!("{module}::{stem}")
                };
                (name, p)
            })
        })
        .collect();
    v.sort();
    v
}

/// Bolt's rule for module, task and parameter names.
pub fn valid_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_ascii_lowercase())
        && c.all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
}

fn load(name: &str, meta: &Path) -> Result<Task, TaskError> {
    let bad = |reason: String| TaskError::Metadata {
        path: meta.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(meta).map_err(|e| bad(format!("cannot read: {e}")))?;
    let raw: RawMetadata = serde_json::from_str(&text).map_err(|e| TaskError::Metadata {
        path: meta.to_path_buf(),
        reason: format!("line {}: {e}", e.line()),
    })?;
    let journal_type = match raw.journal_type.as_deref() {
        None | Some("task") => EntryType::Task,
        Some("execution") => EntryType::Execution,
        Some("package") => EntryType::Package,
        Some("provisioning") => EntryType::Provisioning,
        Some(other) => {
            return Err(bad(format!(
                "journal_type {other:?} is not execution, task, package or provisioning"
            )));
        }
    };
    let params = match raw.parameters {
        None => None,
        Some(map) => {
            let mut v = Vec::new();
            for (pname, p) in map {
                if !valid_name(&pname) {
                    return Err(bad(format!("parameter {pname:?}: not a valid name")));
                }
                let ptype = match &p.type_text {
                    Some(t) => {
                        PType::parse(t).map_err(|e| bad(format!("parameter {pname}: {e}")))?
                    }
                    None => PType::Any,
                };
                v.push(Param {
                    name: pname,
                    ptype,
                    description: p.description,
                    default: p.default,
                    sensitive: p.sensitive,
                });
            }
            Some(v)
        }
    };
    let script = script_for(meta, &raw.implementations).map_err(bad)?;
    Ok(Task {
        name: name.into(),
        description: raw.description,
        params,
        input_method: raw.input_method.unwrap_or_default(),
        supports_noop: raw.supports_noop,
        journal_type,
        metadata: meta.to_path_buf(),
        script,
    })
}

/// The executable beside the metadata: the implementation usable from a POSIX
/// shell when `implementations` lists several, else the one `<name>.<ext>` file.
fn script_for(meta: &Path, implementations: &[Implementation]) -> Result<PathBuf, String> {
    let dir = meta.parent().unwrap_or(Path::new("."));
    if !implementations.is_empty() {
        return implementations
            .iter()
            .find(|i| {
                !i.requirements.iter().any(|r| r == "powershell") && !i.name.ends_with(".ps1")
            })
            .map(|i| dir.join(&i.name))
            .filter(|p| p.is_file())
            .ok_or_else(|| "no implementation runs under a POSIX shell".to_string());
    }
    let stem = meta.file_stem().unwrap_or_default();
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_stem() == Some(stem) && p.extension().is_some_and(|e| e != "json"))
        .collect();
    scripts.sort();
    match scripts.len() {
        0 => Err(format!(
            "no script {}.<ext> beside it",
            stem.to_string_lossy()
        )),
        1 => Ok(scripts.remove(0)),
        _ => scripts
            .iter()
            .find(|p| p.extension().is_some_and(|e| e == "sh"))
            .cloned()
            .ok_or_else(|| {
                format!(
                    "several scripts and no implementations list: {}",
                    scripts
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }),
    }
}
