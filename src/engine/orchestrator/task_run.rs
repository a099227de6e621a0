//! Turning a task and its parameters into one command every transport can run
//! (written by [`super::task_command`]): parameters checked against the
//! metadata, the implementation chosen, secrets kept out of what drover writes.
//! The whole command must fit one argument of the remote `sh -c` (Linux:
//! 128 KiB), hence [`MAX_SCRIPT_BYTES`] and the command limit.

use super::task::Task;
use super::task_command::{self, shell_quote};
use super::task_impl;
use crate::engine::common::error::FieldError;
use crate::engine::common::request::{ExecutionOptions, ExecutionRequest};
use crate::engine::rbac::Capability;
use crate::engine::submit::label::RunLabel;
use base64::Engine as _;
use serde_json::{Map, Value};

/// Largest file of a task drover sends (it grows by a third as base64).
pub const MAX_SCRIPT_BYTES: usize = 64 * 1024;
/// Largest whole command (script, parameters, wrapper), below Linux's 128 KiB
/// limit on one argument.
const MAX_COMMAND_BYTES: usize = 120 * 1024;

/// What replaces a sensitive value wherever drover writes it.
pub const REDACTED: &str = "[redacted]";

/// Command-line `key=value` pairs, each value read the way its declared type asks.
pub fn coerce_cli(task: &Task, pairs: &[(String, String)]) -> Map<String, Value> {
    let mut m = Map::new();
    for (k, v) in pairs {
        let value = task
            .params
            .as_ref()
            .and_then(|ps| ps.iter().find(|p| &p.name == k))
            .map(|p| p.ptype.coerce(v))
            .unwrap_or_else(|| Value::String(v.clone()));
        m.insert(k.clone(), value);
    }
    m
}

