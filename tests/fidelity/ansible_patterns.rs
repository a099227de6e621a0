//! Ansible host patterns: drover's selection, order and warnings against
//! ansible-core itself, on the same inventory files. The corpus runs the
//! real `ansible -i INV --list-hosts PATTERN`; the property test asks
//! ansible-core's `InventoryManager.list_hosts` (the code behind
//! `--list-hosts`) through tests/fidelity/ansible_patterns_oracle.py, many patterns
//! per process.
//!
//! Ansible is found as tests/prereq finds it; without it the tests fail
//! under `DROVER_REQUIRE_FLEET=1` and print `SKIPPED:` otherwise.

use crate::prereq;

use drover::engine::inventory::targets::Grammar;
use drover::engine::inventory::{Inventory, detect, sources::merge_by_priority};
use proptest::prelude::*;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The directory holding ansible-core's `ansible` and its `python`, or
/// `None` (a failure under DROVER_REQUIRE_FLEET=1).
fn ansible_bin() -> Option<PathBuf> {
    let ansible = prereq::ansible_command("ansible")?;
    let dir = ansible.parent().map(Path::to_path_buf)?;
    if dir.join("python").is_file() {
        Some(dir)
    } else {
        prereq::missing(&format!("{} has no python beside it", ansible.display()));
        None
    }
}

/// drover's view: the built-in localhost plus the file, as `-i FILE` gives.
fn drover_inventory(path: &Path) -> Inventory {
    let file = detect::load_any(path).unwrap_or_else(|e| panic!("{e}"));
    merge_by_priority(vec![
        (0, "builtin".into(), Inventory::builtin()),
        (100, path.display().to_string(), file),
    ])
}

/// Hosts in order and "could not match" warnings, as drover gives them.
fn drover_hosts(inv: &Inventory, pattern: &str) -> (Vec<String>, Vec<String>) {
    match inv.select(pattern) {
        Ok(sel) => {
            assert_eq!(sel.grammar, Grammar::Ansible);
            let names = sel.nodes.iter().map(|n| n.name.clone()).collect();
            (names, unmatched(&sel.warnings))
        }
        Err(_) => (Vec::new(), Vec::new()),
    }
}

fn unmatched(warnings: &[String]) -> Vec<String> {
    let mut w: Vec<String> = warnings
        .iter()
        .filter(|w| w.starts_with("Could not match"))
        .cloned()
        .collect();
    w.sort();
    w.dedup();
    w
}

/// `ansible -i INV --list-hosts PATTERN`: hosts in order and warnings.
fn ansible_cli(bin: &Path, inv: &Path, pattern: &str) -> (Vec<String>, Vec<String>) {
    let home = tempfile::tempdir().expect("tempdir");
    let out = Command::new(bin.join("ansible"))
        .args(["-i"])
        .arg(inv)
        .args(["--list-hosts", pattern])
        .current_dir(home.path())
        .env("HOME", home.path())
        .env("ANSIBLE_CONFIG", home.path().join("none.cfg"))
        .env("PYTHONWARNINGS", "ignore")
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .expect("run ansible");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let hosts = stdout
        .lines()
        .filter(|l| l.starts_with("    "))
        .map(|l| l.trim().to_string())
        .collect();
    let stderr = String::from_utf8_lossy(&out.stderr).replace('\n', " ");
    let warnings: Vec<String> = stderr
        .split("[WARNING]: ")
        .skip(1)
        .map(|w| w.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    (hosts, unmatched(&warnings))
}

/// ansible-core's list_hosts for each pattern, in one process.
fn ansible_many(bin: &Path, inv: &Path, patterns: &[String]) -> Vec<(Vec<String>, Vec<String>)> {
    let oracle =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fidelity/ansible_patterns_oracle.py");
    let home = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(bin.join("python"))
        .arg(oracle)
        .arg(inv)
        .current_dir(home.path())
        .env("HOME", home.path())
        .env("ANSIBLE_CONFIG", home.path().join("none.cfg"))
        .env("PYTHONWARNINGS", "ignore")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run the oracle");
    let mut input = String::new();
    for p in patterns {
        input.push_str(&Value::from(p.as_str()).to_string());
        input.push('\n');
    }
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("oracle output");
    assert!(
        out.status.success(),
        "oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<(Vec<String>, Vec<String>)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("oracle JSON");
            let list = |k: &str| -> Vec<String> {
                v[k].as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            };
            (list("hosts"), unmatched(&list("warnings")))
        })
        .collect();
    assert_eq!(lines.len(), patterns.len(), "one answer per pattern");
    lines
}

