//! What the SSH transport does when things go wrong, against real OpenSSH servers
//! (`tests/sshd/`): unknown and changed host keys, refused keys, refused and wedged
//! nodes, connections that drop mid-run, retries, and invalid ssh_configs. Every
//! failure is the failing node's alone, with a category and a reason that says
//! what to fix. Needs root; prints SKIPPED lines otherwise.

mod cli_support;
mod ssh_support;
mod sshd;

use cli_support::{Running, eventually, finish};
use ssh_support::{Drover, Report, accepted, assert_error, gone, marker, pgrep};
use sshd::Fleet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const THREE: &str = "node001,node002,node003";

/// `[addr]:port` of node `i`, as known_hosts and drover's messages name it.
fn host_of(fleet: &Fleet, i: usize) -> String {
    let n = fleet.node(i);
    format!("[{}]:{}", n.address, n.port)
}

/// `ssh-ed25519 AAAA…` of node `i`, from the fleet's known_hosts.
fn key_of(fleet: &Fleet, i: usize) -> String {
    let kh = std::fs::read_to_string(fleet.known_hosts()).unwrap();
    let prefix = format!("{} ", host_of(fleet, i));
    let line = kh.lines().find_map(|l| l.strip_prefix(&prefix));
    line.expect("node in known_hosts").to_string()
}

/// The fleet's ssh_config with another known_hosts file and checking policy.
fn config_with(d: &Drover, fleet: &Fleet, name: &str, known: &Path, strict: &str) -> PathBuf {
    let kh = fleet.known_hosts().display().to_string();
    d.edited_config(&fleet.ssh_config(), name, |t| {
        t.replace(&kh, &known.display().to_string()).replace(
            "StrictHostKeyChecking yes",
            &format!("StrictHostKeyChecking {strict}"),
        )
    })
}

#[test]
fn unknown_host_key_fails_in_batch_and_says_how_to_fix() {
    let Some(fleet) = Fleet::or_skip(2) else {
        return;
    };
    let d = Drover::new();
    let empty = d.path("known_hosts.empty");
    std::fs::write(&empty, "").unwrap();
    let host = fleet.node(0).address.to_string();
    for strict in ["yes", "ask"] {
        let cfg = config_with(&d, &fleet, &format!("cfg-{strict}"), &empty, strict);
        let t = Instant::now();
        let r = d.report(
            &cfg,
            "node001,user-node002",
            &["--retries", "2"],
            "echo ran",
        );
        assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
        assert_eq!(r.code(), 1, "{strict}: {r:?}");
        assert_eq!(r.overall(), "failed", "{r:?}");
        let fix = ["add the key to known_hosts"];
        assert_error(&r, "node001", "Authorization", &fix);
        assert_error(&r, "node001", "Authorization", &[&host, "SHA256:"]);
        assert_error(&r, "user-node002", "Authorization", &fix);
        if strict == "ask" {
            assert_error(&r, "node001", "Authorization", &["accept-new", "batch"]);
        }
        assert_eq!(r.retries("node001"), 0, "a refused key is not retried");
        assert!(r.lines("node001", "stdout").is_empty(), "{r:?}");
        assert!(!r.out.err().contains("yes/no"), "prompted: {r:?}");
        assert_eq!(std::fs::read_to_string(&empty).unwrap(), "", "{strict}");
    }
}

#[test]
fn accept_new_records_unknown_keys_then_trusts_them() {
    let Some(fleet) = Fleet::or_skip(3) else {
        return;
    };
    let d = Drover::new();
    let known = d.path("known_hosts.new");
    let cfg = config_with(&d, &fleet, "cfg-accept-new", &known, "accept-new");
    let out = d.run(&cfg, THREE, &[], "hostname");
    out.expect(0);
    assert_eq!(out.out_lines().len(), 3, "{out:?}");
    let recorded = std::fs::read_to_string(&known).expect("known_hosts created");
    let mut want: Vec<String> = (0..3)
        .map(|i| format!("{} {}", host_of(&fleet, i), key_of(&fleet, i)))
        .collect();
    let mut got: Vec<String> = recorded.lines().map(str::to_string).collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "{recorded}");

    // Trusted now, also with StrictHostKeyChecking yes; nothing appended twice.
    d.run(&cfg, THREE, &[], "true").expect(0);
    let strict = config_with(&d, &fleet, "cfg-yes", &known, "yes");
    d.run(&strict, THREE, &[], "true").expect(0);
    assert_eq!(std::fs::read_to_string(&known).unwrap(), recorded);
}

