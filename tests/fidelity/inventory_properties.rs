//! Inventory properties of the seeds (15, 16, 17, 20, 21, 23) and the laws
//! of the target grammar, checked against simple set models.

use drover::engine::common::error::EngineError;
use drover::engine::inventory::sources::merge_by_priority;
use drover::engine::inventory::targets::{Rule, TargetError, TargetExpr, select};
use drover::engine::inventory::{Inventory, Node, ansible, bolt, nodeset};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const GROUPS: [&str; 4] = ["g0", "g1", "g2", "g3"];

fn node(name: &str, groups: &[String], source: &str) -> Node {
    Node {
        groups: groups.to_vec(),
        vars: BTreeMap::from([("origin".to_string(), serde_json::json!(source))]),
        ..Node::local(name, source)
    }
}

/// Nodes `n0..nN`, each in a random subset of `GROUPS`.
fn grouped_inventory() -> impl Strategy<Value = Inventory> {
    prop::collection::vec(prop::collection::btree_set(0..GROUPS.len(), 0..=3), 1..20).prop_map(
        |memberships| {
            let mut inv = Inventory::default();
            for (i, groups) in memberships.iter().enumerate() {
                let groups: Vec<String> = groups.iter().map(|&g| GROUPS[g].to_string()).collect();
                inv.add(node(&format!("n{i}"), &groups, "test"));
            }
            inv
        },
    )
}

fn names(result: &[std::sync::Arc<Node>]) -> Vec<String> {
    result.iter().map(|n| n.name.clone()).collect()
}

