//! drover's reading of Ansible inventories against `ansible-inventory`
//! itself: the same files, `--list` compared as parsed JSON values and
//! `--graph` as text.
//!
//! ansible-inventory is looked for at `$DROVER_ANSIBLE_INVENTORY`, then in
//! `PATH`, then in `/tmp/ansible-venv/bin`. Without it, comparisons print
//! `SKIPPED: ansible-core not installed` and pass; the project's test
//! script installs it.

use crate::prereq;

use drover::engine::inventory::ansible::{self, to_ansible_graph, to_ansible_json};
use drover::engine::inventory::native::InventoryError;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

fn ansible_inventory() -> Option<PathBuf> {
    prereq::ansible_command("ansible-inventory")
}

/// Writes `files` (relative path, content) under a new temp dir.
fn fixture(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    dir
}

/// `ansible-inventory -i source ARG` in a clean environment, or `None`.
fn run_ansible(source: &Path, arg: &str) -> Option<String> {
    let bin = ansible_inventory()?;
    let home = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(&bin);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ANSIBLE_") {
            cmd.env_remove(key);
        }
    }
    let out = cmd
        .arg("-i")
        .arg(source)
        .arg(arg)
        .current_dir(home.path())
        .env("HOME", home.path())
        .env("ANSIBLE_CONFIG", home.path().join("none.cfg"))
        .env("ANSIBLE_DEPRECATION_WARNINGS", "False")
        .env("ANSIBLE_INVENTORY_UNPARSED_FAILED", "True")
        .output()
        .expect("run ansible-inventory");
    assert!(
        out.status.success(),
        "ansible-inventory failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).expect("utf-8"))
}

/// Our `--list` equals Ansible's; returns ours for extra assertions.
fn same_as_ansible(source: &Path) -> Value {
    let ours = to_ansible_json(&ansible::load(source).unwrap_or_else(|e| panic!("{e}")));
    if let Some(text) = run_ansible(source, "--list") {
        let theirs: Value = serde_json::from_str(&text).expect("ansible JSON");
        assert_eq!(ours, theirs, "\nours:   {ours:#}\ntheirs: {theirs:#}");
    }
    ours
}

#[test]
fn ini_ranges_children_and_type_conversion() {
    let dir = fixture(&[(
        "hosts.ini",
        r#"# ungrouped first
alpha ansible_host=10.0.0.1 port=8080 flag=True low=true word=yes oct=0755 f=1.5 neg=-3 hex=0x1F nul=None lst="[1, 2]" q="'quoted'" s="a b" tup=(1,2) under=1_000 exp=1e3 d="{'k': 1}"
beta:2200
[web]
web[01:03] ansible_port=2222
web-[a:c]
w[1:10:4]
[db]
db1 ansible_user=admin
db2 ansible_connection=local
[prod:children]
web
db
later
[later]
late1
[prod:vars]
env=production
num=5
b=False
s = spaced value
list=[1,'a']
[all:vars]
env=all
top=1
[empty]
"#,
    )]);
    let ours = same_as_ansible(&dir.path().join("hosts.ini"));
    assert_eq!(ours["_meta"]["hostvars"]["alpha"]["low"], json!("true"));
    assert_eq!(ours["_meta"]["hostvars"]["alpha"]["port"], json!(8080));
    assert_eq!(
        ours["_meta"]["hostvars"]["beta"]["ansible_port"],
        json!(2200)
    );
}

#[test]
fn yaml_inventory_with_yaml11_scalars() {
    let dir = fixture(&[(
        "inv.yml",
        r#"all:
  vars:
    a_yes: yes
    a_on: On
    a_y: y
    a_oct: 0755
    a_0o: 0o17
    a_sexa: 1:30
    a_exp: 1e3
    a_exp2: 1.0e+3
    a_date: 2001-12-14
    a_null: ~
    a_q: "yes"
    a_list: [1, yes, "x"]
    a_nested: {k: v}
    a_block: |
      line1
  hosts:
    solo:
  children:
    web:
      hosts:
        web[01:02]:
          ansible_host: 10.0.0.1
        "web-x:2222":
      vars:
        role: front
    db:
      hosts: db1
      children:
        replicas:
          hosts:
            db-r[a:b]:
prod:
  children:
    web:
    replicas:
"#,
    )]);
    same_as_ansible(&dir.path().join("inv.yml"));
}

