//! Shared helpers for the end-to-end CLI tests: a throw-away fleet (temp state dir
//! plus inventory file), running the real `drover` binary with a deadline, reading
//! a running child's stdout line by line, and process checks through /proc.
//! Each test crate uses a different subset, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod bolt_modules;

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_drover");

/// Longest any single drover invocation may take before the test gives up on it.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// `drover` with an environment that cannot leak the developer's own state or
/// config into the test.
pub fn bare(config_home: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("DROVER_STATE_DIR")
        .env_remove("DROVER_STORE_URL")
        .env_remove("DROVER_LOG")
        .env("XDG_CONFIG_HOME", config_home)
        .env("XDG_STATE_HOME", config_home.join("state"));
    cmd
}

/// A temp dir holding a state dir and a native inventory file.
pub struct Fleet {
    pub dir: TempDir,
    pub state: PathBuf,
    pub inventory: PathBuf,
}

impl Fleet {
    pub fn new(inventory_yaml: &str) -> Fleet {
        let dir = tempfile::tempdir().expect("temp dir");
        let state = dir.path().join("state");
        let inventory = dir.path().join("inventory.yaml");
        std::fs::write(&inventory, inventory_yaml).expect("write inventory");
        Fleet {
            dir,
            state,
            inventory,
        }
    }

    /// Local nodes, all in group `web`.
    pub fn nodes(names: &[&str]) -> Fleet {
        let mut yaml = String::from("nodes:\n");
        for n in names {
            yaml.push_str(&format!("  {n}: {{ groups: [web] }}\n"));
        }
        Fleet::new(&yaml)
    }

    /// A path inside the fleet's temp dir (for marker and pid files).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn path_str(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    /// `drover --state-dir S -i INV ARGS...`, not started yet.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = bare(&self.dir.path().join("config"));
        cmd.arg("--state-dir")
            .arg(&self.state)
            .arg("-i")
            .arg(&self.inventory)
            .args(args);
        cmd
    }

    /// Runs drover to completion (stdin closed, output captured).
    pub fn drover(&self, args: &[&str]) -> Out {
        finish(self.cmd(args))
    }

    /// `drover run -t TARGETS FLAGS... -- COMMAND`, not started yet.
    pub fn run_cmd(&self, targets: &str, flags: &[&str], command: &str) -> Command {
        let mut cmd = self.cmd(&["run", "-t", targets]);
        cmd.args(flags).arg("--").arg(command);
        cmd
    }

    /// `drover run -t TARGETS FLAGS... -- COMMAND` to completion.
    pub fn run(&self, targets: &str, flags: &[&str], command: &str) -> Out {
        finish(self.run_cmd(targets, flags, command))
    }

    /// `drover history --json EXTRA...` parsed: newest first.
    pub fn history(&self, extra: &[&str]) -> Vec<Value> {
        let mut args = vec!["history", "--json"];
        args.extend_from_slice(extra);
        self.json(&args)
            .as_array()
            .expect("history --json is an array")
            .clone()
    }

    /// The single execution in this fleet's history.
    pub fn only_execution(&self) -> Value {
        let rows = self.history(&[]);
        assert_eq!(rows.len(), 1, "expected exactly one execution: {rows:#?}");
        rows[0].clone()
    }

    /// The newest execution in this fleet's history.
    pub fn latest(&self) -> Value {
        let rows = self.history(&["--limit", "1"]);
        rows.first().cloned().expect("history is empty")
    }

    /// `NODE STATUS` of every node result of execution `id`.
    pub fn node_statuses(&self, id: &str) -> Vec<String> {
        let shown = self.show(id);
        let nodes = shown["nodes"].as_array().expect("nodes").iter();
        nodes
            .map(|n| format!("{} {}", s(n, "node"), s(n, "status")))
            .collect()
    }

    /// `drover history show ID --json`: `{execution, nodes}`.
    pub fn show(&self, id: &str) -> Value {
        self.json(&["history", "show", id, "--json"])
    }

    pub fn journal(&self, node: &str) -> Vec<Value> {
        self.json(&["journal", node, "--json"])
            .as_array()
            .expect("journal --json is an array")
            .clone()
    }

    /// Runs a read-only subcommand that must succeed and print JSON.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.drover(args);
        assert_eq!(out.code(), 0, "drover {args:?} failed: {out:?}");
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("drover {args:?}: not JSON ({e}): {out:?}"))
    }
}

