//! A drover killed with SIGKILL mid-run leaves its execution `running` in the store;
//! the next drover process must mark it `interrupted`, in history and in the
//! journals of the nodes it never finished.

use crate::cli_support;
use crate::prereq;

use cli_support::{Fleet, KillOnDrop, Running, s};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The shell pid from a `NODE: started PID` line (also its process group).
fn started_pid(line: &str) -> i32 {
    let pid = line.rsplit(' ').next().unwrap_or("");
    pid.parse()
        .unwrap_or_else(|e| panic!("no pid in {line:?}: {e}"))
}

#[test]
fn killed_drover_leaves_an_interrupted_execution_behind() {
    let f = Fleet::nodes(&["n01", "n02"]);
    // Each node's shell leads its own process group, which outlives drover: the
    // guard kills those groups at the end, pass or fail.
    let mut orphans = KillOnDrop::default();
    let cmd = f.cmd(&["run", "-t", "n01,n02", "--", "echo started $$; sleep 300"]);
    let mut run = Running::start(cmd);
    let first = run.expect_line(Duration::from_secs(30), |l| l.contains(": started "));
    orphans.group(started_pid(&first));
    // Wait for the other node too, so both groups are known for the clean-up.
    let second = run.expect_line(Duration::from_secs(30), |l| l.contains(": started "));
    orphans.group(started_pid(&second));
    let drover_pid = run.pid();

    run.child.kill().expect("SIGKILL drover");
    let status = run.child.wait().expect("reap drover");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "drover should have died by SIGKILL: {status:?}"
    );

    // Any later drover command recovers the leftover run.
    let exec = f.only_execution();
    let id = s(&exec, "id").to_string();
    assert_eq!(s(&exec, "status"), "interrupted", "{exec:#}");
    assert_eq!(exec["owner_pid"], drover_pid.as_raw(), "{exec:#}");
    assert!(
        exec["finished_at"].is_i64(),
        "recovery sets finished_at: {exec:#}"
    );

    let shown = f.show(&id);
    let nodes = shown["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 2, "{shown:#}");
    for n in nodes {
        assert_eq!(s(n, "status"), "interrupted", "{shown:#}");
    }

    for node in ["n01", "n02"] {
        let entries = f.journal(node);
        let linked: Vec<&Value> = entries
            .iter()
            .filter(|e| s(e, "execution_id") == id)
            .collect();
        assert_eq!(linked.len(), 1, "{node}: {entries:#?}");
        assert_eq!(s(linked[0], "entry_type"), "execution", "{node}");
        assert_eq!(s(linked[0], "status"), "interrupted", "{node}");
    }

    // Recovery is done once: the state stays consistent for the next process.
    let again = f.history(&["--status", "interrupted"]);
    assert_eq!(again.len(), 1, "{again:#?}");
    assert!(f.history(&["--status", "running"]).is_empty());
    assert_eq!(f.journal("n01").len(), 1, "recovery must not journal twice");
    println!(
        "FAULT-ROW kill-9-history: run and 2/2 nodes marked interrupted at the next start, journalled once"
    );
}

#[test]
fn a_live_run_is_not_mistaken_for_a_crashed_one() {
    let f = Fleet::nodes(&["n01"]);
    let mut orphans = KillOnDrop::default();
    let cmd = f.cmd(&["run", "-t", "n01", "--", "echo started $$; sleep 300"]);
    let mut run = Running::start(cmd);
    let line = run.expect_line(Duration::from_secs(30), |l| l.contains(": started "));
    orphans.group(started_pid(&line));
    // A second drover process opening the same state must leave the live run alone.
    let exec = f.only_execution();
    assert_eq!(s(&exec, "status"), "running", "{exec:#}");
    assert!(f.history(&["--status", "interrupted"]).is_empty());
}

/// A tmpfs of `size` mounted on a fresh temp dir, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// `None` (after [`prereq::missing`]) unless this process may mount (root).
    fn mount(size: &str) -> Option<SmallDisk> {
        if !nix::unistd::geteuid().is_root() {
            prereq::missing("a full state dir needs root to mount a small tmpfs");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("run mount");
        if !status.success() {
            prereq::missing("mount -t tmpfs failed");
            return None;
        }
        Some(SmallDisk { dir })
    }

    fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// Writes a file until the file system refuses (ENOSPC); returns the bytes taken.
    fn fill(&self) -> u64 {
        let mut f = std::fs::File::create(self.dir.path().join("filler")).unwrap();
        let block = vec![7u8; 64 * 1024];
        let mut taken = 0;
        for size in [block.len(), 4096, 512, 1] {
            while f.write_all(&block[..size]).is_ok() {
                taken += size as u64;
            }
        }
        taken
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Runs one node that waits on a FIFO, fills the state dir's disk while it waits,
/// then lets it finish. Returns drover's stdout lines, stderr, exit code and time.
fn run_through_a_full_disk(f: &Fleet, disk: &SmallDisk, keep_reserve: bool) -> (i32, String, f64) {
    let fifo = f.path("go");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", fifo.display());
    let cmd = format!("echo started $$; read x < {}; echo done", fifo.display());
    let mut guard = KillOnDrop::default();
    let mut run = Running::start(f.run_cmd("n01", &[], &cmd));
    let line = run.expect_line(Duration::from_secs(30), |l| l.contains(": started "));
    guard.group(started_pid(&line));
    let reserve = disk.path().join("drover.reserve");
    assert!(
        reserve.exists(),
        "drover holds a disk reserve beside its database"
    );
    if !keep_reserve {
        std::fs::remove_file(&reserve).unwrap();
    }
    let taken = disk.fill();
    assert!(taken > 0);
    let t = Instant::now();
    std::fs::write(&fifo, "go\n").unwrap();
    let (status, lines, err) = run.wait(Duration::from_secs(30));
    assert!(lines.iter().any(|l| l == "n01: done"), "{lines:?} {err}");
    (status.code().unwrap_or(-1), err, t.elapsed().as_secs_f64())
}

fn status_in(state: &Path, f: &Fleet) -> String {
    assert_eq!(f.state, state);
    s(&f.only_execution(), "status").to_string()
}

/// The disk under the state dir fills while a run is going: the store releases its
/// reserve and records the run's true outcome, not `interrupted`.
#[test]
fn a_full_disk_mid_run_still_records_the_true_outcome() {
    let Some(disk) = SmallDisk::mount("16m") else {
        return;
    };
    let mut f = Fleet::nodes(&["n01"]);
    f.state = disk.path();
    let (code, err, took) = run_through_a_full_disk(&f, &disk, true);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("history incomplete"), "{err}");
    // The disk did fill under the store: the reserve was spent on this run's records.
    assert!(
        !disk.path().join("drover.reserve").exists(),
        "the reserve was never needed"
    );
    std::fs::remove_file(disk.path().join("filler")).unwrap();
    assert_eq!(status_in(&disk.path(), &f), "success");
    assert_eq!(
        f.node_statuses(s(&f.only_execution(), "id")),
        ["n01 success"]
    );
    println!(
        "FAULT-ROW disk-full: exit 0 in {took:.2} s after the disk filled, history success (reserve used), 0 records lost"
    );
}

/// With the reserve already spent, the outcome cannot be stored in the state dir:
/// drover's last line says so, names the true status and where the records wait,
/// and the next start writes them, so history ends with the truth, not `interrupted`.
#[test]
fn a_full_disk_without_reserve_says_so_and_the_next_start_records_the_truth() {
    let Some(disk) = SmallDisk::mount("16m") else {
        return;
    };
    let mut f = Fleet::nodes(&["n01"]);
    f.state = disk.path();
    let (code, err, took) = run_through_a_full_disk(&f, &disk, false);
    assert_eq!(code, 0, "the run itself succeeded: {err}");
    let last = err.lines().last().unwrap_or("");
    assert!(last.starts_with("drover: history incomplete: "), "{err}");
    assert!(last.contains("ended success"), "{last}");
    // "... N store write(s) were not recorded ...": N is the figure.
    let lost = last
        .split(" store write")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .unwrap_or("?")
        .to_string();
    assert!(lost.parse::<u32>().is_ok_and(|n| n > 0), "{last}");
    assert!(last.contains("written at the next start"), "{last}");
    std::fs::remove_file(disk.path().join("filler")).unwrap();
    let stored = status_in(&disk.path(), &f);
    assert_eq!(stored, "success", "the kept records tell the truth");
    let nodes = f.node_statuses(s(&f.only_execution(), "id"));
    assert_eq!(nodes, ["n01 success"]);
    println!(
        "FAULT-ROW disk-full-no-reserve: exit 0 in {took:.2} s, last line says history incomplete ({lost} writes kept outside the state dir), history {stored} after the next start, 0 records lost"
    );
}
