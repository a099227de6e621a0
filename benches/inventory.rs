//! Inventory benchmarks (plain harness: `cargo bench --bench inventory`).
//!
//! 1. Load and merge a 10,000-host Ansible inventory with group_vars (target
//!    < 100 ms), beside `ansible-inventory --list` on the same files when
//!    ansible-core is installed.
//! 2. Resolve `@ten-k&node[00001-99999]`: a node set of 99,999 names intersected
//!    with a 10,000-node group, through the target resolver (target < 20 ms);
//!    beside it, the same with every name of the set built, for comparison.

use drover::engine::inventory::{Inventory, Node, ansible, nodeset};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Median and minimum of the runs. On a shared machine the minimum is the
/// figure least disturbed by other work; both are printed.
fn median(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    (v[v.len() / 2], v[0])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// 100 groups of 100 hosts, two parent groups, vars inline and in group_vars/.
fn write_inventory(dir: &Path) -> PathBuf {
    let mut ini = String::new();
    for g in 0..100 {
        let _ = writeln!(ini, "[g{g:03}]");
        for h in 0..100 {
            let _ = writeln!(ini, "h{g:03}{h:02} ansible_host=10.{g}.{h}.1 slot={h}");
        }
    }
    let _ = writeln!(ini, "[even:children]");
    for g in (0..100).step_by(2) {
        let _ = writeln!(ini, "g{g:03}");
    }
    let _ = writeln!(ini, "[all:vars]\nansible_user=deploy");
    std::fs::create_dir_all(dir.join("group_vars")).expect("group_vars");
    for g in 0..100 {
        let vars = format!("rack: r{g}\nowner: team{}\nlimits:\n  cpu: {g}\n", g % 7);
        std::fs::write(dir.join(format!("group_vars/g{g:03}.yml")), vars).expect("vars");
    }
    let path = dir.join("hosts.ini");
    std::fs::write(&path, ini).expect("ini");
    path
}

fn ansible_inventory() -> Option<PathBuf> {
    let home = std::env::var("HOME").unwrap_or_default();
    std::env::var("DROVER_ANSIBLE_INVENTORY")
        .ok()
        .map(PathBuf::from)
        .into_iter()
        .chain([
            PathBuf::from(format!(
                "{home}/.cache/drover-test/ansible-venv/bin/ansible-inventory"
            )),
            PathBuf::from("/tmp/ansible-venv/bin/ansible-inventory"),
        ])
        .find(|p| p.is_file())
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_inventory(dir.path());
    let (load, load_min) = median(
        (0..7)
            .map(|_| {
                let start = Instant::now();
                let inv = ansible::load(&path).expect("load").to_inventory();
                assert_eq!(inv.len(), 10_000);
                start.elapsed()
            })
            .collect(),
    );
    let mut line = format!(
        "inventory: load + map a 10,000-host Ansible inventory with group_vars: median {:.1} ms, min {:.1} ms (target < 100 ms)",
        ms(load),
        ms(load_min)
    );
    if let Some(oracle) = ansible_inventory() {
        let start = Instant::now();
        let ok = Command::new(oracle)
            .args(["-i"])
            .arg(&path)
            .arg("--list")
            .env("HOME", dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        let theirs = start.elapsed();
        if ok {
            let _ = write!(
                line,
                "; ansible-inventory --list {:.0} ms, ratio {:.3}",
                ms(theirs),
                load.as_secs_f64() / theirs.as_secs_f64()
            );
        }
    } else {
        line.push_str("; ansible-inventory not installed, no ratio");
    }
    println!("{line}");

    let mut inv = Inventory::default();
    for i in 1..=10_000 {
        let mut node = Node::local(&format!("node{i:05}"), "bench");
        node.groups.push("ten-k".into());
        inv.add(node);
    }
    // The target expression as a user types it, through the same resolver as
    // every run: a node set after `&` is tested member by member
    // (`NodeSet::contains`), so the 99,999 names are never built.
    let (select, select_min) = median(
        (0..11)
            .map(|_| {
                let start = Instant::now();
                let nodes = inv.resolve("@ten-k&node[00001-99999]").expect("resolve");
                assert_eq!(nodes.len(), 10_000);
                start.elapsed()
            })
            .collect(),
    );
    println!(
        "targets: resolve @ten-k&node[00001-99999] (10,000-node group): median {:.1} ms, min {:.1} ms (target < 20 ms)",
        ms(select),
        ms(select_min)
    );
    // For comparison: the same intersection with every name of the set built
    // and hashed, as a target expression's node-set term is evaluated.
    let (built, built_min) = median(
        (0..11)
            .map(|_| {
                let start = Instant::now();
                let mut names = nodeset::expand("node[00001-99999]").expect("expand");
                let members = inv.groups().get("ten-k").expect("group");
                let right: HashSet<&str> = members.iter().map(String::as_str).collect();
                assert_eq!(names.len(), 99_999);
                names.retain(|n| right.contains(n.as_str()));
                assert_eq!(names.len(), 10_000);
                start.elapsed()
            })
            .collect(),
    );
    println!(
        "targets: the same with all 99,999 names built: median {:.1} ms, min {:.1} ms (no target)",
        ms(built),
        ms(built_min)
    );
}
