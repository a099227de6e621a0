//! What the SSH transport does when things go wrong, against real OpenSSH servers
//! (`tests/sshd/`): unknown and changed host keys, refused keys, refused and wedged
//! nodes, connections that drop mid-run, retries, and invalid ssh_configs. Every
//! failure is the failing node's alone, with a category and a reason that says
//! what to fix. Needs root; prints SKIPPED lines otherwise.

use crate::cli_support;
use crate::ssh_support;
use crate::sshd;

use cli_support::{Running, eventually, finish};
use ssh_support::{Drover, Report, accepted, assert_error, gone, marker, pgrep};
use sshd::veth::CutLink;
use sshd::{Fleet, JumpFleet};
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
        println!(
            "FAULT-ROW unknown-host-key ({strict}): refused in {:.1} s, 0 nodes ran, 0 prompts, known_hosts unchanged",
            t.elapsed().as_secs_f64()
        );
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
        let t = Instant::now();
        let r = d.report(&cfg, THREE, &[], "echo ran");
        assert_eq!(r.code(), 1, "{strict}: {r:?}");
        assert_eq!(r.overall(), "partial", "{r:?}");
        assert_error(&r, "node001", "Authorization", &["CHANGED", &at]);
        assert!(r.lines("node001", "stdout").is_empty(), "{r:?}");
        for n in ["node002", "node003"] {
            assert_eq!(r.status(n), "success", "{strict}: {r:?}");
        }
        assert_eq!(std::fs::read_to_string(&wrong).unwrap(), text, "{strict}");
        println!(
            "FAULT-ROW changed-host-key ({strict}): refused in {:.1} s naming file:line, 1/3 nodes refused, 2/3 ran",
            t.elapsed().as_secs_f64()
        );
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
    let t = Instant::now();
    let r = d.report(
        &cfg,
        "node001,user-node002",
        &["--retries", "2"],
        "echo ran",
    );
    let took = t.elapsed();
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
    println!(
        "FAULT-ROW auth-failure: 2/2 nodes refused in {:.1} s naming the key tried, 0 retries",
        took.as_secs_f64()
    );
}

#[test]
fn refused_node_fails_alone_with_connection() {
    let Some(mut fleet) = Fleet::or_skip(3) else {
        return;
    };
    fleet.stop_node(1);
    let d = Drover::new();
    let t = Instant::now();
    let r = d.report(&fleet.ssh_config(), THREE, &[], "hostname");
    let took = t.elapsed();
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
    println!(
        "FAULT-ROW node-down: run ended in {:.1} s, node002 Connection refused, 2/3 nodes ran",
        took.as_secs_f64()
    );
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
    println!(
        "FAULT-ROW node-wedged: run ended in {:.1} s (ConnectTimeout 1), node002 Timeout after {waited} ms, 2/3 nodes ran",
        took.as_secs_f64()
    );
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
    let took = t.elapsed();
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(r.code(), 1, "{r:?}");
    assert_error(&r, "node002", "Connection", &["lost"]);
    for n in ["node001", "node003"] {
        assert_eq!(r.status(n), "success", "{r:?}");
        assert_eq!(r.lines(n, "stdout"), ["started", "done"], "{r:?}");
    }
    assert!(gone(&sleeps), "{:?}", pgrep(&sleeps, &[]));
    println!(
        "FAULT-ROW sshd-killed-mid-run: run ended {:.1} s after the node's sshd stopped, node002 Connection lost, 0 processes left",
        took.as_secs_f64()
    );
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

    // A ProxyCommand with a bad token is a Validation error: reported once,
    // never retried.
    let cfg = d.edited_config(&fleet.ssh_config(), "cfg-proxycommand", |t| {
        t + "\nHost viacmd\n  HostName 127.0.0.1\n  ProxyCommand nc %h %z\n"
    });
    let r = d.report(&cfg, "viacmd,node001", &["--retries", "2"], "hostname");
    assert_eq!(r.code(), 1, "{r:?}");
    assert_error(&r, "viacmd", "Validation", &["ProxyCommand", "%z"]);
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

// ---- Faults that must end in bounded time, kill what was said killed, and leak
// nothing. Each prints one `FAULT-ROW <row>: <figures>` line (see `--nocapture`).

/// `DROVER_REQUIRE_FLEET=1`: a missing fleet is a failure, not a skip.
fn required() -> bool {
    std::env::var_os("DROVER_REQUIRE_FLEET").is_some_and(|v| v == "1")
}

fn fleet_or_fail(n: usize) -> Option<Fleet> {
    let fleet = Fleet::or_skip(n);
    assert!(
        fleet.is_some() || !required(),
        "DROVER_REQUIRE_FLEET=1 but no sshd fleet can run here"
    );
    fleet
}

fn jump_fleet_or_fail(m: usize) -> Option<JumpFleet> {
    let fleet = JumpFleet::or_skip(m);
    assert!(
        fleet.is_some() || !required(),
        "DROVER_REQUIRE_FLEET=1 but no bastion fleet can run here"
    );
    fleet
}

/// Every process command line on this machine (the nodes share its PID space).
fn all_cmdlines() -> Vec<(u32, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            out.push((pid, cmdline));
        }
    }
    out
}

