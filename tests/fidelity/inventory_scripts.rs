//! Dynamic inventory scripts (real sh and python3 scripts in a temp dir):
//! `--list` with `_meta.hostvars`, `--host` per host without it, and every way
//! a script can fail, each named with the script and the reason. A failing
//! source leaves the others loaded.

use crate::prereq;

use drover::engine::inventory::detect::{self, Format};
use drover::engine::inventory::native::InventoryError;
use drover::engine::inventory::service::{InventoryService, standard_sources};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(10);

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn load_err(path: &Path, timeout: Duration) -> String {
    match detect::load_any_with(path, timeout) {
        Ok(inv) => panic!("expected a failure, got {} nodes", inv.len()),
        Err(e @ InventoryError::Script { .. }) => e.to_string(),
        Err(e) => panic!("expected a script error, got {e}"),
    }
}

const META: &str = r#"#!/bin/sh
[ "$1" = "--list" ] || { echo "unexpected $*" >&2; exit 9; }
cat <<'EOF'
{
  "web": {"hosts": ["w1", "w2"], "vars": {"http_port": 80, "tier": "front"}},
  "prod": {"children": ["web"], "vars": {"env": "prod"}},
  "db": ["d1"],
  "_meta": {"hostvars": {
     "w1": {"ansible_host": "10.0.0.1", "ansible_port": 2222, "tier": "edge"},
     "d1": {"ansible_user": "pg", "ansible_connection": "local"}}}
}
EOF
"#;

#[test]
fn list_with_meta_gives_nodes_groups_and_vars() {
    let dir = tempfile::tempdir().unwrap();
    let path = script(dir.path(), "inv.sh", META);
    assert_eq!(detect::detect(&path).unwrap(), Format::Script);
    let inv = detect::load_any_with(&path, LIMIT).unwrap();
    let names: Vec<&str> = inv.nodes().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["d1", "w1", "w2"]);
    let w1 = inv.node("w1").unwrap();
    assert_eq!(w1.address.as_deref(), Some("10.0.0.1"));
    assert_eq!(w1.port, Some(2222));
    assert_eq!(w1.transport, "ssh");
    assert_eq!(w1.groups, ["prod", "web"]);
    // Host vars win over group vars; child group vars over parent ones.
    assert_eq!(w1.vars["tier"], "edge");
    assert_eq!(w1.vars["http_port"], 80);
    assert_eq!(w1.vars["env"], "prod");
    assert_eq!(inv.node("w2").unwrap().vars["tier"], "front");
    let d1 = inv.node("d1").unwrap();
    assert_eq!(
        (d1.transport.as_str(), d1.user.as_deref()),
        ("local", Some("pg"))
    );
    assert_eq!(d1.source, path.display().to_string());
    let selected: Vec<String> = inv
        .resolve("prod")
        .unwrap()
        .iter()
        .map(|n| n.name.clone())
        .collect();
    assert_eq!(selected, ["w1", "w2"]);
}

#[test]
fn without_meta_each_host_is_asked_with_dash_dash_host() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls");
    let body = format!(
        r#"#!/usr/bin/env python3
import json, sys
with open({log:?}, "a") as f:
    f.write(" ".join(sys.argv[1:]) + "\n")
if sys.argv[1] == "--list":
    print(json.dumps({{"app": {{"hosts": ["a1", "a2"]}}, "lone": {{"hosts": ["a2"]}}}}))
elif sys.argv[1] == "--host":
    print(json.dumps({{"who": sys.argv[2], "ansible_host": "192.0.2." + sys.argv[2][1:]}}))
"#,
        log = log.display().to_string()
    );
    let path = script(dir.path(), "inv.py", &body);
    let inv = detect::load_any_with(&path, LIMIT).unwrap();
    let a2 = inv.node("a2").unwrap();
    assert_eq!(a2.vars["who"], "a2");
    assert_eq!(a2.address.as_deref(), Some("192.0.2.2"));
    assert_eq!(a2.groups, ["app", "lone"]);
    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        calls.lines().collect::<Vec<_>>(),
        ["--list", "--host a1", "--host a2"],
        "one --host call per host, in order"
    );
}

#[test]
fn non_zero_exit_names_the_script_code_and_stderr_tail() {
    let dir = tempfile::tempdir().unwrap();
    let path = script(
        dir.path(),
        "broken.sh",
        "#!/bin/sh\necho 'noise line' >&2\necho 'cannot reach the CMDB: connection refused' >&2\nexit 3\n",
    );
    let e = load_err(&path, LIMIT);
    assert!(e.contains(&path.display().to_string()), "{e}");
    assert!(e.contains("exited with code 3"), "{e}");
    assert!(
        e.contains("cannot reach the CMDB: connection refused"),
        "{e}"
    );
}

#[test]
fn non_json_output_says_where_parsing_failed() {
    let dir = tempfile::tempdir().unwrap();
    let path = script(
        dir.path(),
        "text.sh",
        "#!/bin/sh\nprintf '{\\n  \"web\": {\"hosts\": [\"w1\"]},\\n  oops\\n}\\n'\n",
    );
    let e = load_err(&path, LIMIT);
    assert!(e.contains("text.sh --list` did not print JSON"), "{e}");
    assert!(e.contains("line 3 column 3"), "{e}");
    assert!(e.contains("oops"), "the offending text is quoted: {e}");

    let empty = script(dir.path(), "empty.sh", "#!/bin/sh\nexit 0\n");
    let e = load_err(&empty, LIMIT);
    assert!(e.contains("the output was empty"), "{e}");
}

