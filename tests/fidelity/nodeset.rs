//! `fold` and `expand` must be inverses, stable, and total on hostile input;
//! `NodeSet::contains` must agree with `expand`.

use crate::prereq;

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

// ------------------------------------------------ compared with `nodeset` ---

use drover::engine::inventory::nodeset::sorted;
use drover::engine::inventory::targets::{TargetError, TargetExpr};
use drover::engine::inventory::{Inventory, Node};
use std::process::Command;

/// ClusterShell's `nodeset` (the reference), found as tests/prereq finds
/// it: its absence fails under `DROVER_REQUIRE_FLEET=1`.
fn nodeset_cli() -> Option<std::path::PathBuf> {
    prereq::nodeset_command().map(|(path, _)| path)
}

/// `nodeset FLAG EXPR`: its stdout, or its stderr when it refuses.
fn reference(cli: &std::path::Path, flag: &str, expr: &str) -> Result<String, String> {
    let out = Command::new(cli)
        .args([flag, expr])
        .output()
        .expect("run nodeset");
    let text = |b: &[u8]| String::from_utf8_lossy(b).trim().to_string();
    if out.status.success() {
        Ok(text(&out.stdout))
    } else {
        Err(text(&out.stderr))
    }
}

/// The forms named in the issue: multi-dimensional sets, digits before a
/// bracket, `%` in names, spaces in brackets, mixed padding, steps.
const CORPUS: &[&str] = &[
    "da[1-3]c[1-2]",
    "prod-2[10-32]",
    "n[ 1-3 ]",
    "n[1 - 3]",
    "a%b[1-2]",
    "b2,a10,a9,a1",
    "n[01-03],n[1-3]",
    "web[01-12,15]",
    "rack[1-2]node[01-04]",
    "r1n2,r1n1,r2n1,r2n2,r3n1",
    "n[1-9/2]",
    "x[08-11]y",
    "n1-ib,n2-ib,n1",
    "n[9-10],n[08-10]",
    "web,web1,web2,db",
];

#[test]
fn fold_order_and_count_equal_nodeset() {
    let Some(cli) = nodeset_cli() else { return };
    for expr in CORPUS {
        let names = expand(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        let ours_e = sorted(names.iter().map(String::as_str)).join(" ");
        assert_eq!(Ok(ours_e), reference(&cli, "-e", expr), "nodeset -e {expr}");
        let ours_f = fold(names.iter().map(String::as_str));
        assert_eq!(Ok(ours_f), reference(&cli, "-f", expr), "nodeset -f {expr}");
        let count = names.iter().collect::<BTreeSet<_>>().len().to_string();
        assert_eq!(Ok(count), reference(&cli, "-c", expr), "nodeset -c {expr}");
    }
}

#[test]
fn expressions_nodeset_rejects_are_rejected() {
    let Some(cli) = nodeset_cli() else { return };
    for expr in [
        "node1,,node2",
        ",node1",
        "n[1-2],",
        "n[9-1]",
        "n[08-100]",
        "n[01-3]",
        "a[1,]",
        "n[1-3",
        "n1]",
        "n[1--3]",
        "n[--1]",
        "n[-1-]",
        "n[-03--01]",
        "n[-3--5]",
        "web[1:2]",
        "web[0:]",
        "n[1 0-12]",
    ] {
        let why = reference(&cli, "-e", expr).expect_err(expr);
        assert!(why.contains("Parse error"), "nodeset on {expr}: {why}");
        let ours = TargetExpr::parse(expr).err();
        assert!(
            matches!(ours, Some(TargetError::Syntax { .. })),
            "{expr}: drover gave {ours:?}, nodeset refused it: {why}"
        );
    }
}

/// Negative bounds and spaces inside brackets: the same names, in the
/// order `nodeset -e` lists the expression, and the same count.
#[test]
fn negative_ranges_and_spaces_expand_as_nodeset() {
    let Some(cli) = nodeset_cli() else { return };
    for expr in [
        "n[-1-3]",
        "n[-3--1]",
        "n[-1]",
        "web[-1]",
        "n[-10-1/3]",
        "n[-0]",
        "n[- 1-3]",
        "n[-1 -3]",
        "n[ 1-3 ]",
        "n[1-3/ 2]",
        "n[\t1-2]",
        "x[-2-0]y[1-2]",
    ] {
        let expr = expr.to_string();
        let names = expand(&expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        assert_eq!(
            Ok(names.join(" ")),
            reference(&cli, "-e", &expr),
            "nodeset -e {expr:?}"
        );
        let count = names.iter().collect::<BTreeSet<_>>().len().to_string();
        assert_eq!(
            Ok(count),
            reference(&cli, "-c", &expr),
            "nodeset -c {expr:?}"
        );
    }
}

/// Names with digits in one or two places, padding, and `%`.
fn multi_axis_name() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["n", "da", "r", "x%y", "web-"]),
        0u32..12,
        0usize..3,
        prop::sample::select(vec!["", "c", "-ib", "node"]),
        0u32..6,
    )
        .prop_map(|(prefix, a, width, mid, b)| {
            if mid.is_empty() {
                format!("{prefix}{a:0width$}")
            } else {
                format!("{prefix}{a:0width$}{mid}{b}")
            }
        })
}

