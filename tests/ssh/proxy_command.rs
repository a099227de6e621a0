//! `ProxyCommand` against real parts: `socat` to fleet nodes, `ssh -W` through
//! the JumpFleet's bastion to nodes nothing else reaches, commands that fail,
//! the child's lifetime, and token expansion compared with OpenSSH's own.

use crate::cli_support::finish;
use crate::ssh_support::{Drover, Report, accepted, accepted_settles, assert_error, gone, pgrep};
use crate::sshd::{Fleet, JumpFleet};
use drover::engine::transport::interaction::NoInteraction;
use drover::engine::transport::ssh::config::Environment;
use drover::engine::transport::ssh::{SshSettings, SshTransport};
use drover::engine::transport::{Transport, TransportRegistry};
use drover::engine::{Engine, EngineConfig, ExecutionRequest, ExecutionStatus, Submission};
use drover::engine::{ExecutionOptions, Inventory, Node};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

const THREE: &str = "node001,node002,node003";

/// Exit code, stdout and stderr lines of every node of a `-o json` report.
fn per_node(r: &Report, nodes: &str) -> Vec<(String, String, Vec<String>, Vec<String>)> {
    nodes
        .split(',')
        .map(|n| {
            let code = r.finished(n)["exit_code"].to_string();
            (n.into(), code, r.lines(n, "stdout"), r.lines(n, "stderr"))
        })
        .collect()
}

/// `Host` blocks appended to `cfg`: ssh takes the first value obtained, and the
/// fleet's blocks set no ProxyCommand, so these apply.
fn with_proxy(d: &Drover, cfg: &Path, name: &str, blocks: &[(&str, String)]) -> std::path::PathBuf {
    d.edited_config(cfg, name, |mut t| {
        for (hosts, command) in blocks {
            t.push_str(&format!("\nHost {hosts}\n  ProxyCommand {command}\n"));
        }
        t
    })
}

#[test]
fn socat_proxy_command_runs_like_a_direct_connection() {
    let Some(fleet) = Fleet::or_skip(3) else {
        return;
    };
    let d = Drover::new();
    let logs = d.path("socat-logs");
    std::fs::create_dir(&logs).unwrap();
    let socat = format!("socat -d -d -lf {}/%n.log - TCP:%h:%p", logs.display());
    let hosts = THREE.replace(',', " ");
    let cfg = with_proxy(&d, &fleet.ssh_config(), "cfg-socat", &[(&hosts, socat)]);
    let cmd = "h=$(hostname); echo out-$h; echo err-$h >&2; [ $h != node002 ] || exit 3";
    let proxied = d.report(&cfg, THREE, &[], cmd);
    let direct = d.report(&fleet.ssh_config(), THREE, &[], cmd);
    assert_eq!(proxied.code(), 1, "{proxied:?}");
    assert_eq!(per_node(&proxied, THREE), per_node(&direct, THREE));
    assert_eq!(proxied.finished("node002")["exit_code"], 3, "{proxied:?}");
    for n in THREE.split(',') {
        // socat really carried each connection, named by its %n.
        let log = std::fs::read_to_string(logs.join(format!("{n}.log"))).unwrap_or_default();
        assert!(log.contains("starting data transfer loop"), "{n}: {log}");
    }
    assert!(
        gone(&format!("-lf {}/", logs.display())),
        "socat left running"
    );
    // An interactive-path command goes through it too.
    let out = finish(d.cmd(&cfg, &["ssh", "node002", "--", "echo $(hostname); exit 4"]));
    assert_eq!((out.code(), out.out()), (4, "node002\n".into()), "{out:?}");
    let log = std::fs::read_to_string(logs.join("node002.log")).unwrap();
    assert_eq!(
        log.matches("starting data transfer loop").count(),
        2,
        "{log}"
    );
    assert!(gone(&format!("-lf {}/", logs.display())));
}

#[test]
fn ssh_w_through_the_bastion_reaches_internal_nodes() {
    let Some(jf) = JumpFleet::or_skip(2) else {
        return;
    };
    let d = Drover::new();
    let orig = jf.ssh_config();
    let via_w = format!("ProxyCommand ssh -F {} -W %h:%p bastion", orig.display());
    let cfg = d.edited_config(&orig, "cfg-w", |t| t.replace("ProxyJump bastion", &via_w));
    let log = jf.bastion_log();
    let before = accepted(&log);
    let out = d.run(
        &cfg,
        "int001,int002,user-int002",
        &[],
        "echo $(hostname) $(id -un)",
    );
    out.expect(0);
    let mut lines = out.out_lines();
    lines.sort();
    let user = crate::sshd::USER;
    let want = [
        "int001: int001 root".to_string(),
        "int002: int002 root".into(),
        format!("user-int002: int002 {user}"),
    ];
    assert_eq!(lines, want, "{out:?}");
    // One `ssh -W` (one bastion login) per node: unlike ProxyJump, nothing shared.
    assert_eq!(
        accepted_settles(&log, before + 3),
        before + 3,
        "bastion logins"
    );
    assert!(
        gone(&format!("ssh -F {} -W", orig.display())),
        "ssh -W left running"
    );

    // Without the bastion the internal nodes are unreachable.
    let direct = d.edited_config(&orig, "cfg-direct", |t| t.replace("ProxyJump bastion", ""));
    let r = d.report(&direct, "int001", &[], "hostname");
    assert_error(&r, "int001", "Connection", &["refused"]);
}

