//! `drover inventory list/graph` through the real binary, on Ansible, Bolt and
//! native inventories given with `-i`.

mod prereq;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn drover(state: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("--state-dir")
        .arg(state)
        .args(args)
        .env("HOME", state)
        .output()
        .expect("run drover")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p.display().to_string()
}

const INI: &str = "[web]\nweb[01:03] ansible_port=2222\n[db]\ndb1 ansible_host=10.0.0.5\n\
                   [prod:children]\nweb\ndb\n[prod:vars]\nenv=prod\n";

#[test]
fn list_merges_ansible_bolt_and_native_inventories() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ini = write(dir.path(), "hosts.ini", INI);
    let bolt = write(
        dir.path(),
        "inventory.yaml",
        "groups:\n  - name: lb\n    targets:\n      - lb1.example.com\n",
    );
    let native = write(dir.path(), "nodes.yaml", "nodes:\n  n01: {groups: [lab]}\n");
    let out = drover(
        dir.path(),
        &["-i", &ini, "-i", &bolt, "-i", &native, "inventory", "list"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout(&out).lines().collect::<Vec<_>>(),
        // Ansible's order for the Ansible source (prod's children web, db),
        // then the other sources' nodes; the implicit localhost is not in `all`.
        ["web01", "web02", "web03", "db1", "lb1.example.com", "n01"]
    );
}

#[test]
fn target_expressions_follow_ansible_and_clustershell_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ini = write(dir.path(), "hosts.ini", INI);
    let select_in = |grammar: &str, expr: &str| {
        let out = drover(
            dir.path(),
            &[
                "-i",
                &ini,
                "--grammar",
                grammar,
                "inventory",
                "list",
                "-t",
                expr,
            ],
        );
        assert!(
            out.status.success(),
            "{expr}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout(&out).lines().map(String::from).collect::<Vec<_>>()
    };
    // An Ansible inventory: Ansible patterns by default.
    let select = |expr: &str| select_in("auto", expr);
    assert_eq!(select("web*:&prod:!web02"), ["web01", "web03"]);
    assert_eq!(select("db1,web[0:1]"), ["db1", "web01", "web02"]);
    assert_eq!(select("web[-1]"), ["web03"]);
    // The same text in each grammar: a slice of `web`, or a node set.
    assert_eq!(select_in("ansible", "web[1-2]"), ["web02", "web03"]);
    assert_eq!(
        select_in("clush", "web[01-02],db1"),
        ["web01", "web02", "db1"]
    );
    assert_eq!(select_in("clush", "@prod!@web"), ["db1"]);
    assert_eq!(select_in("clush", "@web^@prod"), ["db1"]);
    assert_eq!(select_in("clush", "localhost"), ["localhost"]);
    assert_eq!(select_in("ansible", "localhost"), ["localhost"]);
    let json = drover(
        dir.path(),
        &[
            "-i",
            &ini,
            "inventory",
            "list",
            "-t",
            "db1",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(v[0]["address"], "10.0.0.5");
    assert_eq!(v[0]["transport"], "ssh");
}

#[test]
fn unmatched_target_exits_4_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ini = write(dir.path(), "hosts.ini", INI);
    // Ansible patterns: a part matching nothing is a warning...
    let out = drover(
        dir.path(),
        &["-i", &ini, "inventory", "list", "-t", "web01,nope"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "web01\n");
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("warning: Could not match supplied host pattern, ignoring: nope")
    );
    // ...an empty selection exits 4 naming it...
    let out = drover(dir.path(), &["-i", &ini, "inventory", "list", "-t", "nope"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
    // ...and ClusterShell's node sets still refuse any unmatched part.
    let out = drover(
        dir.path(),
        &[
            "-i",
            &ini,
            "--grammar",
            "clush",
            "inventory",
            "list",
            "-t",
            "web01,nope",
        ],
    );
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
}

fn ansible_inventory() -> Option<PathBuf> {
    prereq::ansible_command("ansible-inventory")
}

#[test]
fn ansible_json_equals_ansible_inventory_list() {
    let Some(oracle) = ansible_inventory() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let ini = write(dir.path(), "hosts.ini", INI);
    let ours = drover(
        dir.path(),
        &["-i", &ini, "inventory", "list", "--format", "ansible-json"],
    );
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let theirs = Command::new(oracle)
        .args(["-i", &ini, "--list"])
        .env("HOME", dir.path())
        .env("ANSIBLE_LOCAL_TEMP", dir.path())
        .output()
        .expect("ansible-inventory");
    let a: serde_json::Value = serde_json::from_slice(&ours.stdout).expect("our json");
    let b: serde_json::Value = serde_json::from_slice(&theirs.stdout).expect("their json");
    assert_eq!(a, b);
    let graph = drover(dir.path(), &["-i", &ini, "inventory", "graph"]);
    assert!(stdout(&graph).contains("  |--@prod:\n  |  |--@web:\n  |  |  |--web01"));
}