fn members(inv: &Inventory, group: &str) -> BTreeSet<String> {
    inv.groups().get(group).cloned().unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Property 15: any query returns nodes the inventory has; `all` all.
    #[test]
    fn property_15_inventory_interface_returns_nodes(inv in grouped_inventory()) {
        let all = names(&inv.resolve("all").expect("all"));
        let expected: Vec<String> = nodeset::sorted(inv.nodes().map(|n| n.name.as_str()));
        prop_assert_eq!(&all, &expected);
        for name in &expected {
            prop_assert_eq!(names(&inv.resolve(name).expect("by name")), vec![name.clone()]);
        }
    }

    /// Property 16: any node can carry arbitrary group names and is found
    /// by each of them, with `@group` and as a bare Ansible-style name.
    #[test]
    fn property_16_node_grouping_support(groups in prop::collection::btree_set("[a-z][a-z0-9_-]{0,8}", 1..5)) {
        let groups: Vec<String> = groups.into_iter().filter(|g| g != "all").collect();
        let mut inv = Inventory::builtin();
        inv.add(node("target", &groups, "test"));
        for g in &groups {
            let by_at = names(&inv.resolve(&format!("@{g}")).expect("@group"));
            prop_assert!(by_at.contains(&"target".to_string()));
            prop_assert_eq!(names(&inv.resolve(g).expect("bare group")), vec!["target".to_string()]);
        }
    }

    /// Property 17: a group filter returns exactly that group's members.
    #[test]
    fn property_17_group_filtering_correctness(inv in grouped_inventory(), g in 0..GROUPS.len()) {
        let group = GROUPS[g];
        match inv.resolve(&format!("@{group}")) {
            Ok(found) => {
                prop_assert!(found.iter().all(|n| n.groups.iter().any(|x| x == group)));
                let got: BTreeSet<String> = names(&found).into_iter().collect();
                prop_assert_eq!(got, members(&inv, group));
            }
            Err(EngineError::NoMatch { unmatched }) => {
                prop_assert!(members(&inv, group).is_empty());
                prop_assert_eq!(unmatched, vec![format!("@{group}")]);
            }
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
    }

    /// Property 20: a merged query includes the nodes of every source.
    #[test]
    fn property_20_multi_source_aggregation(
        sources in prop::collection::vec((any::<i8>(), prop::collection::btree_set("[a-e][0-3]", 0..6)), 1..5)
    ) {
        let inputs: Vec<(i64, String, Inventory)> = sources.iter().enumerate().map(|(i, (prio, nodes))| {
            let mut inv = Inventory::default();
            for n in nodes {
                inv.add(node(n, &[], "x"));
            }
            (i64::from(*prio), format!("src{i}"), inv)
        }).collect();
        let merged = merge_by_priority(inputs);
        let expected: BTreeSet<String> = sources.iter().flat_map(|(_, n)| n.iter().cloned()).collect();
        let got: BTreeSet<String> = merged.nodes().map(|n| n.name.clone()).collect();
        prop_assert_eq!(got, expected);
    }

    /// Property 21: a node in several sources takes all its data from the
    /// highest-priority one (the later one on ties), which is recorded.
    #[test]
    fn property_21_node_deduplication_with_priority(prios in prop::collection::vec(-3i64..3, 1..6)) {
        let inputs: Vec<(i64, String, Inventory)> = prios.iter().enumerate().map(|(i, &p)| {
            let mut inv = Inventory::default();
            inv.add(node("shared", &[format!("from{i}")], &format!("src{i}")));
            (p, format!("src{i}"), inv)
        }).collect();
        let best = prios.iter().enumerate().max_by_key(|&(i, &p)| (p, i)).map(|(i, _)| i).expect("non-empty");
        let merged = merge_by_priority(inputs);
        let shared = merged.node("shared").expect("shared");
        prop_assert_eq!(&shared.source, &format!("src{best}"));
        prop_assert_eq!(&shared.groups, &vec![format!("from{best}")]);
        prop_assert_eq!(&shared.vars["origin"], &serde_json::json!(format!("src{best}")));
        prop_assert_eq!(merged.groups().len(), 1, "losers' groups do not linger");
    }

    /// Grammar: `expand(fold(names))` through the target grammar selects
    /// exactly the folded nodes.
    /// Building in bulk is adding one by one: a later node of a name
    /// replaces an earlier one, with its groups.
    #[test]
    fn bulk_build_equals_adding_in_turn(
        adds in prop::collection::vec(
            (0..6usize, prop::collection::vec(0..GROUPS.len(), 0..=3), 0..3u8),
            0..30,
        )
    ) {
        let nodes: Vec<Node> = adds
            .iter()
            .map(|(n, groups, src)| {
                let groups: Vec<String> = groups.iter().map(|&g| GROUPS[g].to_string()).collect();
                node(&format!("n{n}"), &groups, &format!("s{src}"))
            })
            .collect();
        let mut one_by_one = Inventory::default();
        for n in nodes.clone() {
            one_by_one.add(n);
        }
        let bulk = Inventory::from_nodes(nodes);
        let listed = |inv: &Inventory| inv.nodes().map(|n| Node::clone(n)).collect::<Vec<_>>();
        prop_assert_eq!(listed(&bulk), listed(&one_by_one));
        prop_assert_eq!(bulk.groups(), one_by_one.groups());
    }

    #[test]
    fn grammar_fold_expand_round_trip(picks in prop::collection::btree_set(0usize..40, 1..15)) {
        let universe: Vec<String> = (1..=30).map(|i| format!("web{i:02}"))
            .chain((1..=5).map(|i| format!("db{i}")))
            .chain(["rack1node01", "rack1node02", "rack2node01", "x", "y-1"].map(String::from))
            .collect();
        let mut inv = Inventory::default();
        for n in &universe {
            inv.add(node(n, &[], "t"));
        }
        let chosen: BTreeSet<&str> = picks.iter().map(|&i| universe[i].as_str()).collect();
        let folded = nodeset::fold(chosen.iter().copied());
        let got = names(&inv.resolve(&folded).expect("folded set resolves"));
        let got_set: BTreeSet<&str> = got.iter().map(String::as_str).collect();
        prop_assert_eq!(got.len(), got_set.len(), "no duplicates");
        prop_assert_eq!(got_set, chosen);
    }

    /// Grammar: ClusterShell's left-to-right operators equal a set model.
    #[test]
    fn grammar_clustershell_rule_matches_set_model(
        inv in grouped_inventory(),
        first in 0..GROUPS.len(),
        rest in prop::collection::vec((0..4usize, 0..GROUPS.len()), 0..4),
    ) {
        let mut expr = format!("@{}", GROUPS[first]);
        let mut model = Some(members(&inv, GROUPS[first]));
        let mut any_empty = model.as_ref().is_some_and(BTreeSet::is_empty);
        for &(op, g) in &rest {
            let right = members(&inv, GROUPS[g]);
            any_empty |= right.is_empty();
            let left = model.take().unwrap_or_default();
            let (sym, next): (char, BTreeSet<String>) = match op {
                0 => (',', left.union(&right).cloned().collect()),
                1 => ('&', left.intersection(&right).cloned().collect()),
                2 => ('!', left.difference(&right).cloned().collect()),
                _ => ('^', left.symmetric_difference(&right).cloned().collect()),
            };
            expr.push(sym);
            expr.push_str(&format!("@{}", GROUPS[g]));
            model = Some(next);
        }
        let expected = model.unwrap_or_default();
        prop_assert_eq!(TargetExpr::parse(&expr).expect("valid").rule(), Rule::ClusterShell);
        check_against_model(&inv, &expr, any_empty, &expected)?;
    }

    /// Grammar: Ansible's rule (unions, then `&`, then `!`) equals a model,
    /// whatever order the items are written in.
    #[test]
    fn grammar_ansible_rule_matches_set_model(
        inv in grouped_inventory(),
        items in prop::collection::vec((0..3usize, 0..GROUPS.len()), 1..5),
    ) {
        let mut parts = Vec::new();
        let (mut unions, mut inters, mut diffs) = (Vec::new(), Vec::new(), Vec::new());
        let mut any_empty = false;
        for &(kind, g) in &items {
            let set = members(&inv, GROUPS[g]);
            any_empty |= set.is_empty();
            let prefix = ["", "&", "!"][kind];
            parts.push(format!("{prefix}{}", GROUPS[g]));
            [&mut unions, &mut inters, &mut diffs][kind].push(set);
        }
        let mut model: BTreeSet<String> = if unions.is_empty() {
            inv.nodes().map(|n| n.name.clone()).collect()
        } else {
            unions.into_iter().flatten().collect()
        };
        for s in inters {
            model = model.intersection(&s).cloned().collect();
        }
        for s in diffs {
            model = model.difference(&s).cloned().collect();
        }
        let expr = parts.join(":");
        if parts.len() > 1 {
            prop_assert_eq!(TargetExpr::parse(&expr).expect("valid").rule(), Rule::Ansible);
        }
        check_against_model(&inv, &expr, any_empty, &model)?;
    }

    /// No input makes parsing or selection panic.
    #[test]
    fn grammar_never_panics(expr in "[a-z0-9@~:,&!^*?\\[\\]\\-/()|\\\\.$ ]{0,24}") {
        let mut inv = Inventory::builtin();
        inv.add(node("web01", &["web".into()], "t"));
        let _ = select(&inv, &expr);
        let _ = inv.resolve(&expr);
    }

    /// No file content makes the Ansible (INI, YAML) or Bolt readers panic:
    /// they load or return an error.
    #[test]
    fn parsers_never_panic(text in "([a-z0-9_:=\\[\\]{}'\" ,#;.~!&*|>-]{0,12}\n){0,6}") {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in ["hosts.ini", "hosts.yml", "hosts"] {
            let path = dir.path().join(name);
            std::fs::write(&path, &text).expect("write");
            if let Ok(inv) = ansible::load(&path) {
                let _ = ansible::to_ansible_json(&inv);
                let _ = inv.to_inventory();
            }
            std::fs::remove_file(&path).expect("rm");
        }
        if let Ok(inv) = bolt::parse(&text, std::path::Path::new("inventory.yaml")) {
            let _ = inv.to_inventory();
        }
    }

    /// Property 23: Ansible inventory data maps onto drover's node fields.
    #[test]
    fn property_23_inventory_format_mapping(
        hosts in prop::collection::vec(
            (prop::option::of(1u16..), prop::option::of("[a-z]{1,6}"), any::<bool>(), 0..GROUPS.len()), 1..6)
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut ini = String::new();
        for (i, (port, user, local, g)) in hosts.iter().enumerate() {
            ini.push_str(&format!("[{}]\nh{i} ansible_host=10.0.0.{i}", GROUPS[*g]));
            if let Some(p) = port { ini.push_str(&format!(" ansible_port={p}")); }
            if let Some(u) = user { ini.push_str(&format!(" ansible_user={u}")); }
            if *local { ini.push_str(" ansible_connection=local"); }
            ini.push('\n');
        }
        ini.push_str("[top:children]\ng0\ng1\ng2\ng3\n[g0]\n[g1]\n[g2]\n[g3]\n");
        let path = dir.path().join("hosts.ini");
        std::fs::write(&path, ini).expect("write");
        let inv = ansible::load(&path).expect("load").to_inventory();
        prop_assert_eq!(inv.len(), hosts.len());
        for (i, (port, user, local, g)) in hosts.iter().enumerate() {
            let n = inv.node(&format!("h{i}")).expect("host");
            prop_assert_eq!(n.address.clone(), Some(format!("10.0.0.{i}")));
            prop_assert_eq!(n.port, *port);
            prop_assert_eq!(&n.user, user);
            prop_assert_eq!(n.transport.as_str(), if *local { "local" } else { "ssh" });
            prop_assert_eq!(&n.groups, &vec![GROUPS[*g].to_string(), "top".to_string()]);
        }
    }
}

fn check_against_model(
    inv: &Inventory,
    expr: &str,
    any_empty: bool,
    expected: &BTreeSet<String>,
) -> Result<(), TestCaseError> {
    match select(inv, expr) {
        Ok(found) => {
            prop_assert!(!any_empty, "{expr}: a term matching nothing must fail");
            let got = names(&found);
            // Inventory order: `nodeset -e`'s under ClusterShell's rule
            // (`n9` before `n10`), name order under Ansible's.
            let sorted = match TargetExpr::parse(expr).map(|t| t.rule()) {
                Ok(Rule::Ansible) => {
                    let mut s = got.clone();
                    s.sort();
                    s
                }
                _ => nodeset::sorted(got.iter().map(String::as_str)),
            };
            prop_assert_eq!(&got, &sorted, "group results are in inventory order");
            prop_assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), expected.clone());
        }
        Err(TargetError::NoMatch { parts }) => {
            prop_assert!(
                any_empty || expected.is_empty(),
                "{expr}: unexpected no-match {parts:?}"
            );
        }
        Err(e) => prop_assert!(false, "{expr}: {e}"),
    }
    Ok(())
}

