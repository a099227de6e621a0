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