/// What a finished drover printed and how it exited.
pub struct Out {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Out {
    /// The `-o json` objects on stdout whose `event` is `kind` (`task_result`...).
    pub fn events(&self, kind: &str) -> Vec<Value> {
        self.out()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["event"] == kind)
            .collect()
    }

    /// The exit code; a death by signal fails the test.
    pub fn code(&self) -> i32 {
        self.status
            .code()
            .unwrap_or_else(|| panic!("drover died by a signal: {self:?}"))
    }

    pub fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn err(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    pub fn out_lines(&self) -> Vec<String> {
        self.out().lines().map(str::to_string).collect()
    }

    /// Fails the test unless drover exited with `code`.
    #[track_caller]
    pub fn expect(&self, code: i32) -> &Out {
        assert_eq!(self.code(), code, "unexpected exit code: {self:?}");
        self
    }

    /// Fails the test unless stderr contains `text`.
    #[track_caller]
    pub fn err_has(&self, text: &str) -> &Out {
        assert!(self.err().contains(text), "stderr lacks {text:?}: {self:?}");
        self
    }
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "\n  status: {:?}\n  stdout: {:?}\n  stderr: {:?}",
            self.status,
            self.out(),
            self.err()
        )
    }
}

fn collect(mut r: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        buf
    })
}