#[test]
fn failing_proxy_command_fails_only_its_node_naming_its_stderr() {
    let Some(fleet) = Fleet::or_skip(3) else {
        return;
    };
    let d = Drover::new();
    let marker = crate::ssh_support::marker();
    let loud = format!("sh -c 'echo nope-{marker} >&2; exit 3'");
    let blocks = [
        ("node002", loud.clone()),
        ("node003", "false".to_string()),
        ("user-node001", "nc %h %z".to_string()),
    ];
    let cfg = with_proxy(&d, &fleet.ssh_config(), "cfg-fail", &blocks);
    let targets = "node001,node002,node003,user-node001";
    let r = d.report(&cfg, targets, &[], "hostname");
    assert_eq!(r.code(), 1, "{r:?}");
    assert_eq!(r.status("node001"), "success", "{r:?}");
    assert_eq!(r.lines("node001", "stdout"), ["node001"], "{r:?}");
    let named = format!("via ProxyCommand `{loud}`: the ProxyCommand exited with status 3");
    let stderr = format!("; its stderr: nope-{marker}");
    assert_error(&r, "node002", "Connection", &[&named, &stderr]);
    let named = "via ProxyCommand `false`: the ProxyCommand exited with status 1";
    assert_error(&r, "node003", "Connection", &[named]);
    // A bad token is the config's fault: refused before connecting, with its line.
    assert_error(
        &r,
        "user-node001",
        "Validation",
        &["ProxyCommand", "%z", "cfg-fail:"],
    );
    assert!(gone(&format!("nope-{marker}")));
}

fn engine_over(cfg: &Path, aliases: &[String], home: &Path) -> (Engine, Arc<SshTransport>) {
    let ssh = Arc::new(
        SshTransport::new(SshSettings {
            config_file: Some(cfg.to_path_buf()),
            environment: Environment::new(home, "root"),
            kill_grace: Duration::from_secs(2),
            idle_timeout: Duration::from_secs(600),
            interaction: Arc::new(NoInteraction),
        })
        .expect("ssh transport"),
    );
    let mut transports = TransportRegistry::default();
    transports.register(ssh.clone());
    let mut inventory = Inventory::default();
    for alias in aliases {
        let mut n = Node::local(alias, "test");
        n.transport = "ssh".into();
        inventory.add(n);
    }
    let engine = Engine::new(EngineConfig::default(), inventory, transports, None);
    (engine, ssh)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_child_lives_with_its_pooled_connection_and_dies_with_it() {
    let Some(fleet) = Fleet::or_skip(2) else {
        return;
    };
    let d = Drover::new();
    let marker = crate::ssh_support::marker();
    // The marker rides in socat's argv (its log prefix), for pgrep.
    let socat = format!("socat -lp px-{marker} - TCP:%h:%p");
    let cfg = with_proxy(&d, &fleet.ssh_config(), "cfg-life", &[("node001", socat)]);
    for shut_down in [true, false] {
        let (engine, ssh) = engine_over(&cfg, &fleet.aliases(), d.dir.path());
        let request = ExecutionRequest {
            command: "hostname".into(),
            targets: "node001".into(),
            options: ExecutionOptions::default(),
        };
        let submitted = engine.submit(Submission::request(request)).await.unwrap();
        let r = engine.wait(&submitted.id).await.unwrap();
        assert_eq!(r.status, ExecutionStatus::Success, "{r:?}");
        assert_eq!(r.nodes[0].stdout, "node001\n");
        // The pooled connection keeps its command running between runs.
        assert_eq!(pgrep(&format!("px-{marker}"), &[]).len(), 1);
        if shut_down {
            ssh.shutdown().await;
        } else {
            drop(engine);
            drop(ssh);
        }
        let pattern = format!("px-{marker}");
        let left = tokio::task::spawn_blocking(move || gone(&pattern));
        assert!(
            left.await.unwrap(),
            "shut_down={shut_down}: proxy child left"
        );
    }
}

#[test]
fn tokens_expand_as_openssh_expands_them() {
    let d = Drover::new();
    // The shell holds stdout until printf is done, so neither ssh nor drover sees
    // the end of the stream (and kills the command) before the file is written.
    let text = "Host Tok-Alias\n  HostName Real-%h.Example\n  User someone\n  Port 2345\n  \
                HostKeyAlias KeyAlias\n  BatchMode yes\n  ConnectTimeout 10\n  \
                ProxyCommand sh -c 'printf \"%%s\\n\" \"$@\" > \"$PX_OUT\"' tok \
                %h %p %r %n %k 100%% \"a b\"\n";
    let cfg = d.path("tokens.cfg");
    std::fs::write(&cfg, text).unwrap();
    let expanded = |who: &str, mut cmd: Command| -> Vec<String> {
        let out = d.path(&format!("{who}.out"));
        cmd.env("PX_OUT", &out);
        let _ = finish(cmd);
        let text = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("{who}: {e}"));
        text.lines().map(String::from).collect()
    };
    let mut ssh = Command::new("ssh");
    ssh.arg("-F").arg(&cfg).args(["Tok-Alias", "true"]);
    let theirs = expanded("ssh", ssh);
    let ours = expanded("drover", d.run_cmd(&cfg, "Tok-Alias", &[], "true"));
    assert_eq!(ours, theirs);
    // And they are the values `ssh -G` resolves for the host.
    let g = Command::new("ssh")
        .arg("-G")
        .arg("-F")
        .arg(&cfg)
        .arg("Tok-Alias")
        .output()
        .expect("ssh -G");
    let g = String::from_utf8(g.stdout).unwrap();
    let value = |key: &str| -> String {
        let line = g.lines().find(|l| l.starts_with(&format!("{key} ")));
        line.unwrap_or_else(|| panic!("{key} in {g}"))[key.len() + 1..].to_string()
    };
    let want = [
        value("hostname"),
        value("port"),
        value("user"),
        value("host"),
        "keyalias".into(),
        "100%".into(),
        "a b".into(),
    ];
    assert_eq!(ours, want);
}