#[test]
fn precedence_depth_priority_and_names() {
    let dir = fixture(&[(
        "hosts",
        r#"[all:vars]
v_all=all
v_depth=all
[parent:children]
child
[parent:vars]
v_depth=parent
v_alpha=parent
[child]
h1 v_host=host
[child:vars]
v_depth=child
[alpha]
h1
[alpha:vars]
v_alpha=alpha
v_prio=alpha
ansible_group_priority=10
[beta]
h1
[beta:vars]
v_alpha=beta
v_prio=beta
"#,
    )]);
    let ours = same_as_ansible(&dir.path().join("hosts"));
    let h1 = &ours["_meta"]["hostvars"]["h1"];
    assert_eq!(h1["v_depth"], json!("child"));
    assert_eq!(
        h1["v_prio"],
        json!("alpha"),
        "priority 10 beats beta's default 1"
    );
}

#[test]
fn group_vars_and_host_vars_files_and_directories() {
    let dir = fixture(&[
        (
            "inv/hosts.ini",
            "[web]\nweb1 inline=1\nweb2\n[web:vars]\nfrom_ini=ini\nshadow=ini\n[db]\ndb1\n",
        ),
        ("inv/group_vars/all.yml", "shadow: all_file\nshared: all\n"),
        ("inv/group_vars/web", "from_file: web\nshared: web\n"),
        (
            "inv/group_vars/web.yml",
            "ignored: because the extension-less file wins\n",
        ),
        ("inv/group_vars/db/10-main.yml", "db_a: 1\ndb_b: 1\n"),
        (
            "inv/group_vars/db/20-more.json",
            "{\"db_b\": 2, \"flag\": true}",
        ),
        ("inv/group_vars/db/.hidden.yml", "hidden: true\n"),
        ("inv/group_vars/db/notes.txt", "txt: true\n"),
        (
            "inv/host_vars/web1.yaml",
            "inline: overridden\nshared: host\n",
        ),
        ("inv/host_vars/db1.json", "{\"n\": 1.5}"),
    ]);
    let ours = same_as_ansible(&dir.path().join("inv/hosts.ini"));
    let web1 = &ours["_meta"]["hostvars"]["web1"];
    assert_eq!(
        web1["shadow"],
        json!("all_file"),
        "group_vars/all beats [web:vars]"
    );
    assert_eq!(web1["inline"], json!("overridden"));
}

#[test]
fn inventory_directory_of_several_files() {
    let dir = fixture(&[
        ("inv/01-base.ini", "[web]\nweb1\n[web:vars]\nsrc=ini\n"),
        (
            "inv/02-more.yml",
            "web:\n  hosts:\n    web2:\n  vars:\n    src: yaml\nextra:\n  hosts:\n    web1:\n",
        ),
        ("inv/README.md", "not an inventory\n"),
        ("inv/old.cfg", "[ignored]\nx\n"),
        ("inv/group_vars/extra.yml", "extra_var: 1\n"),
        ("inv/sub/03-nested.ini", "[nested]\nn1\n"),
    ]);
    same_as_ansible(&dir.path().join("inv"));
}

#[test]
fn edge_cases_match_ansible() {
    let dir = fixture(&[
        (
            "inv/10-edges.ini",
            r#"early:22
both
[all]
in_all x=1
[ungrouped]
explicit
[grp]
both
early:2222
dup v=1
[grp2]
dup v=2
[top:children]
mid
[mid:children]
leaf
[mid:vars]
v=mid
[leaf]
dup
[leaf:vars]
v=leaf
[side:children]
leaf
[side:vars]
v=side
ansible_group_priority=3
"#,
        ),
        (
            "inv/20-more",
            "all:\n  hosts:\n    yhost:\n      ansible_port: '2200'\n  children:\n    grp:\n      vars:\n        ansible_group_priority: 2\n        from_yaml: true\n    mid:\n      hosts:\n        yhost:\n",
        ),
        (
            "inv/30-json.json",
            r#"{"jgroup": {"hosts": {"j1": {"n": 1.5, "s": "yes"}}, "children": {"grp": null}}}"#,
        ),
    ]);
    same_as_ansible(&dir.path().join("inv"));
}

#[test]
fn scalar_corner_cases_match_ansible() {
    let dir = fixture(&[
        (
            "a.yml",
            "all:\n  hosts:\n    h:\n      t1: 2001-12-14 21:59:43.10 -5\n      t2: 2001-12-15T02:59:43.1Z\n      t3: 2002-12-14t21:59:43\n      f1: .5\n      f2: 1_0.5\n      i1: -0x1F\n      s1: 1:70\n      tagged: !!str 12\n      anchored: &a yes\n      alias: *a\n",
        ),
        (
            "b.ini",
            "[g]\nh a=\"x\" b=1.0 c=-0 d=0o17 e=0b11 f=\"[1, (2, 3)]\" g={\"a\":[1]} h=\\\"x i=\"{'k': {1: None}}\"\n[g:vars]\nx = 5 # comment\ny = abc # c\nz=\n",
        ),
    ]);
    same_as_ansible(&dir.path().join("a.yml"));
    same_as_ansible(&dir.path().join("b.ini"));
}

