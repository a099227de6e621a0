//! Bolt tasks over real OpenSSH servers (`tests/sshd/`): drover's own
//! `drover::package` module uploaded, run and removed on each node, its JSON result
//! parsed per node, and a parameter error stopping everything before any node is
//! contacted. Needs root; prints SKIPPED lines otherwise.

use crate::cli_support;
use crate::ssh_support;
use crate::sshd;

use serde_json::Value;
use ssh_support::{Drover, accepted};
use sshd::Fleet;

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
    let rs = out.events("task_result");
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

#[test]
fn the_shell_implementation_ships_its_files_over_ssh_and_the_ruby_one_never_runs() {
    let Some(fleet) = Fleet::or_skip(2) else {
        return;
    };
    let d = Drover::new();
    cli_support::bolt_modules::write_pkg(&d.path("modules"));
    cli_support::bolt_modules::task_config(&d.path("config"), &[&d.path("modules")]);
    // Nodes share this machine's file system and run as the harness's user.
    let dest = tempfile::tempdir_in("/tmp").unwrap();
    let mut perms = std::fs::metadata(dest.path()).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o777);
    std::fs::set_permissions(dest.path(), perms).unwrap();
    let cfg = fleet.ssh_config();
    let out = cli_support::finish(d.cmd(
        &cfg,
        &[
            "task",
            "run",
            "pkg",
            "-t",
            "node001,node002",
            "action=status",
            "name=openssl",
            &format!("dest={}", dest.path().display()),
            "-o",
            "json",
        ],
    ));
    out.expect(0);
    let rs = out.events("task_result");
    assert_eq!(rs.len(), 2, "{out:?}");
    for r in &rs {
        assert_eq!(r["value"]["status"], "status:openssl", "{out:?}");
    }
    let written: Vec<String> = std::fs::read_dir(dest.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(written.len(), 2, "{written:?}");
    assert!(written.iter().all(|w| w.starts_with("out.")), "{written:?}");
    for w in &written {
        let text = std::fs::read_to_string(dest.path().join(w)).unwrap();
        assert_eq!(text, "status:openssl token_len=0\n");
    }
}
