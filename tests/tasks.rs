//! Bolt tasks through the real binary on local nodes: discovery and help from the
//! metadata, one validation error listing every bad parameter, both input methods,
//! JSON results, redaction of sensitive parameters in history and journals,
//! journal types, noop, and removal of the uploaded script.

mod cli_support;

use cli_support::{Fleet, Out};
use serde_json::Value;
use std::path::Path;

/// A module `demo` with tasks written for these tests, and a config whose task
/// path holds it (before drover's own assets).
fn fleet_with_tasks() -> Fleet {
    let f = Fleet::nodes(&["n1", "n2"]);
    let tasks = f.path("modules/demo/tasks");
    std::fs::create_dir_all(&tasks).unwrap();
    std::fs::write(
        tasks.join("echo.json"),
        r#"{
  "description": "Echo parameters back as JSON.",
  "input_method": "environment",
  "journal_type": "provisioning",
  "parameters": {
    "message": {"type": "String[1]", "description": "What to say."},
    "count": {"type": "Integer[1, 10]", "default": 1},
    "mode": {"type": "Enum[fast, slow]", "default": "fast"},
    "token": {"type": "Optional[String]", "sensitive": true}
  }
}"#,
    )
    .unwrap();
    std::fs::write(
        tasks.join("echo.sh"),
        "#!/bin/sh\nprintf '{\"message\":\"%s\",\"count\":%s,\"mode\":\"%s\",\"token_len\":%s,\"path\":\"%s\",\"task\":\"%s\"}\\n' \
         \"$PT_message\" \"$PT_count\" \"$PT_mode\" \"${#PT_token}\" \"$0\" \"$PT__task\"\n",
    )
    .unwrap();
    std::fs::write(
        tasks.join("stdin.json"),
        r#"{"input_method": "stdin", "parameters": {"items": {"type": "Array[Integer]"}}}"#,
    )
    .unwrap();
    // Echoes its whole stdin back: the JSON document drover sent.
    std::fs::write(tasks.join("stdin.sh"), "#!/bin/sh\ncat\n").unwrap();
    let config = f.path("config/drover");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.toml"),
        format!(
            "[tasks]\npath = [{:?}, {:?}]\n",
            f.path_str("modules"),
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("assets/tasks")
                .display()
                .to_string()
        ),
    )
    .unwrap();
    f
}

fn task_results(out: &Out) -> Vec<Value> {
    out.out()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] == "task_result")
        .collect()
}

#[test]
fn list_and_show_come_from_the_metadata() {
    let f = fleet_with_tasks();
    let out = f.drover(&["task", "list"]);
    out.expect(0);
    let names: Vec<String> = out
        .out_lines()
        .iter()
        .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        .collect();
    for want in ["demo::echo", "demo::stdin", "drover::package"] {
        assert!(names.contains(&want.to_string()), "{want} missing: {out:?}");
    }
    let out = f.drover(&["task", "show", "demo::echo"]);
    out.expect(0);
    let text = out.out();
    for want in [
        "Echo parameters back as JSON.",
        "message  String[1]  (required)",
        "count  Integer[1, 10]  [default: 1]",
        "mode  Enum['fast', 'slow']",
        "token  Optional[String]  (sensitive)",
        "journal: provisioning",
    ] {
        assert!(text.contains(want), "{want:?} not in:\n{text}");
    }
    f.drover(&["task", "show", "demo::nope"])
        .expect(2)
        .err_has("no task \"demo::nope\"");
}

#[test]
fn one_error_lists_every_bad_parameter_and_nothing_runs() {
    let f = fleet_with_tasks();
    let out = f.drover(&[
        "task",
        "run",
        "demo::echo",
        "-t",
        "n1",
        "count=eleven",
        "mode=medium",
        "colour=red",
        "token=s3cret",
    ]);
    out.expect(2);
    let err = out.err();
    for want in [
        "message: is required (String[1]) and missing",
        "count: expects Integer[1, 10], got String \"eleven\"",
        "mode: \"medium\" is not one of fast, slow",
        "colour: not a parameter of demo::echo",
    ] {
        assert!(err.contains(want), "{want:?} not in {err:?}");
    }
    assert_eq!(err.lines().count(), 1, "one error line: {err:?}");
    assert!(!err.contains("s3cret"), "{err:?}");
    assert!(f.history(&[]).is_empty(), "nothing may run");
    f.drover(&[
        "task",
        "run",
        "demo::echo",
        "-t",
        "n1",
        "message=hi",
        "--noop",
    ])
    .expect(2)
    .err_has("does not support noop");
}

