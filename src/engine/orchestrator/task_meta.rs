//! Reading a task's metadata as Bolt reads it: the JSON document (a repeated
//! key keeps its last value, as Ruby's parser does), the keys Bolt defines, and
//! every other key ignored. A task without a metadata file takes any
//! parameters and runs its one executable.

use super::task::{Implementation, InputMethod, Param, Task, TaskError, valid_name};
use super::task_discovery::Candidate;
use super::task_files;
use super::types::PType;
use crate::store::EntryType;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
struct RawParam {
    #[serde(rename = "type")]
    type_text: Option<String>,
    description: Option<String>,
    default: Option<Value>,
    #[serde(default)]
    sensitive: bool,
}

#[derive(Debug, Clone, Deserialize)]
struct RawImplementation {
    name: String,
    #[serde(default)]
    requirements: Vec<String>,
    input_method: Option<InputMethod>,
    #[serde(default)]
    files: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
struct RawMetadata {
    description: Option<String>,
    parameters: Option<BTreeMap<String, RawParam>>,
    input_method: Option<InputMethod>,
    #[serde(default)]
    supports_noop: bool,
    #[serde(default)]
    private: bool,
    #[serde(default)]
    implementations: Vec<RawImplementation>,
    #[serde(default)]
    files: Vec<String>,
    journal_type: Option<String>,
}

/// The task `c` describes, its files resolved against the task `path`.
pub fn load(c: &Candidate, path: &[PathBuf]) -> Result<Task, TaskError> {
    let meta_path = c
        .metadata
        .clone()
        .or_else(|| c.executables.first().cloned())
        .unwrap_or_else(|| c.tasks_dir.clone());
    let bad = |reason: String| TaskError::Metadata {
        path: meta_path.clone(),
        reason,
    };
    let raw = match &c.metadata {
        Some(meta) => read(meta)?,
        None => RawMetadata::default(),
    };
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
    let implementations = implementations(c, &raw, path).map_err(bad)?;
    let params = match raw.parameters {
        None => None,
        Some(map) => Some(
            map.into_iter()
                .map(|(name, p)| param(name, p))
                .collect::<Result<Vec<_>, _>>()
                .map_err(bad)?,
        ),
    };
    Ok(Task {
        name: c.name.clone(),
        description: raw.description,
        params,
        supports_noop: raw.supports_noop,
        private: raw.private,
        journal_type,
        metadata: meta_path.clone(),
        implementations,
    })
}

fn read(meta: &Path) -> Result<RawMetadata, TaskError> {
    let bad = |reason: String| TaskError::Metadata {
        path: meta.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(meta).map_err(|e| bad(format!("cannot read: {e}")))?;
    // Through a `Value` first: its maps keep the last of repeated keys.
    let doc: Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("line {}: {e}", e.line())))?;
    if !doc.is_object() {
        return Err(bad("the metadata must be a JSON object".into()));
    }
    serde_json::from_value(doc).map_err(|e| bad(e.to_string()))
}

fn param(name: String, p: RawParam) -> Result<Param, String> {
    if !valid_name(&name) {
        return Err(format!("parameter {name:?}: not a valid name"));
    }
    let ptype = match &p.type_text {
        Some(t) => PType::parse(t).map_err(|e| format!("parameter {name}: {e}"))?,
        None => PType::Any,
    };
    Ok(Param {
        sensitive: p.sensitive || ptype.is_sensitive(),
        name,
        ptype,
        description: p.description,
        default: p.default,
    })
}

/// The implementations in the metadata's order, or the one executable of a task
/// whose metadata lists none.
fn implementations(
    c: &Candidate,
    raw: &RawMetadata,
    path: &[PathBuf],
) -> Result<Vec<Implementation>, String> {
    let default_input = raw.input_method.unwrap_or_default();
    let implementation = |script: PathBuf,
                          requirements: Vec<String>,
                          input_method: InputMethod,
                          own_files: &[String]|
     -> Result<Implementation, String> {
        let mut entries = raw.files.clone();
        entries.extend(own_files.iter().cloned());
        let file = script
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Implementation {
            remote: format!("{}/tasks/{file}", c.module),
            files: task_files::resolve(&entries, path)?,
            script,
            requirements,
            input_method,
        })
    };
    if !raw.implementations.is_empty() {
        return raw
            .implementations
            .iter()
            .map(|i| {
                let script = c.tasks_dir.join(&i.name);
                if i.name.contains('/') || !script.is_file() {
                    return Err(format!(
                        "implementation {:?}: no such file in {}",
                        i.name,
                        c.tasks_dir.display()
                    ));
                }
                implementation(
                    script,
                    i.requirements.clone(),
                    i.input_method.unwrap_or(default_input),
                    &i.files,
                )
            })
            .collect();
    }
    match c.executables.as_slice() {
        [] => Err(format!(
            "no executable beside it (a file named {}.<ext> in {})",
            c.name.rsplit("::").next().unwrap_or_default(),
            c.tasks_dir.display()
        )),
        [one] => Ok(vec![implementation(
            one.clone(),
            Vec::new(),
            default_input,
            &[],
        )?]),
        several => Err(format!(
            "several executables and no `implementations` to choose: {}",
            several
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}
