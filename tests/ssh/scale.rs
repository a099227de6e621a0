//! drover end to end on many real sshd nodes, correctness only (timing lives in
//! `benches/scale.rs`): every node ends `success` and every byte each one
//! printed is counted, in the run's report and in history. 1,000 nodes with
//! `DROVER_SCALE=1` (`DROVER_SCALE=1 cargo test --test ssh scale::`; raise
//! `ulimit -n` first if it is low), 100 otherwise, so the suite always runs it.

use crate::ssh_support::Drover;
use crate::sshd;
use serde_json::Value;
use std::collections::BTreeMap;

/// Each node prints 32 KiB of base64 (44,267 bytes with the newlines) and then
/// its own name, so output that crossed nodes would show.
const COMMAND: &str = "head -c 32768 /dev/zero | base64; hostname";
const BASE64_BYTES: u64 = 44_267;

fn nodes() -> usize {
    if std::env::var("DROVER_SCALE").is_ok_and(|v| v == "1") {
        1000
    } else {
        100
    }
}

#[test]
fn every_node_of_a_large_fleet_succeeds_and_every_byte_is_counted() {
    let n = nodes();
    let Some(fleet) = sshd::Fleet::or_skip(n) else {
        return;
    };
    let d = Drover::new();
    let hosts = d.path("hosts");
    std::fs::write(&hosts, fleet.aliases().join("\n")).expect("hosts file");
    let report = d.report(
        &fleet.ssh_config(),
        &format!("^{}", hosts.display()),
        &["--fanout", "64"],
        COMMAND,
    );
    assert_eq!(report.code(), 0, "{:?}", report.out);
    assert_eq!(report.overall(), "success");

    // The report: each node's own lines, in full, nothing from another node.
    let mut printed: BTreeMap<String, u64> = BTreeMap::new();
    let mut last_line: BTreeMap<String, String> = BTreeMap::new();
    for ev in &report.events {
        if ev["event"] == "output" && ev["stream"] == "stdout" {
            let node = ev["node"].as_str().expect("node").to_string();
            let line = ev["line"].as_str().expect("line");
            *printed.entry(node.clone()).or_default() += line.len() as u64 + 1;
            last_line.insert(node, line.to_string());
        }
    }
    for alias in fleet.aliases() {
        assert_eq!(report.status(&alias), "success", "{alias}");
        let expected = BASE64_BYTES + alias.len() as u64 + 1;
        assert_eq!(
            printed.get(&alias),
            Some(&expected),
            "{alias}: bytes in the report"
        );
        assert_eq!(last_line.get(&alias), Some(&alias), "{alias}: last line");
    }

    // History: the same counts for every node.
    let id = d.latest_id(&fleet.ssh_config());
    let out =
        crate::cli_support::finish(d.cmd(&fleet.ssh_config(), &["history", "show", &id, "--json"]));
    out.expect(0);
    let shown: Value = serde_json::from_slice(&out.stdout).expect("history show --json");
    let nodes = shown["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), n, "nodes in history");
    for node in nodes {
        let alias = node["node"]
            .as_str()
            .or(node["name"].as_str())
            .expect("name");
        assert_eq!(node["status"], "success", "{node:#}");
        assert_eq!(
            node["stdout_bytes"].as_u64(),
            Some(BASE64_BYTES + alias.len() as u64 + 1),
            "{alias}: stdout_bytes in history"
        );
        assert_eq!(node["stderr_bytes"].as_u64(), Some(0), "{alias}");
    }
}
