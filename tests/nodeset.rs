//! `fold` and `expand` must be inverses, stable, and total on hostile input;
//! `NodeSet::contains` must agree with `expand`.

use std::collections::BTreeSet;

use drover::engine::inventory::nodeset::{NodeSet, NodeSetErrorKind, expand, fold};
use proptest::prelude::*;

/// Names like real inventories have: a few prefixes (one with digits of
/// its own), optional suffix, indexes 0..2000 at random padding widths,
/// and the odd name without any digits.
fn node_name() -> impl Strategy<Value = String> {
    let indexed = (
        prop::sample::select(vec!["web", "db", "n", "rack1node", ""]),
        0u32..2000,
        0usize..6,
        prop::sample::select(vec!["", "-ib", ".lan"]),
    )
        .prop_map(|(prefix, n, width, suffix)| format!("{prefix}{n:0width$}{suffix}"));
    let bare = prop::sample::select(vec!["gateway", "web", "db-master"]).prop_map(String::from);
    prop_oneof![8 => indexed, 1 => bare]
}

fn name_set() -> impl Strategy<Value = BTreeSet<String>> {
    prop::collection::btree_set(node_name(), 0..200)
}

fn expand_set(pattern: &str) -> BTreeSet<String> {
    match expand(pattern) {
        Ok(names) => names.into_iter().collect(),
        Err(e) => panic!("fold produced unexpandable {pattern:?}: {e}"),
    }
}

proptest! {
    #[test]
    fn expand_inverts_fold(set in name_set()) {
        let folded = fold(set.iter().map(String::as_str));
        prop_assert_eq!(expand_set(&folded), set, "folded: {}", folded);
    }

    #[test]
    fn expand_of_fold_has_no_duplicates(set in name_set()) {
        let folded = fold(set.iter().map(String::as_str));
        let names = expand(&folded).unwrap_or_default();
        prop_assert_eq!(names.len(), set.len());
    }

    #[test]
    fn fold_ignores_order_and_duplicates(
        (names, shuffled) in prop::collection::vec(node_name(), 0..100)
            .prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle()))
    ) {
        let mut doubled = shuffled.clone();
        doubled.extend(shuffled.iter().cloned());
        let a = fold(names.iter().map(String::as_str));
        let b = fold(doubled.iter().map(String::as_str));
        prop_assert_eq!(a, b);
    }

    #[test]
    fn fold_is_a_fixed_point(set in name_set()) {
        let once = fold(set.iter().map(String::as_str));
        let names = expand(&once).unwrap_or_default();
        let twice = fold(names.iter().map(String::as_str));
        prop_assert_eq!(once, twice);
    }

    /// Patterns with padding, steps, several ranges and brackets, literals
    /// made of digits: membership holds exactly for the expanded names.
    #[test]
    fn contains_agrees_with_expand(
        pattern in "(n|1|web-|)(\\[(0?[0-9]|1[0-9])(-(0?[0-9]|[1-3][0-9])(/[1-3])?)?(,[0-9]{1,2})?\\])(1|-x|)(\\[[0-9]-1[0-9]\\])?(,n[0-9]{1,3})?",
        probes in prop::collection::vec("(n|1|web-|)[0-9]{0,5}(1|-x|)[0-9]{0,3}", 0..40),
    ) {
        let Ok(names) = expand(&pattern) else { return Ok(()); };
        let set = NodeSet::parse(&pattern).expect("parses like expand");
        for name in &names {
            prop_assert!(set.contains(name), "{} should hold {}", pattern, name);
        }
        let all: BTreeSet<&str> = names.iter().map(String::as_str).collect();
        for probe in &probes {
            prop_assert_eq!(set.contains(probe), all.contains(probe.as_str()), "{} / {}", pattern, probe);
        }
    }

    #[test]
    fn contains_of_fold_is_membership(set in name_set(), probe in node_name()) {
        let folded = fold(set.iter().map(String::as_str));
        let parsed = NodeSet::parse(&folded).expect("fold parses");
        prop_assert_eq!(parsed.contains(&probe), set.contains(&probe));
        for name in &set {
            prop_assert!(parsed.contains(name));
        }
    }

    #[test]
    fn expand_never_panics(s in "\\PC{0,40}") {
        let _ = expand(&s);
    }

    #[test]
    fn expand_never_panics_on_bracket_soup(s in "[a-c0-9\\[\\]\\-,/ ]{0,40}") {
        let _ = expand(&s);
    }
}

