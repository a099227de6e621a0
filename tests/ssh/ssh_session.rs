//! `drover ssh NODE -- COMMAND` against real OpenSSH servers: output and exit
//! status pass through, nodes behind a bastion, agent forwarding only when the
//! config asks for it, standard input to its end, a killed server or jump host
//! reported with the node's name, and the session's start and end in the node's
//! journal. Needs root; prints SKIPPED lines otherwise.

use crate::cli_support;
use crate::ssh_support;
use crate::sshd;

use cli_support::{Running, finish};
use serde_json::Value;
use ssh_support::{Agent, Drover};
use sshd::{Fleet, JumpFleet};
use std::time::Duration;

#[test]
fn ssh_runs_a_command_and_returns_its_exit_status() {
    let Some(fleet) = Fleet::or_skip(1) else {
        return;
    };
    let d = Drover::new();
    let cfg = fleet.ssh_config();
    let out = finish(d.cmd(&cfg, &["ssh", "node001", "--", "hostname"]));
    out.expect(0);
    assert_eq!(out.out(), "node001\n", "{out:?}");

    let addr = fleet.node(0).address.to_string();
    let out = finish(d.cmd(&cfg, &["ssh", "node001", "--", "echo", "$SSH_CONNECTION"]));
    out.expect(0);
    let line = out.out();
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields.get(2), Some(&addr.as_str()), "{out:?}");

    let out = finish(d.cmd(&cfg, &["ssh", "node001", "--", "echo oops >&2; exit 7"]));
    out.expect(7);
    assert_eq!(out.err(), "oops\n", "{out:?}");

    // Start and end of each session are journaled as events on the node.
    let entries = d.journal(&cfg, "node001");
    let events: Vec<&Value> = entries
        .iter()
        .filter(|e| e["entry_type"] == "event")
        .collect();
    assert_eq!(events.len(), 6, "{entries:#?}");
    let ended = events
        .iter()
        .find(|e| e["action"] == "session: echo oops >&2; exit 7 ended")
        .unwrap_or_else(|| panic!("no end entry: {entries:#?}"));
    assert_eq!(ended["status"], "failed", "{ended}");
    assert_eq!(ended["details"]["exit_code"], 7, "{ended}");
    assert!(ended["details"]["duration_ms"].is_u64(), "{ended}");
    assert!(
        events
            .iter()
            .any(|e| e["action"] == "session: hostname" && e["status"] == "started"),
        "{entries:#?}"
    );
}

#[test]
fn ssh_reaches_a_node_behind_the_bastion() {
    let Some(jf) = JumpFleet::or_skip(1) else {
        return;
    };
    let d = Drover::new();
    let out = finish(d.cmd(
        &jf.ssh_config(),
        &["ssh", "int001", "--", "echo $(hostname) $SSH_CONNECTION"],
    ));
    out.expect(0);
    let line = out.out();
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields[0], "int001", "{out:?}");
    // The server's end of the connection is the internal node's own address.
    assert_eq!(
        fields.get(3),
        Some(&jf.node(0).address.to_string().as_str()),
        "{out:?}"
    );
}

#[test]
fn unknown_nodes_and_unreachable_nodes_are_named() {
    let Some(mut fleet) = Fleet::or_skip(1) else {
        return;
    };
    let d = Drover::new();
    let cfg = fleet.ssh_config();
    let out = finish(d.cmd(&cfg, &["ssh", "nosuchnode", "--", "true"]));
    out.expect(4).err_has("nosuchnode");

    fleet.stop_node(0);
    let out = finish(d.cmd(&cfg, &["ssh", "node001", "--", "true"]));
    out.expect(255).err_has("node001");
    assert!(out.err().contains("refused"), "{out:?}");
}

#[test]
fn a_session_whose_server_is_killed_ends_with_an_error_naming_the_node() {
    let Some(mut fleet) = Fleet::or_skip(1) else {
        return;
    };
    let d = Drover::new();
    let cfg = fleet.ssh_config();
    let mut running =
        Running::start(d.cmd(&cfg, &["ssh", "node001", "--", "echo ready; sleep 120"]));
    running.expect_line(Duration::from_secs(30), |l| l == "ready");
    fleet.stop_node(0);
    let (status, _, err) = running.wait(Duration::from_secs(30));
    assert_eq!(status.code(), Some(255), "{err}");
    assert!(err.contains("node001"), "{err}");
    assert!(err.contains("connection was lost"), "{err}");
    let entries = d.journal(&cfg, "node001");
    assert!(
        entries
            .iter()
            .any(|e| e["status"] == "error" && e["details"]["error"].as_str().is_some()),
        "{entries:#?}"
    );
}

