//! What a test needs from the machine (root, tmux, an ssh-agent, a reference
//! tool such as ansible-core) and what happens when it is missing.
//!
//! Under the README's test command (`scripts/test.sh`, which sets
//! `DROVER_REQUIRE_FLEET=1`) a missing prerequisite fails the test with the
//! reason: a suite that skips its real-parts tests must not pass. Run by hand
//! without that variable, the test prints a loud `SKIPPED:` line and returns.
#![allow(dead_code)]

/// True when missing prerequisites must fail the test (`DROVER_REQUIRE_FLEET=1`).
pub fn required() -> bool {
    std::env::var("DROVER_REQUIRE_FLEET").is_ok_and(|v| v == "1")
}

/// Reports a missing prerequisite: panics with `reason` under
/// `DROVER_REQUIRE_FLEET=1`, otherwise prints `SKIPPED: reason`. The caller
/// returns right after (the test then asserts nothing, visibly).
pub fn missing(reason: &str) {
    if required() {
        panic!("prerequisite missing under DROVER_REQUIRE_FLEET=1: {reason}");
    }
    eprintln!("\n*** SKIPPED: {reason} ***\n");
}

/// The ansible-core command `name` (`ansible-inventory`, `ansible`), found
/// beside `$DROVER_ANSIBLE_INVENTORY`, on `PATH`, or in the venv that
/// `scripts/test.sh` installs; `None` (after [`missing`]) when there is none.
pub fn ansible_command(name: &str) -> Option<std::path::PathBuf> {
    use std::path::PathBuf;
    let beside_env = std::env::var_os("DROVER_ANSIBLE_INVENTORY")
        .map(PathBuf::from)
        .and_then(|p| p.parent().map(|d| d.join(name)));
    let on_path: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join(name)).collect())
        .unwrap_or_default();
    let venv = std::env::var_os("HOME").map(|h| {
        PathBuf::from(h)
            .join(".cache/drover-test/ansible-venv/bin")
            .join(name)
    });
    let found = beside_env
        .into_iter()
        .chain(on_path)
        .chain(venv)
        .find(|p| p.is_file());
    if found.is_none() {
        missing(&format!(
            "ansible-core's {name} is not installed (scripts/test.sh installs it)"
        ));
    }
    found
}

/// ClusterShell's `nodeset` on `PATH`, and the Python interpreter it runs
/// on (from its `#!` line, so a driver script can import `ClusterShell`);
/// `None` (after [`missing`]) when it is not installed.
pub fn nodeset_command() -> Option<(std::path::PathBuf, String)> {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join("nodeset"))
        .find(|f| f.is_file());
    let Some(path) = found else {
        missing("ClusterShell's nodeset is not installed (apt-get install clustershell)");
        return None;
    };
    let python = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| t.lines().next()?.strip_prefix("#!").map(str::to_owned))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "python3".into());
    Some((path, python))
}

/// Runs `driver` (Python source reading `sys.stdin` a line at a time) with
/// the interpreter ClusterShell's `nodeset` runs on, feeding it `lines`,
/// and returns one answer line per input line. One process for every case:
/// a `nodeset` per case would take minutes. `cfgdir` sets
/// `$CLUSTERSHELL_CFGDIR` for group tests. `None` after [`missing`].
pub fn clustershell_driver(
    driver: &str,
    lines: &[String],
    cfgdir: Option<&std::path::Path>,
) -> Option<Vec<String>> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let (_, python) = nodeset_command()?;
    let mut words = python.split_whitespace();
    let mut cmd = Command::new(words.next().unwrap_or("python3"));
    cmd.args(words).args(["-c", driver]);
    if let Some(dir) = cfgdir {
        cmd.env("CLUSTERSHELL_CFGDIR", dir);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python with ClusterShell");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all((lines.join("\n") + "\n").as_bytes())
        .expect("feed the driver");
    let out = child.wait_with_output().expect("driver output");
    assert!(
        out.status.success(),
        "ClusterShell driver failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(answers.len(), lines.len(), "one answer per input line");
    Some(answers)
}
