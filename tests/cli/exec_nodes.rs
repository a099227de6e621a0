//! Exec nodes end to end: a drover YAML group with an exec template, run by the
//! real binary, with `-e`, and a node whose template names a var it lacks.

use crate::cli_support::Fleet;

const FLEET: &str = r#"
groups:
  boxes:
    transport: exec
    vars: { exec_template: "sh -c {command} {box}", box: from-group }
nodes:
  b1: { groups: [boxes] }
  b2: { groups: [boxes], vars: { box: "own; echo injected" } }
  broken: { transport: exec, vars: { exec_template: "sh -c {command} {box}" } }
"#;

#[test]
fn run_reaches_exec_nodes_with_their_vars_and_env() {
    let fleet = Fleet::new(FLEET);
    let out = fleet.run(
        "b1,b2",
        &["-e", "GREETING=hello there"],
        "echo \"$GREETING\" \"$0\"",
    );
    out.expect(0);
    let mut lines = out.out_lines();
    lines.sort();
    assert_eq!(
        lines,
        [
            "b1: hello there from-group",
            "b2: hello there own; echo injected"
        ]
    );
}

#[test]
fn a_missing_var_fails_the_node_by_name() {
    let fleet = Fleet::new(FLEET);
    let out = fleet.run("broken", &[], "echo ran");
    assert_ne!(out.code(), 0, "{}", out.err());
    assert!(!out.out().contains("ran"), "{}", out.out());
    out.err_has("node broken").err_has("no var box");
}