#[test]
fn the_agent_is_forwarded_only_when_the_config_says_so() {
    let Some(fleet) = Fleet::or_skip(1) else {
        return;
    };
    let d = Drover::new();
    let Some(agent) = Agent::start(d.dir.path(), &fleet.client_key()) else {
        crate::prereq::missing("ssh-agent is not available");
        return;
    };
    let cfg = fleet.ssh_config();
    let forwarding = d.edited_config(&cfg, "forwarding", |text| {
        format!("Host node001\n    ForwardAgent yes\n\n{text}")
    });
    let list = ["ssh", "node001", "--", "ssh-add -l"];
    let mut cmd = d.cmd(&forwarding, &list);
    cmd.env("SSH_AUTH_SOCK", &agent.socket);
    let out = finish(cmd);
    out.expect(0);
    assert!(out.out().contains("ED25519"), "{out:?}");

    // Without ForwardAgent the remote side finds no agent (ssh-add exits 2).
    let mut cmd = d.cmd(&cfg, &list);
    cmd.env("SSH_AUTH_SOCK", &agent.socket);
    let out = finish(cmd);
    out.expect(2);
}

#[test]
fn ssh_on_a_local_node_runs_the_command_here() {
    let f = cli_support::Fleet::nodes(&["n01"]);
    let out = f.drover(&["ssh", "n01", "--", "echo", "hi;", "exit", "5"]);
    out.expect(5);
    assert_eq!(out.out(), "hi\n", "{out:?}");
    let journal = f.journal("n01");
    let ended = journal
        .iter()
        .find(|e| e["action"] == "session: echo hi; exit 5 ended")
        .unwrap_or_else(|| panic!("{journal:#?}"));
    assert_eq!(ended["details"]["exit_code"], 5, "{ended}");
}

#[test]
fn a_session_whose_jump_host_goes_away_ends_with_an_error_naming_the_node() {
    let Some(mut jf) = JumpFleet::or_skip(1) else {
        return;
    };
    let d = Drover::new();
    let mut running = Running::start(d.cmd(
        &jf.ssh_config(),
        &["ssh", "int001", "--", "echo ready; sleep 120"],
    ));
    running.expect_line(Duration::from_secs(30), |l| l == "ready");
    jf.stop_bastion();
    let (status, _, err) = running.wait(Duration::from_secs(30));
    assert_eq!(status.code(), Some(255), "{err}");
    assert!(err.contains("int001"), "{err}");
    assert!(err.contains("connection was lost"), "{err}");
}

#[test]
fn standard_input_is_passed_through_to_its_end() {
    let Some(fleet) = Fleet::or_skip(1) else {
        return;
    };
    let d = Drover::new();
    // `cat`: output flows back while input is still being sent.
    let mut cmd = d.cmd(&fleet.ssh_config(), &["ssh", "node001", "--", "cat"]);
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn drover");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = child.stdout.take().expect("stdout");
    let feeder = std::thread::spawn(move || {
        use std::io::Write;
        // More than one channel window (2 MiB) and many stdin reads.
        let block = vec![b'x'; 64 * 1024];
        for _ in 0..256 {
            stdin.write_all(&block).expect("write stdin");
        }
    });
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut bytes).map(|_| bytes)
    });
    let status = cli_support::wait_deadline(&mut child, cli_support::DEADLINE)
        .expect("drover ssh still running after the deadline");
    feeder.join().unwrap();
    let bytes = reader.join().unwrap().expect("read stdout");
    assert_eq!(status.code(), Some(0));
    assert_eq!(bytes.len(), 256 * 64 * 1024);
    assert!(bytes.iter().all(|b| *b == b'x'));
}

#[test]
fn a_broken_ssh_config_is_the_reason_given() {
    let d = Drover::new();
    let cfg = d.path("ssh_config");
    std::fs::write(&cfg, "Host web1\n    HostName 127.0.0.1\n    Bogus yes\n").unwrap();
    let inventory = d.path("inventory.yaml");
    std::fs::write(
        &inventory,
        "nodes:\n  web1: { transport: ssh, address: 127.0.0.1 }\n",
    )
    .unwrap();
    let inventory = inventory.display().to_string();
    let cmd = d.cmd(&cfg, &["-i", &inventory, "ssh", "web1", "--", "true"]);
    let out = finish(cmd);
    // A failed inventory source refuses the session as it refuses a run
    // (exit 2), naming the file and line.
    out.expect(2).err_has("ssh_config:3:");
}

#[test]
fn rbac_command_limits_apply_to_sessions() {
    let f = cli_support::Fleet::nodes(&["n01"]);
    let user = nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .expect("own user name");
    let config = f.path("config").join("drover");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.toml"),
        format!(
            "[rbac]\n[rbac.roles.ops]\ncapabilities = [\"command.run\", \"journal.read\"]\n\
             allow_commands = [\"uptime\"]\n[rbac.users]\n{user} = [\"ops\"]\n"
        ),
    )
    .unwrap();
    f.drover(&["ssh", "n01", "--", "uptime"]).expect(0);
    let out = f.drover(&["ssh", "n01", "--", "hostname"]);
    out.expect(3).err_has("n01");
    // A shell is `$SHELL -l` to the command limits: not in allow_commands.
    f.drover(&["ssh", "n01"]).expect(3);
}