#[test]
fn generated_name_sets_fold_and_order_as_nodeset() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let strategy = prop::collection::btree_set(multi_axis_name(), 1..40);
    let mut runner = TestRunner::deterministic();
    let cases = 200;
    let mut sets = Vec::with_capacity(cases);
    for _ in 0..cases {
        let set = strategy.new_tree(&mut runner).expect("generate").current();
        sets.push(set.into_iter().collect::<Vec<_>>().join(","));
    }
    // One ClusterShell process for every case: a `nodeset` per case would
    // take minutes.
    let driver = "import sys\nfrom ClusterShell.NodeSet import NodeSet\n\
                  for line in sys.stdin:\n    ns = NodeSet(line.strip())\n    \
                  print(str(ns) + '\\t' + ' '.join(ns))\n";
    // The interpreter `nodeset` itself runs on, which has the module.
    let Some(answers) = prereq::clustershell_driver(driver, &sets, None) else {
        return;
    };
    let mut agree = 0;
    for (set, answer) in sets.iter().zip(answers) {
        let names: Vec<&str> = set.split(',').collect();
        let ours = format!(
            "{}\t{}",
            fold(names.iter().copied()),
            sorted(names).join(" ")
        );
        assert_eq!(ours, answer, "names {set}");
        agree += 1;
    }
    eprintln!("{agree} generated name sets compared with ClusterShell: {agree} agree");
}

#[test]
fn an_absurd_node_set_is_refused_naming_it() {
    let inv = Inventory::from_nodes([Node::local("node1", "test")]);
    let err = drover::engine::inventory::targets::select(&inv, "node[1-9999999]").err();
    let Some(TargetError::Syntax { part, reason }) = err else {
        panic!("expected a refusal, got {err:?}");
    };
    assert_eq!(part, "node[1-9999999]");
    assert!(reason.contains("more than 1000000 names"), "{reason}");
}

/// One bracket's range, well or badly formed: bounds with signs, padding,
/// steps and spaces in every combination `nodeset` has a rule for.
fn range_spec() -> impl Strategy<Value = String> {
    let sign = prop_oneof![
        6 => Just(""),
        2 => Just("-"),
        1 => prop::sample::select(vec![" -", "- ", " "]),
    ];
    let width = prop_oneof![4 => Just(0usize), 1 => 1usize..4];
    let step = prop_oneof![
        4 => Just(""),
        2 => prop::sample::select(vec!["/2", "/3", "/ 2"]),
        1 => prop::sample::select(vec!["/0", "/x", "/-1"]),
    ];
    let ordered = (sign.clone(), 0i32..20, 0i32..8, width.clone(), step.clone()).prop_map(
        |(sign, a, len, width, step)| {
            let a = if sign.contains('-') { -a } else { a };
            let b = a + len;
            let show = |v: i32| {
                if v < 0 {
                    format!("{sign}{:0width$}", -v)
                } else {
                    format!("{v:0width$}")
                }
            };
            format!("{}-{}{step}", show(a), show(b))
        },
    );
    let bound = (sign, 0u32..25, width).prop_map(|(sign, n, width)| format!("{sign}{n:0width$}"));
    prop_oneof![
        4 => ordered,
        2 => (bound.clone(), bound.clone(), step).prop_map(|(a, b, s)| format!("{a}-{b}{s}")),
        2 => bound,
        1 => prop::sample::select(vec!["", " ", "a", "1-", "--1", "1:2", "1 0", "5/2"])
            .prop_map(String::from),
    ]
}

fn node_set_expr() -> impl Strategy<Value = String> {
    let item = (
        prop::sample::select(vec!["n", "x%y", "prod-2", "a", "r1n"]),
        prop::collection::vec(range_spec(), 1..3),
        prop::sample::select(vec!["", "-ib", "c"]),
    )
        .prop_map(|(prefix, ranges, suffix)| format!("{prefix}[{}]{suffix}", ranges.join(",")));
    prop::collection::vec(item, 1..3).prop_map(|items| items.join(","))
}

/// Generated node sets, valid and not: drover accepts exactly what
/// `nodeset` accepts, and then holds the same names.
#[test]
fn generated_node_sets_accepted_and_expanded_as_nodeset() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let strategy = node_set_expr();
    let mut runner = TestRunner::deterministic();
    let exprs: Vec<String> = (0..500)
        .map(|_| strategy.new_tree(&mut runner).expect("generate").current())
        .collect();
    let driver = "import sys\nfrom ClusterShell.NodeSet import NodeSet\n\
                  for line in sys.stdin:\n    try:\n        \
                  print(' '.join(sorted(NodeSet(line.rstrip('\\n')))))\n    \
                  except Exception as e:\n        print('ERR ' + str(e).replace('\\n', ' '))\n";
    let Some(answers) = prereq::clustershell_driver(driver, &exprs, None) else {
        return;
    };
    let (mut accepted, mut refused, mut ambiguous) = (0, 0, 0);
    for (expr, answer) in exprs.iter().zip(answers) {
        match (expand(expr), answer.strip_prefix("ERR ")) {
            (Ok(names), None) => {
                let mut names = names;
                names.sort();
                assert_eq!(names.join(" "), answer, "{expr:?}");
                accepted += 1;
            }
            (Err(_), Some(_)) => {
                assert!(
                    matches!(TargetExpr::parse(expr), Err(TargetError::Syntax { .. })),
                    "{expr:?} refused by expand but not as a target"
                );
                refused += 1;
            }
            // Refused on purpose: nodeset glues `2` to `-22` (see README).
            (Err(e), None)
                if matches!(
                    e.kind,
                    NodeSetErrorKind::NegativeAfterDigits | NodeSetErrorKind::GluedDigits
                ) =>
            {
                ambiguous += 1
            }
            (ours, theirs) => panic!("{expr:?}: drover {ours:?}, nodeset {theirs:?}"),
        }
    }
    eprintln!(
        "{} generated node sets compared with ClusterShell: {accepted} accepted and \
         {refused} refused by both, {ambiguous} refused by drover only (digits glued to a bracket)",
        exprs.len()
    );
}