const INI: &str = "\
[web]
web03
web01
web02 ansible_port=2222

[db]
db-b
db-a
web01

[prod:children]
web
db

[app]
app[1:3]

[empty]

[lb]
lb1
host:22
hostA
hostB
";

const YAML: &str = "\
all:
  hosts:
    jumper:
    badwolf:
  children:
    us_web:
      hosts:
        usw3:
        usw1:
        usw2:
    eu_web:
      hosts:
        euw2:
        euw1:
    webservers:
      children:
        us_web:
        eu_web:
      hosts:
        web-lead:
    databases:
      hosts:
        db2:
        db1:
        db3:
    nothing_here:
      hosts: {}
";

/// Every form of Ansible's "Patterns: targeting hosts and groups" page,
/// and the cases drover once got wrong.
const CORPUS: &[&str] = &[
    "all",
    "*",
    "web",
    "db",
    "prod",
    "web01",
    "web01,db-a",
    "web01:db-a",
    "web:db",
    "web,db",
    "prod:!db",
    "all:!web",
    "web:&db",
    "prod:&db:!web01",
    "!web",
    "&db",
    "web*",
    "*0?",
    "*01",
    "~web0[12]",
    "~(web|db)",
    "~.*-b",
    "web[0]",
    "web[-1]",
    "web[1:]",
    "web[0:1]",
    "web[1-2]",
    "prod[2:]",
    "prod[-2:]",
    "db[-2:]",
    "db-[a:c]",
    "db-[ab]",
    "db-[!a]",
    "host[AB]",
    "host:22",
    "host[A]",
    "app[1-3]",
    "app[0]",
    "empty",
    "empty,web01",
    "nosuch",
    "nosuch,web01",
    "web,nosuch:&db",
    "web01,staging:&db",
    "db-b,web03,app1",
    "localhost",
    "localhost,web01",
    "all:localhost",
    "all:!localhost",
    "ungrouped",
    "lb[9]",
    "web[3:1]",
    "*[0]",
    "w?b0[!1]",
];

const YAML_CORPUS: &[&str] = &[
    "all",
    "*",
    "jumper,badwolf",
    "badwolf,jumper",
    "us_web[-1]",
    "us_web[0]",
    "webservers",
    "webservers[1:]",
    "webservers[-2]",
    "databases[-2:]",
    "databases[1:2]",
    "us_web:eu_web",
    "webservers:!us_web",
    "webservers:&eu_web",
    "*web*",
    "~eu.*",
    "nothing_here",
    "db[1:3]",
    "all:!webservers[0]",
    "localhost",
    "webservers,&us_web",
    "euw1:usw1:euw2",
];

fn fixture(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write");
    (dir, path)
}

fn compare(
    pattern: &str,
    ours: &(Vec<String>, Vec<String>),
    theirs: &(Vec<String>, Vec<String>),
) -> bool {
    // An empty selection: Ansible warns and does nothing, drover refuses;
    // the warnings only matter when something is selected.
    if theirs.0.is_empty() {
        return ours.0.is_empty();
    }
    let same = ours == theirs;
    if !same {
        eprintln!("{pattern:?}: drover {ours:?}, ansible {theirs:?}");
    }
    same
}

#[test]
fn corpus_equals_ansible_list_hosts_on_ini() {
    let Some(bin) = ansible_bin() else { return };
    let (_dir, path) = fixture("hosts.ini", INI);
    let inv = drover_inventory(&path);
    let disagree: Vec<&str> = CORPUS
        .iter()
        .copied()
        .filter(|p| !compare(p, &drover_hosts(&inv, p), &ansible_cli(&bin, &path, p)))
        .collect();
    assert!(
        disagree.is_empty(),
        "disagree with `ansible --list-hosts`: {disagree:?}"
    );
    eprintln!(
        "compared {} patterns with `ansible --list-hosts`: all agree",
        CORPUS.len()
    );
}

#[test]
fn corpus_equals_ansible_on_yaml_with_children() {
    let Some(bin) = ansible_bin() else { return };
    let (_dir, path) = fixture("hosts.yml", YAML);
    let inv = drover_inventory(&path);
    let patterns: Vec<String> = YAML_CORPUS
        .iter()
        .chain(CORPUS)
        .map(|p| p.to_string())
        .collect();
    let theirs = ansible_many(&bin, &path, &patterns);
    let disagree: Vec<&String> = patterns
        .iter()
        .zip(&theirs)
        .filter(|(p, t)| !compare(p, &drover_hosts(&inv, p), t))
        .map(|(p, _)| p)
        .collect();
    assert!(
        disagree.is_empty(),
        "disagree with ansible-core: {disagree:?}"
    );
}