#[test]
fn runs_with_environment_input_parses_json_and_redacts_secrets() {
    let f = fleet_with_tasks();
    let tmp = f.path("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let mut cmd = f.cmd(&[
        "task",
        "run",
        "demo::echo",
        "-t",
        "n1,n2",
        "message=it's ok",
        "count=3",
        "token=s3cret-value",
        "-o",
        "json",
    ]);
    cmd.env("TMPDIR", &tmp);
    let out = cli_support::finish(cmd);
    out.expect(0);
    let results = task_results(&out);
    assert_eq!(results.len(), 2, "{out:?}");
    for r in &results {
        let v = &r["value"];
        assert_eq!(v["message"], "it's ok", "{out:?}");
        assert_eq!(v["count"], 3);
        assert_eq!(v["mode"], "fast", "default applied");
        assert_eq!(v["token_len"], 12, "the task sees the secret");
        assert_eq!(v["task"], "demo::echo");
        let path = v["path"].as_str().unwrap();
        assert!(path.starts_with(tmp.to_str().unwrap()), "{path}");
        assert!(
            !Path::new(path).exists(),
            "uploaded script left behind: {path}"
        );
    }
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "temp dirs removed"
    );

    let row = f.only_execution();
    let action = row["action"].as_str().unwrap();
    assert!(action.starts_with("task demo::echo"), "{row}");
    assert!(action.contains("token=[redacted]"), "{row}");
    let everything = format!(
        "{row} {} {}",
        f.show(row["id"].as_str().unwrap()),
        out.out()
    );
    let journal = f.journal("n1");
    assert_eq!(journal.len(), 1, "{journal:?}");
    let entry = &journal[0];
    assert_eq!(entry["entry_type"], "provisioning", "{entry}");
    assert_eq!(entry["execution_id"], row["id"], "{entry}");
    assert_eq!(
        entry["details"]["parameters"]["token"], "[redacted]",
        "{entry}"
    );
    assert_eq!(entry["details"]["value"]["count"], 3, "{entry}");
    assert!(
        !format!("{everything} {journal:?}").contains("s3cret"),
        "secret leaked"
    );
}

#[test]
fn stdin_input_receives_the_parameters_as_one_json_document() {
    let f = fleet_with_tasks();
    let out = f.drover(&[
        "task",
        "run",
        "demo::stdin",
        "-t",
        "n1",
        "items=[1,2,3]",
        "-o",
        "json",
    ]);
    out.expect(0);
    let results = task_results(&out);
    assert_eq!(
        results[0]["value"]["items"],
        serde_json::json!([1, 2, 3]),
        "{out:?}"
    );
    assert_eq!(results[0]["value"]["_task"], "demo::stdin", "{out:?}");
    f.drover(&["task", "run", "demo::stdin", "-t", "n1", "items=[1,\"x\"]"])
        .expect(2)
        .err_has("items: item 1: expects Integer");
}

#[test]
fn drover_package_task_reports_status_into_the_package_journal() {
    let f = fleet_with_tasks();
    let out = f.drover(&[
        "task",
        "run",
        "drover::package",
        "-t",
        "n1",
        "action=status",
        "name=sh-no-such-pkg",
        "-o",
        "json",
    ]);
    out.expect(0);
    let v = &task_results(&out)[0]["value"];
    assert_eq!(v["status"], "absent", "{out:?}");
    assert_eq!(v["changed"], false);
    let out = f.drover(&[
        "task",
        "run",
        "drover::package",
        "-t",
        "n1",
        "action=install",
        "name=sh-no-such-pkg",
        "--noop",
        "-o",
        "json",
    ]);
    out.expect(0);
    assert_eq!(task_results(&out)[0]["value"]["noop"], true, "{out:?}");
    let journal = f.journal("n1");
    assert_eq!(journal.len(), 2, "{journal:?}");
    assert!(
        journal.iter().all(|e| e["entry_type"] == "package"),
        "{journal:?}"
    );
}

#[test]
fn a_sensitive_value_printed_by_the_task_is_redacted_in_its_output() {
    let f = fleet_with_tasks();
    let tasks = f.path("modules/demo/tasks");
    std::fs::write(
        tasks.join("leak.json"),
        r#"{"input_method": "environment",
            "parameters": {"password": {"type": "String[1]", "sensitive": true}}}"#,
    )
    .unwrap();
    std::fs::write(
        tasks.join("leak.sh"),
        "#!/bin/sh\necho \"using $PT_password\"\necho \"bad $PT_password\" >&2\nexit 3\n",
    )
    .unwrap();
    let cmd = f.cmd(&[
        "task",
        "run",
        "demo::leak",
        "-t",
        "n1",
        "password=hunter2-long",
    ]);
    let out = cli_support::finish(cmd);
    assert!(
        out.out().contains("using [redacted]"),
        "output shown redacted: {out:?}"
    );
    let row = f.only_execution();
    out.expect(1);
    let everything = format!(
        "{} {} {} {} {:?}",
        out.out(),
        out.err(),
        row,
        f.show(row["id"].as_str().unwrap()),
        f.journal("n1")
    );
    assert!(
        !everything.contains("hunter2"),
        "secret leaked: {everything}"
    );
}

#[test]
fn a_task_run_with_an_idempotency_key_runs_once() {
    let f = fleet_with_tasks();
    let args = [
        "task",
        "run",
        "demo::echo",
        "-t",
        "n1",
        "message=hi",
        "--idempotency-key",
        "deploy-7",
    ];
    f.drover(&args).expect(0);
    f.drover(&args)
        .expect(0)
        .err_has("succeeded; not run again");
    assert_eq!(f.history(&[]).len(), 1, "the task ran once");
}
