//! Who owns a run: the drover process that started it (pid and start time, so a
//! reused pid is not mistaken for the owner), and the clock every record uses.

use std::time::{SystemTime, UNIX_EPOCH};

use super::records::Millis;

/// Start time of process `pid` in clock ticks since boot (field 22 of `/proc/<pid>/stat`),
/// or `None` if there is no such process (or no procfs).
pub fn process_start_time(pid: i64) -> Option<i64> {
    if pid <= 0 {
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 2 (the command name) is in parentheses and may itself contain spaces and
    // parentheses, so count fields from the last ')'. The field after it is field 3.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(22 - 3)?.parse().ok()
}

/// True if `pid` exists and started at `start_time`, i.e. it is the same process.
pub fn process_is_alive(pid: i64, start_time: i64) -> bool {
    process_start_time(pid) == Some(start_time)
}

/// The current time in milliseconds since the Unix epoch.
pub(crate) fn now_millis() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
