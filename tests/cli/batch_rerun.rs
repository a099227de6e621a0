//! `drover run --rerun SCOPE ID` against real OpenSSH servers (`tests/sshd/`):
//! the stored run's command runs again on exactly the nodes the scope picks, and
//! the new run records which run it repeats. Needs root; prints SKIPPED lines
//! otherwise (fails under `DROVER_REQUIRE_FLEET=1`).

use crate::cli_support;
use crate::ssh_support;
use crate::sshd;

use cli_support::finish;
use ssh_support::{Drover, Report};
use sshd::Fleet;
use std::path::Path;

const THREE: &str = "node001,node002,node003";

/// Nodes that reported `node_finished`, sorted (they finish in any order).
fn finished_nodes(r: &Report) -> Vec<String> {
    let mut nodes: Vec<String> = r
        .events
        .iter()
        .filter(|e| e["event"] == "node_finished")
        .map(|e| e["node"].as_str().unwrap_or_default().to_string())
        .collect();
    nodes.sort();
    nodes
}

/// `drover run --rerun SCOPE ID -o json`.
fn rerun(d: &Drover, cfg: &Path, scope: &str, id: &str) -> Report {
    Report::new(finish(
        d.cmd(cfg, &["run", "--rerun", scope, id, "-o", "json"]),
    ))
}

fn show(d: &Drover, cfg: &Path, id: &str) -> serde_json::Value {
    let out = finish(d.cmd(cfg, &["history", "show", id, "--json"]));
    out.expect(0);
    serde_json::from_slice(&out.stdout).expect("history show --json")
}

#[test]
fn rerun_failed_hits_exactly_the_failed_node_and_records_what_it_repeats() {
    let Some(fleet) = Fleet::or_skip(3) else {
        return;
    };
    let d = Drover::new();
    let cfg = fleet.ssh_config();
    // Only node002's home holds the file the command refuses: it fails there.
    let broken = fleet.root_home(1).join("broken");
    std::fs::write(&broken, "").unwrap();
    let cmd = "echo ran-on-$(hostname); test ! -e ~/broken";
    let first = d.report(&cfg, THREE, &[], cmd);
    assert_eq!(first.code(), 1, "{first:?}");
    assert_eq!(first.status("node001"), "success");
    assert_eq!(first.status("node002"), "failed");
    assert_eq!(first.status("node003"), "success");
    let id = d.latest_id(&cfg);

    std::fs::remove_file(&broken).unwrap();
    let again = rerun(&d, &cfg, "failed", &id[..10]);
    assert_eq!(again.code(), 0, "{again:?}");
    assert_eq!(finished_nodes(&again), ["node002"], "{again:?}");
    assert_eq!(again.lines("node002", "stdout"), ["ran-on-node002"]);
    assert!(
        again.out.err().contains("re-running failed of run"),
        "{again:?}"
    );
    let second = d.latest_id(&cfg);
    assert_ne!(second, id);
    let shown = show(&d, &cfg, &second);
    assert_eq!(shown["execution"]["rerun_of"], id.as_str(), "{shown}");
    assert_eq!(shown["execution"]["nodes"], serde_json::json!(["node002"]));
    assert_eq!(shown["execution"]["action"], cmd);
    assert_eq!(
        show(&d, &cfg, &id)["execution"]["rerun_of"],
        serde_json::Value::Null
    );
    let text = finish(d.cmd(&cfg, &["history", "show", &second]));
    assert!(text.out().contains(&format!("rerun of {id}")), "{text:?}");

    // `all`: every node the run targeted, and no other.
    let all = rerun(&d, &cfg, "all", &id);
    assert_eq!(all.code(), 0, "{all:?}");
    assert_eq!(finished_nodes(&all), ["node001", "node002", "node003"]);

    // Nothing failed in the re-run: nothing to do, nothing recorded.
    let before = d.latest_id(&cfg);
    let none = finish(d.cmd(&cfg, &["run", "--rerun", "failed", &second]));
    assert_eq!(none.code(), 0, "{none:?}");
    assert!(
        none.err()
            .contains("has no failed nodes: nothing to re-run"),
        "{none:?}"
    );
    assert_eq!(d.latest_id(&cfg), before);
}

#[test]
fn rerun_unreachable_picks_only_the_node_that_could_not_be_reached() {
    let Some(mut fleet) = Fleet::or_skip(3) else {
        return;
    };
    let d = Drover::new();
    let cfg = fleet.ssh_config();
    fleet.stop_node(2);
    // node002 fails its command; node003 cannot be reached.
    let first = d.report(&cfg, THREE, &[], "test $(hostname) != node002");
    assert_eq!(first.status("node002"), "failed", "{first:?}");
    assert_eq!(first.error("node003").0, "Connection", "{first:?}");
    let id = d.latest_id(&cfg);
    fleet.start_node(2);
    let r = rerun(&d, &cfg, "unreachable", &id);
    assert_eq!(r.code(), 0, "{r:?}");
    assert_eq!(finished_nodes(&r), ["node003"]);
    let failed = rerun(&d, &cfg, "failed", &id);
    assert_eq!(
        finished_nodes(&failed),
        ["node002", "node003"],
        "{failed:?}"
    );
}

#[test]
fn rerun_refuses_targets_commands_unknown_ids_and_bad_scopes() {
    let Some(fleet) = Fleet::or_skip(1) else {
        return;
    };
    let d = Drover::new();
    let cfg = fleet.ssh_config();
    d.report(&cfg, "node001", &[], "false");
    let id = d.latest_id(&cfg);
    let cases: [(&[&str], &str); 5] = [
        (
            &["run", "--rerun", "failed", &id, "-t", "node001"],
            "--targets",
        ),
        (&["run", "--rerun", "failed", &id, "--", "echo"], "COMMAND"),
        (
            &["run", "--rerun", "failed", "ffffffffffff"],
            "no run \"ffffffffffff\" in history",
        ),
        (
            &["run", "--rerun", "some", &id],
            "\"some\" is not a re-run scope",
        ),
        (
            &["task", "run", "--rerun", "failed", &id],
            "not a task: use drover run --rerun",
        ),
    ];
    for (args, needle) in cases {
        let out = finish(d.cmd(&cfg, args));
        assert_eq!(out.code(), 2, "{args:?}: {out:?}");
        assert!(out.err().contains(needle), "{args:?}: {out:?}");
    }
    // Nothing of that ran.
    assert_eq!(d.latest_id(&cfg), id);
}
