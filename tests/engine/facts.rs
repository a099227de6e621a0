//! Facts over the local transport: the built-in gatherer against what this
//! machine says, command providers (JSON and key=value), inventory vars, the
//! per-key priority merge, degraded answers when a provider fails, and the
//! cache (TTL, --refresh, kept in the store across processes).

use crate::common;

use drover::engine::EngineConfig;
use drover::engine::facts::config::{CommandProviderConfig, OutputFormat};
use drover::engine::facts::{Facts, FactsConfig};
use drover::engine::transport::TransportRegistry;
use drover::engine::{Engine, ErrorCategory, Inventory, Node};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

fn sh(cmd: &str) -> String {
    let out = Command::new("sh").arg("-c").arg(cmd).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn engine_with(nodes: Vec<Node>) -> Engine {
    let mut inv = Inventory::default();
    for n in nodes {
        inv.add(n);
    }
    let mut registry = TransportRegistry::default();
    registry.register(common::local_transport());
    Engine::new(EngineConfig::default(), inv, registry, None)
}

fn provider(
    name: &str,
    command: &str,
    format: OutputFormat,
    priority: i64,
) -> CommandProviderConfig {
    CommandProviderConfig {
        name: name.into(),
        command: command.into(),
        format,
        priority,
        keys: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gatherer_reports_what_this_machine_says() {
    let engine = engine_with(vec![Node::local("here", "test")]);
    let facts = Facts::from_config(&FactsConfig::default(), None);
    let set = facts.get(&engine, "here", false).await.unwrap();
    assert!(set.failures.is_empty(), "{:?}", set.failures);
    let text = |k: &str| set.get(k).and_then(Value::as_str).map(String::from);
    assert_eq!(text("hostname"), Some(sh("hostname || uname -n")));
    assert_eq!(text("kernel"), Some(sh("uname -r")));
    assert_eq!(text("arch"), Some(sh("uname -m")));
    let cpus: u64 = sh("getconf _NPROCESSORS_ONLN").parse().unwrap();
    assert_eq!(set.get("cpu_count"), Some(&json!(cpus)));
    assert!(set.get("memory_mb").and_then(Value::as_u64).unwrap() > 0);
    assert!(set.get("uptime_seconds").and_then(Value::as_u64).is_some());
    assert!(set.get("ip_addresses").unwrap().is_array());
    if Path::new("/etc/os-release").exists() {
        let id = sh(". /etc/os-release && echo \"$ID\"");
        assert_eq!(text("os_id"), Some(id));
        assert!(text("os_family").is_some());
        assert_eq!(
            text("os_version"),
            Some(sh(". /etc/os-release && echo \"$VERSION_ID\"")).filter(|v| !v.is_empty())
        );
    }
    if sh("command -v dpkg-query").is_empty() {
        return;
    }
    assert_eq!(text("package_manager").as_deref(), Some("apt"));
    let count: u64 = sh("dpkg-query -f '.\\n' -W | wc -l").parse().unwrap();
    assert_eq!(set.get("package_count"), Some(&json!(count)));
    assert!(set.facts.values().all(|f| f.source == "builtin"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_merge_key_by_key_by_priority_and_remember_the_source() {
    let mut node = Node::local("n1", "test");
    node.vars.insert("role".into(), json!("inv"));
    node.vars.insert("team".into(), json!("ops"));
    let engine = engine_with(vec![node]);
    let config = FactsConfig {
        providers: vec![
            provider(
                "cmdb",
                r#"printf '{"role": "db", "hostname": "from-cmdb", "node": "%s"}' "$DROVER_NODE""#,
                OutputFormat::Json,
                100,
            ),
            provider(
                "rack",
                "printf 'role=web\\n# note\\nrack = r1\\n'",
                OutputFormat::Kv,
                20,
            ),
        ],
        ..FactsConfig::default()
    };
    let facts = Facts::from_config(&config, None);
    let set = facts.get(&engine, "n1", false).await.unwrap();
    assert!(set.failures.is_empty(), "{:?}", set.failures);
    let got = |k: &str| {
        let f = &set.facts[k];
        (f.value.clone(), f.source.as_str())
    };
    assert_eq!(
        got("hostname"),
        (json!("from-cmdb"), "cmdb"),
        "100 beats builtin's 50"
    );
    assert_eq!(got("role"), (json!("db"), "cmdb"));
    assert_eq!(got("rack"), (json!("r1"), "rack"));
    assert_eq!(
        got("team"),
        (json!("ops"), "inventory"),
        "inventory vars are facts"
    );
    assert_eq!(got("node"), (json!("n1"), "cmdb"));
    assert_eq!(got("kernel").1, "builtin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_provider_degrades_the_answer_and_says_why() {
    let engine = engine_with(vec![Node::local("n1", "test")]);
    let config = FactsConfig {
        providers: vec![
            provider(
                "down",
                "echo 'cmdb unreachable' >&2; exit 3",
                OutputFormat::Json,
                100,
            ),
            provider("prose", "echo hello world", OutputFormat::Json, 100),
            provider("list", "echo '[1, 2]'", OutputFormat::Json, 100),
        ],
        ..FactsConfig::default()
    };
    let facts = Facts::from_config(&config, None);
    let set = facts.get(&engine, "n1", false).await.unwrap();
    assert!(set.get("kernel").is_some(), "the others still answer");
    let reasons: Vec<(String, String)> = set
        .failures
        .iter()
        .map(|f| (f.provider.clone(), f.reason.clone()))
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert_eq!(reasons[0].0, "down");
    assert_eq!(reasons[0].1, "exited with code 3; stderr: cmdb unreachable");
    assert_eq!(reasons[1].0, "list");
    assert!(
        reasons[1].1.contains("not an object (got a list)"),
        "{reasons:?}"
    );
    assert_eq!(reasons[2].0, "prose");
    assert!(reasons[2].1.contains("output is not JSON"), "{reasons:?}");

    // A node whose transport is missing: every transport-backed provider fails
    // with the reason, the inventory vars still answer.
    let mut ghost = Node::local("ghost", "test");
    ghost.transport = "carrier-pigeon".into();
    ghost.vars.insert("site".into(), json!("lab"));
    let engine = engine_with(vec![ghost]);
    let set = Facts::from_config(&FactsConfig::default(), None)
        .get(&engine, "ghost", false)
        .await
        .unwrap();
    assert_eq!(set.get("site"), Some(&json!("lab")));
    assert_eq!(set.failures.len(), 1);
    assert!(
        set.failures[0]
            .reason
            .contains("no transport \"carrier-pigeon\"")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capture_runs_one_command_and_stops_it_at_the_timeout() {
    let engine = engine_with(vec![Node::local("n1", "test")]);
    let node = engine.inventory().node("n1").unwrap().clone();
    let out = engine
        .capture(
            &node,
            "echo out; echo err >&2; exit 7",
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert_eq!(
        (out.stdout.as_slice(), out.stderr.as_slice()),
        (&b"out\n"[..], &b"err\n"[..])
    );
    assert_eq!(out.exit.code, Some(7));
    let e = engine
        .capture(&node, "sleep 30", Duration::from_millis(200))
        .await
        .unwrap_err();
    assert_eq!(e.category, ErrorCategory::Timeout);
    assert_eq!(e.node, "n1");
    assert!(
        engine.executions().is_empty(),
        "a capture is not an execution"
    );
}

fn drover(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("--state-dir")
        .arg(dir.join("state"))
        .arg("--config")
        .arg(dir.join("config.toml"))
        .arg("-i")
        .arg(dir.join("nodes.yaml"))
        .args(args)
        .env("HOME", dir)
        .output()
        .expect("run drover")
}

fn facts_json(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["facts", "--json"];
    all.extend_from_slice(args);
    let out = drover(dir, &all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn cli_serves_the_cache_within_the_ttl_and_refresh_asks_again() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let calls = d.join("calls");
    std::fs::write(
        d.join("nodes.yaml"),
        "nodes:\n  n1: {groups: [lab], vars: {rack: r7}}\n  n2: {groups: [lab]}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("config.toml"),
        format!(
            "[facts]\nttl = \"1h\"\nbuiltin = false\n\n[[facts.providers]]\nname = \"count\"\n\
             command = \"echo $DROVER_NODE >> {}; echo calls=$(wc -l < {})\"\nformat = \"kv\"\n",
            calls.display(),
            calls.display()
        ),
    )
    .unwrap();
    let first = facts_json(d, &["@lab"]);
    assert_eq!(first["n1"]["cached"], false);
    assert_eq!(
        first["n1"]["facts"]["rack"],
        json!({"value": "r7", "source": "inventory"})
    );
    let count = || std::fs::read_to_string(&calls).unwrap().lines().count();
    assert_eq!(count(), 2);
    // A new process: the cache is in the store.
    let second = facts_json(d, &["@lab", "--key", "calls"]);
    assert_eq!(count(), 2, "within the TTL no provider runs");
    assert_eq!(second["n1"]["cached"], true);
    assert_eq!(
        second["n1"]["facts"],
        first["n1"]["facts"]
            .as_object()
            .map(|m| { json!({"calls": m["calls"]}) })
            .unwrap()
    );
    let third = facts_json(d, &["n1", "--refresh"]);
    assert_eq!(count(), 3, "--refresh runs the providers");
    assert_eq!(third["n1"]["cached"], false);
    assert!(third.get("n2").is_none());

    let table = drover(d, &["facts", "n1", "--key", "rack"]);
    assert_eq!(
        String::from_utf8_lossy(&table.stdout),
        "NODE  KEY   VALUE  SOURCE\nn1    rack  r7     inventory\n"
    );
    let none = drover(d, &["facts", "nope"]);
    assert_eq!(none.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&none.stderr).contains("nope"));
}

#[test]
fn cli_exits_1_naming_the_failed_provider_and_still_prints_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("nodes.yaml"), "nodes:\n  n1: {vars: {rack: r7}}\n").unwrap();
    std::fs::write(
        d.join("config.toml"),
        "[facts]\nbuiltin = false\n[[facts.providers]]\nname = \"cmdb\"\ncommand = \"echo no route >&2; exit 2\"\n",
    )
    .unwrap();
    let out = drover(d, &["facts", "n1"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("n1: fact provider cmdb failed: exited with code 2; stderr: no route"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("rack  r7"));
    // Not cached: the next query asks again (and fails again).
    let again = drover(d, &["facts", "n1", "--json"]);
    assert_eq!(again.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(v["n1"]["cached"], false);

    std::fs::write(d.join("config.toml"), "[facts]\nttl = \"soon\"\n").unwrap();
    let bad = drover(d, &["facts", "n1"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("config.toml:2: [facts] ttl"));
}

#[test]
fn facts_of_many_nodes_keep_the_target_order() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let names: Vec<String> = (0..20).map(|i| format!("n{i:02}")).collect();
    let engine = engine_with(names.iter().map(|n| Node::local(n, "t")).collect());
    let config = FactsConfig {
        builtin: false,
        providers: vec![provider("me", "echo me=$DROVER_NODE", OutputFormat::Kv, 1)],
        ..FactsConfig::default()
    };
    let facts = Arc::new(Facts::from_config(&config, None));
    let sets = rt.block_on(facts.get_many(&engine, &names, false, 4));
    let got: Vec<String> = sets
        .into_iter()
        .map(|s| s.unwrap().get("me").unwrap().as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, names);
}
