//! Bolt tasks: executables in a module's `tasks/` directory, described by an
//! optional `<name>.json` metadata file, found on the task path. Existing Bolt
//! tasks are read unchanged: [`super::task_lookup`] searches the task path,
//! [`super::task_discovery`] finds them,
//! [`super::task_meta`] reads their metadata (unknown keys ignored, as Bolt
//! ignores them), [`super::task_files`] resolves the module files they ship and
//! [`super::task_impl`] picks the implementation a node can run.

use super::types::PType;
use crate::store::EntryType;
use serde::Deserialize;
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
    #[error("{}: {reason}", path.display())]
    Project { path: PathBuf, reason: String },
    #[error("no task {name:?} on the task path ({})", searched.join(", "))]
    NotFound { name: String, searched: Vec<String> },
    #[error("task {task} has {}", no_implementation(listed))]
    NoImplementation { task: String, listed: String },
}

/// Why no implementation fits, listing them with what each requires.
pub fn no_implementation(listed: &str) -> String {
    format!(
        "no implementation drover can run on ssh or local nodes \
         (they offer the `shell` feature; listed: {listed})"
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum InputMethod {
    Environment,
    Stdin,
    #[default]
    Both,
    /// Parameters as PowerShell named arguments: only for `.ps1` implementations,
    /// which drover never runs.
    Powershell,
}

/// One parameter, its type parsed.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub ptype: PType,
    pub description: Option<String>,
    pub default: Option<serde_json::Value>,
    /// `sensitive: true` in the metadata, or a `Sensitive[...]` type.
    pub sensitive: bool,
}

impl Param {
    pub fn required(&self) -> bool {
        self.default.is_none() && !self.ptype.is_optional()
    }
}

/// A file shipped with a task: read from `local`, written to `remote` below the
/// install directory on the node (`MODULE/files/…`, `MODULE/lib/…`, as Bolt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFile {
    pub local: PathBuf,
    pub remote: String,
}

/// One way to run a task: an executable, the features it needs, how it takes
/// its parameters, and the module files it needs beside it.
#[derive(Debug, Clone)]
pub struct Implementation {
    pub script: PathBuf,
    /// Where the executable goes below the install directory
    /// (`MODULE/tasks/FILE`).
    pub remote: String,
    pub requirements: Vec<String>,
    pub input_method: InputMethod,
    /// The task's `files` and the implementation's own, resolved.
    pub files: Vec<TaskFile>,
}

#[derive(Debug, Clone)]
pub struct Task {
    /// `module::task`, or `module` for a module's `init` task.
    pub name: String,
    pub description: Option<String>,
    /// `None` when the metadata declares no `parameters` (any parameter accepted,
    /// as Bolt does); `Some` lists every one accepted.
    pub params: Option<Vec<Param>>,
    pub supports_noop: bool,
    /// Hidden from `task list`, runnable by name.
    pub private: bool,
    pub journal_type: EntryType,
    /// The metadata file, or the executable of a task that has none.
    pub metadata: PathBuf,
    /// In the metadata's order.
    pub implementations: Vec<Implementation>,
}

impl Task {
    /// A script run as a task with no parameters (a plan's script step).
    pub fn from_script(name: String, script: PathBuf, journal_type: EntryType) -> Task {
        let file = script
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| "script".into());
        Task {
            name,
            description: None,
            params: Some(Vec::new()),
            supports_noop: false,
            private: false,
            journal_type,
            metadata: script.clone(),
            implementations: vec![Implementation {
                script,
                remote: format!("script/tasks/{file}"),
                requirements: Vec::new(),
                input_method: InputMethod::Environment,
                files: Vec::new(),
            }],
        }
    }
}

/// Bolt's rule for module, task and parameter names.
pub fn valid_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_ascii_lowercase())
        && c.all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
}
