//! Bolt tasks over real OpenSSH servers (`tests/sshd/`): drover's own
//! `drover::package` module uploaded, run and removed on each node, its JSON result
//! parsed per node, and a parameter error stopping everything before any node is
//! contacted. Needs root; prints SKIPPED lines otherwise.

mod cli_support;
mod ssh_support;
mod sshd;

use serde_json::Value;
use ssh_support::{Drover, accepted};
use sshd::Fleet;

fn results(out: &cli_support::Out) -> Vec<Value> {
    out.out()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] == "task_result")
        .collect()
}

#[test]
fn package_task_runs_on_every_node_over_ssh_and_leaves_nothing_behind() {
    let Some(fleet) = Fleet::or_skip(2) else {
        return;
    };
    let d = Drover::new();
    let cfg = fleet.ssh_config();
    let out = cli_support::finish(d.cmd(
        &cfg,
        &[
            "task",
            "run",
            "drover::package",
            "-t",
            "node001,node002",
            "action=status",
            "name=coreutils",
            "-o",
            "json",
        ],
    ));
    out.expect(0);
    let rs = results(&out);
    assert_eq!(rs.len(), 2, "{out:?}");
    for r in &rs {
        assert_eq!(r["status"], "success", "{out:?}");
        assert_eq!(r["value"]["name"], "coreutils", "{out:?}");
        assert_eq!(r["value"]["status"], "installed", "{out:?}");
    }
    // Nodes share this machine's /tmp: no upload directory may survive the run.
    let left: Vec<_> = std::fs::read_dir("/tmp")
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("drover-task."))
        .filter(|e| {
            std::fs::read_dir(e.path())
                .map(|mut d| d.any(|f| f.is_ok_and(|f| f.file_name() == "package.sh")))
                .unwrap_or(false)
        })
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "uploads left behind: {left:?}");
    let id = d.latest_id(&cfg);
    let journal = cli_support::finish(d.cmd(&cfg, &["journal", "node002", "--json"]));
    journal.expect(0);
    let entries: Value = serde_json::from_slice(&journal.stdout).unwrap();
    assert_eq!(entries[0]["entry_type"], "package", "{entries}");
    assert_eq!(entries[0]["execution_id"], id.as_str(), "{entries}");
}

#[test]
fn invalid_parameters_contact_no_node() {
    let Some(fleet) = Fleet::or_skip(1) else {
        return;
    };
    let d = Drover::new();
    let cfg = fleet.ssh_config();
    let before = accepted(&fleet.sshd_log(0));
    let out = cli_support::finish(d.cmd(
        &cfg,
        &[
            "task",
            "run",
            "drover::package",
            "-t",
            "node001",
            "action=purge",
        ],
    ));
    out.expect(2)
        .err_has("action: \"purge\" is not one of status, install, uninstall");
    assert!(out.err().contains("name: is required"), "{out:?}");
    assert_eq!(accepted(&fleet.sshd_log(0)), before, "a node was contacted");
}
