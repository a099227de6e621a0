//! Fan-out through a bastion, cold: 50 internal nodes reached with ProxyJump
//! (one shared bastion connection) against `ProxyCommand ssh -W` (one ssh
//! process and one bastion login per node). Prints one `PROXY-BENCH` line; run
//! with `cargo test --test ssh proxy_bench:: -- --ignored --nocapture`.

use crate::ssh_support::Drover;
use crate::sshd::JumpFleet;
use std::path::Path;
use std::time::{Duration, Instant};

const NODES: usize = 50;

/// Wall time of one cold `drover run` (fresh state dir, fresh process) of
/// `hostname` on every internal node; every node must answer.
fn cold_run(cfg: &Path, targets: &str) -> Duration {
    let d = Drover::new();
    let t0 = Instant::now();
    let out = d.run(cfg, targets, &["--fanout", "50"], "hostname");
    let took = t0.elapsed();
    out.expect(0);
    assert_eq!(out.out_lines().len(), NODES, "{out:?}");
    took
}

#[test]
#[ignore = "slow: 50 nodes behind a bastion, a measurement"]
fn fan_out_of_50_through_proxy_command_and_proxy_jump() {
    let Some(jf) = JumpFleet::or_skip(NODES) else {
        return;
    };
    let targets = jf.aliases().join(",");
    let d = Drover::new();
    // 50 handshakes at once on a small shared machine outlast the fleet's 10 s
    // ConnectTimeout (that of `ssh -W` to the bastion too): the wall time is
    // what is measured here, not a deadline.
    let jump_cfg = d.edited_config(&jf.ssh_config(), "cfg-jump", |t| {
        t.replace("ConnectTimeout 10", "ConnectTimeout 120")
    });
    let via_w = format!(
        "ProxyCommand ssh -F {} -W %h:%p bastion",
        jump_cfg.display()
    );
    let cmd_cfg = d.edited_config(&jump_cfg, "cfg-w", |t| {
        t.replace("ProxyJump bastion", &via_w)
    });
    // Alternate, so neither side always runs on a warmer machine.
    let mut jump = Vec::new();
    let mut command = Vec::new();
    for _ in 0..2 {
        jump.push(cold_run(&jump_cfg, &targets));
        command.push(cold_run(&cmd_cfg, &targets));
    }
    let secs = |v: &[Duration]| {
        v.iter()
            .map(|d| format!("{:.2}s", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!(
        "PROXY-BENCH {NODES} nodes, cold wall time: ProxyJump {} | ProxyCommand ssh -W {}",
        secs(&jump),
        secs(&command)
    );
}
