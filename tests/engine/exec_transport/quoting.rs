//! Whatever the command or a var holds reaches the program as one argument,
//! byte for byte: drover runs no shell over the template's words.

use super::{exec_engine, exec_node, node, run};
use crate::common::cases;
use drover::engine::{ErrorCategory, ExecutionOptions, NodeStatus};
use proptest::prelude::*;

/// Prints its first argument (the command) on stdout and its second (the var
/// `hostile`) on stderr, without reading either as shell.
const ECHO: &str = "sh -c 'printf %s \"$1\"; printf %s \"$2\" >&2' drover {command} {hostile}";

fn echoed(command: &str, hostile: &str) -> (String, String) {
    let engine = exec_engine(vec![exec_node("c", ECHO, &[("hostile", hostile)])]);
    let result = run(&engine, command, &["c"], ExecutionOptions::default());
    let r = node(&result, "c");
    assert_eq!(r.status, NodeStatus::Success, "{r:?}");
    (r.stdout.clone(), r.stderr.clone())
}

proptest! {
    #![proptest_config(cases(24))]

    #[test]
    fn any_command_and_var_arrive_byte_identical(
        command in "[^\u{0}]{0,80}",
        hostile in "[^\u{0}]{0,40}",
    ) {
        // The engine refuses a blank command before any transport sees it.
        prop_assume!(!command.trim().is_empty());
        let (out, err) = echoed(&command, &hostile);
        prop_assert_eq!(out, command);
        prop_assert_eq!(err, hostile);
    }
}

#[test]
fn shell_syntax_in_commands_and_vars_runs_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let f = dir.path().join("pwned");
    let f = f.display();
    let attacks = [
        format!("; touch {f}"),
        format!("$(touch {f})"),
        format!("`touch {f}`"),
        format!("'; touch {f}; '"),
        format!("\"; touch {f}; \""),
        format!("x\ntouch {f}\n"),
        format!("{{command}} && touch {f}"),
        format!("a b\tc | touch {f} > {f}"),
    ];
    for attack in &attacks {
        let (out, err) = echoed(attack, attack);
        assert_eq!(&out, attack);
        assert_eq!(&err, attack);
    }
    assert!(!dir.path().join("pwned").exists(), "an attack ran");
}

/// The engine refuses a NUL in the command itself; a var is the node's to check.
#[test]
fn a_nul_byte_in_a_var_is_refused_by_name() {
    let engine = exec_engine(vec![exec_node("c", ECHO, &[("hostile", "a\0b")])]);
    let result = run(&engine, "echo hi", &["c"], ExecutionOptions::default());
    let r = node(&result, "c");
    assert_eq!(r.status, NodeStatus::Failed);
    let e = r.error.as_ref().expect("error");
    assert_eq!(e.category, ErrorCategory::Validation);
    assert!(
        e.reason.contains("node c") && e.reason.contains("NUL"),
        "{}",
        e.reason
    );
    assert!(r.stdout.is_empty(), "it ran: {:?}", r.stdout);
}
