//! Where exec nodes come from: drover YAML nodes and groups, and Ansible
//! inventories that name drover's exec transport with `drover_transport`.

use super::{exec_engine, node, run};
use drover::engine::inventory::{ansible, native};
use drover::engine::{ExecutionOptions, NodeStatus};
use std::path::Path;

const FLEET: &str = r#"
groups:
  boxes:
    transport: exec
    vars: { exec_template: "sh -c {command} {box}", box: from-group }
nodes:
  b1: { groups: [boxes] }
  b2: { groups: [boxes], vars: { box: own } }
  plain: { vars: { box: x } }
"#;

#[test]
fn drover_yaml_groups_give_transport_and_vars_and_nodes_override_them() {
    let inv = native::parse(FLEET, Path::new("fleet.yaml")).expect("parse");
    let b1 = inv.node("b1").expect("b1");
    assert_eq!(b1.transport, "exec");
    assert_eq!(b1.vars["box"], "from-group");
    assert_eq!(inv.node("b2").expect("b2").vars["box"], "own");
    assert_eq!(inv.node("plain").expect("plain").transport, "local");
    let nodes = ["b1", "b2"].map(|n| (**inv.node(n).expect("node")).clone());
    let engine = exec_engine(nodes.to_vec());
    let result = run(
        &engine,
        "echo \"$0\"",
        &["b1", "b2"],
        ExecutionOptions::default(),
    );
    assert_eq!(node(&result, "b1").stdout, "from-group\n");
    assert_eq!(node(&result, "b2").stdout, "own\n");
    assert_eq!(node(&result, "b2").status, NodeStatus::Success);
}

#[test]
fn drover_yaml_refuses_unknown_and_conflicting_transports_by_line() {
    let unknown = "groups:\n  g:\n    transport: dokker\nnodes:\n  n1: { groups: [g] }\n";
    let e = native::parse(unknown, Path::new("f.yaml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("f.yaml:3") && e.contains("group g") && e.contains("dokker"),
        "{e}"
    );
    let clash = "groups:\n  a: { transport: exec }\n  b: { transport: ssh }\n\
                 nodes:\n  n1: { groups: [a, b] }\n";
    let e = native::parse(clash, Path::new("f.yaml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("f.yaml:5") && e.contains("node n1") && e.contains("a and b"),
        "{e}"
    );
}

#[test]
fn ansible_keeps_its_connections_unless_drover_transport_names_exec() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("hosts.ini");
    std::fs::write(
        &path,
        "[pods]\napi1 pod=api-1\nweb1 ansible_connection=docker\n\n[pods:vars]\n\
         drover_transport=exec\nexec_template='kubectl exec -i {pod} -- sh -c {command}'\n\n\
         [other]\nlocal1 ansible_connection=local\nremote1\n",
    )
    .expect("write inventory");
    let inv = ansible::load(&path).expect("load").to_inventory();
    assert_eq!(inv.node("api1").expect("api1").transport, "exec");
    assert_eq!(
        inv.node("api1").expect("api1").vars["exec_template"],
        "kubectl exec -i {pod} -- sh -c {command}"
    );
    assert_eq!(inv.node("web1").expect("web1").transport, "exec");
    assert_eq!(inv.node("local1").expect("local1").transport, "local");
    assert_eq!(inv.node("remote1").expect("remote1").transport, "ssh");
}
