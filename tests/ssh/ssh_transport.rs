//! The SSH transport end to end against real OpenSSH servers (`tests/sshd/`):
//! fan-out, streams and exit codes, environment, timeouts and Ctrl-C that end
//! the remote processes, jump hosts through one bastion connection, grouped
//! output and history, and the connection pool. Needs root; prints SKIPPED lines
//! otherwise.

use crate::cli_support;
use crate::ssh_support;
use crate::sshd;

use cli_support::{Running, eventually};
use drover::engine::transport::TransportRegistry;
use drover::engine::transport::interaction::NoInteraction;
use drover::engine::transport::ssh::config::Environment;
use drover::engine::transport::ssh::{SshSettings, SshTransport};
use drover::engine::{
    Engine, EngineConfig, ExecutionOptions, ExecutionRequest, ExecutionStatus, Inventory, Node,
    NodeStatus, Submission,
};
use nix::sys::signal::{Signal, kill};
use ssh_support::{Drover, accepted, accepted_settles, gone, marker, pgrep};
use sshd::{Fleet, JumpFleet, USER};
use std::sync::Arc;
use std::time::{Duration, Instant};

const THREE: &str = "node001,node002,node003";
const LINE_WAIT: Duration = Duration::from_secs(30);

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn runs_on_three_nodes_as_root_and_as_user() {
    let Some(fleet) = Fleet::or_skip(3) else {
        return;
    };
    let d = Drover::new();
    let cfg = fleet.ssh_config();
    let out = d.run(&cfg, THREE, &[], "hostname");
    out.expect(0);
    let want = ["node001: node001", "node002: node002", "node003: node003"];
    assert_eq!(sorted(out.out_lines()), want, "{out:?}");
    assert!(out.err().is_empty(), "{out:?}");

    let users = fleet.user_aliases().join(",");
    let out = d.run(&cfg, &users, &[], "echo $(hostname) $(id -un)");
    out.expect(0);
    let want: Vec<String> = (1..=3)
        .map(|i| format!("user-node00{i}: node00{i} {USER}"))
        .collect();
    assert_eq!(sorted(out.out_lines()), want, "{out:?}");
    let out = d.run(&cfg, "node002", &[], "id -un");
    assert_eq!(out.expect(0).out_lines(), ["node002: root"], "{out:?}");
}

#[test]
fn stdout_stderr_and_exit_codes_per_node() {
    let Some(fleet) = Fleet::or_skip(3) else {
        return;
    };
    let d = Drover::new();
    let cfg = fleet.ssh_config();
    let cmd = "h=$(hostname); echo out-$h; echo err-$h >&2; [ $h != node002 ] || exit 3";
    let out = d.run(&cfg, THREE, &[], cmd);
    out.expect(1);
    let want = [
        "node001: out-node001",
        "node002: out-node002",
        "node003: out-node003",
    ];
    assert_eq!(sorted(out.out_lines()), want, "{out:?}");
    let err = out.err();
    for n in ["node001", "node002", "node003"] {
        assert!(err.contains(&format!("{n}: err-{n}\n")), "{out:?}");
    }
    assert!(!err.contains("DROVER-PGID"), "wrapper leaked: {out:?}");
    let named = err
        .lines()
        .any(|l| l.starts_with("drover: node002: ") && l.contains("code 3"));
    assert!(named, "{out:?}");
    assert!(!err.contains("drover: node001") && !err.contains("drover: node003"));
    let summary = err.lines().last().unwrap_or_default();
    assert!(
        summary.contains("partial") && summary.contains("node002"),
        "{out:?}"
    );

    d.run(&cfg, THREE, &["--max-exit"], cmd).expect(3);
    d.run(&cfg, THREE, &["--max-exit"], "exit 0").expect(0);
}

#[test]
fn env_vars_reach_the_remote_command() {
    let Some(fleet) = Fleet::or_skip(2) else {
        return;
    };
    let d = Drover::new();
    let quoted = r#"it's "quoted" $HOME `id` \n; x"#;
    let flags = [
        "--env",
        "GREETING=hello big   world",
        "--env",
        &format!("QUOTED={quoted}"),
    ];
    let out = d.run(
        &fleet.ssh_config(),
        "node001,user-node002",
        &flags,
        r#"printf '[%s]|[%s]\n' "$GREETING" "$QUOTED""#,
    );
    out.expect(0);
    let want: Vec<String> = ["node001", "user-node002"]
        .iter()
        .map(|n| format!("{n}: [hello big   world]|[{quoted}]"))
        .collect();
    assert_eq!(sorted(out.out_lines()), want, "{out:?}");
}

