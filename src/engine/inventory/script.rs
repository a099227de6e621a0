//! Dynamic inventories: an executable that prints Ansible's `--list` JSON.
//!
//! As Ansible does, the script runs with `--list`; when its answer has no
//! `_meta.hostvars`, it runs again with `--host NAME` for each host. Each run
//! has a time limit; a script that overstays is killed with its whole process
//! group (it may have started helpers). Every failure names the script and
//! says why: the exit status with the end of its stderr, where its output
//! stopped being JSON, or which part of the JSON has the wrong shape.

use super::Inventory;
use super::ansible;
use super::native::InventoryError;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Default time limit for one run of an inventory script.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Bytes of stderr quoted in an error (its end, where the reason usually is).
const STDERR_TAIL: usize = 600;

/// After a kill, how long to wait for the pipes to close before giving up on
/// output a process outside the group may still hold open.
const KILL_GRACE: Duration = Duration::from_secs(2);

/// Runs `path --list` (and `--host` when needed) and builds the inventory.
pub fn load(path: &Path, timeout: Duration) -> Result<Inventory, InventoryError> {
    Ok(load_ansible(path, timeout)?.to_inventory())
}

/// The script's inventory in Ansible's model (what `ansible-inventory -i
/// SCRIPT --list` prints comes from it).
pub fn load_ansible(
    path: &Path,
    timeout: Duration,
) -> Result<ansible::AnsibleInventory, InventoryError> {
    let fail = |reason: String| InventoryError::Script {
        path: path.to_path_buf(),
        reason,
    };
    if !is_executable(path) {
        return Err(fail("not an executable file".into()));
    }
    let list = run_json(path, &["--list"], timeout).map_err(fail)?;
    let source = path.display().to_string();
    let parsed = ansible::from_list_json(&list, source, |host| {
        run_json(path, &["--host", host], timeout)
    })
    .map_err(fail)?;
    let basedir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    ansible::with_vars_files(parsed, &[basedir])
}

/// Runs the script and parses what it printed as JSON.
fn run_json(path: &Path, args: &[&str], timeout: Duration) -> Result<serde_json::Value, String> {
    let shown = format!("{} {}", path.display(), args.join(" "));
    let out = run(path, args, timeout).map_err(|e| format!("`{shown}` {e}"))?;
    serde_json::from_slice(&out).map_err(|e| {
        format!(
            "`{shown}` did not print JSON: {} at line {} column {}{}",
            describe_json_error(&e),
            e.line(),
            e.column(),
            near(&out, e.line(), e.column())
        )
    })
}

fn describe_json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    // serde_json appends " at line L column C" itself; we print it once.
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// The text around a parse failure, so the user sees what the script printed.
fn near(out: &[u8], line: usize, column: usize) -> String {
    let text = String::from_utf8_lossy(out);
    let Some(l) = text.lines().nth(line.saturating_sub(1)) else {
        return if text.trim().is_empty() {
            " (the output was empty)".into()
        } else {
            String::new()
        };
    };
    let chars: Vec<char> = l.chars().collect();
    let at = column.saturating_sub(1).min(chars.len());
    let from = at.saturating_sub(30);
    let to = (at + 30).min(chars.len());
    let snippet: String = chars[from..to].iter().collect();
    format!(" (near {snippet:?})")
}

enum Piece {
    Exit(std::io::Result<ExitStatus>),
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
}

/// Runs the script in its own process group; its stdout on exit code 0.
pub(crate) fn run(path: &Path, args: &[&str], timeout: Duration) -> Result<Vec<u8>, String> {
    let mut child = Command::new(path)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("could not start: {e}"))?;
    let pid = child.id() as i32;
    let (tx, rx) = mpsc::channel();
    spawn_reader(child.stdout.take(), tx.clone(), Piece::Stdout);
    spawn_reader(child.stderr.take(), tx.clone(), Piece::Stderr);
    std::thread::spawn(move || {
        let _ = tx.send(Piece::Exit(child.wait()));
    });

    let deadline = Instant::now() + timeout;
    let (mut status, mut stdout, mut stderr) = (None, None, None);
    let mut timed_out = false;
    while status.is_none() || stdout.is_none() || stderr.is_none() {
        let wait = if timed_out {
            KILL_GRACE
        } else {
            deadline.saturating_duration_since(Instant::now())
        };
        match rx.recv_timeout(wait) {
            Ok(Piece::Exit(s)) => status = Some(s),
            Ok(Piece::Stdout(b)) => stdout = Some(b),
            Ok(Piece::Stderr(b)) => stderr = Some(b),
            Err(mpsc::RecvTimeoutError::Timeout) if !timed_out => {
                timed_out = true;
                kill_group(pid);
            }
            Err(_) => break,
        }
    }
    let stderr = stderr.unwrap_or_default();
    if timed_out {
        return Err(format!(
            "timed out after {}; its process group was killed{}",
            crate::engine::common::duration::format_duration(timeout),
            stderr_tail(&stderr)
        ));
    }
    let status = match status {
        Some(Ok(s)) => s,
        Some(Err(e)) => return Err(format!("could not be waited for: {e}")),
        None => return Err("ended without an exit status".into()),
    };
    if !status.success() {
        let how = match (
            status.code(),
            std::os::unix::process::ExitStatusExt::signal(&status),
        ) {
            (Some(c), _) => format!("exited with code {c}"),
            (None, Some(s)) => format!("was killed by signal {s}"),
            _ => "failed".to_string(),
        };
        return Err(format!("{how}{}", stderr_tail(&stderr)));
    }
    Ok(stdout.unwrap_or_default())
}

fn spawn_reader<R: Read + Send + 'static>(
    pipe: Option<R>,
    tx: mpsc::Sender<Piece>,
    wrap: fn(Vec<u8>) -> Piece,
) {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut buf);
        }
        let _ = tx.send(wrap(buf));
    });
}

fn kill_group(pid: i32) {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
}

fn stderr_tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let text = text.trim();
    if text.is_empty() {
        return "; stderr was empty".into();
    }
    let tail: String = if text.len() > STDERR_TAIL {
        let mut start = text.len() - STDERR_TAIL;
        while !text.is_char_boundary(start) {
            start += 1;
        }
        format!("...{}", &text[start..])
    } else {
        text.to_string()
    };
    format!("; stderr: {tail}")
}

/// A regular file with an execute bit: Ansible runs such inventories.
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