#[test]
fn implicit_localhost_and_unmatched_warnings() {
    let (_dir, path) = fixture("hosts.ini", INI);
    let inv = drover_inventory(&path);
    let all = drover_hosts(&inv, "all").0;
    assert!(!all.contains(&"localhost".to_string()), "{all:?}");
    assert_eq!(drover_hosts(&inv, "localhost").0, ["localhost"]);
    assert_eq!(drover_hosts(&inv, "127.0.0.1").0, ["localhost"]);
    let sel = inv.select("nosuch,web01").expect("web01 selected");
    assert_eq!(
        sel.warnings,
        ["Could not match supplied host pattern, ignoring: nosuch"]
    );
    assert!(
        inv.select("nosuch").is_err(),
        "an empty selection is refused"
    );
    // No inventory at all: localhost is an ordinary node, `all` selects it.
    let bare = merge_by_priority(vec![(0, "builtin".into(), Inventory::builtin())]);
    assert_eq!(bare.grammar(), Grammar::Clush);
    assert_eq!(bare.resolve("all").expect("localhost").len(), 1);
}

/// An INI inventory: flat groups, one parent with child groups (where
/// Ansible's order is defined), hosts in several groups, a range.
fn inventory_text() -> impl Strategy<Value = String> {
    let host = prop::sample::select(vec![
        "web01",
        "web02",
        "web10",
        "db-a",
        "db-b",
        "app1",
        "x.example",
        "lb",
    ]);
    let group = prop::sample::select(vec!["web", "db", "app", "edge", "web_eu"]);
    (
        prop::collection::vec((group.clone(), prop::collection::vec(host, 0..4)), 1..6),
        prop::collection::vec(group, 0..3),
        any::<bool>(),
    )
        .prop_map(|(groups, children, range)| {
            let mut text = String::new();
            for (g, hosts) in &groups {
                text.push_str(&format!("[{g}]\n"));
                for h in hosts {
                    text.push_str(&format!("{h}\n"));
                }
            }
            if range {
                text.push_str("[ranged]\nn[01:04]\n");
            }
            let kids: Vec<&str> = children
                .iter()
                .copied()
                .filter(|c| groups.iter().any(|(g, _)| g == c))
                .collect();
            if !kids.is_empty() {
                text.push_str(&format!("[parent:children]\n{}\n", kids.join("\n")));
            }
            text
        })
}

fn pattern() -> impl Strategy<Value = String> {
    let atom = prop::sample::select(vec![
        "all",
        "*",
        "web",
        "db",
        "app",
        "edge",
        "parent",
        "ranged",
        "web01",
        "db-b",
        "lb",
        "n03",
        "web*",
        "*0?",
        "db-[ab]",
        "db-[!a]",
        "[!w]*",
        "~web0[12]",
        "~n0",
        "~.*\\.example",
        "nosuch",
        "localhost",
        "ungrouped",
        "x.example",
        "web:22",
    ]);
    let sub = prop::sample::select(vec![
        "", "", "", "[0]", "[-1]", "[1:]", "[0:1]", "[1-2]", "[-2:]", "[5]",
    ]);
    let prefix = prop::sample::select(vec!["", "", "!", "&"]);
    let sep = prop::sample::select(vec![",", ":"]);
    (prop::collection::vec((prefix, atom, sub), 1..4), sep).prop_map(|(parts, sep)| {
        parts
            .iter()
            .map(|(p, a, s)| format!("{p}{a}{s}"))
            .collect::<Vec<_>>()
            .join(sep)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Generated patterns over generated inventories select what
    /// ansible-core selects, in its order, with its warnings.
    #[test]
    fn generated_patterns_equal_ansible(text in inventory_text(), patterns in prop::collection::vec(pattern(), 40)) {
        let Some(bin) = ansible_bin() else { return Ok(()) };
        let (_dir, path) = fixture("hosts.ini", &text);
        let inv = drover_inventory(&path);
        let theirs = ansible_many(&bin, &path, &patterns);
        for (p, t) in patterns.iter().zip(&theirs) {
            let ours = drover_hosts(&inv, p);
            prop_assert!(compare(p, &ours, t), "{p:?} on\n{text}\ndrover {ours:?}\nansible {t:?}");
        }
    }
}