#[test]
fn timeout_ends_the_remote_processes_for_root_and_user() {
    let Some(fleet) = Fleet::or_skip(2) else {
        return;
    };
    let d = Drover::new();
    let m = marker();
    let cmd = format!("echo started; sleep 300.{m} & sleep 301.{m}");
    let t = Instant::now();
    let targets = "node001,user-node002";
    let r = d.report(&fleet.ssh_config(), targets, &["--timeout", "1s"], &cmd);
    assert_eq!(r.code(), 1, "{r:?}");
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    assert_eq!(r.overall(), "timeout", "{r:?}");
    for n in ["node001", "user-node002"] {
        assert_eq!(r.lines(n, "stdout"), ["started"], "{r:?}");
        assert_eq!(r.status(n), "timeout", "{r:?}");
        assert_eq!(r.error(n).0, "Timeout", "{r:?}");
    }
    let pattern = format!("sleep 30[01]\\.{m}");
    assert!(gone(&pattern), "left running: {:?}", pgrep(&pattern, &[]));
}

#[test]
fn timeout_escalates_to_kill_when_term_is_ignored() {
    let Some(fleet) = Fleet::or_skip(2) else {
        return;
    };
    let d = Drover::new();
    let m = marker();
    // SIG_IGN is inherited: only the KILL after the grace period ends these.
    let cmd = format!("trap '' TERM; echo started; sleep 300.{m} & sleep 301.{m}");
    let targets = "node001,user-node002";
    let r = d.report(&fleet.ssh_config(), targets, &["--timeout", "1s"], &cmd);
    assert_eq!(r.code(), 1, "{r:?}");
    for n in ["node001", "user-node002"] {
        assert_eq!(r.lines(n, "stdout"), ["started"], "{r:?}");
        assert_eq!(r.status(n), "timeout", "{r:?}");
    }
    let pattern = format!("sleep 30[01]\\.{m}");
    assert!(gone(&pattern), "left running: {:?}", pgrep(&pattern, &[]));
}

#[test]
fn ctrl_c_exits_130_and_ends_the_remote_processes() {
    let Some(fleet) = Fleet::or_skip(2) else {
        return;
    };
    let d = Drover::new();
    let m = marker();
    let cmd = format!("echo started; sleep 300.{m} & sleep 301.{m}");
    let mut run = Running::start(d.run_cmd(&fleet.ssh_config(), "node001,user-node002", &[], &cmd));
    run.expect_line(LINE_WAIT, |l| l.ends_with(": started"));
    // The sleeps themselves (not drover's or the shells' command lines): 2 per node.
    let sleeps = format!("^sleep 30[01]\\.{m}$");
    let all_four = eventually(Duration::from_secs(10), || pgrep(&sleeps, &[]).len() == 4);
    assert!(all_four, "remote sleeps: {:?}", pgrep(&sleeps, &[]));
    let t = std::time::Instant::now();
    kill(run.pid(), Signal::SIGINT).expect("SIGINT");
    let (status, lines, err) = run.wait(LINE_WAIT);
    let took = t.elapsed();
    assert_eq!(status.code(), Some(130), "{lines:?} {err}");
    assert!(err.contains("cancel"), "{err}");
    let pattern = format!("sleep 30[01]\\.{m}");
    assert!(gone(&pattern), "left running: {:?}", pgrep(&pattern, &[]));
    println!(
        "FAULT-ROW ctrl-c-ssh: exit 130 in {:.2} s, 0 of 4 remote processes left",
        took.as_secs_f64()
    );
}

#[test]
fn jump_hosts_share_one_bastion_connection() {
    let Some(jf) = JumpFleet::or_skip(3) else {
        return;
    };
    let d = Drover::new();
    let log = jf.bastion_log();
    let before = accepted(&log);
    let out = d.run(&jf.ssh_config(), "int001,int002,int003", &[], "hostname");
    out.expect(0);
    let want = ["int001: int001", "int002: int002", "int003: int003"];
    assert_eq!(sorted(out.out_lines()), want, "{out:?}");
    assert_eq!(
        accepted_settles(&log, before + 1),
        before + 1,
        "bastion logins"
    );
    for i in 0..3 {
        assert_eq!(accepted(&jf.sshd_log(i)), 1, "int00{}", i + 1);
    }
    // The non-root aliases go through the bastion as the non-root user.
    let out = d.run(&jf.ssh_config(), "user-int001,user-int002", &[], "id -un");
    out.expect(0);
    let want = [
        format!("user-int001: {USER}"),
        format!("user-int002: {USER}"),
    ];
    assert_eq!(sorted(out.out_lines()), want, "{out:?}");
}