/// Runs `cmd` with stdin closed and captured output; kills it and fails the test
/// if it is still running after [`DEADLINE`].
pub fn finish(mut cmd: Command) -> Out {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn drover");
    let out = collect(child.stdout.take().expect("stdout"));
    let err = collect(child.stderr.take().expect("stderr"));
    let status = wait_deadline(&mut child, DEADLINE);
    let (stdout, stderr) = (out.join().unwrap(), err.join().unwrap());
    match status {
        Some(status) => Out {
            status,
            stdout,
            stderr,
        },
        None => panic!(
            "{cmd:?} still running after {DEADLINE:?}; stdout {:?} stderr {:?}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        ),
    }
}

/// Waits for `child` to exit; on timeout kills it and returns `None`.
pub fn wait_deadline(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            return Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A drover started in the background whose stdout arrives line by line. Killed
/// (SIGKILL) on drop if it is still running.
pub struct Running {
    pub child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

impl Running {
    pub fn start(mut cmd: Command) -> Running {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn drover");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = collect(child.stderr.take().expect("stderr"));
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut line = Vec::new();
            while matches!(r.read_until(b'\n', &mut line), Ok(n) if n > 0) {
                let text = String::from_utf8_lossy(&line)
                    .trim_end_matches('\n')
                    .to_string();
                line.clear();
                if tx.send(text).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
            stderr: Some(stderr),
        }
    }

    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// The next stdout line matching `pred`, waiting at most `timeout`.
    pub fn expect_line(&mut self, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no matching line within {timeout:?}; saw {:?}", self.seen)
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait();
                    panic!(
                        "drover closed stdout ({status:?}) first; saw {:?}",
                        self.seen
                    )
                }
            }
        }
    }

    /// The next stdout line within `timeout`, `None` if none came (or stdout closed).
    pub fn next_line(&mut self, timeout: Duration) -> Option<String> {
        let line = self.lines.recv_timeout(timeout).ok()?;
        self.seen.push(line.clone());
        Some(line)
    }

    /// Waits for exit; returns the status, every stdout line and stderr.
    pub fn wait(mut self, timeout: Duration) -> (ExitStatus, Vec<String>, String) {
        let status = wait_deadline(&mut self.child, timeout);
        self.seen.extend(self.lines.iter());
        let err = self
            .stderr
            .take()
            .map(|h| h.join().unwrap())
            .unwrap_or_default();
        let err = String::from_utf8_lossy(&err).into_owned();
        let seen = std::mem::take(&mut self.seen);
        match status {
            Some(status) => (status, seen, err),
            None => {
                panic!("drover still running after {timeout:?}; stdout {seen:?} stderr {err:?}")
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Process groups and processes to SIGKILL at the end of a test, pass or fail.
#[derive(Default)]
pub struct KillOnDrop {
    groups: Vec<i32>,
    pids: Vec<i32>,
}

impl KillOnDrop {
    pub fn group(&mut self, pgid: i32) {
        self.groups.push(pgid);
    }

    pub fn pid(&mut self, pid: i32) {
        self.pids.push(pid);
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for g in &self.groups {
            let _ = killpg(Pid::from_raw(*g), Signal::SIGKILL);
        }
        for p in &self.pids {
            if !pid_gone(*p) {
                let _ = kill(Pid::from_raw(*p), Signal::SIGKILL);
            }
        }
    }
}

/// The state letter of /proc/PID/stat (`R`, `S`, `Z`...), `None` without the process.
pub fn proc_state(pid: i32) -> Option<char> {
    stat_state(&format!("/proc/{pid}/stat"))
}

fn stat_state(path: &str) -> Option<char> {
    let stat = std::fs::read_to_string(path).ok()?;
    stat[stat.rfind(')')? + 1..].trim_start().chars().next()
}

/// True when every thread of `pid` sleeps (state `S`): none is mid-computation.
pub fn all_threads_sleeping(pid: i32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    let mut any = false;
    for task in tasks.flatten() {
        let tid = task.file_name().to_string_lossy().into_owned();
        any = true;
        if stat_state(&format!("/proc/{pid}/task/{tid}/stat")) != Some('S') {
            return false;
        }
    }
    any
}

/// Waits until all of `pid`'s threads were seen asleep on 5 polls in a row, i.e.
/// the process is idle, waiting for something to happen.
pub fn wait_idle(pid: i32, timeout: Duration) -> bool {
    let mut streak = 0;
    eventually(timeout, || {
        streak = if all_threads_sleeping(pid) {
            streak + 1
        } else {
            0
        };
        streak >= 5
    })
}

/// `wchar` of /proc/PID/io: bytes the process passed to write(2) so far.
pub fn bytes_written(pid: i32) -> u64 {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap_or_default();
    io.lines()
        .find_map(|l| l.strip_prefix("wchar:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// True when the process no longer runs: gone, or a zombie nobody reaped yet.
pub fn pid_gone(pid: i32) -> bool {
    matches!(proc_state(pid), None | Some('Z') | Some('X'))
}

/// Polls `cond` every 20 ms until it holds or `timeout` passes; returns the last result.
pub fn eventually(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads a pid written by a test command into `path`.
pub fn read_pid(path: &Path) -> i32 {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("pid file {}: {e}", path.display()));
    text.trim()
        .parse()
        .unwrap_or_else(|e| panic!("pid file {}: {text:?}: {e}", path.display()))
}

/// Every file under `dir` (the SQLite database, its WAL and shared memory files, the
/// logs) whose bytes contain `needle`; fails when fewer than two files were read, so
/// an empty or missing dir cannot pass for a clean one.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    let mut seen = 0;
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            seen += 1;
            let bytes = std::fs::read(&path).expect("read file");
            if contains_bytes(&bytes, needle) {
                found.push(path.display().to_string());
            }
        }
    }
    assert!(
        seen >= 2,
        "expected the database and a log file under {dir:?}"
    );
    found
}

pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The string field `key` of a JSON object (empty when absent).
pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}
