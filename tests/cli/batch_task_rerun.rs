//! `drover task run --rerun SCOPE ID` on local nodes: the stored task runs again
//! with its stored parameters on the nodes the scope picks, and a task whose
//! sensitive parameter was never stored is refused.

use crate::cli_support;

use cli_support::Fleet;
use serde_json::Value;

/// `demo::flaky` fails on the node named by its `bad` parameter and prints the
/// node and `n` elsewhere; `demo::secret` takes a sensitive parameter.
fn fleet() -> Fleet {
    let f = Fleet::nodes(&["n1", "n2", "n3"]);
    let tasks = f.path("modules/demo/tasks");
    std::fs::create_dir_all(&tasks).unwrap();
    let write = |name: &str, text: &str| {
        let path = tasks.join(name);
        std::fs::write(&path, text).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    write(
        "flaky.json",
        r#"{"input_method": "environment", "parameters": {
            "bad": {"type": "String[1]"}, "n": {"type": "Integer"}}}"#,
    );
    write(
        "flaky.sh",
        "#!/bin/sh\n[ \"$DROVER_NODE\" = \"$PT_bad\" ] && exit 3\nprintf '{\"node\":\"%s\",\"n\":%s}\\n' \"$DROVER_NODE\" \"$PT_n\"\n",
    );
    write(
        "secret.json",
        r#"{"input_method": "environment", "parameters": {
            "token": {"type": "String[1]", "sensitive": true}}}"#,
    );
    write("secret.sh", "#!/bin/sh\nexit 1\n");
    cli_support::bolt_modules::task_config(&f.path("config"), &[&f.path("modules")]);
    f
}

#[test]
fn a_task_reruns_with_its_stored_parameters_on_the_failed_node_only() {
    let f = fleet();
    let first = f.drover(&[
        "task",
        "run",
        "demo::flaky",
        "-t",
        "n[1-3]",
        "bad=n2",
        "n=5",
        "-o",
        "json",
    ]);
    first.expect(1);
    let id = f.latest()["id"].as_str().unwrap().to_string();

    let again = f.drover(&["task", "run", "--rerun", "failed", &id, "-o", "json"]);
    // The parameters are the stored ones: bad=n2 still fails n2.
    again.expect(1);
    let results = again.events("task_result");
    let nodes: Vec<&str> = results
        .iter()
        .map(|r| r["node"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, ["n2"], "{again:?}");
    let rerun = f.latest();
    assert_eq!(rerun["rerun_of"], id.as_str(), "{rerun}");
    assert_eq!(rerun["action"], "task demo::flaky bad=n2 n=5", "{rerun}");
    assert_eq!(rerun["kind"], "task");

    // `all` on every node: n1 and n3 print the stored n.
    let all = f.drover(&["task", "run", "--rerun", "all", &id, "-o", "json"]);
    let values: Vec<Value> = all
        .events("task_result")
        .iter()
        .filter(|r| r["ok"] == true)
        .map(|r| r["value"]["n"].clone())
        .collect();
    assert_eq!(values, [5, 5], "{all:?}");
    // A command run re-runs only with `drover run --rerun`.
    f.drover(&["run", "--rerun", "all", &id])
        .expect(2)
        .err_has("not a command: use drover task run --rerun");
}

#[test]
fn a_task_whose_sensitive_parameter_was_not_stored_is_not_rerun() {
    let f = fleet();
    f.drover(&["task", "run", "demo::secret", "-t", "n1", "token=s3cret"])
        .expect(1);
    let id = f.latest()["id"].as_str().unwrap().to_string();
    let out = f.drover(&["task", "run", "--rerun", "failed", &id]);
    out.expect(2)
        .err_has("token is sensitive and was not stored");
    assert_eq!(f.latest()["id"], id.as_str(), "nothing ran");
}
