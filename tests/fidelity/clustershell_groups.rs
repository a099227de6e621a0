//! A ClusterShell group configuration given with `-i` selects what
//! `nodeset -e` selects with the same configuration (`$CLUSTERSHELL_CFGDIR`):
//! a corpus of the group forms (`@group`, `@source:group`, `@chassis[3-4]`,
//! `@*`, nested references, the local groups file) and generated
//! expressions mixing groups, node sets and the operators `,` `!` `&` `^`.
//! Malformed configurations are refused naming the file and line.

use crate::prereq;

use drover::engine::inventory::Inventory;
use drover::engine::inventory::detect::load_all;
use drover::engine::inventory::nodeset::sorted;
use drover::engine::inventory::targets::{Grammar, TargetError, select_with};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use std::path::Path;

const GROUPS_CONF: &str = "\
[Main]
default: cluster
confdir: $CFGDIR/groups.conf.d
autodir: $CFGDIR/groups.d

[local]
map: [ -f $CFGDIR/groups ] && f=$CFGDIR/groups || f=$CFGDIR/groups.d/local.cfg; sed -n 's/^$GROUP:\\(.*\\)/\\1/p' $f
all: [ -f $CFGDIR/groups ] && f=$CFGDIR/groups || f=$CFGDIR/groups.d/local.cfg; sed -n 's/^all:\\(.*\\)/\\1/p' $f
list: [ -f $CFGDIR/groups ] && f=$CFGDIR/groups || f=$CFGDIR/groups.d/local.cfg; sed -n 's/^\\([0-9A-Za-z_-]*\\):.*/\\1/p' $f
";

const LOCAL_CFG: &str = "\
# admin nodes
adm: example0
io: example[4-6]
nested: @io,x1
compute:n[1-3]
";

const CLUSTER_YAML: &str = "\
cluster:
    chassis1: n[1-4]
    chassis2: n[5-8]
    chassis3: n[9-12]
    chassis4: n[13-16]
    lst: [a1, a2]
    ref: \"@chassis1,z1\"
    odd: n[1-16/2]
    all: n[1-16]
roles:
    web: w[1-3]
    chassis1: r1
    db: 'n[2-3],@cluster:chassis4!n15'
";

/// A configuration directory as `clush` users have it.
fn config() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    write("groups.conf", GROUPS_CONF);
    write("groups.d/local.cfg", LOCAL_CFG);
    write("groups.d/cluster.yaml", CLUSTER_YAML);
    dir
}

fn load(dir: &Path) -> Inventory {
    load_all(&[dir.to_path_buf()]).unwrap_or_else(|e| panic!("load {}: {e}", dir.display()))
}