#[test]
fn grouped_output_folds_ssh_nodes_and_history_lists_them() {
    let Some(fleet) = Fleet::or_skip(3) else {
        return;
    };
    let d = Drover::new();
    let cfg = fleet.ssh_config();
    let cmd = "echo same-output; [ $(hostname) != node003 ] || echo different";
    let out = d.run(&cfg, THREE, &["-o", "grouped"], cmd);
    out.expect(0);
    let text = out.out();
    assert!(text.contains("node[001-002] (2)\n"), "{out:?}");
    assert!(text.contains("node003 (1)\n"), "{out:?}");
    assert_eq!(text.matches("same-output").count(), 2, "{out:?}");
    assert_eq!(text.matches("different").count(), 1, "{out:?}");
    assert!(!text.contains("node001:"), "not folded: {out:?}");

    let id = d.latest_id(&cfg);
    let shown = cli_support::finish(d.cmd(&cfg, &["history", "show", &id]));
    let text = shown.expect(0).out();
    for n in ["node001", "node002", "node003"] {
        let row = text
            .lines()
            .any(|l| l.trim_start().starts_with(n) && l.contains("success"));
        assert!(row, "{n}: {shown:?}");
    }
}

fn ssh_engine(fleet: &Fleet, home: &std::path::Path) -> (Engine, Arc<SshTransport>) {
    let ssh = SshTransport::new(SshSettings {
        config_file: Some(fleet.ssh_config()),
        environment: Environment::new(home, "root"),
        kill_grace: Duration::from_secs(2),
        idle_timeout: Duration::from_secs(600),
        interaction: Arc::new(NoInteraction),
    })
    .expect("ssh transport");
    let ssh = Arc::new(ssh);
    let mut transports = TransportRegistry::default();
    transports.register(ssh.clone());
    let mut inventory = Inventory::default();
    for alias in fleet.aliases() {
        let mut n = Node::local(&alias, "test");
        n.transport = "ssh".into();
        inventory.add(n);
    }
    let engine = Engine::new(EngineConfig::default(), inventory, transports, None);
    (engine, ssh)
}

fn request(targets: &str, command: &str) -> ExecutionRequest {
    ExecutionRequest {
        command: command.into(),
        targets: targets.into(),
        options: ExecutionOptions::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_reuses_connections_and_opens_more_past_its_channel_limit() {
    let Some(fleet) = Fleet::or_skip(3) else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let (engine, ssh) = ssh_engine(&fleet, home.path());
    let logins = || {
        (0..3)
            .map(|i| accepted(&fleet.sshd_log(i)))
            .collect::<Vec<_>>()
    };
    assert_eq!(logins(), [0, 0, 0]);
    for run in 1..=2 {
        let submitted = engine
            .submit(Submission::request(request(THREE, "hostname")))
            .await
            .unwrap();
        let r = engine.wait(&submitted.id).await.unwrap();
        assert_eq!(r.status, ExecutionStatus::Success, "run {run}: {r:?}");
        for n in &r.nodes {
            assert_eq!(n.stdout, format!("{}\n", n.node), "run {run}");
        }
        assert_eq!(logins(), [1, 1, 1], "run {run} connected again");
        assert_eq!(ssh.pool().len(), 3, "run {run}");
    }

    // 15 runs on node001 at once; each waits until all 15 are running, so they
    // only finish if they really run side by side (9 channels per connection).
    let barrier = home.path().join("barrier");
    std::fs::create_dir(&barrier).unwrap();
    let cmd = format!(
        "touch {b}/$$; i=0; while [ $(ls {b} | wc -l) -lt 15 ] && [ $i -lt 400 ]; \
         do sleep 0.05; i=$((i+1)); done; ls {b} | wc -l",
        b = barrier.display()
    );
    let mut ids = Vec::new();
    for _ in 0..15 {
        let submitted = engine
            .submit(Submission::request(request("node001", &cmd)))
            .await
            .unwrap();
        ids.push(submitted.id);
    }
    for id in &ids {
        let r = engine.wait(id).await.unwrap();
        let n = &r.nodes[0];
        assert_eq!(n.status, NodeStatus::Success, "{r:?}");
        assert_eq!(n.stdout.trim(), "15", "runs were not concurrent: {r:?}");
    }
    assert_eq!(
        logins(),
        [2, 1, 1],
        "node001 needs exactly one more connection"
    );
    assert_eq!(ssh.pool().len(), 4);
    engine.shutdown().await.unwrap();
    assert!(ssh.pool().is_empty());
}
