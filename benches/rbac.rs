//! RBAC and redaction costs (plain harness: `cargo bench --bench rbac`).
//!
//! 1. One authorisation of `command.run` over 10,000 nodes by a user whose roles
//!    are limited to groups (target expressions resolved against the inventory),
//!    with allow and deny patterns. Target: < 20 ms (small beside connecting).
//! 2. Streaming redaction of 64 MiB of output in 16 KiB chunks with 3 secrets.
//!    Target: > 200 MiB/s (well above what a fleet's output reaches).

use drover::config::{RbacConfig, RoleConfig};
use drover::engine::inventory::Inventory;
use drover::engine::rbac::{Access, Authorizer, Capability};
use drover::engine::secrets::{Secrets, StreamRedactor};
use drover::engine::{ExecutionContext, Node};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const NODES: usize = 10_000;
const ROUNDS: usize = 5;

fn main() {
    authorisation();
    redaction();
}

fn best(mut f: impl FnMut() -> Duration) -> Duration {
    (0..ROUNDS).map(|_| f()).min().unwrap_or_default()
}

fn authorisation() {
    let mut inv = Inventory::default();
    for i in 0..NODES {
        let mut node = Node::local(&format!("n{i:05}"), "bench");
        node.groups = vec![
            format!("rack{}", i % 10),
            if i % 2 == 0 { "even" } else { "odd" }.into(),
        ];
        inv.add(node);
    }
    let role = |targets: &str| RoleConfig {
        capabilities: vec!["command.run".into()],
        targets: Some(targets.into()),
        allow_commands: vec!["systemctl status".into(), "uptime".into()],
        deny_commands: vec!["reboot".into()],
    };
    let rbac = RbacConfig {
        roles: BTreeMap::from([
            ("evens".to_string(), role("@even")),
            ("odd-racks".to_string(), role("@odd&rack[1-9]")),
        ]),
        users: BTreeMap::from([("ops".to_string(), vec!["evens".into(), "odd-racks".into()])]),
        default_roles: Vec::new(),
    };
    let policy = rbac.policy().expect("policy");
    let names: Vec<String> = inv.nodes().map(|n| n.name.clone()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let ctx = ExecutionContext {
        user: "ops".into(),
        roles: Vec::new(),
        correlation_id: "bench".into(),
    };
    let access = Access {
        capability: &Capability::CommandRun,
        nodes: &names,
        command: Some("systemctl status nginx | uptime"),
    };
    let took = best(|| {
        let start = Instant::now();
        let r = policy.authorize(&ctx, &access, &inv);
        assert!(r.is_ok(), "every node is covered: {r:?}");
        start.elapsed()
    });
    let verdict = if took < Duration::from_millis(20) {
        "ok"
    } else {
        "SLOW"
    };
    println!(
        "authorise command.run on {NODES} nodes (2 group-limited roles): {:.2} ms (target < 20 ms) {verdict}",
        took.as_secs_f64() * 1e3
    );
}

fn redaction() {
    let secrets = Secrets::new(["hunter2-very-secret", "ghp_0123456789abcdef", "p@ss"]);
    let line = b"2026-11-23T17:00:00Z web01 nginx[1234]: GET /index.html 200 p@ss 512 bytes\n";
    let chunk: Vec<u8> = line.iter().copied().cycle().take(16 * 1024).collect();
    let total = 64 * 1024 * 1024;
    let took = best(|| {
        let mut r = StreamRedactor::default();
        let mut out = 0;
        let start = Instant::now();
        for _ in 0..total / chunk.len() {
            out += r.push(&secrets, &chunk).len();
        }
        out += r.finish(&secrets).len();
        assert!(out > total, "p@ss became [redacted]");
        start.elapsed()
    });
    let rate = total as f64 / (1024.0 * 1024.0) / took.as_secs_f64();
    let verdict = if rate > 200.0 { "ok" } else { "SLOW" };
    println!("stream redaction, 3 secrets: {rate:.0} MiB/s (target > 200 MiB/s) {verdict}");
}
