//! Self-tests of the sshd harness (`tests/sshd/`): real OpenSSH servers and the real
//! `ssh` client, nothing mocked. Needs root; prints SKIPPED lines otherwise.

use crate::sshd;

use sshd::procs::{self, Proc};
use sshd::{Fleet, JumpFleet, USER};
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `cmd` (stdin closed), killing it after `limit`.
fn run_within(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + limit;
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("wait");
            panic!("{cmd:?} still running after {limit:?}: {out:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.wait_with_output().expect("wait")
}

const LIMIT: Duration = Duration::from_secs(30);

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn ok(o: Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what}: {}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    stdout(&o)
}

/// `ssh … 'echo started; exec sleep 60'`, returned once the remote sleep runs.
fn long_session(mut cmd: Command) -> Child {
    let mut child = cmd
        .arg("echo started; exec sleep 60")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ssh");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .expect("read");
    assert_eq!(line.trim(), "started", "session did not start");
    child
}

fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            return s;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("ssh client still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Every live process whose command line mentions `dir`.
fn procs_mentioning(dir: &Path) -> Vec<String> {
    let needle = dir.to_string_lossy().into_owned();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.contains(&needle) && procs::proc_of(pid).is_some() {
            out.push(format!("{pid}: {cmd}"));
        }
    }
    out
}

#[test]
fn fleet_of_three_root_and_user_logins() {
    let Some(fleet) = Fleet::or_skip(3) else {
        return;
    };
    let nodes = fleet.nodes();
    assert_eq!(nodes.len(), 3);
    assert_eq!(
        fleet.aliases(),
        ["node001", "node002", "node003"].map(String::from)
    );
    // Distinct loopback addresses, one port, all running.
    for (i, n) in nodes.iter().enumerate() {
        assert!(n.address.is_loopback(), "{n:?}");
        assert_eq!(n.port, fleet.port());
        assert!(n.pid.is_some() && fleet.is_running(i));
        assert_eq!(n.user_alias, format!("user-{}", n.alias));
    }
    let mut addrs: Vec<_> = nodes.iter().map(|n| n.address).collect();
    addrs.dedup();
    assert_eq!(addrs.len(), 3);

    // known_hosts: one `[addr]:port ssh-ed25519 …` line per node.
    let kh = std::fs::read_to_string(fleet.known_hosts()).unwrap();
    for n in &nodes {
        let prefix = format!("[{}]:{} ssh-ed25519 ", n.address, n.port);
        assert_eq!(kh.lines().filter(|l| l.starts_with(&prefix)).count(), 1);
    }
    assert!(fleet.client_key().exists() && fleet.ssh_config().exists());

    for n in &nodes {
        ok(
            run_within(fleet.ssh(&n.alias).arg("true"), LIMIT),
            "ssh true",
        );
        // Own host name; each alias reaches its own node (SSH_CONNECTION ends with
        // the server's address and port); logged in as root.
        let out = ok(
            run_within(
                fleet
                    .ssh(&n.alias)
                    .arg("hostname; echo $SSH_CONNECTION; id -un"),
                LIMIT,
            ),
            "root login",
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], n.alias);
        assert!(
            lines[1].ends_with(&format!("{} {}", n.address, n.port)),
            "{}: {out}",
            n.alias
        );
        assert_eq!(lines[2], "root");
        let who = ok(
            run_within(fleet.ssh(&n.user_alias).arg("id -un"), LIMIT),
            "user login",
        );
        assert_eq!(who, USER);
    }
    // Per-node home dirs: `~` of node001 is not `~` of node002, for both users.
    ok(
        run_within(fleet.ssh("node001").arg("echo one > ~/mark; pwd"), LIMIT),
        "write ~",
    );
    ok(
        run_within(fleet.ssh("user-node002").arg("echo two > ~/mark"), LIMIT),
        "write user ~",
    );
    let read = |p: PathBuf| std::fs::read_to_string(p).unwrap_or_default();
    assert_eq!(read(fleet.root_home(0).join("mark")), "one\n");
    assert_eq!(read(fleet.root_home(1).join("mark")), "");
    assert_eq!(read(fleet.user_home(1).join("mark")), "two\n");
    assert_eq!(read(fleet.user_home(0).join("mark")), "");
    let o = run_within(fleet.ssh("node002").arg("cat ~/mark"), LIMIT);
    assert!(!o.status.success());

    let log = std::fs::read_to_string(fleet.sshd_log(0)).unwrap();
    assert!(log.contains("Accepted publickey for root"), "{log}");
    assert!(
        log.contains(&format!("Accepted publickey for {USER}")),
        "{log}"
    );
}

