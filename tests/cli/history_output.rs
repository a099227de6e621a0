//! `drover history show ID --output -o lines|grouped|json` against a real
//! store written by real runs on local nodes: everything stored, per node, in
//! the formats `drover run` prints, and where a run without `--debug` left
//! bytes out, a notice with how many.

use crate::cli_support;

use cli_support::{Fleet, s};
use serde_json::Value;

const SCRIPT: &str =
    "echo hello; [ $DROVER_NODE = n02 ] && { echo bad >&2; exit 3; }; echo bye; true";

fn ran() -> (Fleet, String) {
    let f = Fleet::nodes(&["n01", "n02", "n03"]);
    f.run("n[01-03]", &["--sequential"], SCRIPT).expect(1);
    let id = s(&f.only_execution(), "id").to_string();
    (f, id)
}

#[test]
fn lines_are_node_colon_line_in_target_order_with_stderr_apart() {
    let (f, id) = ran();
    let shown = f.drover(&["history", "show", &id, "--output", "-o", "lines"]);
    shown.expect(0);
    assert_eq!(
        shown.out(),
        "n01: hello\nn01: bye\nn02: hello\nn03: hello\nn03: bye\n"
    );
    assert_eq!(
        shown.err(),
        "n02: bad\ndrover: n02: Execution: exited with code 3\n\
         drover: partial: 2 of 3 nodes succeeded; 1 failed (n02)\n"
    );
    // --output alone means -o lines.
    assert_eq!(
        f.drover(&["history", "show", &id, "--output"]).out(),
        shown.out()
    );
}

#[test]
fn grouped_folds_identical_outputs_and_keeps_the_failure_apart() {
    let (f, id) = ran();
    let shown = f.drover(&["history", "show", &id, "-o", "grouped"]);
    shown.expect(0);
    assert_eq!(
        shown.out(),
        "---------------\nn[01,03] (2)\n---------------\nhello\nbye\n\
         -------------------\nn02 (1) exit code 3\n-------------------\nhello\n[stderr]\nbad\n"
    );
}

#[test]
fn json_is_one_object_per_line_output_then_each_nodes_result() {
    let (f, id) = ran();
    let shown = f.drover(&["history", "show", &id, "-o", "json"]);
    shown.expect(0);
    let objects: Vec<Value> = shown
        .out_lines()
        .iter()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    let events: Vec<String> = objects
        .iter()
        .map(|o| {
            let what = o.get("line").or(o.get("status")).unwrap();
            format!(
                "{} {} {}",
                s(o, "event"),
                s(o, "node"),
                what.as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            "output n01 hello",
            "output n01 bye",
            "node_result n01 success",
            "output n02 hello",
            "output n02 bad",
            "node_result n02 failed",
            "output n03 hello",
            "output n03 bye",
            "node_result n03 success",
        ]
    );
    assert_eq!(objects[4]["stream"], "stderr");
    assert_eq!(objects[5]["exit_code"], 3);
    assert!(shown.err().is_empty(), "{shown:?}");
}

/// Bytes of `seq 1 N` lines `from..=to`.
fn seq_bytes(from: u64, to: u64) -> u64 {
    (from..=to).map(|i| i.to_string().len() as u64 + 1).sum()
}

#[test]
fn a_run_without_debug_says_where_and_how_much_was_not_stored() {
    let f = Fleet::nodes(&["n01", "n02"]);
    f.run("n[01-02]", &[], "seq 1 100000").expect(0);
    let id = s(&f.only_execution(), "id").to_string();
    let left_out = seq_bytes(21, 99_980);
    let notice = format!(
        "… 574.9 KiB ({},{:03} bytes) not stored; run with --debug to keep everything",
        left_out / 1000,
        left_out % 1000
    );
    assert_eq!(
        left_out, 588_723,
        "the notice's size is written for this count"
    );

    let lines = f.drover(&["history", "show", &id, "-o", "lines"]);
    let out = lines.expect(0).out_lines();
    let mut expected: Vec<String> = Vec::new();
    for node in ["n01", "n02"] {
        expected.extend((1..=20).map(|i| format!("{node}: {i}")));
        expected.push(format!("{node}: {notice}"));
        expected.extend((99_981..=100_000).map(|i| format!("{node}: {i}")));
    }
    assert_eq!(out, expected);

    let grouped = f.drover(&["history", "show", &id, "-o", "grouped"]).out();
    assert!(
        grouped.starts_with("---------------\nn[01-02] (2)\n"),
        "{grouped}"
    );
    assert!(
        grouped.contains(&format!("\n20\n{notice}\n99981\n")),
        "{grouped}"
    );

    let json = f.drover(&["history", "show", &id, "-o", "json"]).out();
    let cut: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|o| o["event"] == "output_not_stored")
        .collect();
    assert_eq!(cut.len(), 2, "{json}");
    assert_eq!(cut[0]["bytes"], left_out);
    assert_eq!(cut[0]["stream"], "stdout");
}

#[test]
fn a_debug_run_is_printed_whole_without_a_notice() {
    let f = Fleet::nodes(&["n01"]);
    f.run("n01", &["--debug"], "seq 1 5000").expect(0);
    let id = s(&f.only_execution(), "id").to_string();
    let out = f
        .drover(&["history", "show", &id, "-o", "lines"])
        .expect(0)
        .out_lines();
    let expected: Vec<String> = (1..=5000).map(|i| format!("n01: {i}")).collect();
    assert_eq!(out, expected);
}