fn pick(inv: &Inventory, expr: &str) -> Vec<String> {
    names(&inv.resolve(expr).unwrap_or_else(|e| panic!("{expr}: {e}")))
}

fn example_inventory() -> Inventory {
    let mut inv = Inventory::default();
    for (name, groups) in [
        ("web01", vec!["web", "prod"]),
        ("web02", vec!["web", "prod"]),
        ("web03", vec!["web", "staging"]),
        ("db01", vec!["db", "prod"]),
        ("db02", vec!["db", "staging"]),
    ] {
        let groups: Vec<String> = groups.into_iter().map(String::from).collect();
        inv.add(node(
            name,
            &groups,
            if name.starts_with("db") {
                "cmdb"
            } else {
                "ansible"
            },
        ));
    }
    inv
}

#[test]
fn ansible_rule_and_clustershell_rule_examples() {
    let inv = example_inventory();
    // The two rules differ once an operand follows an exclusion.
    assert_eq!(pick(&inv, "@prod!db01,db01"), ["db01", "web01", "web02"]);
    assert_eq!(pick(&inv, "prod:!db01:db01"), ["web01", "web02"]);
    assert_eq!(pick(&inv, "web*:&prod:!web02"), ["web01"]);
    assert_eq!(pick(&inv, "web*,&prod,!web02"), ["web01"]);
    assert_eq!(pick(&inv, "@web&@prod"), ["web01", "web02"]);
    assert_eq!(pick(&inv, "@web^@prod"), ["db01", "web03"]);
    assert_eq!(pick(&inv, "!@web"), ["db01", "db02"]);
    assert_eq!(pick(&inv, "~^db\\d+"), ["db01", "db02"]);
    assert_eq!(pick(&inv, "~(web|db)0[2]$"), ["db02", "web02"]);
    assert_eq!(pick(&inv, "~d{1,2}b,web01"), ["db01", "db02", "web01"]);
    // As `nodeset`: no Ansible subscripts; `web[-1]` is the name `web-1`.
    assert!(matches!(
        inv.resolve("web[0:1]"),
        Err(EngineError::Validation(_))
    ));
    assert!(
        matches!(inv.resolve("web[-1]"), Err(EngineError::NoMatch { unmatched }) if unmatched == ["web-1"])
    );
    assert_eq!(
        pick(&inv, "web0[3,1]"),
        ["web03", "web01"],
        "plain names keep the given order"
    );
    assert_eq!(pick(&inv, "db02,web01"), ["db02", "web01"]);
    assert_eq!(pick(&inv, "@cmdb:prod"), ["db01"]);
    assert_eq!(pick(&inv, "@cmdb:all"), ["db01", "db02"]);
    assert_eq!(pick(&inv, "staging"), ["db02", "web03"]);
}

