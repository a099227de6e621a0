//! Bolt inventory v2 files mapped onto drover nodes, with Bolt's
//! precedence rules, and malformed files reported with their line.

use drover::engine::inventory::bolt;
use drover::engine::inventory::native::InventoryError;
use serde_json::json;
use std::path::Path;

const PROJECT: &str = r#"
version: 2
config:
  ssh:
    user: everyone
    host-key-check: false
vars:
  site: all
facts:
  os: { family: Linux, release: "9" }
targets:
  - localhost
groups:
  - name: web
    config:
      transport: ssh
      ssh:
        user: deploy
        port: 2200
        private-key: ~/.ssh/web
        proxyjump: bastion.example.com
    vars:
      role: frontend
      site: web
    targets:
      - web1.example.com
      - uri: ssh://admin@10.0.0.5:2222
        name: web2
        alias: [w2, second]
        vars: { role: canary }
        facts: { os: { release: "10" } }
      - name: web3
        config:
          ssh:
            host: 10.0.0.7
    groups:
      - name: web-east
        vars: { site: east }
        targets: [w2, web4.example.com]
  - name: win
    config:
      transport: winrm
      winrm: { user: Administrator }
    targets:
      - winrm://win1.example.com:5986
  - name: later
    vars: { site: later }
    targets: [web1.example.com]
"#;

fn load(text: &str) -> Result<bolt::BoltInventory, InventoryError> {
    bolt::parse(text, Path::new("inventory.yaml"))
}

#[test]
fn targets_groups_and_connection_fields() {
    let inv = load(PROJECT).expect("valid inventory").to_inventory();
    let web1 = inv.node("web1.example.com").expect("string target");
    assert_eq!(web1.transport, "ssh");
    assert_eq!(web1.user.as_deref(), Some("deploy"));
    assert_eq!(web1.port, Some(2200));
    assert_eq!(web1.address, None, "connects to its own name");
    assert_eq!(web1.groups, ["web", "later"]);
    assert_eq!(
        web1.vars["site"],
        json!("web"),
        "earlier sibling group wins"
    );
    let config = &web1.vars["bolt_config"]["ssh"];
    assert_eq!(config["private-key"], json!("~/.ssh/web"));
    assert_eq!(config["proxyjump"], json!("bastion.example.com"));
    assert_eq!(
        config["host-key-check"],
        json!(false),
        "merged deeply from all"
    );
    assert_eq!(web1.vars["bolt_facts"]["os"]["family"], json!("Linux"));

    let web2 = inv.node("web2").expect("named target");
    assert_eq!(web2.address.as_deref(), Some("10.0.0.5"));
    assert_eq!(
        web2.user.as_deref(),
        Some("admin"),
        "URI user cannot be overridden"
    );
    assert_eq!(web2.port, Some(2222));
    assert_eq!(
        web2.vars["role"],
        json!("canary"),
        "target vars beat group vars"
    );
    assert_eq!(web2.vars["site"], json!("east"), "child group beats parent");
    assert_eq!(
        web2.vars["bolt_facts"]["os"],
        json!({"family": "Linux", "release": "10"})
    );
    assert_eq!(web2.vars["bolt_aliases"], json!(["w2", "second"]));
    assert_eq!(web2.groups, ["web-east", "web"]);

    let web3 = inv.node("web3").expect("web3");
    assert_eq!(web3.address.as_deref(), Some("10.0.0.7"), "config.ssh.host");

    let win1 = inv
        .node("winrm://win1.example.com:5986")
        .expect("uri as name");
    assert_eq!(win1.transport, "winrm");
    assert_eq!(win1.address.as_deref(), Some("win1.example.com"));
    assert_eq!(win1.port, Some(5986));
    assert_eq!(win1.user.as_deref(), Some("Administrator"));

    let local = inv.node("localhost").expect("localhost");
    assert_eq!(local.transport, "local");
    assert_eq!(local.groups, Vec::<String>::new());
    assert_eq!(local.vars["site"], json!("all"));
    assert_eq!(inv.len(), 6);
}

#[test]
fn aliases_resolve_and_select() {
    let bolt = load(PROJECT).expect("valid");
    assert_eq!(bolt.resolve_alias("second"), Some("web2"));
    let inv = bolt.to_inventory();
    let east: Vec<String> = inv
        .resolve("@web-east")
        .expect("group")
        .iter()
        .map(|n| n.name.clone())
        .collect();
    assert_eq!(east, ["web2", "web4.example.com"]);
}

#[test]
fn malformed_inventories_name_the_line() {
    let cases: &[(&str, u64, &str)] = &[
        (
            "groups:\n  - name: Web\n    targets: [a]\n",
            2,
            "invalid group name",
        ),
        ("groups:\n  - targets: [a]\n", 2, "does not have a name"),
        ("nodes: [a]\n", 1, "v1"),
        (
            "groups:\n  - name: web\n    target: [a]\n",
            3,
            "unexpected key 'target'",
        ),
        (
            "targets:\n  - uri: ssh://host:notaport\n",
            2,
            "invalid port",
        ),
        (
            "targets:\n  - name: a\n    vars: [1]\n",
            3,
            "vars must be a mapping",
        ),
        ("groups:\n  - name: web\n  - name: web\n", 3, "conflicts"),
        (
            "groups:\n  - name: a\n    targets: [{name: a}]\n",
            3,
            "conflicts",
        ),
        ("targets:\n  - {name: t1, alias: Bad}\n", 2, "invalid alias"),
        ("version: 1\n", 1, "version 2"),
        ("targets:\n  - _plugin: terraform\n", 2, "_plugin"),
        ("vars:\n  x: {_plugin: env_var}\n", 2, "_plugin"),
        ("groups: [\n", 1, ""),
    ];
    for (text, line, reason) in cases {
        match load(text) {
            Err(InventoryError::Invalid {
                line: got,
                reason: why,
                ..
            }) => {
                assert!(
                    got == *line && why.contains(reason),
                    "{text:?}: line {got}: {why}"
                );
            }
            other => panic!("{text:?}: expected an error, got {other:?}"),
        }
    }
}

#[test]
fn empty_file_is_an_empty_inventory() {
    assert!(load("").expect("empty").to_inventory().is_empty());
}