#[test]
fn graph_matches_ansible() {
    let dir = fixture(&[(
        "hosts.ini",
        "a\n[web]\nw1\nw2\n[prod:children]\nweb\ndb\n[db]\nd1\n[lonely]\n",
    )]);
    let path = dir.path().join("hosts.ini");
    let ours = to_ansible_graph(&ansible::load(&path).expect("load"));
    assert!(
        ours.starts_with("@all:\n  |--@ungrouped:\n  |  |--a\n"),
        "{ours}"
    );
    if let Some(theirs) = run_ansible(&path, "--graph") {
        assert_eq!(ours, theirs.trim_end());
    }
}

#[test]
fn nodes_take_address_port_user_and_transport() {
    let dir = fixture(&[(
        "hosts.ini",
        "[web]\nweb1 ansible_host=10.0.0.1 ansible_port=2222 ansible_user=deploy\nweb2:2200\nlocal1 ansible_connection=local\n[prod:children]\nweb\n",
    )]);
    let inv = ansible::load(&dir.path().join("hosts.ini"))
        .expect("load")
        .to_inventory();
    let web1 = inv.node("web1").expect("web1");
    assert_eq!(web1.address.as_deref(), Some("10.0.0.1"));
    assert_eq!(web1.port, Some(2222));
    assert_eq!(web1.user.as_deref(), Some("deploy"));
    assert_eq!(web1.transport, "ssh");
    assert_eq!(web1.groups, ["prod", "web"]);
    assert_eq!(inv.node("web2").expect("web2").port, Some(2200));
    assert_eq!(inv.node("local1").expect("local1").transport, "local");
    let names: Vec<String> = inv
        .resolve("prod")
        .expect("resolve")
        .iter()
        .map(|n| n.name.clone())
        .collect();
    // An Ansible inventory is read with Ansible patterns, in Ansible's order.
    assert_eq!(names, ["web1", "web2", "local1"]);
}

/// Malformed inventories are errors with file, line and reason, never an
/// empty inventory (Ansible often only warns).
#[test]
fn malformed_files_name_file_and_line() {
    let cases: &[(&str, &str, u64, &str)] = &[
        (
            "a.ini",
            "[web]\nweb1\n[web:vars]\nnovalue\n",
            4,
            "expected key=value",
        ),
        ("b.ini", "[web]\nw[5:1]\n", 2, "empty"),
        (
            "c.ini",
            "[p:children]\nmissing\n",
            2,
            "undefined group 'missing'",
        ),
        ("d.ini", "[x:vars]\na=1\n", 1, "undefined group 'x'"),
        ("e.ini", "[web]\nweb1 novalue\n", 2, "key=value"),
        ("f.ini", "[web:bogus]\n", 1, "unknown type"),
        (
            "g.ini",
            "[a:children]\nb\n[b:children]\na\n",
            4,
            "recursive",
        ),
        (
            "h.yml",
            "all:\n  children:\n    web:\n      host:\n        w1:\n",
            4,
            "unexpected key 'host'",
        ),
        (
            "i.yml",
            "all:\n  hosts:\n    - w1\n",
            3,
            "requires a mapping",
        ),
        ("j.yml", "all: [\n", 1, "unclosed bracket"),
        ("k.yml", "web:\n  hosts:\n    5:\n", 3, "must be a string"),
        (
            "l.ini",
            "[web]\nweb1 a='unclosed\n",
            2,
            "No closing quotation",
        ),
    ];
    for (name, text, line, reason) in cases {
        let dir = fixture(&[(name, text)]);
        match ansible::load(&dir.path().join(name)) {
            Err(InventoryError::Invalid {
                line: got,
                reason: why,
                ..
            }) => {
                assert!(
                    got == *line && why.contains(reason),
                    "{name}: line {got}: {why}"
                );
            }
            other => panic!("{name}: expected an error at line {line}, got {other:?}"),
        }
    }
    let dir = fixture(&[
        ("inv/hosts.ini", "[web]\nw1\n"),
        ("inv/group_vars/web.yml", "- a\n- b\n"),
    ]);
    let err = ansible::load(&dir.path().join("inv/hosts.ini")).expect_err("list in group_vars");
    assert!(err.to_string().contains("web.yml:1:"), "{err}");
}