/// drover's answer in `nodeset -e`'s shape: names separated by spaces, an
/// empty line for an empty result.
fn ours(inv: &Inventory, expr: &str) -> String {
    match select_with(inv, expr, Grammar::Clush) {
        Ok(sel) => sel
            .nodes
            .iter()
            .map(|n| n.name.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        Err(TargetError::NoMatch { parts }) if parts == [expr.trim()] => String::new(),
        Err(e) => panic!("{expr}: {e}"),
    }
}

/// `nodeset -e` of each expression with the configuration, in one
/// ClusterShell process (one `nodeset` per expression takes minutes).
fn reference(dir: &Path, exprs: &[String]) -> Option<Vec<String>> {
    let driver = "import sys\nfrom ClusterShell.NodeSet import NodeSet\n\
                  for line in sys.stdin:\n    print(' '.join(NodeSet(line.rstrip('\\n'))))\n";
    prereq::clustershell_driver(driver, exprs, Some(dir))
}

fn compare(exprs: &[String]) -> usize {
    let dir = config();
    compare_in(dir.path(), exprs)
}

fn compare_in(dir: &Path, exprs: &[String]) -> usize {
    let inv = load(dir);
    let Some(answers) = reference(dir, exprs) else {
        return 0;
    };
    for (expr, answer) in exprs.iter().zip(&answers) {
        let mut mine = ours(&inv, expr);
        if !expr.contains(['@', '!', '&', '^']) {
            // A plain list of names keeps the order written in drover (the
            // order `--sequential` runs); `nodeset -e` sorts it.
            mine = sorted(mine.split(' ')).join(" ");
        }
        assert_eq!(&mine, answer, "nodeset -e {expr:?}");
    }
    exprs.len()
}

#[test]
fn group_forms_select_as_nodeset() {
    let corpus = [
        "@chassis1",
        "@chassis[3-4]",
        "@chassis[1,3]",
        "@cluster:chassis2",
        "@roles:chassis1",
        "@roles:web",
        "@roles:db",
        "@local:io",
        "@local:nested",
        "@local:compute",
        "@cluster:lst",
        "@ref",
        "@odd",
        "@*",
        "@roles:*",
        "@local:*",
        "@cluster:all",
        "@all",
        "@all!@chassis1",
        "@chassis[1-2]!n2",
        "@chassis1,@roles:web&w[2-3],n1",
        "@chassis[1-4]^@odd",
        "@*!@chassis[2-3]",
        "@roles:*&@cluster:*",
        "n[1-4]&@chassis[1-2]",
        "@local:io,@roles:chassis1!example5",
    ];
    let exprs: Vec<String> = corpus.iter().map(|s| s.to_string()).collect();
    let n = compare(&exprs);
    eprintln!("{n} group expressions compared with nodeset -e: {n} agree");
}

/// Every group of every source, as `@source:group`.
fn every_group(dir: &Path) -> Vec<String> {
    load(dir)
        .groups()
        .keys()
        .filter(|g| g.contains(':'))
        .map(|g| format!("@{g}"))
        .collect()
}

#[test]
fn every_group_selects_as_nodeset() {
    let dir = config();
    let groups = every_group(dir.path());
    assert!(groups.len() > 15, "{groups:?}");
    let n = compare_in(dir.path(), &groups);
    eprintln!("{n} groups compared with nodeset -e: {n} agree");
}

/// The configuration ClusterShell installs (`/etc/clustershell`, its
/// stock `local` source and example groups) read with `-i`.
#[test]
fn the_installed_configuration_selects_as_nodeset() {
    let dir = Path::new("/etc/clustershell");
    if !dir.join("groups.conf").is_file() {
        prereq::missing("/etc/clustershell/groups.conf (ClusterShell) is not installed");
        return;
    }
    let mut exprs = every_group(dir);
    exprs.push("@*".into());
    exprs.push("@all".into());
    let n = compare_in(dir, &exprs);
    eprintln!("{n} installed groups compared with nodeset -e: {n} agree");
}

/// An operand every one of whose names exists, so that drover (which
/// refuses a part matching nothing) and `nodeset` are both defined.
fn operand() -> impl Strategy<Value = String> {
    let group = prop::sample::select(vec![
        "@chassis1",
        "@cluster:chassis3",
        "@roles:web",
        "@roles:db",
        "@roles:chassis1",
        "@local:io",
        "@local:nested",
        "@local:compute",
        "@ref",
        "@odd",
        "@*",
        "@roles:*",
        "@cluster:lst",
    ])
    .prop_map(String::from);
    let ranged = (1u32..=4, 0u32..=3).prop_map(|(a, len)| {
        let b = (a + len).min(4);
        format!("@chassis[{a}-{b}]")
    });
    let names = (1u32..=16, 0u32..=6, 1u32..=3).prop_map(|(a, len, step)| {
        let b = (a + len).min(16);
        if step == 1 {
            format!("n[{a}-{b}]")
        } else {
            format!("n[{a}-{b}/{step}]")
        }
    });
    let single =
        prop::sample::select(vec!["w2", "x1", "z1", "a1", "example5", "r1"]).prop_map(String::from);
    prop_oneof![3 => group, 2 => ranged, 3 => names, 1 => single]
}

fn expression() -> impl Strategy<Value = String> {
    (
        operand(),
        prop::collection::vec(
            (prop::sample::select(vec![",", "!", "&", "^"]), operand()),
            0..5,
        ),
    )
        .prop_map(|(first, rest)| {
            rest.into_iter().fold(first, |mut expr, (op, term)| {
                expr.push_str(op);
                expr.push_str(&term);
                expr
            })
        })
}

#[test]
fn generated_group_expressions_select_as_nodeset() {
    let strategy = expression();
    let mut runner = TestRunner::deterministic();
    let exprs: Vec<String> = (0..400)
        .map(|_| strategy.new_tree(&mut runner).expect("generate").current())
        .collect();
    let n = compare(&exprs);
    eprintln!("{n} generated group expressions compared with nodeset -e: {n} agree");
}

/// A configuration ClusterShell cannot use is refused with the file and
/// line, and nothing is loaded from it.
#[test]
fn a_bad_configuration_names_its_file_and_line() {
    let cases: [(&str, &str, &str, &str); 4] = [
        (
            "groups.d/cluster.yaml",
            "cluster:\n  n: 5\n",
            "cluster.yaml:2",
            "group n",
        ),
        (
            "groups.d/cluster.yaml",
            "- a\n- b\n",
            "cluster.yaml:1",
            "not a dict",
        ),
        (
            "groups.conf.d/ldap.conf",
            "[ldap]\nmap: ldapsearch $GROUP\n",
            "ldap.conf:1",
            "runs no command",
        ),
        (
            "groups.d/cluster.yaml",
            "cluster:\n  a: '@b'\n  b: '@a'\n",
            "cluster.yaml:",
            "refers to itself",
        ),
    ];
    for (rel, text, place, reason) in cases {
        let dir = config();
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
        let err = load_all(&[dir.path().to_path_buf()])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(place), "{rel}: {err:?} should name {place}");
        assert!(err.contains(reason), "{rel}: {err:?} should say {reason}");
    }
    let dir = config();
    std::fs::write(
        dir.path().join("groups.conf"),
        "[Main]\ndefault: nosuch\nautodir: $CFGDIR/groups.d\n",
    )
    .expect("write");
    let err = load_all(&[dir.path().to_path_buf()])
        .err()
        .map(|e| e.to_string());
    let err = err.unwrap_or_default();
    assert!(
        err.contains("groups.conf:2") && err.contains("nosuch"),
        "{err}"
    );
}

