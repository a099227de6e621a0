//! The POSIX shell text that installs a task on a node, runs it and removes it.
//!
//! Delivery: the executable and the module files it ships travel inside the
//! command itself, base64 in quoted here-documents, are written below a private
//! temporary install directory (`MODULE/tasks/FILE`, `MODULE/files/…`, as Bolt
//! lays them out), run, and removed by an exit trap. Why: the command string is
//! the one thing every transport already carries (local `sh -c`, an SSH exec
//! channel), so no second channel, no SFTP subsystem on the server and no stdin
//! plumbing are needed, and the upload, run and clean-up succeed or fail as one
//! unit under the executor's timeout and cancel.

use super::task::{InputMethod, Task, TaskFile};
use super::task_impl::{Choice, PUPPET_AGENT_PROBE};
use base64::Engine as _;
use serde_json::{Map, Value};

/// One file to write on the node.
pub struct Payload {
    /// Below the install directory.
    pub remote: String,
    pub bytes: Vec<u8>,
    pub executable: bool,
}

/// The files a choice needs: each implementation's executable and its files,
/// each once; or the file that cannot be read and why.
pub fn payloads(choice: &Choice<'_>) -> Result<Vec<Payload>, String> {
    let mut out: Vec<Payload> = Vec::new();
    for i in choice.all() {
        let exe = TaskFile {
            local: i.script.clone(),
            remote: i.remote.clone(),
        };
        for (f, is_exe) in std::iter::once((&exe, true)).chain(i.files.iter().map(|f| (f, false))) {
            if out.iter().any(|p| p.remote == f.remote) {
                continue;
            }
            let bytes = std::fs::read(&f.local)
                .map_err(|e| format!("{}: cannot read: {e}", f.local.display()))?;
            out.push(Payload {
                remote: f.remote.clone(),
                executable: is_exe || is_executable(&f.local),
                bytes,
            });
        }
    }
    Ok(out)
}

#[cfg(unix)]
fn is_executable(p: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_: &std::path::Path) -> bool {
    false
}

/// The whole command: install directory, files, the run (choosing the
/// `puppet-agent` implementation on the node when there is one), clean-up.
pub fn command(
    task: &Task,
    choice: &Choice<'_>,
    files: &[Payload],
    params: &Map<String, Value>,
    noop: bool,
) -> String {
    let size: usize = files.iter().map(|f| f.bytes.len() * 4 / 3 + 200).sum();
    let mut s = String::with_capacity(size + 1024);
    s.push_str("umask 077\n");
    s.push_str("d=$(mktemp -d \"${TMPDIR:-/tmp}/drover-task.XXXXXX\") || { echo 'drover: cannot create a temporary directory' >&2; exit 125; }\n");
    s.push_str("trap 'rm -rf \"$d\"' EXIT\ntrap 'exit 143' HUP INT TERM\n");
    // `_installdir` is written into JSON as it is: refuse a name needing escapes.
    s.push_str("case $d in *[\\\"\\\\]*) echo 'drover: the temporary directory name holds a quote or backslash' >&2; exit 125;; esac\n");
    for f in files {
        write_file(&mut s, f);
    }
    let run = |i| run_block(task, i, params, noop);
    match (choice.with_agent, choice.shell) {
        (Some(agent), shell) => {
            s.push_str(&format!("if [ -x {PUPPET_AGENT_PROBE} ]; then\n"));
            s.push_str(&run(agent));
            s.push_str("else\n");
            match shell {
                Some(sh) => s.push_str(&run(sh)),
                None => s.push_str(&format!(
                    "echo {} >&2\nexit 125\n",
                    shell_quote(&format!(
                        "drover: task {} needs puppet-agent on this node ({PUPPET_AGENT_PROBE} not found) and has no shell implementation",
                        task.name
                    ))
                )),
            }
            s.push_str("fi\n");
        }
        (None, Some(sh)) => s.push_str(&run(sh)),
        (None, None) => s.push_str("exit 125\n"),
    }
    s
}

fn write_file(s: &mut String, f: &Payload) {
    let target = format!("\"$d\"/{}", shell_quote(&f.remote));
    if let Some((dir, _)) = f.remote.rsplit_once('/') {
        s.push_str(&format!(
            "mkdir -p \"$d\"/{} || exit 125\n",
            shell_quote(dir)
        ));
    }
    s.push_str(&format!(
        "base64 -d > {target} <<'DROVER_TASK_FILE' || exit 125\n"
    ));
    let b64 = base64::engine::general_purpose::STANDARD.encode(&f.bytes);
    for line in b64.as_bytes().chunks(76) {
        s.push_str(std::str::from_utf8(line).unwrap_or_default());
        s.push('\n');
    }
    s.push_str("DROVER_TASK_FILE\n");
    let mode = if f.executable { "700" } else { "600" };
    s.push_str(&format!("chmod {mode} {target}\n"));
}

/// Passes the parameters the implementation's way and runs it.
fn run_block(
    task: &Task,
    i: &super::task::Implementation,
    params: &Map<String, Value>,
    noop: bool,
) -> String {
    let mut s = String::new();
    let exe = format!("\"$d\"/{}", shell_quote(&i.remote));
    let mut input = params.clone();
    input.insert("_task".into(), Value::String(task.name.clone()));
    if noop {
        input.insert("_noop".into(), Value::Bool(true));
    }
    // Bolt sets `_installdir` only for tasks that ship files.
    let installdir = !i.files.is_empty();
    let env = matches!(i.input_method, InputMethod::Environment | InputMethod::Both);
    let stdin = matches!(i.input_method, InputMethod::Stdin | InputMethod::Both);
    if env {
        for (k, v) in &input {
            // Bolt's rule: strings as they are, everything else as JSON.
            let text = match v {
                Value::String(t) => t.clone(),
                other => other.to_string(),
            };
            s.push_str(&format!("PT_{k}={}; export PT_{k}\n", shell_quote(&text)));
        }
        if installdir {
            s.push_str("PT__installdir=$d; export PT__installdir\n");
        }
    }
    if stdin {
        // serde_json escapes newlines, so the JSON is one line; `$d` is spliced in
        // as the first member when the task has an install directory.
        let json = Value::Object(input).to_string();
        if installdir {
            s.push_str(&format!(
                "printf '%s%s%s\\n' '{{\"_installdir\":\"' \"$d\" {} | {exe}\n",
                shell_quote(&format!("\",{}", &json[1..]))
            ));
        } else {
            s.push_str(&format!("printf '%s\\n' {} | {exe}\n", shell_quote(&json)));
        }
    } else {
        s.push_str(&format!("{exe} </dev/null\n"));
    }
    s
}

/// Single-quotes a value for any POSIX shell.
pub fn shell_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "'\\''"))
}
