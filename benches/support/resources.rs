//! What a benchmark costs the machine, read from /proc: this process's memory,
//! the CPU time of process trees and of the whole machine, and how many
//! processes the machine has forked.
#![allow(dead_code)] // each benchmark uses a different subset

use std::fs;

/// A `/proc/self/status` field in KiB: `VmRSS` (resident now), `VmHWM` (peak).
pub fn status_kib(field: &str) -> u64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// `RSS 212 MiB (peak 230 MiB)`
pub fn memory() -> String {
    format!(
        "RSS {} MiB (peak {} MiB)",
        status_kib("VmRSS") / 1024,
        status_kib("VmHWM") / 1024
    )
}

/// A process's name and its user + system CPU time in clock ticks.
pub fn cpu_of(pid: i32) -> Option<(String, u64)> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let name = s.get(s.find('(')? + 1..s.rfind(')')?)?.to_string();
    // Fields resume after the last ')': f[0] is field 3, utime is 14, stime 15.
    let f: Vec<&str> = s.get(s.rfind(')')? + 1..)?.split_whitespace().collect();
    Some((
        name,
        f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?,
    ))
}

/// The machine's CPU time so far in clock ticks: (busy, all), over every core.
pub fn machine_cpu() -> (u64, u64) {
    let stat = fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    let all: u64 = ticks.iter().take(8).sum();
    // idle and iowait are the fourth and fifth.
    let idle = ticks.get(3).copied().unwrap_or(0) + ticks.get(4).copied().unwrap_or(0);
    (all - idle, all)
}

/// Processes the machine has created since boot (every fork and clone).
pub fn forks() -> u64 {
    fs::read_to_string("/proc/stat")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("processes ")?.trim().parse().ok())
        .unwrap_or(0)
}

/// Cores of this machine.
pub fn cores() -> u64 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u64)
}