#[test]
fn unmatched_parts_and_syntax_errors_are_reported() {
    let inv = example_inventory();
    match inv.resolve("web*:!webz:web0[1-5]:@nope") {
        Err(EngineError::NoMatch { unmatched }) => {
            assert_eq!(unmatched, ["web[04-05]", "@nope", "webz"])
        }
        other => panic!("{other:?}"),
    }
    match inv.resolve("@web&@db") {
        Err(EngineError::NoMatch { unmatched }) => assert_eq!(unmatched, ["@web&@db"]),
        other => panic!("{other:?}"),
    }
    match inv.resolve("web*:&prod^db01") {
        Err(EngineError::Validation(fields)) => {
            assert_eq!(fields[0].field, "targets");
            assert!(fields[0].reason.contains("'^'"), "{}", fields[0].reason);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        inv.resolve("web[9]"),
        Err(EngineError::NoMatch { .. })
    ));
    assert!(matches!(
        inv.resolve("web[5:]"),
        Err(EngineError::Validation(_))
    ));
}

#[test]
fn node_sets_after_and_or_not_narrow_without_naming_every_node() {
    let inv = example_inventory();
    assert_eq!(pick(&inv, "@prod&web[01-99]"), ["web01", "web02"]);
    assert_eq!(pick(&inv, "@web!web[02-99]"), ["web01"]);
    assert_eq!(
        pick(&inv, "all:&web[01-99]:!db[01-50]"),
        ["web01", "web02", "web03"]
    );
    // A name may be a group's, as in a plain term.
    assert_eq!(pick(&inv, "@web&prod"), ["web01", "web02"]);
    // One that holds no node at all is a typo, never a silent no-op.
    match inv.resolve("@web!wbe[01-03]") {
        Err(EngineError::NoMatch { unmatched }) => assert_eq!(unmatched, ["wbe[01-03]"]),
        other => panic!("{other:?}"),
    }
}
