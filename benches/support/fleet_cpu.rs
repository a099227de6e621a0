//! Where the machine's CPU went over a window: this process, the sshd fleet's
//! process trees (servers, sessions, the shells they run) by process name, the
//! rest of the machine, idle. Needs `crate::resources` and `crate::sshd`.

use crate::resources;
use crate::sshd::procs;
use std::collections::{BTreeMap, HashMap};

/// CPU ticks so far: of this process, of each process in the fleet's trees,
/// of the whole machine.
pub struct CpuSample {
    me: u64,
    fleet: HashMap<i32, (String, u64)>,
    busy: u64,
    all: u64,
}

impl CpuSample {
    /// Now, for the trees under the fleet's sshds `roots`.
    pub fn take(roots: &[i32]) -> CpuSample {
        let roots: Vec<procs::Proc> = roots.iter().filter_map(|&p| procs::proc_of(p)).collect();
        let fleet = procs::tree(&roots)
            .into_iter()
            .filter_map(|p| Some((p.pid, resources::cpu_of(p.pid)?)))
            .collect();
        let (busy, all) = resources::machine_cpu();
        CpuSample {
            me: resources::cpu_of(std::process::id() as i32).map_or(0, |(_, t)| t),
            fleet,
            busy,
            all,
        }
    }

    /// `CPU (% of one core, 2 cores): bench 95%, fleet 80% (sshd-session 50%,
    /// bash 30%), rest 10%, idle 15%`
    pub fn since(&self, start: &CpuSample) -> String {
        let all = (self.all - start.all).max(1) as f64;
        let cores = resources::cores();
        let share = |ticks: u64| ticks as f64 / all * cores as f64 * 100.0;
        let mut by_name: BTreeMap<&str, u64> = BTreeMap::new();
        for (pid, (name, ticks)) in &self.fleet {
            let before = start.fleet.get(pid).map_or(0, |(_, t)| *t);
            *by_name.entry(name).or_default() += ticks.saturating_sub(before);
        }
        let fleet: u64 = by_name.values().sum();
        let me = self.me - start.me;
        let busy = self.busy - start.busy;
        let mut names: Vec<_> = by_name.into_iter().collect();
        names.sort_by_key(|(_, t)| std::cmp::Reverse(*t));
        let names: Vec<String> = names
            .iter()
            .map(|(n, t)| format!("{n} {:.0}%", share(*t)))
            .collect();
        format!(
            "CPU (% of one core, {cores} cores): bench {:.0}%, fleet {:.0}% ({}), rest {:.0}%, \
             idle {:.0}%",
            share(me),
            share(fleet),
            names.join(", "),
            share(busy.saturating_sub(me + fleet)),
            share((self.all - start.all) - busy),
        )
    }
}