/// `@src:group` keeps drover's meaning (group of inventory source `src`)
/// when `src` is no ClusterShell group source; with one, it is the group
/// source's group, as in ClusterShell.
#[test]
fn source_group_means_the_clustershell_source_when_there_is_one() {
    let dir = config();
    let inv = load(dir.path());
    let picked = |expr: &str| ours(&inv, expr);
    assert_eq!(picked("@roles:chassis1"), "r1");
    assert_eq!(picked("@cluster:chassis1"), "n1 n2 n3 n4");
    let err = select_with(&inv, "@roles:chassis[1-2]", Grammar::Clush).err();
    assert_eq!(
        err,
        Some(TargetError::NoMatch {
            parts: vec!["@roles:chassis2".into()]
        }),
        "a missing group of a range is named"
    );
    let source = dir.path().display().to_string();
    let by_inventory_source = select_with(&inv, &format!("@{source}:all"), Grammar::Clush);
    let names: Vec<String> = by_inventory_source
        .map(|s| s.nodes.iter().map(|n| n.name.clone()).collect())
        .unwrap_or_default();
    assert_eq!(
        names.join(" "),
        ours(
            &inv,
            "@cluster:*,@cluster:lst,@ref,@roles:*,@local:adm,@local:nested,@local:compute"
        )
    );
}
