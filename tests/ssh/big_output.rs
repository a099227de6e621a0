//! A node printing 200 MB must stream through drover in bounded memory, and history
//! must record how much it printed without storing all of it.
//!
//! Peak RSS is read from `VmHWM` in /proc/PID/status while drover runs (nix's
//! `resource` feature, which would allow `getrusage(RUSAGE_CHILDREN)`, is not
//! enabled). `VmHWM` is a high-water mark, so the last reading before exit already
//! covers everything up to that moment.

use crate::cli_support;

use cli_support::{DEADLINE, Fleet, s};
use std::process::Stdio;
use std::time::{Duration, Instant};

const BYTES: i64 = 200_000_000;
const MAX_RSS_KIB: u64 = 64 * 1024;

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `command` on one node with drover's stdout on /dev/null; returns the
/// highest VmHWM seen (KiB) and checks exit 0.
fn run_and_measure(f: &Fleet, command: &str) -> u64 {
    let mut cmd = f.cmd(&["run", "-t", "n01", "--", command]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn drover");
    let stderr = child.stderr.take().expect("stderr");
    let err = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let (pid, deadline) = (child.id(), Instant::now() + DEADLINE);
    let mut peak = 0;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "drover still running after {DEADLINE:?}"
        );
        if let Some(kib) = vm_hwm_kib(pid) {
            peak = peak.max(kib);
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let err = err.join().unwrap();
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert!(
        peak > 0,
        "never managed to read VmHWM of drover (pid {pid})"
    );
    eprintln!("drover peak RSS (VmHWM) {peak} KiB for {command:?}");
    peak
}

fn check_history(f: &Fleet) {
    let id = s(&f.only_execution(), "id").to_string();
    let shown = f.show(&id);
    let node = &shown["nodes"][0];
    assert_eq!(s(node, "status"), "success", "{node:#}");
    assert_eq!(node["stdout_bytes"].as_i64(), Some(BYTES), "{node:#}");
    assert_eq!(node["stderr_bytes"].as_i64(), Some(0), "{node:#}");
    // Summary mode: a bounded head/tail, not the whole 200 MB.
    let kept = s(node, "stdout").len();
    assert!(
        (1..=1024 * 1024).contains(&kept),
        "history kept {kept} bytes of stdout"
    );
    let text = f.drover(&["history", "show", &id]);
    assert_eq!(text.code(), 0, "{text:?}");
    assert!(text.out().contains("success"), "{text:?}");
}

#[test]
fn two_hundred_megabytes_without_newlines_stream_in_bounded_memory() {
    let f = Fleet::nodes(&["n01"]);
    let cmd = format!("head -c {BYTES} /dev/zero | tr '\\0' a");
    let peak = run_and_measure(&f, &cmd);
    assert!(
        peak <= MAX_RSS_KIB,
        "drover peak RSS {peak} KiB > {MAX_RSS_KIB} KiB"
    );
    check_history(&f);
}

#[test]
fn two_hundred_megabytes_of_100_byte_lines_stream_in_bounded_memory() {
    let f = Fleet::nodes(&["n01"]);
    // `yes` repeats 99 chars + newline: exactly 2 000 000 lines of 100 bytes.
    let cmd = format!("yes {} | head -c {BYTES}", "a".repeat(99));
    let peak = run_and_measure(&f, &cmd);
    assert!(
        peak <= MAX_RSS_KIB,
        "drover peak RSS {peak} KiB > {MAX_RSS_KIB} KiB"
    );
    check_history(&f);
}