#[test]
fn known_folds() {
    assert_eq!(fold(["web01", "web02", "web03", "web07"]), "web[01-03,07]");
    assert_eq!(fold(["n1", "n2", "n10"]), "n[1-2,10]");
    assert_eq!(fold(["web01"]), "web01");
    assert_eq!(fold(["n01", "n1"]), "n[1,01]");
    assert_eq!(fold(["rack1node05", "rack1node06"]), "rack1node[05-06]");
    assert_eq!(
        fold(["db2", "web1", "gateway", "db1"]),
        "db[1-2],gateway,web1"
    );
}

#[test]
fn known_expansions() {
    let exp = |p: &str| expand(p).map_err(|e| e.to_string());
    let names = |v: &[&str]| Ok(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(exp("node[01-10,15]").map(|v| v.len()), Ok(11));
    assert_eq!(exp("n[1-9/2]"), names(&["n1", "n3", "n5", "n7", "n9"]));
    assert_eq!(exp("n[08-11]"), names(&["n08", "n09", "n10", "n11"]));
    assert_eq!(exp("web1,db[1-2]"), names(&["web1", "db1", "db2"]));
    let grid = exp("rack[1-2]node[01-04]").unwrap_or_default();
    assert_eq!(grid.len(), 8);
    assert_eq!(grid.first().map(String::as_str), Some("rack1node01"));
    assert_eq!(grid.get(4).map(String::as_str), Some("rack2node01"));
    assert_eq!(grid.last().map(String::as_str), Some("rack2node04"));
}

#[test]
fn expansion_limit_is_checked_before_allocating() {
    let err = expand("n[1-99999999999]").err().map(|e| e.kind);
    assert_eq!(err, Some(NodeSetErrorKind::TooLarge));
    let ok = expand("n[1-100000]").map(|v| v.len());
    assert_eq!(ok, Ok(100_000));
}

#[test]
fn contains_without_expanding() {
    let holds = |pattern: &str, name: &str| NodeSet::parse(pattern).expect(pattern).contains(name);
    assert!(holds("node[00001-99999]", "node04217"));
    assert!(!holds("node[00001-99999]", "node4217"));
    assert!(!holds("node[00001-99999]", "node00000"));
    assert!(holds("n[1-10]", "n1") && !holds("n[1-10]", "n01"));
    assert!(holds("n[1-10]1", "n11") && holds("n[1-10]1", "n101"));
    assert!(!holds("n[1-10]1", "n111"));
    assert!(holds("n[1-9/2]", "n7") && !holds("n[1-9/2]", "n8"));
    assert!(holds("rack[1-2]node[01-04]", "rack2node03"));
    assert!(!holds("rack[1-2]node[01-04]", "rack3node03"));
    assert!(holds("[1-2][0-9]", "19") && !holds("[1-2][0-9]", "30"));
    assert!(holds("n[18446744073709551615]", "n18446744073709551615"));
    assert!(!holds("n[18446744073709551615]", "n18446744073709551616"));
    assert!(holds("web1, db[1-3] ,gw", "db2") && holds("web1,db[1-3],gw", "gw"));
    assert!(!holds("web1,db[1-3]", "web"));
    let err = NodeSet::parse("n[1-99999999999]").err().map(|e| e.kind);
    assert_eq!(err, Some(NodeSetErrorKind::TooLarge));
}
