//! Helpers for the SSH transport tests: `drover --batch -F <ssh_config>` with its
//! own state dir, `-o json` reports by node, edited copies of a fleet's ssh_config,
//! sshd log counts and server-side process checks by unique marker.
//! Each test crate uses a different subset, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod certs;

use crate::cli_support::{Out, bare, eventually, finish};
use serde_json::Value;
use std::hash::{BuildHasher, RandomState};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// A throw-away drover home: state dir, config dir, scratch files.
pub struct Drover {
    pub dir: TempDir,
}

impl Drover {
    pub fn new() -> Drover {
        Drover {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `drover --batch --state-dir S -F CFG ARGS...` (no ssh-agent, no user config).
    pub fn cmd(&self, cfg: &Path, args: &[&str]) -> Command {
        let mut cmd = bare(&self.path("config"));
        cmd.env_remove("SSH_AUTH_SOCK")
            .arg("--batch")
            .arg("--state-dir")
            .arg(self.path("state"))
            .arg("-F")
            .arg(cfg)
            .args(args);
        cmd
    }

    /// `drover journal NODE --json` on this home: the node's entries, newest first.
    pub fn journal(&self, cfg: &Path, node: &str) -> Vec<Value> {
        let out = finish(self.cmd(cfg, &["journal", node, "--json"]));
        out.expect(0);
        serde_json::from_slice::<Value>(&out.stdout)
            .expect("journal --json")
            .as_array()
            .expect("array")
            .clone()
    }

    /// `drover … run -t TARGETS FLAGS... -- COMMAND`, not started.
    pub fn run_cmd(&self, cfg: &Path, targets: &str, flags: &[&str], command: &str) -> Command {
        let mut cmd = self.cmd(cfg, &["run", "-t", targets]);
        cmd.args(flags).arg("--").arg(command);
        cmd
    }

    pub fn run(&self, cfg: &Path, targets: &str, flags: &[&str], command: &str) -> Out {
        finish(self.run_cmd(cfg, targets, flags, command))
    }

    /// The same run with `-o json`, parsed.
    pub fn report(&self, cfg: &Path, targets: &str, flags: &[&str], command: &str) -> Report {
        let mut all = vec!["-o", "json"];
        all.extend_from_slice(flags);
        Report::new(self.run(cfg, targets, &all, command))
    }

    /// A copy of `cfg` with `edit` applied, as `name` in this temp dir.
    pub fn edited_config(
        &self,
        cfg: &Path,
        name: &str,
        edit: impl Fn(String) -> String,
    ) -> PathBuf {
        let text = std::fs::read_to_string(cfg).expect("read ssh_config");
        let edited = edit(text.clone());
        assert_ne!(edited, text, "edit of {name} changed nothing");
        let path = self.path(name);
        std::fs::write(&path, edited).expect("write ssh_config copy");
        path
    }

    /// The id of the newest execution in this state dir.
    pub fn latest_id(&self, cfg: &Path) -> String {
        let out = finish(self.cmd(cfg, &["history", "--json", "--limit", "1"]));
        out.expect(0);
        let rows: Value = serde_json::from_slice(&out.stdout).expect("history --json");
        rows[0]["id"].as_str().expect("id").to_string()
    }
}

/// A finished `drover run -o json`: exit code, events, stderr.
pub struct Report {
    pub out: Out,
    pub events: Vec<Value>,
}

impl Report {
    pub fn new(out: Out) -> Report {
        let events = out
            .out()
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}: {out:?}")))
            .collect();
        Report { out, events }
    }

    /// From a [`crate::cli_support::Running`]'s `wait`.
    pub fn from_running(r: (std::process::ExitStatus, Vec<String>, String)) -> Report {
        let mut stdout = r.1.join("\n").into_bytes();
        stdout.push(b'\n');
        Report::new(Out {
            status: r.0,
            stdout,
            stderr: r.2.into_bytes(),
        })
    }

    pub fn code(&self) -> i32 {
        self.out.code()
    }

    /// `node_finished` of `node`.
    #[track_caller]
    pub fn finished(&self, node: &str) -> &Value {
        let mut it = self
            .events
            .iter()
            .filter(|e| e["event"] == "node_finished" && e["node"] == node);
        let found = it
            .next()
            .unwrap_or_else(|| panic!("{node} never finished: {self:?}"));
        assert!(it.next().is_none(), "{node} finished twice: {self:?}");
        found
    }

    pub fn status(&self, node: &str) -> String {
        str_of(&self.finished(node)["status"])
    }

    /// `(category, reason)` of a node's error; empty strings without one.
    pub fn error(&self, node: &str) -> (String, String) {
        let e = &self.finished(node)["error"];
        (str_of(&e["category"]), str_of(&e["reason"]))
    }

    /// The execution's overall status.
    pub fn overall(&self) -> String {
        let last = self
            .events
            .iter()
            .find(|e| e["event"] == "execution_finished");
        str_of(&last.unwrap_or_else(|| panic!("no execution_finished: {self:?}"))["status"])
    }

    /// `stream` lines of `node`, in order.
    pub fn lines(&self, node: &str, stream: &str) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e["event"] == "output" && e["node"] == node && e["stream"] == stream)
            .map(|e| str_of(&e["line"]))
            .collect()
    }

    /// `retry` events of `node`.
    pub fn retries(&self, node: &str) -> usize {
        let retry = |e: &&Value| e["event"] == "retry" && e["node"] == node;
        self.events.iter().filter(retry).count()
    }
}