/// Every problem with the parameters at once (missing, unknown, mistyped,
/// out-of-enum), or the parameters with defaults filled in.
pub fn validate(
    task: &Task,
    given: &Map<String, Value>,
    noop: bool,
) -> Result<Map<String, Value>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut bad = |field: &str, reason: String| {
        errors.push(FieldError {
            field: field.into(),
            reason,
        })
    };
    if noop && !task.supports_noop {
        bad(
            "--noop",
            format!("task {} does not support noop", task.name),
        );
    }
    let mut out = Map::new();
    for (k, v) in given {
        if k.starts_with('_') {
            bad(
                k,
                "names starting with '_' are reserved for Bolt metaparameters".into(),
            );
            continue;
        }
        match &task.params {
            None => {
                out.insert(k.clone(), v.clone());
            }
            Some(ps) => match ps.iter().find(|p| &p.name == k) {
                None => {
                    let accepted: Vec<&str> = ps.iter().map(|p| p.name.as_str()).collect();
                    let list = if accepted.is_empty() {
                        "none".to_string()
                    } else {
                        accepted.join(", ")
                    };
                    bad(
                        k,
                        format!("not a parameter of {} (accepted: {list})", task.name),
                    );
                }
                Some(p) => {
                    if let Some(why) = p.ptype.check(v) {
                        let shown = if p.sensitive { "value".into() } else { why };
                        bad(k, shown);
                    } else {
                        out.insert(k.clone(), v.clone());
                    }
                }
            },
        }
    }
    for p in task.params.iter().flatten() {
        if given.contains_key(&p.name) {
            continue;
        }
        match &p.default {
            Some(d) => {
                out.insert(p.name.clone(), d.clone());
            }
            None if p.required() => bad(&p.name, format!("is required ({}) and missing", p.ptype)),
            None => {}
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The parameters as drover may write them: sensitive values replaced.
pub fn redacted(task: &Task, params: &Map<String, Value>) -> Map<String, Value> {
    params
        .iter()
        .map(|(k, v)| {
            let secret = task
                .params
                .iter()
                .flatten()
                .any(|p| &p.name == k && p.sensitive);
            let v = if secret {
                Value::String(REDACTED.into())
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect()
}

/// The text of every non-empty sensitive parameter, as the task may print it.
fn sensitive_values(task: &Task, params: &Map<String, Value>) -> Vec<String> {
    let sensitive = |k: &String| {
        task.params
            .iter()
            .flatten()
            .any(|p| &p.name == k && p.sensitive)
    };
    params
        .iter()
        .filter(|(k, _)| sensitive(k))
        .map(|(_, v)| match v {
            Value::String(t) => t.clone(),
            other => other.to_string(),
        })
        .filter(|t| !t.is_empty())
        .collect()
}

/// `task NAME k=v ...` with sensitive values redacted, for history and events.
pub fn action_text(task: &Task, params: &Map<String, Value>, noop: bool) -> String {
    let mut s = format!("task {}", task.name);
    for (k, v) in redacted(task, params) {
        match v {
            Value::String(t) => s.push_str(&format!(" {k}={t}")),
            other => s.push_str(&format!(" {k}={other}")),
        }
    }
    if noop {
        s.push_str(" --noop");
    }
    s
}

/// The request and label that run `task` with validated `params` on `targets`.
pub fn build(
    task: &Task,
    params: &Map<String, Value>,
    noop: bool,
    targets: &str,
    mut options: ExecutionOptions,
) -> Result<(ExecutionRequest, RunLabel), Vec<FieldError>> {
    let field = |reason: String| {
        vec![FieldError {
            field: format!("task {}", task.name),
            reason,
        }]
    };
    let choice = task_impl::choose(task).map_err(|e| match e {
        super::task::TaskError::NoImplementation { listed, .. } => {
            field(super::task::no_implementation(&listed))
        }
        other => field(other.to_string()),
    })?;
    if let Some(i) = choice
        .all()
        .find(|i| i.input_method == super::task::InputMethod::Powershell)
    {
        return Err(field(format!(
            "{}: input_method powershell is only for PowerShell implementations",
            i.script.display()
        )));
    }
    let files = task_command::payloads(&choice).map_err(field)?;
    if let Some(big) = files.iter().find(|f| f.bytes.len() > MAX_SCRIPT_BYTES) {
        return Err(field(format!(
            "{}: {} bytes is more than the {MAX_SCRIPT_BYTES} drover sends",
            big.remote,
            big.bytes.len()
        )));
    }
    let command = task_command::command(task, &choice, &files, params, noop);
    if command.len() > MAX_COMMAND_BYTES {
        return Err(field(format!(
            "the task's files and parameters take {} bytes, more than {MAX_COMMAND_BYTES}",
            command.len()
        )));
    }
    // Sensitive values are redacted from output, errors and logs as other secrets.
    options.secret_values.extend(sensitive_values(task, params));
    let mut details = Map::new();
    details.insert("task".into(), Value::String(task.name.clone()));
    details.insert("parameters".into(), Value::Object(redacted(task, params)));
    details.insert("noop".into(), Value::Bool(noop));
    let label = RunLabel {
        kind: "task".into(),
        action: Some(action_text(task, params, noop)),
        entry_type: task.journal_type,
        details,
        parse_json: true,
        capability: Capability::TaskRun(task.name.clone()),
        rerun: None,
    };
    Ok((
        ExecutionRequest {
            command,
            targets: targets.into(),
            options,
        },
        label,
    ))
}

/// The POSIX shell text that writes `content` to `destination` on the node with
/// `mode`: into a temporary file beside it first, renamed into place only when
/// complete, so a reader never sees half a file.
pub fn upload_command(content: &[u8], destination: &str, mode: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(content);
    let mut s = String::with_capacity(b64.len() + 512);
    s.push_str("umask 077\n");
    s.push_str(&format!("dest={}\n", shell_quote(destination)));
    s.push_str("t=$(mktemp \"$dest.drover.XXXXXX\") || exit 125\n");
    s.push_str("base64 -d > \"$t\" <<'DROVER_UPLOAD' || { rm -f \"$t\"; exit 125; }\n");
    for line in b64.as_bytes().chunks(76) {
        s.push_str(std::str::from_utf8(line).unwrap_or_default());
        s.push('\n');
    }
    s.push_str("DROVER_UPLOAD\n");
    s.push_str(&format!(
        "chmod {mode} \"$t\" && mv -f \"$t\" \"$dest\" || {{ rm -f \"$t\"; exit 1; }}\n"
    ));
    s
}