#[test]
fn host_key_checking_is_strict() {
    let Some(fleet) = Fleet::or_skip(2) else {
        return;
    };
    let (a, b) = (fleet.node(0), fleet.node(1));
    let kh = std::fs::read_to_string(fleet.known_hosts()).unwrap();
    let key_of = |n: &sshd::Node| {
        let prefix = format!("[{}]:{} ", n.address, n.port);
        kh.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap()
            .to_string()
    };
    // node001's address with node002's key: a changed host key.
    let wrong = fleet.dir().join("known_hosts.wrong");
    std::fs::write(
        &wrong,
        format!("[{}]:{} {}\n", a.address, a.port, key_of(&b)),
    )
    .unwrap();
    let o = run_within(
        fleet
            .ssh(&a.alias)
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", wrong.display()))
            .arg("true"),
        LIMIT,
    );
    assert!(!o.status.success(), "wrong host key accepted");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("Host key verification failed"), "{err}");

    // No entry at all: StrictHostKeyChecking yes refuses too.
    let empty = fleet.dir().join("known_hosts.empty");
    std::fs::write(&empty, "").unwrap();
    let o = run_within(
        fleet
            .ssh(&a.alias)
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", empty.display()))
            .arg("true"),
        LIMIT,
    );
    assert!(!o.status.success(), "unknown host accepted");
    assert!(std::fs::read_to_string(&empty).unwrap().is_empty());

    // The real file works.
    ok(
        run_within(fleet.ssh(&a.alias).arg("true"), LIMIT),
        "ssh true",
    );
}

#[test]
fn stop_node_drops_sessions_and_start_node_restores_it() {
    let Some(mut fleet) = Fleet::or_skip(2) else {
        return;
    };
    let before = fleet.node(0);
    let mut session = long_session(fleet.ssh("node001"));

    let t = Instant::now();
    fleet.stop_node(0);
    assert!(!fleet.is_running(0));
    assert_eq!(fleet.node(0).pid, None);
    // Like a host going down: the open session ends with it.
    let status = wait_exit(&mut session, Duration::from_secs(10));
    assert!(!status.success());
    eprintln!("stop_node + session drop: {:?}", t.elapsed());
    assert!(TcpStream::connect(before.socket_addr()).is_err());
    let o = run_within(fleet.ssh("node001").arg("true"), LIMIT);
    assert!(!o.status.success());
    // The other node is untouched.
    ok(
        run_within(fleet.ssh("node002").arg("true"), LIMIT),
        "node002",
    );

    let t = Instant::now();
    fleet.start_node(0);
    eprintln!("start_node: {:?}", t.elapsed());
    let after = fleet.node(0);
    assert_eq!((after.address, after.port), (before.address, before.port));
    assert_ne!(after.pid, before.pid);
    // Same host key: the same known_hosts still verifies it.
    ok(
        run_within(fleet.ssh("node001").arg("true"), LIMIT),
        "after restart",
    );
    ok(
        run_within(fleet.ssh("user-node001").arg("true"), LIMIT),
        "user after restart",
    );
}