impl std::fmt::Debug for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.out)
    }
}

fn str_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// Successful public key logins recorded in an sshd log.
pub fn accepted(log: &Path) -> usize {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter(|l| l.contains("Accepted publickey"))
        .count()
}

/// Waits until `log` shows `n` logins (sshd writes its log asynchronously);
/// returns the count seen last.
pub fn accepted_settles(log: &Path, n: usize) -> usize {
    eventually(Duration::from_secs(3), || accepted(log) >= n);
    accepted(log)
}

/// Six random digits, for remote commands that no other test runs
/// (`sleep 300.<marker>`).
pub fn marker() -> String {
    let n = RandomState::new().hash_one((std::process::id(), Instant::now()));
    format!("{:06}", n % 1_000_000)
}

/// Pids whose command line matches `pattern` (`pgrep -f`), minus `except`.
pub fn pgrep(pattern: &str, except: &[u32]) -> Vec<u32> {
    let out = Command::new("pgrep")
        .arg("-f")
        .arg(pattern)
        .output()
        .expect("pgrep");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .filter(|p| !except.contains(p))
        .collect()
}

/// True once nothing matches `pattern` any more (polled up to 5 s).
pub fn gone(pattern: &str) -> bool {
    eventually(Duration::from_secs(5), || pgrep(pattern, &[]).is_empty())
}

/// Fails the test unless the node finished with `category` and a reason containing
/// every one of `needles`.
#[track_caller]
pub fn assert_error(r: &Report, node: &str, category: &str, needles: &[&str]) {
    let (cat, reason) = r.error(node);
    assert_eq!(cat, category, "{node}: {reason}: {r:?}");
    for n in needles {
        assert!(reason.contains(n), "{node}: reason lacks {n:?}: {reason}");
    }
}

/// An ssh-agent at `dir/agent.sock` holding `key` (and its `-cert.pub`, if any,
/// as `ssh-add` adds it), ended on drop.
pub struct Agent {
    pub socket: std::path::PathBuf,
    pid: i32,
}

impl Agent {
    pub fn start(dir: &Path, key: &Path) -> Option<Agent> {
        let socket = dir.join("agent.sock");
        let out = Command::new("ssh-agent")
            .arg("-a")
            .arg(&socket)
            .arg("-s")
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let pid = text
            .split("SSH_AGENT_PID=")
            .nth(1)?
            .split(';')
            .next()?
            .parse()
            .ok()?;
        let agent = Agent { socket, pid };
        let added = Command::new("ssh-add")
            .arg(key)
            .env("SSH_AUTH_SOCK", &agent.socket)
            .output()
            .ok()?;
        assert!(added.status.success(), "ssh-add: {added:?}");
        Some(agent)
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.pid),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
}
