//! `drover inventory list/graph` through the real binary, on Ansible, Bolt and
//! native inventories given with `-i`.

use crate::prereq;

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
    // A run says the same before it runs on what did match.
    let local = write(
        dir.path(),
        "local.ini",
        "[web]\nweb01 ansible_connection=local\n",
    );
    let out = drover(
        dir.path(),
        &[
            "-i",
            &local,
            "--batch",
            "run",
            "-t",
            "web01,nope",
            "echo ran",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(stdout(&out), "web01: ran\n");
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("drover: warning: Could not match supplied host pattern, ignoring: nope"),
        "{out:?}"
    );
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

/// The oracle, or `None` after a loud SKIPPED line; under
/// `DROVER_REQUIRE_FLEET=1` a missing oracle fails the test instead.
fn ansible_inventory_or_skip() -> Option<PathBuf> {
    let found = ansible_inventory();
    if found.is_none() {
        assert!(
            std::env::var_os("DROVER_REQUIRE_FLEET").is_none_or(|v| v != "1"),
            "ansible-inventory not found and DROVER_REQUIRE_FLEET=1: set DROVER_ANSIBLE_INVENTORY"
        );
        eprintln!("SKIPPED: ansible-core not installed (scripts/test.sh installs it)");
    }
    found
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_broken_ssh_config_line_refuses_every_run_and_list_warns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write(
        dir.path(),
        "ssh_config",
        "Host node001\n  HostName 127.0.0.1\n  Frobnicate yes\n",
    );
    // The reference: ssh refuses the same file, naming the same line.
    let ssh = Command::new("ssh")
        .args(["-G", "-F", &cfg, "node001"])
        .output()
        .expect("ssh (OpenSSH client) must be installed");
    assert_eq!(ssh.status.code(), Some(255), "ssh accepted {cfg}");
    assert!(stderr(&ssh).contains("line 3: Bad configuration option: frobnicate"));

    let at = format!("{cfg}:3: bad configuration option: frobnicate");
    let marker = dir.path().join("ran");
    let touch = format!("touch {}", marker.display());
    let plan = write(
        dir.path(),
        "plan.yaml",
        &format!("steps:\n  - name: one\n    command: {touch}\n    targets: localhost\n"),
    );
    let runs: [&[&str]; 5] = [
        &["run", "-t", "node001", "--", &touch],
        &["run", "-t", "all", "--", &touch],
        &["run", "-t", "localhost", "--", &touch],
        &[
            "task",
            "run",
            "drover::package",
            "-t",
            "localhost",
            "action=status",
            "name=sh",
        ],
        &["plan", "run", &plan],
    ];
    for args in runs {
        let mut all = vec!["-F", cfg.as_str()];
        all.extend_from_slice(args);
        let started = std::time::Instant::now();
        let out = drover(dir.path(), &all);
        println!(
            "FAULT-ROW broken-ssh-config ({}): exit {:?}, {:?} to refuse",
            args[0],
            out.status.code(),
            started.elapsed()
        );
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(&at), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("nothing ran"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    assert!(!marker.exists(), "a refused run ran");
    let history = drover(dir.path(), &["history", "--json"]);
    assert_eq!(stdout(&history).trim(), "[]", "a refused run was recorded");

    // Reading goes on, with a warning that names the line.
    let list = drover(dir.path(), &["-F", &cfg, "inventory", "list"]);
    assert_eq!(list.status.code(), Some(0), "{}", stderr(&list));
    assert!(stderr(&list).contains(&at), "{}", stderr(&list));
    assert!(stderr(&list).contains("warning"), "{}", stderr(&list));
    assert!(!stdout(&list).contains("node001"), "{}", stdout(&list));
}

/// Every host name of `ansible-inventory --list` output, sorted.
fn ansible_hosts(list: &serde_json::Value) -> Vec<String> {
    let mut hosts: Vec<String> = list
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(_, group)| group["hosts"].as_array())
        .flatten()
        .filter_map(|h| h.as_str().map(str::to_string))
        .collect();
    hosts.sort();
    hosts.dedup();
    hosts
}

#[test]
fn an_ansible_inventory_with_one_bad_host_is_dropped_whole_as_ansible_drops_it() {
    let Some(oracle) = ansible_inventory_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = write(dir.path(), "bad.ini", "[web]\nweb01\nweb02:\nweb03\n");
    let good = write(dir.path(), "good.ini", "[db]\ndb1\ndb2\n");
    let theirs = Command::new(oracle)
        .args(["-i", &bad, "-i", &good, "--list"])
        .env("HOME", dir.path())
        .env("ANSIBLE_LOCAL_TEMP", dir.path())
        .output()
        .expect("ansible-inventory");
    assert!(theirs.status.success(), "{}", stderr(&theirs));
    assert!(stderr(&theirs).contains(&format!("Unable to parse {bad}")));
    let theirs: serde_json::Value = serde_json::from_slice(&theirs.stdout).expect("their json");

    let ours = drover(dir.path(), &["-i", &bad, "-i", &good, "inventory", "list"]);
    assert_eq!(ours.status.code(), Some(0), "{}", stderr(&ours));
    assert!(
        stderr(&ours).contains(&format!("{bad}:3:")),
        "{}",
        stderr(&ours)
    );
    let ours: Vec<String> = stdout(&ours)
        .lines()
        .filter(|n| *n != "localhost")
        .map(str::to_string)
        .collect();
    // Ansible keeps the hosts it parsed before the bad line (web01) when another
    // source follows; drover drops the whole file, so no half-read file runs.
    let mut theirs = ansible_hosts(&theirs);
    theirs.retain(|h| !h.starts_with("web"));
    assert_eq!(ours, theirs);

    // Where Ansible would run on what is left, drover refuses.
    let run = drover(
        dir.path(),
        &["-i", &bad, "-i", &good, "run", "-t", "db1", "--", "true"],
    );
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(
        stderr(&run).contains(&format!("{bad}:3:")),
        "{}",
        stderr(&run)
    );
}

/// A ClusterShell configuration directory given with `-i`: its groups
/// select as `clush -w` would, and a malformed group file is named.
#[test]
fn clustershell_groups_select_through_the_binary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("clustershell");
    std::fs::create_dir_all(cfg.join("groups.d")).expect("mkdir");
    write(
        &cfg,
        "groups.conf",
        "[Main]\ndefault: cluster\nautodir: $CFGDIR/groups.d\n",
    );
    write(
        &cfg,
        "groups.d/cluster.yaml",
        "cluster:\n  chassis1: n[1-4]\n  chassis2: n[5-8]\nroles:\n  web: n[2-3]\n",
    );
    let cfg_arg = cfg.display().to_string();
    let list = |expr: &str| {
        let out = drover(
            dir.path(),
            &["-i", &cfg_arg, "inventory", "list", "-t", expr],
        );
        assert!(
            out.status.success(),
            "{expr}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout(&out).lines().map(String::from).collect::<Vec<_>>()
    };
    assert_eq!(
        list("@chassis[1-2]!@roles:web"),
        ["n1", "n4", "n5", "n6", "n7", "n8"]
    );
    assert_eq!(list("@*&n[4-5]"), ["n4", "n5"]);
    write(&cfg, "groups.d/cluster.yaml", "cluster:\n  chassis1: 5\n");
    let out = drover(dir.path(), &["-i", &cfg_arg, "inventory", "list"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cluster.yaml:2"), "{err}");
}