#[test]
fn changed_host_key_is_refused_even_with_accept_new_or_no() {
    let Some(fleet) = Fleet::or_skip(3) else {
        return;
    };
    let d = Drover::new();
    let wrong = d.path("known_hosts.wrong");
    // node001's address with node002's key, on line 2.
    let text = format!(
        "# keys\n{} {}\n{} {}\n{} {}\n",
        host_of(&fleet, 0),
        key_of(&fleet, 1),
        host_of(&fleet, 1),
        key_of(&fleet, 1),
        host_of(&fleet, 2),
        key_of(&fleet, 2)
    );
    std::fs::write(&wrong, &text).unwrap();
    let at = format!("{}:2", wrong.display());
    for strict in ["accept-new", "no"] {
        let cfg = config_with(&d, &fleet, &format!("cfg-{strict}"), &wrong, strict);
        let r = d.report(&cfg, THREE, &[], "echo ran");
        assert_eq!(r.code(), 1, "{strict}: {r:?}");
        assert_eq!(r.overall(), "partial", "{r:?}");
        assert_error(&r, "node001", "Authorization", &["CHANGED", &at]);
        assert!(r.lines("node001", "stdout").is_empty(), "{r:?}");
        for n in ["node002", "node003"] {
            assert_eq!(r.status(n), "success", "{strict}: {r:?}");
        }
        assert_eq!(std::fs::read_to_string(&wrong).unwrap(), text, "{strict}");
    }
}

#[test]
fn refused_key_names_the_key_files_tried() {
    let Some(fleet) = Fleet::or_skip(2) else {
        return;
    };
    let d = Drover::new();
    let key = d.path("id_stranger");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(made.success());
    let good = fleet.client_key().display().to_string();
    let cfg = d.edited_config(&fleet.ssh_config(), "cfg-stranger", |t| {
        t.replace(&good, &key.display().to_string())
    });
    let r = d.report(
        &cfg,
        "node001,user-node002",
        &["--retries", "2"],
        "echo ran",
    );
    assert_eq!(r.code(), 1, "{r:?}");
    let tried = key.display().to_string();
    assert_error(&r, "node001", "Authorization", &["as root", &tried]);
    assert_error(
        &r,
        "user-node002",
        "Authorization",
        &["as drovertest", &tried],
    );
    assert!(!r.error("node001").1.contains(&good), "{r:?}");
    assert_eq!(r.retries("node001"), 0, "{r:?}");
}

#[test]
fn refused_node_fails_alone_with_connection() {
    let Some(mut fleet) = Fleet::or_skip(3) else {
        return;
    };
    fleet.stop_node(1);
    let d = Drover::new();
    let r = d.report(&fleet.ssh_config(), THREE, &[], "hostname");
    assert_eq!(r.code(), 1, "{r:?}");
    assert_eq!(r.overall(), "partial", "{r:?}");
    assert_error(
        &r,
        "node002",
        "Connection",
        &["refused", &fleet.node(1).address.to_string()],
    );
    for n in ["node001", "node003"] {
        assert_eq!(r.status(n), "success", "{r:?}");
        assert_eq!(r.lines(n, "stdout"), [n], "{r:?}");
    }
}

