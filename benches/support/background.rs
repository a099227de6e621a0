//! Puts a local sshd fleet in the background of the machine's CPU, as if it ran
//! on machines of its own: its processes (and the sessions and shells they fork
//! later, which inherit it) go into a cgroup of the v1 `cpu` controller whose
//! weight is one ordinary process's and which may use every core but one, so
//! the whole fleet, however many shells and sshds it runs, competes with the
//! console as one process would and always leaves it a core. Without
//! that controller, `renice 19` is the fallback; it is weaker: a weight per
//! process, and a thousand shells at the lowest weight still outweigh one
//! console.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const CPU_CONTROLLER: &str = "/sys/fs/cgroup/cpu";
/// `cpu.shares` of one process at nice 0.
const ONE_PROCESS: &str = "1024";
const PERIOD_US: u64 = 100_000;

/// The fleet's CPU quota a period: every core but one. The weight alone did
/// not hold: a thousand shells waking every 10 ms kept the console's threads
/// waiting on the run queue >99% of the time.
fn cap_us() -> u64 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    cores.saturating_sub(1).max(1) * PERIOD_US
}

/// The cgroup, removed on drop: made before the fleet starts, so that it is
/// dropped after the fleet has ended, also on a panic.
pub struct Background {
    group: Result<PathBuf, String>,
}

impl Background {
    pub fn new() -> Background {
        let group =
            PathBuf::from(CPU_CONTROLLER).join(format!("drover-bench-{}", std::process::id()));
        let cap = cap_us();
        let made = fs::create_dir(&group)
            .and_then(|()| fs::write(group.join("cpu.shares"), ONE_PROCESS))
            .and_then(|()| fs::write(group.join("cpu.cfs_period_us"), PERIOD_US.to_string()))
            .and_then(|()| fs::write(group.join("cpu.cfs_quota_us"), cap.to_string()))
            .map_err(|e| format!("{}: {e}", group.display()));
        if made.is_err() {
            let _ = fs::remove_dir(&group);
        }
        Background {
            group: made.map(|()| group),
        }
    }

    /// Moves the processes `pids` (the fleet's listening sshds) to the
    /// background; says how, for the report.
    pub fn take(&self, pids: &[i32]) -> String {
        let moved = self.group.clone().and_then(|group| {
            for pid in pids {
                fs::write(group.join("cgroup.procs"), pid.to_string())
                    .map_err(|e| format!("{}: {e}", group.display()))?;
            }
            Ok(group)
        });
        match moved {
            Ok(group) => format!(
                "one cpu cgroup weighing as one process, capped at {:.1} cores ({})",
                cap_us() as f64 / PERIOD_US as f64,
                group.display()
            ),
            Err(why) => {
                let mut renice = Command::new("renice");
                renice.args(["-n", "19", "-p"]);
                renice.args(pids.iter().map(|p| p.to_string()));
                let ok = renice
                    .stdout(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                let how = if ok { "nice 19" } else { "equal priority" };
                format!("{how} (no cpu cgroup: {why})")
            }
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Ok(group) = &self.group {
            let _ = fs::remove_dir(group);
        }
    }
}