/// The parent pid of `pid` (field 4 of /proc/PID/stat, after the comm's ')').
fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Bytes of stderr events of `node` (lines as drover reported them).
fn stderr_text(r: &Report, node: &str) -> String {
    r.lines(node, "stderr").join("\n")
}

#[test]
fn bashrc_on_stderr_neither_breaks_the_kill_nor_sees_the_marker() {
    let Some(fleet) = fleet_or_fail(2) else {
        return;
    };
    // A start-up file that writes before drover's wrapper, with and without a
    // line end (bash sources ~/.bashrc for commands sshd starts).
    let bashrc = "echo 'welcome to node001' >&2\nprintf 'no line end' >&2\n";
    std::fs::write(fleet.root_home(0).join(".bashrc"), bashrc).unwrap();
    let d = Drover::new();
    let cfg = fleet.ssh_config();

    let r = d.report(&cfg, "node001", &[], "echo out; echo err >&2");
    assert_eq!(r.code(), 0, "{r:?}");
    assert_eq!(r.lines("node001", "stdout"), ["out"], "{r:?}");
    assert_eq!(
        r.lines("node001", "stderr"),
        ["welcome to node001", "no line enderr"],
        "{r:?}"
    );

    let m = marker();
    let sleeps = format!("^sleep 300\\.{m}$");
    let t = Instant::now();
    let r = d.report(
        &cfg,
        "node001,node002",
        &["--timeout", "2s"],
        &format!("echo started; sleep 300.{m}"),
    );
    let took = t.elapsed();
    for n in ["node001", "node002"] {
        assert_eq!(r.status(n), "timeout", "{r:?}");
        assert_error(&r, n, "Timeout", &["its processes were terminated"]);
    }
    let left = if gone(&sleeps) {
        0
    } else {
        pgrep(&sleeps, &[]).len()
    };
    assert_eq!(left, 0, "the remote sleeps outlived the kill");
    let err = stderr_text(&r, "node001");
    assert_eq!(err, "welcome to node001\nno line end", "{r:?}");
    let leaked = r.out.out().matches("DROVER-").count() + r.out.err().matches("DROVER-").count();
    assert_eq!(leaked, 0, "{r:?}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    println!(
        "FAULT-ROW bashrc-stderr-kill: ended in {:.1} s, {left} processes left, {leaked} marker lines leaked, 0 bytes lost",
        took.as_secs_f64()
    );
}

