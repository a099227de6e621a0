//! The `exec` transport against real programs: `sh -c {command}` templates, a
//! network namespace the test creates, hostile commands and var values, exit
//! codes, timeouts and cancels that leave no process behind, and the errors a
//! bad template or a missing var gives before anything runs.

mod inventory;
mod quoting;
mod stop;

use crate::common::{ctx, request, runtime, within};
use drover::engine::transport::TransportRegistry;
use drover::engine::transport::exec::ExecTransport;
use drover::engine::{
    Engine, EngineConfig, ErrorCategory, ExecutionOptions, ExecutionResult, Inventory, Node,
    NodeResult, NodeStatus,
};
use std::time::Duration;

/// A node of transport `exec` with `template` and `vars`.
pub fn exec_node(name: &str, template: &str, vars: &[(&str, &str)]) -> Node {
    let mut node = Node::local(name, "test");
    node.transport = "exec".into();
    node.vars
        .insert("exec_template".into(), serde_json::Value::from(template));
    for (k, v) in vars {
        node.vars.insert(k.to_string(), serde_json::Value::from(*v));
    }
    node
}

pub fn exec_engine(nodes: Vec<Node>) -> Engine {
    let mut registry = TransportRegistry::default();
    let transport = ExecTransport::new(Duration::from_millis(500)).expect("exec transport");
    registry.register(std::sync::Arc::new(transport));
    let mut inventory = Inventory::default();
    for node in nodes {
        inventory.add(node);
    }
    Engine::new(EngineConfig::default(), inventory, registry, None)
}

/// Runs `command` on `targets` with full output kept.
pub fn run(
    engine: &Engine,
    command: &str,
    targets: &[&str],
    options: ExecutionOptions,
) -> ExecutionResult {
    let targets: Vec<String> = targets.iter().map(|t| t.to_string()).collect();
    let options = ExecutionOptions {
        debug: true,
        ..options
    };
    let result = runtime().block_on(async {
        within(
            "run",
            crate::common::run(engine, request(command, &targets, options), ctx("u")),
        )
        .await
        .expect("run within the limit")
        .expect("run")
    });
    (*result).clone()
}

pub fn node<'a>(result: &'a ExecutionResult, name: &str) -> &'a NodeResult {
    result.node(name).expect("node result")
}

#[test]
fn sh_template_streams_output_and_reports_exit_codes() {
    let nodes = (0..4)
        .map(|i| {
            exec_node(
                &format!("c{i}"),
                "sh -c {command} {code}",
                &[("code", &i.to_string())],
            )
        })
        .collect();
    let engine = exec_engine(nodes);
    // `$0` is the word after the command: the node's own var.
    let result = run(
        &engine,
        "echo out-$0; echo err-$0 >&2; exit $0",
        &["c0", "c1", "c2", "c3"],
        ExecutionOptions::default(),
    );
    for i in 0..4 {
        let r = node(&result, &format!("c{i}"));
        assert_eq!(r.stdout, format!("out-{i}\n"));
        assert_eq!(r.stderr, format!("err-{i}\n"));
        assert_eq!(r.exit_code, Some(i));
        let want = if i == 0 {
            NodeStatus::Success
        } else {
            NodeStatus::Failed
        };
        assert_eq!(r.status, want, "c{i}");
    }
}

#[test]
fn a_killed_command_reports_its_signal() {
    let engine = exec_engine(vec![exec_node("c", "sh -c {command}", &[])]);
    let result = run(&engine, "kill -9 $$", &["c"], ExecutionOptions::default());
    let r = node(&result, "c");
    assert_eq!(r.status, NodeStatus::Failed);
    assert_eq!(r.signal, Some(9));
}

/// Removes the namespace when the test ends, however it ends.
struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &self.0])
            .status();
    }
}