#[test]
fn paused_node_accepts_but_never_answers() {
    let Some(fleet) = Fleet::or_skip(1) else {
        return;
    };
    let n = fleet.node(0);
    fleet.pause_node(0);
    // TCP connects (the kernel completes the handshake) but no banner comes.
    let t = Instant::now();
    let o = run_within(
        fleet
            .ssh("node001")
            .args(["-o", "ConnectTimeout=2", "true"]),
        LIMIT,
    );
    assert!(!o.status.success());
    assert!(t.elapsed() >= Duration::from_secs(2), "{:?}", t.elapsed());
    let mut s = TcpStream::connect(n.socket_addr()).expect("backlog accepts");
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 8];
    assert!(
        std::io::Read::read(&mut s, &mut buf).is_err(),
        "banner while paused"
    );
    fleet.resume_node(0);
    ok(
        run_within(fleet.ssh("node001").arg("true"), LIMIT),
        "resumed",
    );
}

#[test]
fn many_concurrent_connections_to_one_node() {
    let Some(fleet) = Fleet::or_skip(1) else {
        return;
    };
    // Beyond sshd's default MaxStartups 10:30:100 would start dropping some.
    let children: Vec<Child> = (0..24)
        .map(|_| {
            fleet
                .ssh("node001")
                .arg("true")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

#[test]
fn jump_fleet_internal_nodes_only_through_bastion() {
    let Some(mut jf) = JumpFleet::or_skip(2) else {
        return;
    };
    eprintln!("jump fleet of 2 up in {:?}", jf.startup_time());
    let bastion = jf.bastion();
    assert!(bastion.address.is_loopback());
    assert_eq!(jf.aliases(), ["int001", "int002"].map(String::from));
    ok(run_within(jf.ssh("bastion").arg("true"), LIMIT), "bastion");

    for n in jf.nodes() {
        // Direct: the address is not there in our namespace; fails at once.
        let t = Instant::now();
        let err = TcpStream::connect_timeout(&n.socket_addr(), Duration::from_secs(3))
            .expect_err("internal node reachable directly");
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
        let o = run_within(
            jf.ssh(&n.alias)
                .args(["-o", "ProxyJump=none", "-o", "ConnectTimeout=3"])
                .arg("true"),
            LIMIT,
        );
        assert!(
            !o.status.success(),
            "{} reachable without the bastion",
            n.alias
        );
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());

        // Through the bastion (ssh_config's ProxyJump, and an explicit -J).
        let who = ok(run_within(jf.ssh(&n.alias).arg("id -un"), LIMIT), "jump");
        assert_eq!(who, "root");
        let who = ok(
            run_within(jf.ssh(&n.user_alias).arg("id -un"), LIMIT),
            "user jump",
        );
        assert_eq!(who, USER);
        ok(
            run_within(jf.ssh(&n.alias).args(["-J", "bastion", "true"]), LIMIT),
            "-J",
        );
        let conn = ok(
            run_within(jf.ssh(&n.alias).arg("echo $SSH_CONNECTION"), LIMIT),
            "SSH_CONNECTION",
        );
        assert!(
            conn.ends_with(&format!("{} {}", n.address, n.port)),
            "{conn}"
        );

        // The node itself is healthy: from inside the namespace it answers directly.
        let o = run_within(
            Command::new("ip")
                .args(["netns", "exec", jf.netns(), "ssh", "-F"])
                .arg(jf.ssh_config())
                .args(["-o", "ProxyJump=none", &n.alias, "true"]),
            LIMIT,
        );
        ok(o, "direct from inside the namespace");
    }
    let log = std::fs::read_to_string(jf.bastion_log()).unwrap();
    assert!(log.contains("Accepted publickey for root"), "{log}");

    // Fault injection on internal nodes and on the bastion.
    jf.stop_node(1);
    assert!(
        !run_within(jf.ssh("int002").arg("true"), LIMIT)
            .status
            .success()
    );
    ok(run_within(jf.ssh("int001").arg("true"), LIMIT), "int001");
    jf.start_node(1);
    ok(
        run_within(jf.ssh("int002").arg("true"), LIMIT),
        "int002 back",
    );

    let mut session = long_session(jf.ssh("int001"));
    jf.stop_bastion();
    wait_exit(&mut session, Duration::from_secs(10));
    assert!(TcpStream::connect(bastion.socket_addr()).is_err());
    assert!(
        !run_within(jf.ssh("int001").arg("true"), LIMIT)
            .status
            .success()
    );
    jf.start_bastion();
    ok(
        run_within(jf.ssh("int001").arg("true"), LIMIT),
        "bastion back",
    );
}

#[test]
fn everything_is_removed_after_drop() {
    let Some(fleet) = Fleet::or_skip(2) else {
        return;
    };
    let jump = JumpFleet::or_skip(1);
    let mut dirs: Vec<PathBuf> = vec![fleet.dir().to_path_buf()];
    let mut sessions = vec![long_session(fleet.ssh("node001"))];
    let mut roots: Vec<Proc> = fleet
        .pids()
        .iter()
        .map(|p| procs::proc_of(*p as i32).unwrap())
        .collect();
    let mut ns = None;
    if let Some(j) = &jump {
        dirs.push(j.dir().to_path_buf());
        sessions.push(long_session(j.ssh("int001")));
        roots.extend(j.pids().iter().map(|p| procs::proc_of(*p as i32).unwrap()));
        ns = Some(PathBuf::from("/run/netns").join(j.netns()));
        assert!(ns.as_ref().unwrap().exists());
    }
    // Listeners, per-connection sshds, the sessions' shells and sleeps, and every
    // process in the namespace (internal sshds, the bastion's `sshd -i`).
    let mut everything = procs::tree(&roots);
    if let Some(ns) = &ns {
        let inside = procs::netns_members(ns);
        assert!(!inside.is_empty());
        everything.extend(inside);
    }
    assert!(everything.len() > roots.len(), "{everything:?}");

    drop(fleet);
    drop(jump);

    for p in &everything {
        assert!(!procs::alive(*p), "still running after drop: {p:?}");
    }
    // The clients notice that their servers are gone.
    for mut s in sessions {
        wait_exit(&mut s, Duration::from_secs(10));
    }
    for d in &dirs {
        assert!(!d.exists(), "{} left behind", d.display());
        assert!(procs_mentioning(d).is_empty(), "{:?}", procs_mentioning(d));
    }
    if let Some(ns) = ns {
        assert!(!ns.exists(), "{} left behind", ns.display());
        let list = Command::new("ip").args(["netns", "list"]).output().unwrap();
        let name = ns.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!String::from_utf8_lossy(&list.stdout).contains(&name));
    }
}

#[test]
fn a_panicking_test_still_cleans_up() {
    if Fleet::or_skip(1).is_none() {
        return;
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let r = std::thread::spawn(move || {
        let fleet = Fleet::start(1);
        let p = procs::proc_of(fleet.pids()[0] as i32).unwrap();
        tx.send((p, fleet.dir().to_path_buf())).unwrap();
        panic!("deliberate panic with a fleet alive");
    })
    .join();
    assert!(r.is_err());
    let (p, dir) = rx.recv().unwrap();
    assert!(!procs::alive(p));
    assert!(!dir.exists());
}

#[test]
fn leftovers_of_dead_runs_are_removed() {
    let Some(fleet) = Fleet::or_skip(1) else {
        return;
    };
    // Owner pid 0 never runs: this looks like what a SIGKILLed run leaves behind.
    let tag = format!("0-0-stale{}", std::process::id());

    // A namespace with a process inside.
    let name = format!("drv-{tag}");
    let file = PathBuf::from("/run/netns").join(&name);
    let st = Command::new("ip").args(["netns", "add", &name]).status();
    assert!(st.unwrap().success());
    let mut inside = Command::new("ip")
        .args(["netns", "exec", &name, "sleep", "60"])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while procs::netns_members(&file).is_empty() {
        assert!(Instant::now() < deadline, "sleep never entered {name}");
        std::thread::sleep(Duration::from_millis(5));
    }

    // A temp dir with a running sshd listener serving a session, made from a copy
    // of node001's files on another port.
    let stale = std::env::temp_dir().join(format!("drover-sshd-{tag}"));
    let node_dir = stale.join("nodes/node001");
    std::fs::create_dir_all(&node_dir).unwrap();
    let live = fleet.dir().to_string_lossy().into_owned();
    let n = fleet.node(0);
    let port = std::net::TcpListener::bind((n.address, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = std::fs::read_to_string(fleet.dir().join("nodes/node001/sshd_config"))
        .unwrap()
        .replace(&live, &stale.to_string_lossy())
        .replace(&format!(":{}", n.port), &format!(":{port}"));
    std::fs::write(node_dir.join("sshd_config"), cfg).unwrap();
    let key = "nodes/node001/ssh_host_ed25519_key";
    std::fs::copy(fleet.dir().join(key), stale.join(key)).unwrap();
    for f in ["authorized_keys.root", "authorized_keys.drovertest"] {
        std::fs::copy(fleet.dir().join(f), stale.join(f)).unwrap();
    }
    let mut sshd = Command::new(sshd::SSHD)
        .arg("-D")
        .arg("-f")
        .arg(node_dir.join("sshd_config"))
        .arg("-E")
        .arg(node_dir.join("sshd.log"))
        .spawn()
        .unwrap();
    let listener = procs::proc_of(sshd.id() as i32).unwrap();
    let mut session = None;
    let deadline = Instant::now() + Duration::from_secs(10);
    while session.is_none() {
        assert!(Instant::now() < deadline, "stale sshd never served");
        if TcpStream::connect((n.address, port)).is_ok() {
            let mut cmd = fleet.ssh("node001");
            cmd.args([
                "-o",
                &format!("Port={port}"),
                "-o",
                "StrictHostKeyChecking=no",
            ]);
            cmd.args(["-o", "UserKnownHostsFile=/dev/null"]);
            session = Some(long_session(cmd));
        } else {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let tree = procs::tree(&[listener]);
    assert!(tree.len() >= 3, "listener, connection, session: {tree:?}");

    procs::reap_stale();

    assert!(!file.exists(), "{name} survived reap_stale");
    assert!(!wait_exit(&mut inside, Duration::from_secs(5)).success());
    assert!(!stale.exists(), "{} survived reap_stale", stale.display());
    let _ = sshd.wait();
    for p in tree {
        assert!(!procs::alive(p), "{p:?} survived reap_stale");
    }
    wait_exit(session.as_mut().unwrap(), Duration::from_secs(10));
    // The live fleet of this (running) process is untouched.
    assert!(fleet.is_running(0));
    ok(
        run_within(fleet.ssh("node001").arg("true"), LIMIT),
        "live fleet",
    );
}

#[test]
fn ten_nodes_start_well_under_two_seconds() {
    let t = Instant::now();
    let Some(fleet) = Fleet::or_skip(10) else {
        return;
    };
    let took = t.elapsed();
    eprintln!(
        "fleet of 10: {took:?} (start reports {:?})",
        fleet.startup_time()
    );
    assert!(took < Duration::from_secs(2), "{took:?}");
    let t = Instant::now();
    drop(fleet);
    eprintln!("drop of 10: {:?}", t.elapsed());
}

/// `cargo test --release --test sshd_harness -- --ignored --nocapture` for the
/// benchmark-sized fleet.
#[test]
#[ignore = "slow: 200 sshd"]
fn two_hundred_nodes_start_in_time() {
    let t = Instant::now();
    let Some(fleet) = Fleet::or_skip(200) else {
        return;
    };
    let took = t.elapsed();
    eprintln!("fleet of 200: {took:?}");
    assert!(took < Duration::from_secs(15), "{took:?}");
    ok(
        run_within(fleet.ssh("node200").arg("true"), LIMIT),
        "node200",
    );
    let t = Instant::now();
    drop(fleet);
    eprintln!("drop of 200: {:?}", t.elapsed());
}