#[test]
fn secret_env_never_reaches_a_process_table_on_the_node() {
    let Some(fleet) = fleet_or_fail(2) else {
        return;
    };
    let d = Drover::new();
    let m = marker();
    let secret = format!("s3cret-{m}-it's \"quoted\"\nsecond line");
    let cmd = format!(
        "printf '%s' \"$SEC1\" | wc -c; echo started; sleep 300.{m}; echo \"len=${{#SEC1}}\""
    );
    let mut run_cmd = d.run_cmd(
        &fleet.ssh_config(),
        "node001,user-node002",
        &["-o", "json", "--secret-env", "SEC1", "--timeout", "20s"],
        &cmd,
    );
    run_cmd.env("SEC1", &secret);
    let run = Running::start(run_cmd);
    let sleeps = format!("^sleep 300\\.{m}$");
    let both = || pgrep(&sleeps, &[]).len() == 2;
    assert!(
        eventually(Duration::from_secs(30), both),
        "the remote sleeps run"
    );
    // Both the remote sleeps (the scan sees the node's processes) and no argv
    // holding any part of the secret.
    let table = all_cmdlines();
    let sleep_marker = format!("sleep\0300.{m}");
    let seen = table
        .iter()
        .filter(|(_, c)| contains(c, sleep_marker.as_bytes()))
        .count();
    assert_eq!(seen, 2, "the scan must see the remote sleeps");
    let needle = format!("s3cret-{m}");
    let exposed: Vec<u32> = table
        .iter()
        .filter(|(_, c)| contains(c, needle.as_bytes()))
        .map(|(p, _)| *p)
        .collect();
    let ps = Command::new("ps").args(["-eo", "args"]).output().unwrap();
    let in_ps = String::from_utf8_lossy(&ps.stdout).matches(&needle).count();
    let _ = nix::sys::signal::kill(run.pid(), nix::sys::signal::Signal::SIGINT);
    let r = Report::from_running(run.wait(Duration::from_secs(30)));
    // The command got the value intact (quotes and newline included).
    for n in ["node001", "user-node002"] {
        assert_eq!(
            r.lines(n, "stdout").first().map(String::as_str),
            Some(secret.len().to_string().as_str()),
            "{r:?}"
        );
    }
    assert!(!r.out.out().contains(&needle), "{r:?}");
    assert!(gone(&sleeps), "the cancelled sleeps ended");
    assert!(exposed.is_empty(), "secret in the argv of {exposed:?}");
    assert_eq!(in_ps, 0, "secret visible in ps");
    println!(
        "FAULT-ROW secret-env-argv: {} processes scanned, {} argv and {in_ps} ps lines held the secret",
        table.len(),
        exposed.len()
    );
}

#[test]
fn killed_drover_takes_its_remote_commands_with_it() {
    let Some(fleet) = fleet_or_fail(2) else {
        return;
    };
    let d = Drover::new();
    let m = marker();
    // Root's logins ignore the `signal` request: only the node-side wrapper can
    // end node001's sleep once drover is gone.
    let cmd = format!("echo started; sleep 300.{m}; echo never");
    let run = Running::start(d.run_cmd(
        &fleet.ssh_config(),
        "node001,user-node002",
        &["-o", "json"],
        &cmd,
    ));
    let sleeps = format!("^sleep 300\\.{m}$");
    let both = || pgrep(&sleeps, &[]).len() == 2;
    assert!(
        eventually(Duration::from_secs(30), both),
        "the remote sleeps run"
    );
    nix::sys::signal::kill(run.pid(), nix::sys::signal::Signal::SIGKILL).unwrap();
    let t = Instant::now();
    // The wrapper's TERM comes at once; its KILL after kill_grace (2 s).
    let ended = eventually(Duration::from_secs(10), || pgrep(&sleeps, &[]).is_empty());
    let took = t.elapsed();
    let left = pgrep(&sleeps, &[]).len();
    drop(run);
    assert!(ended, "{left} remote sleeps outlived drover");
    assert!(took < Duration::from_secs(4), "took {took:?}");
    println!(
        "FAULT-ROW drover-killed: remote commands ended {:.1} s after kill -9, {left} processes left",
        took.as_secs_f64()
    );
}