#[test]
fn wrong_shapes_name_the_group_or_host() {
    let dir = tempfile::tempdir().unwrap();
    for (json, want) in [
        (
            r#"["w1"]"#,
            "must print a JSON object of groups, got a list",
        ),
        (
            r#"{"web": {"hosts": "w1"}}"#,
            "group 'web': hosts must be a list",
        ),
        (
            r#"{"web": {"hosts": [1]}}"#,
            "group 'web': a host name must be a string",
        ),
        (
            r#"{"web": {"hosts": ["w1"], "vars": [1]}}"#,
            "group 'web': vars must be an object",
        ),
        (
            r#"{"web": {"hosts": ["w1"]}, "_meta": {"hostvars": {"w1": 5}}}"#,
            "variables of host 'w1' must be an object",
        ),
        (
            r#"{"a": {"children": ["b"]}, "b": {"children": ["a"]}}"#,
            "recursive dependency loop",
        ),
    ] {
        let path = script(
            dir.path(),
            "shape.sh",
            &format!("#!/bin/sh\ncat <<'EOF'\n{json}\nEOF\n"),
        );
        let e = load_err(&path, LIMIT);
        assert!(e.contains(want), "{json}: {e}");
        assert!(e.contains("shape.sh"), "{e}");
    }
}

fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // A zombie waiting for its new parent to reap it is dead already.
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

#[test]
fn a_slow_script_is_killed_with_its_process_group_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("helper.pid");
    let path = script(
        dir.path(),
        "slow.sh",
        &format!(
            "#!/bin/sh\nsleep 300 &\necho $! > {}\nwait\n",
            pidfile.display()
        ),
    );
    let started = Instant::now();
    let e = load_err(&path, Duration::from_millis(400));
    assert!(started.elapsed() < LIMIT, "waited {:?}", started.elapsed());
    assert!(e.contains("timed out after 400ms"), "{e}");
    assert!(e.contains("process group was killed"), "{e}");
    let helper: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The kill is sent before `load` returns; the kernel may still be tearing
    // the helper down (its pipes closed, its exit not yet final): allow that.
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(helper) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!alive(helper), "the script's helper {helper} survived");
}

#[test]
fn a_failing_script_is_marked_failed_and_other_sources_still_load() {
    let dir = tempfile::tempdir().unwrap();
    let bad = script(dir.path(), "bad.sh", "#!/bin/sh\necho boom >&2\nexit 1\n");
    let good = dir.path().join("nodes.yaml");
    std::fs::write(&good, "nodes:\n  n1: {groups: [lab]}\n").unwrap();
    let service = InventoryService::new(standard_sources(None, &[bad.clone(), good], LIMIT), None);
    let loaded = service.refresh();
    let names: Vec<&str> = loaded.inventory.nodes().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["localhost", "n1"]);
    assert_eq!(loaded.failures.len(), 1, "{:?}", loaded.failures);
    assert_eq!(loaded.failures[0].source, bad.display().to_string());
    assert!(
        loaded.failures[0]
            .reason
            .contains("exited with code 1; stderr: boom")
    );
    let status = service.status();
    let bad_status = status.iter().find(|s| s.error.is_some()).unwrap();
    assert_eq!(bad_status.nodes, 0);
}

fn drover(state: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("--state-dir")
        .arg(state)
        .args(args)
        .env("HOME", state)
        .output()
        .expect("run drover")
}

#[test]
fn cli_lists_script_nodes_and_refuses_to_run_with_a_broken_script() {
    let dir = tempfile::tempdir().unwrap();
    let inv = script(dir.path(), "inv.sh", META);
    let inv = inv.display().to_string();
    let out = drover(dir.path(), &["-i", &inv, "inventory", "list", "-t", "web"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "w1\nw2\n");

    let bad = script(
        dir.path(),
        "bad.sh",
        "#!/bin/sh\necho 'no token' >&2\nexit 4\n",
    );
    let bad = bad.display().to_string();
    let out = drover(
        dir.path(),
        &["-i", &inv, "-i", &bad, "inventory", "list", "-t", "d1"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("bad.sh") && err.contains("no token"), "{err}");
    let out = drover(
        dir.path(),
        &["-i", &inv, "-i", &bad, "run", "-t", "d1", "--", "true"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("exited with code 4; stderr: no token"),
        "{err}"
    );
}

fn ansible_inventory() -> Option<PathBuf> {
    prereq::ansible_command("ansible-inventory")
}

#[test]
fn script_inventories_read_as_ansible_inventory_reads_them() {
    let Some(bin) = ansible_inventory() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("group_vars")).unwrap();
    std::fs::write(
        dir.path().join("group_vars/web.yml"),
        "from_file: 1\ntier: gv\n",
    )
    .unwrap();
    let no_meta = r#"#!/usr/bin/env python3
import json, sys
if sys.argv[1] == "--list":
    print(json.dumps({"web": ["w1", "w2"], "lone": {"k": 1},
                      "edge": {"hosts": ["w2", "e1"], "vars": {"tier": "edge"}, "children": ["web"]}}))
else:
    print(json.dumps({"h": sys.argv[2]}))
"#;
    for (name, body) in [("meta.sh", META), ("nometa.py", no_meta)] {
        let path = script(dir.path(), name, body);
        let ours = drover::engine::inventory::ansible::to_ansible_json(
            &drover::engine::inventory::script::load_ansible(&path, LIMIT).unwrap(),
        );
        let home = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(&bin);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("ANSIBLE_") {
                cmd.env_remove(key);
            }
        }
        let out = cmd
            .arg("-i")
            .arg(&path)
            .arg("--list")
            .current_dir(home.path())
            .env("HOME", home.path())
            .env("ANSIBLE_CONFIG", home.path().join("none.cfg"))
            .env("ANSIBLE_INVENTORY_UNPARSED_FAILED", "True")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(ours, theirs, "{name}\nours:   {ours:#}\ntheirs: {theirs:#}");
    }
}