#[test]
fn wedged_node_times_out_on_connect_timeout() {
    let Some(fleet) = Fleet::or_skip(3) else {
        return;
    };
    let d = Drover::new();
    let cfg = d.edited_config(&fleet.ssh_config(), "cfg-ct1", |t| {
        t.replace("ConnectTimeout 10", "ConnectTimeout 1")
    });
    fleet.pause_node(1);
    let t = Instant::now();
    let r = d.report(&cfg, THREE, &[], "hostname");
    let took = t.elapsed();
    fleet.resume_node(1);
    assert_eq!(r.code(), 1, "{r:?}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    // It waited for the ConnectTimeout (not the config's usual 10 s), no more.
    let waited = r.finished("node002")["duration_ms"].as_u64().unwrap();
    assert!((900..3000).contains(&waited), "node002 took {waited} ms");
    assert_error(&r, "node002", "Timeout", &["connect timed out after 1"]);
    for n in ["node001", "node003"] {
        assert_eq!(r.status(n), "success", "{r:?}");
    }
    // Resumed, the same node answers again.
    d.run(&cfg, "node002", &[], "true").expect(0);
}

#[test]
fn connection_dropped_mid_run_fails_that_node_with_connection() {
    let Some(mut fleet) = Fleet::or_skip(3) else {
        return;
    };
    let d = Drover::new();
    let m = marker();
    let cmd = format!("echo started; [ $(hostname) != node002 ] || exec sleep 300.{m}; echo done");
    let mut run = Running::start(d.run_cmd(&fleet.ssh_config(), THREE, &["-o", "json"], &cmd));
    run.expect_line(Duration::from_secs(30), |l| {
        l.contains(r#""node":"node002""#) && l.contains(r#""line":"started""#)
    });
    let sleeps = format!("^sleep 300\\.{m}$");
    let one = || pgrep(&sleeps, &[]).len() == 1;
    assert!(
        eventually(Duration::from_secs(10), one),
        "the remote sleep runs"
    );
    let t = Instant::now();
    fleet.stop_node(1);
    let r = Report::from_running(run.wait(Duration::from_secs(30)));
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert_eq!(r.code(), 1, "{r:?}");
    assert_error(&r, "node002", "Connection", &["lost"]);
    for n in ["node001", "node003"] {
        assert_eq!(r.status(n), "success", "{r:?}");
        assert_eq!(r.lines(n, "stdout"), ["started", "done"], "{r:?}");
    }
    assert!(gone(&sleeps), "{:?}", pgrep(&sleeps, &[]));
}

#[test]
fn retries_repeat_connection_failures_but_never_validation_errors() {
    let Some(mut fleet) = Fleet::or_skip(3) else {
        return;
    };
    fleet.stop_node(1);
    let d = Drover::new();
    let out = d.run(&fleet.ssh_config(), THREE, &["--retries", "2"], "hostname");
    out.expect(1);
    let err = out.err();
    for attempt in [
        "attempt 2/3 after Connection",
        "attempt 3/3 after Connection",
    ] {
        let line = format!("drover: node002: {attempt}");
        assert_eq!(err.matches(&line).count(), 1, "{line}: {out:?}");
    }
    assert!(!err.contains("attempt 4/"), "{out:?}");
    assert!(err.contains("drover: node002: Connection: "), "{out:?}");
    let want = ["node001: node001", "node003: node003"];
    let mut lines = out.out_lines();
    lines.sort();
    assert_eq!(lines, want, "{out:?}");
    assert!(!err.contains("drover: node001") && !err.contains("drover: node003"));

    // A ProxyCommand host is a Validation error: reported once, never retried.
    let cfg = d.edited_config(&fleet.ssh_config(), "cfg-proxycommand", |t| {
        t + "\nHost viacmd\n  HostName 127.0.0.1\n  ProxyCommand nc %h %p\n"
    });
    let r = d.report(&cfg, "viacmd,node001", &["--retries", "2"], "hostname");
    assert_eq!(r.code(), 1, "{r:?}");
    assert_error(&r, "viacmd", "Validation", &["ProxyCommand"]);
    assert_eq!(r.retries("viacmd"), 0, "{r:?}");
    assert!(!r.events.iter().any(|e| e["event"] == "retry"), "{r:?}");
    assert_eq!(r.status("node001"), "success", "{r:?}");
}

#[test]
fn invalid_ssh_config_refuses_the_run_naming_file_and_line() {
    let Some(fleet) = Fleet::or_skip(2) else {
        return;
    };
    let d = Drover::new();
    let cfg = d.edited_config(&fleet.ssh_config(), "cfg-bad", |t| {
        t.replacen(
            "  BatchMode yes\n",
            "  BatchMode yes\n  Frobnicate yes\n",
            1,
        )
    });
    let text = std::fs::read_to_string(&cfg).unwrap();
    let line = 1 + text.lines().position(|l| l.contains("Frobnicate")).unwrap();
    let at = format!(
        "{}:{line}: bad configuration option: frobnicate",
        cfg.display()
    );
    // A typo must not shrink the run: nothing runs, not even the local node,
    // and no node of the fleet sees a login.
    let logins = |f: &Fleet| (0..2).map(|i| accepted(&f.sshd_log(i))).sum::<usize>();
    let before = logins(&fleet);
    let marker = marker();
    for targets in ["node001,node002,localhost", "all", "localhost"] {
        let started = Instant::now();
        let out = d.run(&cfg, targets, &[], &format!("echo {marker}"));
        out.expect(2).err_has(&at).err_has("nothing ran");
        assert!(!out.out().contains(&marker), "{out:?}");
        println!(
            "FAULT-ROW broken-ssh-config-line: -t {targets}: exit 2 in {:?}, 0 nodes ran",
            started.elapsed()
        );
    }
    assert_eq!(logins(&fleet), before, "a node saw a login");
    let history = finish(d.cmd(&cfg, &["history", "--json"]));
    assert_eq!(
        history.expect(0).out().trim(),
        "[]",
        "a refused run was recorded"
    );
}

#[test]
fn encrypted_key_in_batch_fails_naming_the_key() {
    let Some(fleet) = Fleet::or_skip(1) else {
        return;
    };
    let d = Drover::new();
    // The fleet's own (authorised) key, re-encrypted with a passphrase: only the
    // missing passphrase stands between drover and the node.
    let key = d.path("id_locked");
    std::fs::copy(fleet.client_key(), &key).unwrap();
    let locked = Command::new("ssh-keygen")
        .args(["-q", "-p", "-P", "", "-N", "secret", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(locked.success());
    let good = fleet.client_key().display().to_string();
    let cfg = d.edited_config(&fleet.ssh_config(), "cfg-locked", |t| {
        t.replace(&good, &key.display().to_string())
    });
    let r = d.report(&cfg, "node001", &[], "echo ran");
    assert_eq!(r.code(), 1, "{r:?}");
    let tried = key.display().to_string();
    assert_error(&r, "node001", "Authorization", &[&tried, "encrypted"]);
    assert!(r.lines("node001", "stdout").is_empty(), "{r:?}");
}