#[test]
fn network_cut_ends_the_run_at_timeout_plus_a_bounded_stop() {
    let Some(fleet) = fleet_or_fail(1) else {
        return;
    };
    let link = CutLink::start(&fleet, 0).expect("veth link");
    let d = Drover::new();
    // No ServerAlive settings: nothing but drover's own bounds may end the wait.
    let cfg = d.edited_config(&fleet.ssh_config(), "cfg-cut", |t| {
        t + &link.host_block("cutnode", &fleet.client_key(), &d.path("known_cut"))
    });
    let key = key_of(&fleet, 0);
    std::fs::write(
        d.path("known_cut"),
        format!("[{}]:{} {key}\n", link.addr, link.port),
    )
    .unwrap();
    assert!(
        !std::fs::read_to_string(&cfg)
            .unwrap()
            .contains("ServerAlive")
    );
    let m = marker();
    let cmd = format!("echo started; sleep 30.{m}");
    let run_cmd = d.run_cmd(&cfg, "cutnode", &["-o", "json", "--timeout", "4s"], &cmd);
    let t = Instant::now();
    let mut run = Running::start(link.inside(&run_cmd));
    run.expect_line(Duration::from_secs(30), |l| {
        l.contains(r#""line":"started""#)
    });
    let sleeps = format!("^sleep 30\\.{m}$");
    assert!(eventually(Duration::from_secs(10), || pgrep(&sleeps, &[])
        .len()
        == 1));
    link.cut();
    let r = Report::from_running(run.wait(Duration::from_secs(60)));
    let took = t.elapsed();
    assert_eq!(r.status("cutnode"), "timeout", "{r:?}");
    // It does not claim a kill it could not deliver.
    assert_error(
        &r,
        "cutnode",
        "Timeout",
        &["timed out after 4", "remote kill unconfirmed"],
    );
    assert!(!r.error("cutnode").1.contains("were terminated"), "{r:?}");
    // 4 s timeout + 2 × kill_grace (2 s) + 2 s margin, and a little for start-up.
    assert!(took < Duration::from_secs(14), "took {took:?}");
    assert!(
        took > Duration::from_secs(9),
        "gave up before its bound: {took:?}"
    );
    // The history has the same truth.
    let id = d.latest_id(&cfg);
    let shown = finish(d.cmd(&cfg, &["history", "show", &id]));
    assert!(shown.out().contains("remote kill unconfirmed"), "{shown:?}");
    let left_while_cut = pgrep(&sleeps, &[]).len();
    // Once the link is back, the node learns the connection is gone and its
    // wrapper ends the command (TCP retransmits the close within seconds).
    link.restore();
    let back = Instant::now();
    let ended = eventually(Duration::from_secs(40), || pgrep(&sleeps, &[]).is_empty());
    println!(
        "FAULT-ROW network-cut: ended in {:.1} s (timeout 4 s), {left_while_cut} process left while cut \
         (reported unconfirmed), {} left {:.1} s after the link returned",
        took.as_secs_f64(),
        pgrep(&sleeps, &[]).len(),
        back.elapsed().as_secs_f64()
    );
    assert!(ended, "the remote sleep outlived the restored link");
}

/// With `ServerAliveInterval` set, a cut link ends the run when the keepalives
/// go unanswered, without any `--timeout`: the node fails `Connection`, and
/// the run's wait is bounded by interval × count, not by the command.
#[test]
fn a_cut_link_with_server_alive_ends_the_run_without_a_timeout() {
    let Some(fleet) = fleet_or_fail(1) else {
        return;
    };
    let link = CutLink::start(&fleet, 0).expect("veth link");
    let d = Drover::new();
    let cfg = d.edited_config(&fleet.ssh_config(), "cfg-alive", |t| {
        t + &link.host_block("cutnode", &fleet.client_key(), &d.path("known_cut"))
            + "  ServerAliveInterval 1\n  ServerAliveCountMax 2\n"
    });
    let key = key_of(&fleet, 0);
    std::fs::write(
        d.path("known_cut"),
        format!("[{}]:{} {key}\n", link.addr, link.port),
    )
    .unwrap();
    let m = marker();
    let cmd = format!("echo started; sleep 60.{m}");
    let run_cmd = d.run_cmd(&cfg, "cutnode", &["-o", "json"], &cmd);
    let mut run = Running::start(link.inside(&run_cmd));
    run.expect_line(Duration::from_secs(30), |l| {
        l.contains(r#""line":"started""#)
    });
    let t = Instant::now();
    link.cut();
    let r = Report::from_running(run.wait(Duration::from_secs(40)));
    let took = t.elapsed();
    assert_ne!(r.status("cutnode"), "success", "{r:?}");
    assert_eq!(r.error("cutnode").0, "Connection", "{r:?}");
    // 2 unanswered keepalives 1 s apart, plus the stop bound: far below the
    // command's 60 s.
    assert!(took < Duration::from_secs(20), "took {took:?}");
    link.restore();
    println!(
        "FAULT-ROW server-alive-cut: ended {:.1} s after the cut (ServerAliveInterval 1, CountMax 2, no --timeout), node Connection",
        took.as_secs_f64()
    );
}

#[test]
fn bastion_reset_fails_only_started_nodes_and_is_logged_once() {
    let Some(fleet) = jump_fleet_or_fail(4) else {
        return;
    };
    let d = Drover::new();
    let cfg = fleet.ssh_config();
    let m = marker();
    // One node at a time: int001 is running when the bastion connection dies,
    // int002..int004 have not started.
    let cmd = format!("echo started; [ $(hostname) != int001 ] || sleep 300.{m}; echo done");
    let t = Instant::now();
    let mut run = Running::start(d.run_cmd(
        &cfg,
        "int001,int002,int003,int004",
        &["-o", "json", "--fanout", "1"],
        &cmd,
    ));
    run.expect_line(Duration::from_secs(30), |l| {
        l.contains(r#""node":"int001""#) && l.contains(r#""line":"started""#)
    });
    // The bastion's connection: the `sshd -i` this test process started in the
    // fleet's namespace (sshd renames itself, so it is found by parent and
    // namespace), killed with everything under it.
    let ns = Path::new("/run/netns").join(fleet.netns());
    let internal = fleet.pids();
    let me = std::process::id() as i32;
    let conns: Vec<sshd::procs::Proc> = sshd::procs::netns_members(&ns)
        .into_iter()
        .filter(|p| parent_of(p.pid) == Some(me) && !internal.contains(&(p.pid as u32)))
        .collect();
    assert_eq!(conns.len(), 1, "one shared bastion connection: {conns:?}");
    for p in sshd::procs::tree(&conns) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(p.pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let r = Report::from_running(run.wait(Duration::from_secs(60)));
    let took = t.elapsed();
    assert_error(&r, "int001", "Connection", &["lost"]);
    for n in ["int002", "int003", "int004"] {
        assert_eq!(r.status(n), "success", "{r:?}");
        assert_eq!(r.lines(n, "stdout"), ["started", "done"], "{r:?}");
    }
    let logs = d.path("state").join("logs");
    let mut log = String::new();
    for f in std::fs::read_dir(&logs).unwrap().flatten() {
        log.push_str(&std::fs::read_to_string(f.path()).unwrap_or_default());
    }
    let resets = log.matches("pooled connection reset").count();
    assert_eq!(resets, 1, "{log}");
    assert!(
        log.contains(&format!("{}", fleet.bastion().address)),
        "{log}"
    );
    assert!(took < Duration::from_secs(20), "took {took:?}");
    println!(
        "FAULT-ROW bastion-reset: ended in {:.1} s, 1 started node failed (connection lost), \
         3 not-started nodes reconnected and succeeded, reset logged {resets} time",
        took.as_secs_f64()
    );
}

/// `timeout(1)`, systemd and cron stop jobs with SIGTERM; a closed terminal sends
/// SIGHUP. Either cancels like Ctrl-C: the remote commands end, history says
/// `cancelled`, and drover exits 128 + the signal within its grace (9 s by default).
#[test]
fn sigterm_and_sighup_cancel_the_run_and_end_the_remote_commands() {
    use nix::sys::signal::{Signal, kill};
    let Some(fleet) = fleet_or_fail(2) else {
        return;
    };
    for (signal, code) in [(Signal::SIGTERM, 143), (Signal::SIGHUP, 129)] {
        let d = Drover::new();
        let m = marker();
        let done = d.path("never-written");
        let cmd = format!("echo started; sleep 300.{m}; touch {}", done.display());
        let cfg = fleet.ssh_config();
        let mut run = Running::start(d.run_cmd(&cfg, "node001,user-node002", &[], &cmd));
        run.expect_line(Duration::from_secs(30), |l| l.ends_with(": started"));
        let sleeps = format!("^sleep 300\\.{m}$");
        let both = eventually(Duration::from_secs(10), || pgrep(&sleeps, &[]).len() == 2);
        assert!(both, "remote sleeps: {:?}", pgrep(&sleeps, &[]));
        let t = Instant::now();
        kill(run.pid(), signal).unwrap();
        let (status, lines, err) = run.wait(Duration::from_secs(30));
        let took = t.elapsed();
        assert_eq!(status.code(), Some(code), "{signal}: {lines:?} {err}");
        assert!(err.contains(signal.as_str()), "{signal}: {err}");
        assert!(took < Duration::from_secs(9), "{signal}: took {took:?}");
        let left = pgrep(&sleeps, &[]).len();
        assert_eq!(left, 0, "{signal}: remote sleeps outlived the run");
        assert!(
            !done.exists(),
            "{signal}: the command went on after its sleep"
        );
        let id = d.latest_id(&cfg);
        let show = finish(d.cmd(&cfg, &["history", "--json", "--limit", "1"]));
        let rows: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
        assert_eq!(rows[0]["status"], "cancelled", "{signal} {id}: {rows}");
        println!(
            "FAULT-ROW {}-ssh: exit {code} in {:.2} s, history cancelled, {left} remote processes left",
            signal.as_str().to_lowercase(),
            took.as_secs_f64()
        );
    }
}

/// 20 MB from each of three nodes at once: every line arrives, in order per node,
/// and history counts every byte.
#[test]
fn twenty_megabytes_per_node_arrive_whole_and_are_counted() {
    const BYTES: u64 = 20_000_000;
    let Some(fleet) = fleet_or_fail(3) else {
        return;
    };
    let d = Drover::new();
    let cfg = fleet.ssh_config();
    // 200,000 lines of 99 `a`s and a newline.
    let line = "a".repeat(99);
    let cmd = format!("yes {line} | head -c {BYTES}");
    let t = Instant::now();
    let out = d.run(&cfg, THREE, &[], &cmd);
    let took = t.elapsed();
    out.expect(0);
    let mut lost = 0;
    for n in ["node001", "node002", "node003"] {
        let prefix = format!("{n}: ");
        let got: Vec<&[u8]> = out
            .stdout
            .split(|b| *b == b'\n')
            .filter_map(|l| l.strip_prefix(prefix.as_bytes()))
            .collect();
        let whole = got.iter().filter(|l| **l == line.as_bytes()).count() as u64;
        lost += BYTES.saturating_sub(whole * 100);
        assert_eq!(got.len() as u64, BYTES / 100, "{n}: lines received");
    }
    assert_eq!(lost, 0);
    let id = d.latest_id(&cfg);
    let shown = finish(d.cmd(&cfg, &["history", "show", &id, "--json"]));
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    let counted: Vec<u64> = shown["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["stdout_bytes"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(counted, [BYTES; 3], "{shown}");
    println!(
        "FAULT-ROW 20mb-per-node: 3 x 20 MB over sshd in {:.1} s, {lost} bytes lost, history counted {} bytes",
        took.as_secs_f64(),
        counted.iter().sum::<u64>()
    );
}