#[test]
fn netns_template_runs_the_command_inside_the_namespace() {
    if !nix::unistd::geteuid().is_root() {
        crate::prereq::missing("creating a network namespace needs root");
        return;
    }
    let name = format!("drover-exec-{}", std::process::id());
    let added = std::process::Command::new("ip")
        .args(["netns", "add", &name])
        .status()
        .expect("run ip netns add");
    assert!(added.success(), "ip netns add {name} failed");
    let _guard = Netns(name.clone());
    let engine = exec_engine(vec![exec_node(
        "ns1",
        "ip netns exec {netns} sh -c {command}",
        &[("netns", &name)],
    )]);
    let result = run(
        &engine,
        "readlink /proc/self/ns/net; ip -o link",
        &["ns1"],
        ExecutionOptions::default(),
    );
    let r = node(&result, "ns1");
    assert_eq!(r.status, NodeStatus::Success, "{r:?}");
    let mut lines = r.stdout.lines();
    let inside = lines.next().expect("namespace line");
    let ours = std::fs::read_link("/proc/self/ns/net").expect("our namespace");
    assert_ne!(
        inside,
        ours.to_string_lossy(),
        "the command ran in our namespace"
    );
    let links: Vec<&str> = lines.collect();
    assert_eq!(links.len(), 1, "links: {links:?}");
    assert!(links[0].contains(": lo:"), "links: {links:?}");
}

#[test]
fn missing_vars_and_bad_placeholders_fail_before_anything_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let marker = dir.path().join("ran");
    let nodes = vec![
        exec_node(
            "missing",
            "docker exec -i {container} sh -c {command}",
            &[("pod", "p")],
        ),
        exec_node("typo", "sh -c {command} {contianer}", &[("container", "x")]),
        exec_node("malformed", "sh -c {command} {}", &[]),
        exec_node("no-command", "sh -c 'touch ran'", &[]),
        {
            let mut n = exec_node("no-template", "", &[]);
            n.vars.remove("exec_template");
            n
        },
    ];
    let engine = exec_engine(nodes);
    let command = format!("touch {}", marker.display());
    let all = ["missing", "typo", "malformed", "no-command", "no-template"];
    let result = run(&engine, &command, &all, ExecutionOptions::default());
    let wants: [&[&str]; 5] = [
        &[
            "node missing",
            "{container}",
            "no var container",
            "docker exec -i {container}",
            "pod",
        ],
        &[
            "node typo",
            "{contianer}",
            "no var contianer",
            "sh -c {command} {contianer}",
        ],
        &["node malformed", "{}", "not a placeholder"],
        &["node no-command", "has no {command}"],
        &["node no-template", "needs the var exec_template"],
    ];
    for (name, needles) in all.iter().zip(wants) {
        let r = node(&result, name);
        assert_eq!(r.status, NodeStatus::Failed, "{name}");
        let e = r.error.as_ref().expect("error");
        assert_eq!(e.category, ErrorCategory::Validation, "{name}: {e:?}");
        for needle in needles {
            assert!(
                e.reason.contains(needle),
                "{name}: {:?} lacks {needle:?}",
                e.reason
            );
        }
    }
    assert!(
        !marker.exists(),
        "a command ran on a node that failed its check"
    );
}

#[test]
fn env_reaches_the_command_through_stdin_and_never_an_argv() {
    let engine = exec_engine(vec![
        exec_node("piped", "sh -c {command}", &[]),
        // Runs the command with stdin closed: the variables cannot arrive.
        exec_node(
            "deaf",
            "sh -c {shell} drover {command}",
            &[("shell", "exec </dev/null; sh -c \"$1\"")],
        ),
    ]);
    let value = "it's \"quoted\" $(not run)\nline two";
    let env = [("DRV_A".to_string(), value.to_string())]
        .into_iter()
        .collect();
    let options = ExecutionOptions {
        env,
        ..Default::default()
    };
    let command = "printf '%s|' \"$DRV_A\"; ps -o args= -p $$; cat";
    let result = run(&engine, command, &["piped", "deaf"], options);
    let r = node(&result, "piped");
    assert_eq!(r.status, NodeStatus::Success, "{r:?}");
    let (printed, rest) = r.stdout.split_once('|').expect("value then |");
    assert_eq!(printed, value);
    assert!(
        !rest.contains("quoted"),
        "the value is in an argv: {rest:?}"
    );
    let d = node(&result, "deaf");
    assert_eq!(d.status, NodeStatus::Failed);
    assert_eq!(d.exit_code, Some(125));
    assert!(d.stderr.contains("must pass stdin on"), "{:?}", d.stderr);
    assert!(d.stdout.is_empty(), "the command ran without its variables");
}
