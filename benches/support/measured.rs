//! One command run to its end, measured from outside: wall time, its CPU
//! time (and its children's), its peak RSS; and the CPU the sshd fleet spends
//! meanwhile, read from a cgroup the fleet's listeners are moved into (their
//! per-connection children and the sessions' shells inherit it).
#![allow(dead_code)] // each benchmark uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// What one run of a command took.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    pub wall: Duration,
    /// User + system CPU of the command and every descendant it waited for.
    pub cpu: Duration,
    /// Peak resident set of the command's own process (VmHWM), MiB; 0 when it
    /// ended before the first sample.
    pub peak_rss_mib: u64,
    pub status: ExitStatus,
}

/// Runs `command` (stdin closed; stdout and stderr as the caller set them,
/// else discarded) and samples its VmHWM every 10 ms until it exits.
pub fn run(command: &mut Command) -> Measured {
    let before = children_cpu();
    let start = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {command:?}: {e}"));
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    let status = loop {
        if let Some(kib) = vm_hwm_kib(Path::new(&status_file)) {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let wall = start.elapsed();
    Measured {
        wall,
        cpu: children_cpu().saturating_sub(before),
        peak_rss_mib: peak_kib / 1024,
        status,
    }
}

/// `VmHWM` of a `/proc/PID/status` file, KiB.
pub fn vm_hwm_kib(status_file: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(status_file).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU of every child this process has waited for (RUSAGE_CHILDREN).
fn children_cpu() -> Duration {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .expect("getrusage");
    let tv = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
    };
    tv(usage.user_time()) + tv(usage.system_time())
}

/// A cpuacct cgroup (v1, else none: the figure is then left out) holding the
/// fleet's listening sshds; what they and everything they start spend is its
/// `cpuacct.usage`.
pub struct CpuAccount {
    dir: PathBuf,
}

impl CpuAccount {
    /// Moves `pids` into a new cgroup; `None` when this machine has no
    /// writable cpuacct hierarchy.
    pub fn of(pids: &[u32]) -> Option<CpuAccount> {
        let root = Path::new("/sys/fs/cgroup/cpuacct");
        if !root.join("cpuacct.usage").exists() {
            return None;
        }
        let dir = root.join(format!("drover-bench-{}", std::process::id()));
        std::fs::create_dir(&dir).ok()?;
        let account = CpuAccount { dir };
        for pid in pids {
            // One pid per write: the kernel takes one per write(2).
            std::fs::write(account.dir.join("cgroup.procs"), pid.to_string()).ok()?;
        }
        Some(account)
    }

    /// CPU spent so far by everything in the cgroup, ended processes included.
    pub fn usage(&self) -> Duration {
        let text = std::fs::read_to_string(self.dir.join("cpuacct.usage")).unwrap_or_default();
        Duration::from_nanos(text.trim().parse().unwrap_or(0))
    }
}

impl Drop for CpuAccount {
    fn drop(&mut self) {
        // Whatever still runs goes back to the root group, so the dir can go.
        let parent = self
            .dir
            .parent()
            .expect("cgroup parent")
            .join("cgroup.procs");
        if let Ok(pids) = std::fs::read_to_string(self.dir.join("cgroup.procs")) {
            for pid in pids.lines() {
                let _ = std::fs::write(&parent, pid);
            }
        }
        let _ = std::fs::remove_dir(&self.dir);
    }
}

pub fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
