//! Facts over the SSH transport against real OpenSSH servers (`tests/sshd/`):
//! the built-in gatherer runs as one session per node, command providers run
//! as the node's login user, and the CLI reads facts through `-F`. Needs root;
//! prints SKIPPED lines otherwise.

use crate::cli_support;
use crate::ssh_support;
use crate::sshd;

use cli_support::eventually;
use drover::engine::facts::config::{CommandProviderConfig, OutputFormat};
use drover::engine::facts::{Facts, FactsConfig};
use drover::engine::transport::TransportRegistry;
use drover::engine::transport::interaction::NoInteraction;
use drover::engine::transport::ssh::config::Environment;
use drover::engine::transport::ssh::{SshSettings, SshTransport};
use drover::engine::{Engine, EngineConfig, Inventory, Node};
use serde_json::{Value, json};
use ssh_support::Drover;
use sshd::Fleet;
use std::sync::Arc;
use std::time::Duration;

fn ssh_engine(fleet: &Fleet, home: &std::path::Path) -> Engine {
    let ssh = SshTransport::new(SshSettings {
        config_file: Some(fleet.ssh_config()),
        environment: Environment::new(home, "root"),
        kill_grace: Duration::from_secs(2),
        idle_timeout: Duration::from_secs(600),
        interaction: Arc::new(NoInteraction),
    })
    .expect("ssh transport");
    let mut transports = TransportRegistry::default();
    transports.register(Arc::new(ssh));
    let mut inventory = Inventory::default();
    for alias in fleet.aliases().into_iter().chain(fleet.user_aliases()) {
        let mut n = Node::local(&alias, "test");
        n.transport = "ssh".into();
        n.vars.insert("alias".into(), json!(alias));
        inventory.add(n);
    }
    Engine::new(EngineConfig::default(), inventory, transports, None)
}

/// sshd logs each channel's command at LogLevel VERBOSE.
fn sessions(log: &std::path::Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("Starting session: command"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gatherer_and_command_providers_over_real_sshd() {
    let Some(fleet) = Fleet::or_skip(2) else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let engine = ssh_engine(&fleet, home.path());
    let config = FactsConfig {
        providers: vec![CommandProviderConfig {
            name: "whoami".into(),
            command: "echo \"{\\\"login\\\": \\\"$(id -un)\\\"}\"".into(),
            format: OutputFormat::Json,
            priority: 100,
            keys: vec!["login".into()],
        }],
        ..FactsConfig::default()
    };
    let facts = Arc::new(Facts::from_config(&config, None));
    let before: Vec<usize> = (0..2).map(|i| sessions(&fleet.sshd_log(i))).collect();
    let mut names = fleet.aliases();
    names.push(fleet.user_alias(0));
    let sets = facts.get_many(&engine, &names, false, 8).await;
    let local_kernel = String::from_utf8(
        std::process::Command::new("uname")
            .arg("-r")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    for (i, set) in sets.into_iter().enumerate() {
        let set = set.unwrap();
        assert!(set.failures.is_empty(), "{}: {:?}", set.node, set.failures);
        let host = format!("node00{}", i % 2 + 1);
        assert_eq!(set.get("hostname"), Some(&json!(host)), "{set:?}");
        assert_eq!(set.facts["hostname"].source, "builtin");
        assert_eq!(set.get("kernel"), Some(&json!(local_kernel.trim())));
        assert!(set.get("cpu_count").and_then(Value::as_u64).unwrap() >= 1);
        assert!(set.get("os_family").is_some(), "{set:?}");
        let login = if i < 2 {
            "root".to_string()
        } else {
            sshd::USER.to_string()
        };
        assert_eq!(set.get("login"), Some(&json!(login)));
        assert_eq!(set.facts["alias"].source, "inventory");
    }
    // node002: one session for the gatherer, one for the command provider.
    let log = fleet.sshd_log(1);
    assert!(
        eventually(Duration::from_secs(5), || sessions(&log) >= before[1] + 2),
        "sessions: {}",
        sessions(&log)
    );
    assert_eq!(
        sessions(&log),
        before[1] + 2,
        "the gatherer is one round trip"
    );
}

#[test]
fn cli_facts_over_ssh_and_a_down_node_degrades() {
    let Some(mut fleet) = Fleet::or_skip(2) else {
        return;
    };
    let d = Drover::new();
    let cfg = fleet.ssh_config();
    let out = cli_support::finish(d.cmd(
        &cfg,
        &["facts", "node001,node002", "--key", "hostname", "--json"],
    ));
    out.expect(0);
    let v: Value = serde_json::from_str(&out.out()).unwrap();
    assert_eq!(v["node001"]["facts"]["hostname"]["value"], "node001");
    assert_eq!(v["node002"]["facts"]["hostname"]["source"], "builtin");
    assert_eq!(v["node002"]["facts"]["hostname"]["value"], "node002");

    fleet.stop_node(1);
    let out = cli_support::finish(d.cmd(&cfg, &["facts", "node001,node002", "--refresh"]));
    out.expect(1);
    assert!(out.out().contains("node001  hostname"), "{out:?}");
    assert!(
        out.err()
            .contains("node002: fact provider builtin failed: Connection: "),
        "{out:?}"
    );
}
