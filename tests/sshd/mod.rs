//! Real OpenSSH servers for drover's SSH tests: never a mock.
//!
//! * [`Fleet::start(n)`](Fleet::start): `n` `sshd -D` processes in the root network
//!   namespace, node *i* (0-based) listening on `127.B.(i/250).(i%250+1)` and all on
//!   one high port chosen free for the run. `B` is a per-fleet block picked at random
//!   (and never reused while a fleet of this process holds it), so fleets of
//!   concurrent tests never meet. Distinct addresses on one port (not distinct ports
//!   on 127.0.0.1) because that is what a real fleet looks like to drover: one port,
//!   one host identity per address, distinct `[addr]:port` known_hosts entries, no
//!   need to find 200 free ports.
//! * [`JumpFleet::start(m)`](JumpFleet::start): a bastion plus `m` internal nodes
//!   that only the bastion reaches. The internal sshds run in a network namespace
//!   `drv-…` that has nothing but its own loopback, listening on 127.x addresses
//!   *inside* it. The bastion's listening socket is in the root namespace (loopback,
//!   owned by a thread of the test process) and every accepted connection is served
//!   by a fresh `sshd -i` (inetd mode) running *inside* the namespace. So a direct
//!   connection from the test process to an internal node's address lands on the
//!   root namespace's loopback, where nothing listens (refused at once), while
//!   `ProxyJump bastion` works. No veth, no route, no address outside 127.0.0.0/8:
//!   a mistaken direct attempt can never leave the machine.
//!
//! Both write into their temp dir: `id_ed25519` (client key, no passphrase),
//! `authorized_keys.<user>` (sshd's `AuthorizedKeysFile …/authorized_keys.%u`, for
//! root and [`USER`]), `known_hosts` (`[addr]:port ssh-ed25519 …`, each node's real
//! host key), `ssh_config` (aliases `node001…` log in as root, `user-node001…` as
//! [`USER`]; `bastion`, `int001…`, `user-int001…` with `ProxyJump bastion`) and per
//! node `nodes/<alias>/{sshd_config,ssh_host_ed25519_key,sshd.pid,sshd.log}`;
//! [`SshdSet::add_sshd_config`] adds lines to a node's config (certificates).
//!
//! Each sshd runs in its own mount + UTS namespace: its host name is its alias and
//! `/root` and [`USER`]'s home are per-node dirs (`nodes/<alias>/{root,home}`,
//! see [`SshdSet::root_home`]), so what one node writes to `~` the others do not
//! see, and no node sources the machine's own `/root/.bashrc`. The rest of the file
//! system (`/tmp` included) is the machine's.
//!
//! The non-root user exists because OpenSSH ignores the `signal` channel request for
//! root logins. Everything needs root (CI runs as root); [`Fleet::or_skip`] and
//! [`JumpFleet::or_skip`] print a loud `SKIPPED:` line and give `None` otherwise,
//! or fail the test under `DROVER_REQUIRE_FLEET=1` (see `tests/prereq`).
//!
//! Cleanup: dropping a fleet (also while a test panics) ends every sshd it started
//! together with their per-connection children and sessions (SIGSTOP to freeze the
//! tree, SIGTERM, SIGKILL after a bounded wait), removes the namespace and the temp
//! dir. Fleets that are never dropped (kept in a `static`) are cleaned by an
//! `atexit` hook; leftovers of runs that were killed outright (namespaces
//! `drv-<pid>-<start>-…`, dirs `drover-sshd-<pid>-<start>-…` and their sshds) are
//! removed by the next run once their owner process is gone.
//! Set `DROVER_SSHD_KEEP=1` to keep the temp dir (configs, logs) after a fleet ends.
#![allow(dead_code)] // each test binary uses a different subset

mod netns;
use crate::prereq;
pub mod procs;
pub mod veth;

use netns::{Acceptor, Netns, Sandbox};
use procs::Proc;
use std::fmt::Write as _;
use std::fs;
use std::hash::{BuildHasher, RandomState};
use std::io::{self, Read};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::ops::{Deref, DerefMut};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// The OpenSSH server binary (absolute: sshd re-executes itself).
pub const SSHD: &str = "/usr/sbin/sshd";
/// The non-root login user, created with `useradd` when missing.
pub const USER: &str = "drovertest";
const USER_HOME: &str = "/home/drovertest";
/// Longest the harness waits for a freshly started sshd to send its banner.
const READY_LIMIT: Duration = Duration::from_secs(15);
/// SIGTERM -> SIGKILL grace when stopping sshds.
const GRACE: Duration = Duration::from_secs(1);

/// One sshd as the tests see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Logs in as root (`node001`, `int001`, `bastion`).
    pub alias: String,
    /// Same server, logs in as [`USER`] (`user-node001`, ...).
    pub user_alias: String,
    pub address: Ipv4Addr,
    pub port: u16,
    /// The listening `sshd -D`; `None` while stopped, and for the bastion (inetd
    /// mode: one `sshd -i` per connection).
    pub pid: Option<u32>,
}

impl Node {
    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(self.address, self.port))
    }
}

/// A flat fleet: every node reachable directly on loopback.
pub struct Fleet {
    set: SshdSet,
}

impl Fleet {
    /// Starts `n` nodes; panics (with sshd's log) when that fails.
    pub fn start(n: usize) -> Fleet {
        Self::try_start(n).unwrap_or_else(|e| panic!("sshd fleet of {n}: {e}"))
    }

    pub fn try_start(n: usize) -> Result<Fleet, String> {
        assert!((1..=250 * 250).contains(&n), "fleet size {n}");
        preflight()?;
        retry(|| SshdSet::build(n, false)).map(|set| Fleet { set })
    }

    /// `Some(fleet)`, or `None` after printing a loud SKIPPED line when this
    /// machine cannot run one (not root).
    pub fn or_skip(n: usize) -> Option<Fleet> {
        if !is_root() {
            prereq::missing("needs root for an sshd fleet (useradd, root logins)");
            return None;
        }
        Some(Self::start(n))
    }
}

impl Deref for Fleet {
    type Target = SshdSet;
    fn deref(&self) -> &SshdSet {
        &self.set
    }
}
impl DerefMut for Fleet {
    fn deref_mut(&mut self) -> &mut SshdSet {
        &mut self.set
    }
}

/// A bastion plus internal nodes reachable only through it (see the module doc).
/// Derefs to the internal nodes' [`SshdSet`]: `nodes()`, `stop_node(i)`, ... are
/// about `int001…`.
pub struct JumpFleet {
    set: SshdSet,
}

impl JumpFleet {
    /// Starts a bastion and `m` internal nodes. `Err` says why not (not root, no
    /// network namespaces here); tests then skip, see [`JumpFleet::or_skip`].
    pub fn start(m: usize) -> Result<JumpFleet, String> {
        assert!((1..=250 * 250).contains(&m), "jump fleet size {m}");
        if !is_root() {
            return Err(format!(
                "JumpFleet needs root to create network namespaces (running as uid {}); \
                 without them there is no way to make nodes reachable only through a \
                 bastion, so tests that need one are skipped",
                nix::unistd::geteuid()
            ));
        }
        preflight()?;
        // Probe namespaces once per process, so that "unavailable" is a clear Err.
        static NETNS_OK: OnceLock<Result<(), String>> = OnceLock::new();
        NETNS_OK
            .get_or_init(|| Netns::create().map(|mut ns| ns.delete()))
            .clone()
            .map_err(|e| {
                format!("network namespaces unavailable here ({e}); tests that need a bastion are skipped")
            })?;
        retry(|| SshdSet::build(m, true)).map(|set| JumpFleet { set })
    }

    /// `Some(jump fleet)`, or `None` after printing
    /// `SKIPPED: needs root for network namespaces (...)`.
    pub fn or_skip(m: usize) -> Option<JumpFleet> {
        match Self::start(m) {
            Ok(j) => Some(j),
            Err(e) => {
                prereq::missing(&format!("needs root for network namespaces ({e})"));
                None
            }
        }
    }

    pub fn bastion(&self) -> Node {
        let b = self.set.bastion.as_ref().expect("bastion");
        Node {
            alias: "bastion".into(),
            user_alias: "user-bastion".into(),
            address: b.addr,
            port: self.set.port,
            pid: None,
        }
    }

    /// The namespace holding the internal nodes (and every bastion `sshd -i`).
    pub fn netns(&self) -> &str {
        &self.set.netns.as_ref().expect("netns").name
    }

    /// The bastion's log (all its `sshd -i` append here).
    pub fn bastion_log(&self) -> PathBuf {
        self.set.dir().join("bastion/sshd.log")
    }

    /// Closes the bastion's listening socket and ends its connections.
    pub fn stop_bastion(&mut self) {
        if let Some(b) = self.set.bastion.as_mut()
            && let Some(mut a) = b.acceptor.take()
        {
            a.stop();
        }
    }

    /// Listens again on the same address and port.
    pub fn start_bastion(&mut self) {
        let port = self.set.port;
        let ns = self.set.netns.as_ref().expect("netns").file.clone();
        let dir = self.set.dir().join("bastion");
        let b = self.set.bastion.as_mut().expect("bastion");
        if b.acceptor.is_none() {
            b.acceptor = Some(start_bastion(b.addr, port, &dir, &ns).expect("restart bastion"));
        }
    }
}

impl Deref for JumpFleet {
    type Target = SshdSet;
    fn deref(&self) -> &SshdSet {
        &self.set
    }
}
impl DerefMut for JumpFleet {
    fn deref_mut(&mut self) -> &mut SshdSet {
        &mut self.set
    }
}

/// What [`Fleet`] and [`JumpFleet`] share: the temp dir, client files and nodes.
pub struct SshdSet {
    dir: TempDir,
    port: u16,
    block: u8,
    nodes: Vec<Daemon>,
    netns: Option<Netns>,
    bastion: Option<Bastion>,
    startup: Duration,
}

struct Bastion {
    addr: Ipv4Addr,
    acceptor: Option<Acceptor>,
}

/// One `sshd -D` and its files.
struct Daemon {
    alias: String,
    user_alias: String,
    addr: Ipv4Addr,
    dir: PathBuf,
    child: Option<(Child, Proc)>,
}

impl SshdSet {
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
    /// For `ssh -F` (and drover's own ssh_config resolution).
    pub fn ssh_config(&self) -> PathBuf {
        self.dir().join("ssh_config")
    }
    pub fn known_hosts(&self) -> PathBuf {
        self.dir().join("known_hosts")
    }
    /// The fleet's ssh_config, but asking about host keys (`StrictHostKeyChecking
    /// ask`, not in batch mode) and keeping them in `known`: for the tests of the
    /// console's host key question.
    pub fn ssh_config_asking_host_keys(&self, known: &Path) -> String {
        let text = std::fs::read_to_string(self.ssh_config()).expect("read ssh_config");
        let edited = text
            .replace(
                &format!("UserKnownHostsFile {}", self.known_hosts().display()),
                &format!("UserKnownHostsFile {}", known.display()),
            )
            .replace("StrictHostKeyChecking yes", "StrictHostKeyChecking ask")
            .replace("BatchMode yes", "BatchMode no");
        assert_ne!(edited, text, "the fleet's ssh_config did not change");
        edited
    }
    /// Private key (ed25519, no passphrase) authorized for root and [`USER`].
    pub fn client_key(&self) -> PathBuf {
        self.dir().join("id_ed25519")
    }
    /// The one port every node (and the bastion) listens on.
    pub fn port(&self) -> u16 {
        self.port
    }
    pub fn len(&self) -> usize {
        self.nodes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
    /// How long `start` took.
    pub fn startup_time(&self) -> Duration {
        self.startup
    }
    pub fn nodes(&self) -> Vec<Node> {
        (0..self.len()).map(|i| self.node(i)).collect()
    }
    /// Node `i`, 0-based: `node(0)` is `node001` / `int001`.
    pub fn node(&self, i: usize) -> Node {
        let d = &self.nodes[i];
        Node {
            alias: d.alias.clone(),
            user_alias: d.user_alias.clone(),
            address: d.addr,
            port: self.port,
            pid: d.child.as_ref().map(|(c, _)| c.id()),
        }
    }
    /// Root alias of node `i` (0-based).
    pub fn alias(&self, i: usize) -> String {
        self.nodes[i].alias.clone()
    }
    /// Non-root ([`USER`]) alias of node `i` (0-based).
    pub fn user_alias(&self, i: usize) -> String {
        self.nodes[i].user_alias.clone()
    }
    pub fn aliases(&self) -> Vec<String> {
        self.nodes.iter().map(|d| d.alias.clone()).collect()
    }
    pub fn user_aliases(&self) -> Vec<String> {
        self.nodes.iter().map(|d| d.user_alias.clone()).collect()
    }
    /// sshd's log of node `i` (LogLevel VERBOSE, kept across stop/start).
    pub fn sshd_log(&self, i: usize) -> PathBuf {
        self.nodes[i].log()
    }
    /// What node `i` sees as `/root` (its own, empty at start).
    pub fn root_home(&self, i: usize) -> PathBuf {
        self.nodes[i].dir.join("root")
    }
    /// What node `i` sees as [`USER`]'s home dir.
    pub fn user_home(&self, i: usize) -> PathBuf {
        self.nodes[i].dir.join("home")
    }
    pub fn is_running(&self, i: usize) -> bool {
        self.nodes[i]
            .child
            .as_ref()
            .is_some_and(|(_, p)| procs::alive(*p))
    }
    /// Pids of the listening sshds that run now.
    pub fn pids(&self) -> Vec<u32> {
        self.nodes
            .iter()
            .filter_map(|d| d.child.as_ref().map(|(c, _)| c.id()))
            .collect()
    }

    /// Node `i`'s host key (private; the `.pub` is beside it), e.g. to certify it.
    pub fn host_key(&self, i: usize) -> PathBuf {
        self.nodes[i].host_key()
    }

    /// Appends `lines` to node `i`'s sshd_config (`HostCertificate`,
    /// `TrustedUserCAKeys`, ...) and restarts it so they apply; returns once it
    /// sends its banner again. sshd takes a keyword's first value, so only
    /// keywords the harness does not set take effect.
    pub fn add_sshd_config(&mut self, i: usize, lines: &str) {
        let cfg = self.nodes[i].cfg();
        let mut text = fs::read_to_string(&cfg).expect("read sshd_config");
        text.push_str(lines);
        if !text.ends_with('\n') {
            text.push('\n');
        }
        fs::write(&cfg, text).expect("write sshd_config");
        self.stop_node(i);
        self.start_node(i);
    }

    /// Kills node `i` like a host going down: its listening sshd and every
    /// connection and session it serves (SIGTERM, SIGKILL after a bounded wait).
    /// Returns once all of them are gone.
    pub fn stop_node(&mut self, i: usize) {
        stop_all(std::slice::from_mut(&mut self.nodes[i]));
    }

    /// Restarts node `i` on the same address, port and host key; returns once it
    /// sends its banner. Panics when it does not come up.
    pub fn start_node(&mut self, i: usize) {
        let ns = self.netns.as_ref().map(|n| n.file.clone());
        let port = self.port;
        let d = &mut self.nodes[i];
        if d.child.is_none() {
            d.spawn(ns.as_deref())
                .unwrap_or_else(|e| panic!("restart {}: {e}", d.alias));
        }
        let target = (d.sockaddr(port), d.child.as_ref().map(|c| c.1), d.log());
        wait_ready(&[target], ns.as_deref(), READY_LIMIT)
            .unwrap_or_else(|e| panic!("restart {}: {e}", self.nodes[i].alias));
    }

    /// Freezes node `i`'s listening sshd (SIGSTOP): new connections complete the TCP
    /// handshake (kernel backlog) but never get a banner, like a wedged host;
    /// sessions already open go on. [`SshdSet::resume_node`] undoes it.
    pub fn pause_node(&self, i: usize) {
        self.signal_listener(i, nix::sys::signal::Signal::SIGSTOP);
    }

    /// SIGCONT to node `i`'s listening sshd: pending connections get served.
    pub fn resume_node(&self, i: usize) {
        self.signal_listener(i, nix::sys::signal::Signal::SIGCONT);
    }

    fn signal_listener(&self, i: usize, sig: nix::sys::signal::Signal) {
        let (_, p) = self.nodes[i].child.as_ref().expect("node is stopped");
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(p.pid), sig).expect("kill");
    }

    /// `ssh -F <ssh_config> <alias>`; add the remote command with `.arg(...)`.
    pub fn ssh(&self, alias: &str) -> Command {
        let mut cmd = Command::new("ssh");
        cmd.arg("-F").arg(self.ssh_config()).arg(alias);
        cmd.stdin(Stdio::null());
        cmd
    }

    fn build(n: usize, jump: bool) -> Result<SshdSet, String> {
        let t0 = Instant::now();
        let me = procs::me();
        let dir = tempfile::Builder::new()
            .prefix(&format!("{}{}-{}-", procs::DIR_PREFIX, me.pid, me.start))
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        procs::register_dir(dir.path());
        let mut set = SshdSet {
            dir,
            port: 0,
            block: take_block(),
            nodes: Vec::new(),
            netns: None,
            bastion: None,
            startup: Duration::ZERO,
        };
        // From here on, `set`'s Drop cleans up whatever a failure leaves behind.
        let d = set.dir().to_path_buf();
        if d.to_string_lossy().contains(char::is_whitespace) {
            return Err(format!("temp dir {} has whitespace", d.display()));
        }
        // USER reads its authorized_keys from here (sshd opens it as that user).
        chmod(&d, 0o755)?;

        let prefix = if jump { "int" } else { "node" };
        let block = set.block;
        for i in 0..n {
            let alias = format!("{prefix}{:03}", i + 1);
            set.nodes.push(Daemon {
                user_alias: format!("user-{alias}"),
                addr: Ipv4Addr::new(127, block, (i / 250) as u8, (i % 250 + 1) as u8),
                dir: d.join("nodes").join(&alias),
                alias,
                child: None,
            });
        }
        let bastion_addr = Ipv4Addr::new(127, block, 255, 1);
        // Nothing in the root namespace may listen on any of these (for internal
        // nodes that is what makes a direct attempt fail).
        let mut addrs: Vec<Ipv4Addr> = set.nodes.iter().map(|d| d.addr).collect();
        if jump {
            addrs.push(bastion_addr);
        }
        set.port = pick_port(&addrs)?;

        // Keys: client + one host key per sshd, generated in parallel.
        let mut jobs = vec![(d.join("id_ed25519"), "drover-test-client".to_string())];
        for n in &set.nodes {
            mkdir(&n.dir)?;
            make_homes(&n.dir)?;
            jobs.push((n.host_key(), n.alias.clone()));
        }
        if jump {
            mkdir(&d.join("bastion"))?;
            make_homes(&d.join("bastion"))?;
            jobs.push((d.join("bastion/ssh_host_ed25519_key"), "bastion".into()));
        }
        trace(t0, "set-up");
        keygen(&jobs)?;
        trace(t0, "keys");
        let client_pub = read_pub(&d.join("id_ed25519"))?;
        for user in ["root", USER] {
            let f = d.join(format!("authorized_keys.{user}"));
            write(&f, &format!("{client_pub}\n"))?;
            chmod(&f, 0o644)?;
        }

        // sshd configs and the client's files.
        for n in &set.nodes {
            let cfg = sshd_config(
                &d,
                &n.host_key(),
                Some(n.sockaddr(set.port)),
                Some(&n.dir.join("sshd.pid")),
                None,
            );
            write(&n.cfg(), &cfg)?;
        }
        let mut known = String::new();
        let mut config = format!(
            "# drover test fleet: ssh -F {} <alias>\n",
            d.join("ssh_config").display()
        );
        let key = d.join("id_ed25519");
        let kh = d.join("known_hosts");
        let jump_via = jump.then_some("bastion");
        if jump {
            let hk = read_pub(&d.join("bastion/ssh_host_ed25519_key"))?;
            writeln!(known, "[{bastion_addr}]:{} {hk}", set.port).unwrap();
            for (alias, user) in [("bastion", "root"), ("user-bastion", USER)] {
                host_block(
                    &mut config,
                    alias,
                    bastion_addr,
                    set.port,
                    user,
                    None,
                    &key,
                    &kh,
                );
            }
        }
        for n in &set.nodes {
            let hk = read_pub(&n.host_key())?;
            writeln!(known, "[{}]:{} {hk}", n.addr, set.port).unwrap();
            host_block(
                &mut config,
                &n.alias,
                n.addr,
                set.port,
                "root",
                jump_via,
                &key,
                &kh,
            );
            host_block(
                &mut config,
                &n.user_alias,
                n.addr,
                set.port,
                USER,
                jump_via,
                &key,
                &kh,
            );
        }
        write(&kh, &known)?;
        write(&d.join("ssh_config"), &config)?;

        // Start every sshd, then wait for all banners.
        if jump {
            set.netns = Some(Netns::create()?);
        }
        let ns = set.netns.as_ref().map(|n| n.file.clone());
        // A few spawning threads: fork + namespace set-up + exec add up for 200.
        let per_thread = set.nodes.len().div_ceil(4);
        std::thread::scope(|s| {
            let jobs: Vec<_> = set
                .nodes
                .chunks_mut(per_thread)
                .map(|chunk| {
                    let ns = ns.as_deref();
                    s.spawn(move || chunk.iter_mut().try_for_each(|n| n.spawn(ns)))
                })
                .collect();
            jobs.into_iter().try_for_each(|j| {
                j.join()
                    .unwrap_or_else(|_| Err("spawn thread panicked".into()))
            })
        })?;
        trace(t0, "spawned");
        let targets: Vec<_> = set
            .nodes
            .iter()
            .map(|n| (n.sockaddr(set.port), n.child.as_ref().map(|c| c.1), n.log()))
            .collect();
        let limit = READY_LIMIT + Duration::from_millis(50) * n as u32;
        wait_ready(&targets, ns.as_deref(), limit)?;
        trace(t0, "ready");
        if let Some(ns) = &ns {
            let allowed: Vec<SocketAddr> = set.nodes.iter().map(|n| n.sockaddr(set.port)).collect();
            let cfg = sshd_config(
                &d,
                &d.join("bastion/ssh_host_ed25519_key"),
                None,
                None,
                Some(&allowed),
            );
            write(&d.join("bastion/sshd_config"), &cfg)?;
            let acceptor = start_bastion(bastion_addr, set.port, &d.join("bastion"), ns)?;
            set.bastion = Some(Bastion {
                addr: bastion_addr,
                acceptor: Some(acceptor),
            });
        }
        set.startup = t0.elapsed();
        Ok(set)
    }
}

impl Drop for SshdSet {
    fn drop(&mut self) {
        if let Some(b) = self.bastion.as_mut()
            && let Some(mut a) = b.acceptor.take()
        {
            a.stop();
        }
        stop_all(&mut self.nodes);
        if let Some(ns) = self.netns.as_mut() {
            ns.delete();
        }
        release_block(self.block);
        procs::unregister_dir(self.dir.path());
        if std::env::var_os("DROVER_SSHD_KEEP").is_some() {
            self.dir.disable_cleanup(true);
            eprintln!("sshd harness: kept {}", self.dir.path().display());
        }
    }
}

impl Daemon {
    fn cfg(&self) -> PathBuf {
        self.dir.join("sshd_config")
    }
    fn log(&self) -> PathBuf {
        self.dir.join("sshd.log")
    }
    fn host_key(&self) -> PathBuf {
        self.dir.join("ssh_host_ed25519_key")
    }
    fn sockaddr(&self, port: u16) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(self.addr, port))
    }

    fn spawn(&mut self, ns: Option<&Path>) -> Result<(), String> {
        let sandbox = node_sandbox(&self.dir, &self.alias, ns)?;
        let mut cmd = Command::new(SSHD);
        cmd.arg("-D")
            .arg("-f")
            .arg(self.cfg())
            .arg("-E")
            .arg(self.log())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = netns::spawn_in(&mut cmd, &sandbox)
            .map_err(|e| format!("{}: spawn {SSHD}: {e}", self.alias))?;
        match procs::proc_of(child.id() as i32) {
            Some(p) => {
                procs::register_proc(p);
                self.child = Some((child, p));
                Ok(())
            }
            None => {
                let status = child.wait();
                Err(format!(
                    "{}: sshd exited at once ({status:?}): {}",
                    self.alias,
                    log_tail(&self.log())
                ))
            }
        }
    }
}

/// Own host name (the alias) and own home dirs for root and [`USER`] (`dir/root`,
/// `dir/home` bind-mounted over theirs), in a private mount + UTS namespace: files a
/// test copies to "each node" land in separate places, `hostname` tells the nodes
/// apart, and no node runs the machine's own `/root/.bashrc` (bash sources it for
/// every ssh command; a dev box's pyenv/cargo set-up costs ~0.3 s each).
fn node_sandbox(dir: &Path, alias: &str, ns: Option<&Path>) -> Result<Sandbox, String> {
    let user = ensure_user()?;
    Ok(Sandbox {
        netns: ns.map(Path::to_path_buf),
        hostname: Some(alias.to_string()),
        binds: vec![
            (dir.join("root"), PathBuf::from("/root")),
            (dir.join("home"), user.home),
        ],
    })
}

/// Creates a node's `root` and `home` dirs (see [`node_sandbox`]).
fn make_homes(dir: &Path) -> Result<(), String> {
    let user = ensure_user()?;
    let (root, home) = (dir.join("root"), dir.join("home"));
    mkdir(&root)?;
    chmod(&root, 0o700)?;
    mkdir(&home)?;
    chmod(&home, 0o755)?;
    std::os::unix::fs::chown(&home, Some(user.uid), Some(user.gid))
        .map_err(|e| format!("chown {}: {e}", home.display()))
}

/// Stops many sshds at once (one freeze/terminate pass for all their trees).
fn stop_all(nodes: &mut [Daemon]) {
    let roots: Vec<Proc> = nodes
        .iter()
        .filter_map(|d| d.child.as_ref().map(|c| c.1))
        .collect();
    if roots.is_empty() {
        return;
    }
    procs::terminate_trees(&roots, GRACE);
    for d in nodes {
        if let Some((mut child, p)) = d.child.take() {
            let _ = child.kill(); // no-op unless it somehow survived
            let _ = child.wait();
            procs::unregister_proc(p);
        }
    }
}

fn start_bastion(addr: Ipv4Addr, port: u16, dir: &Path, ns: &Path) -> Result<Acceptor, String> {
    let sa = SocketAddr::V4(SocketAddrV4::new(addr, port));
    let log = dir.join("sshd.log");
    let sandbox = node_sandbox(dir, "bastion", Some(ns))?;
    let a = Acceptor::start(sa, Path::new(SSHD), &dir.join("sshd_config"), &log, sandbox)?;
    // One real handshake start: proves `sshd -i` runs in the namespace with this config.
    wait_ready(&[(sa, None, log)], None, READY_LIMIT)?;
    Ok(a)
}

// ---------------------------------------------------------------- set-up pieces

/// `DROVER_SSHD_TRACE=1`: print how long each start-up phase took.
fn trace(t0: Instant, what: &str) {
    if std::env::var_os("DROVER_SSHD_TRACE").is_some() {
        eprintln!("sshd harness: {what} after {:?}", t0.elapsed());
    }
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Root, sshd, privilege separation dir, the non-root user; stale leftovers gone.
fn preflight() -> Result<(), String> {
    if !is_root() {
        return Err(format!(
            "the sshd harness needs root (uid {}): root logins, useradd {USER}, /run/sshd",
            nix::unistd::geteuid()
        ));
    }
    if !Path::new(SSHD).exists() {
        return Err(format!(
            "{SSHD} missing: apt-get install openssh-server (scripts/test.sh does)"
        ));
    }
    procs::init();
    // sshd refuses to start without its privilege separation dir.
    fs::create_dir_all("/run/sshd").map_err(|e| format!("/run/sshd: {e}"))?;
    chmod(Path::new("/run/sshd"), 0o755)?;
    ensure_user().map(|_| ())
}

/// Up to three attempts: a port picked free can be taken by someone else before
/// sshd binds it.
fn retry(mut build: impl FnMut() -> Result<SshdSet, String>) -> Result<SshdSet, String> {
    let mut errors = Vec::new();
    for _ in 0..3 {
        match build() {
            Ok(set) => return Ok(set),
            Err(e) => errors.push(e),
        }
    }
    Err(errors.join("\n--- retry ---\n"))
}

/// [`USER`]'s uid, gid and home dir.
#[derive(Clone, Debug)]
struct UserInfo {
    uid: u32,
    gid: u32,
    home: PathBuf,
}

fn ensure_user() -> Result<UserInfo, String> {
    static DONE: OnceLock<Result<UserInfo, String>> = OnceLock::new();
    DONE.get_or_init(create_user).clone()
}

fn create_user() -> Result<UserInfo, String> {
    use nix::unistd::User;
    let lookup = || User::from_name(USER).ok().flatten();
    let shell = if Path::new("/bin/bash").exists() {
        "/bin/bash"
    } else {
        "/bin/sh"
    };
    if lookup().is_none() {
        let made = procs::run(
            "useradd",
            &[
                "--system",
                "--create-home",
                "--home-dir",
                USER_HOME,
                "--shell",
                shell,
                "--password",
                "*",
                USER,
            ],
        );
        // Another test process may have created it at the same moment.
        if lookup().is_none() {
            return Err(format!("cannot create user {USER}: {made:?}"));
        }
    }
    let user = lookup().ok_or_else(|| format!("user {USER} vanished"))?;
    if user.shell.to_string_lossy().ends_with("nologin") || user.shell.ends_with("false") {
        procs::run("usermod", &["--shell", shell, USER])?;
    }
    // With `UsePAM no`, sshd refuses even key logins into a "locked" account (shadow
    // password starting with '!', useradd's default): make it "no password" instead.
    let shadow = fs::read_to_string("/etc/shadow").unwrap_or_default();
    let locked = shadow.lines().any(|l| {
        l.strip_prefix(USER)
            .and_then(|r| r.strip_prefix(':'))
            .is_some_and(|r| r.starts_with('!'))
    });
    if locked {
        procs::run("usermod", &["--password", "*", USER])?;
    }
    if !user.dir.is_dir() {
        fs::create_dir_all(&user.dir).map_err(|e| format!("{}: {e}", user.dir.display()))?;
        std::os::unix::fs::chown(&user.dir, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
            .map_err(|e| format!("chown {}: {e}", user.dir.display()))?;
    }
    Ok(UserInfo {
        uid: user.uid.as_raw(),
        gid: user.gid.as_raw(),
        home: user.dir,
    })
}

fn random() -> u64 {
    static N: AtomicUsize = AtomicUsize::new(0);
    RandomState::new().hash_one((
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        Instant::now(),
    ))
}

/// Second octet blocks (127.B.0.0/16) held by live sets of this process.
static BLOCKS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

fn take_block() -> u8 {
    let mut used = BLOCKS.lock().unwrap_or_else(|e| e.into_inner());
    let start = random() as usize;
    // 64..=254: away from 127.0.0.x and the ranges people use by hand (127.0.10.x).
    let b = (0..191)
        .map(|k| 64 + ((start + k) % 191) as u8)
        .find(|b| !used.contains(b))
        .expect("more than 190 sshd fleets at once");
    used.push(b);
    b
}

fn release_block(b: u8) {
    BLOCKS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|x| *x != b);
}

/// A port below the ephemeral range that every address can bind right now.
fn pick_port(addrs: &[Ipv4Addr]) -> Result<u16, String> {
    let low = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let (from, to) = if low > 21000 {
        (20000, low)
    } else {
        (10000, 20000)
    };
    for _ in 0..64 {
        let port = from + (random() % u64::from(to - from)) as u16;
        let free = addrs
            .iter()
            .all(|a| TcpListener::bind(SocketAddrV4::new(*a, port)).is_ok());
        if free {
            return Ok(port);
        }
    }
    Err("no free port for the fleet".into())
}

fn keygen(jobs: &[(PathBuf, String)]) -> Result<(), String> {
    for chunk in jobs.chunks(16) {
        let mut children = Vec::new();
        for (path, comment) in chunk {
            let child = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
                .arg(path)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| format!("ssh-keygen: {e}"))?;
            children.push((path, child));
        }
        for (path, child) in children {
            let out = child
                .wait_with_output()
                .map_err(|e| format!("ssh-keygen: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "ssh-keygen {}: {}",
                    path.display(),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
    }
    Ok(())
}

/// `type base64` of `<key>.pub`.
fn read_pub(key: &Path) -> Result<String, String> {
    let p = key.with_extension("pub");
    let s = fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    let f: Vec<&str> = s.split_whitespace().take(2).collect();
    if f.len() != 2 {
        return Err(format!("{}: not a public key", p.display()));
    }
    Ok(f.join(" "))
}

/// The OpenSSH release of the server, e.g. (9, 2).
fn sshd_version() -> (u32, u32) {
    static V: OnceLock<(u32, u32)> = OnceLock::new();
    *V.get_or_init(|| {
        let out = Command::new(SSHD).arg("-V").output();
        let text = out
            .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
            .unwrap_or_default();
        text.split("OpenSSH_")
            .nth(1)
            .and_then(|v| {
                let mut it = v.split(|c: char| !c.is_ascii_digit());
                Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
            })
            .unwrap_or((0, 0))
    })
}

/// `forward_to`: `None` for nodes (no forwarding); for the bastion, the only
/// destinations it may open (`ProxyJump` = local forwarding = direct-tcpip).
fn sshd_config(
    dir: &Path,
    host_key: &Path,
    listen: Option<SocketAddr>,
    pid_file: Option<&Path>,
    forward_to: Option<&[SocketAddr]>,
) -> String {
    let mut c = String::new();
    if let Some(l) = listen {
        writeln!(c, "ListenAddress {l}").unwrap();
    }
    writeln!(c, "HostKey {}", host_key.display()).unwrap();
    match pid_file {
        Some(p) => writeln!(c, "PidFile {}", p.display()).unwrap(),
        None => c.push_str("PidFile none\n"),
    }
    writeln!(c, "AuthorizedKeysFile {}/authorized_keys.%u", dir.display()).unwrap();
    c.push_str(
        "StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
UseDNS no
# 200 concurrent connections, all unauthenticated at the same moment, must pass.
MaxStartups 1000
MaxSessions 1000
LogLevel VERBOSE
PrintMotd no
PrintLastLog no
X11Forwarding no
# Allowed so that drover's ForwardAgent handling can be tested (it is off
# unless the client asks).
AllowAgentForwarding yes
AllowStreamLocalForwarding no
PermitTunnel no
GatewayPorts no
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
",
    );
    match forward_to {
        None => c.push_str("AllowTcpForwarding no\n"),
        Some(dests) => {
            c.push_str("AllowTcpForwarding local\nPermitOpen");
            for d in dests {
                write!(c, " {d}").unwrap();
            }
            c.push('\n');
        }
    }
    // OpenSSH 9.8+ throttles sources that disconnect early; a fan-out tool (and
    // our readiness probes) would trip it.
    if sshd_version() >= (9, 8) {
        c.push_str("PerSourcePenalties no\n");
    }
    c
}

#[allow(clippy::too_many_arguments)]
fn host_block(
    out: &mut String,
    alias: &str,
    addr: Ipv4Addr,
    port: u16,
    user: &str,
    jump: Option<&str>,
    key: &Path,
    known_hosts: &Path,
) {
    writeln!(out, "\nHost {alias}").unwrap();
    writeln!(out, "  HostName {addr}").unwrap();
    writeln!(out, "  Port {port}").unwrap();
    writeln!(out, "  User {user}").unwrap();
    writeln!(out, "  IdentityFile {}", key.display()).unwrap();
    writeln!(out, "  IdentitiesOnly yes").unwrap();
    writeln!(out, "  UserKnownHostsFile {}", known_hosts.display()).unwrap();
    writeln!(out, "  GlobalKnownHostsFile /dev/null").unwrap();
    writeln!(out, "  StrictHostKeyChecking yes").unwrap();
    writeln!(out, "  BatchMode yes").unwrap();
    writeln!(out, "  ConnectTimeout 10").unwrap();
    writeln!(out, "  LogLevel ERROR").unwrap();
    if let Some(j) = jump {
        writeln!(out, "  ProxyJump {j}").unwrap();
    }
}

/// Polls until each target accepts a TCP connection and sends `SSH-2.0-…`, with
/// a few worker threads (inside `ns` when given); fails early when an sshd died.
fn wait_ready(
    targets: &[(SocketAddr, Option<Proc>, PathBuf)],
    ns: Option<&Path>,
    limit: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    let next = AtomicUsize::new(0);
    let errors = Mutex::new(Vec::<String>::new());
    std::thread::scope(|s| {
        for _ in 0..targets.len().clamp(1, 8) {
            s.spawn(|| {
                if let Some(ns) = ns
                    && let Err(e) = netns::enter_this_thread(ns)
                {
                    errors.lock().unwrap().push(format!("setns: {e}"));
                    return;
                }
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((addr, proc, log)) = targets.get(i) else {
                        break;
                    };
                    if let Err(e) = wait_one(*addr, *proc, log, deadline) {
                        errors.lock().unwrap().push(e);
                    }
                }
            });
        }
    });
    let errors = errors.into_inner().unwrap();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} sshd(s) not ready: {}",
            errors.len(),
            errors[..errors.len().min(3)].join("; ")
        ))
    }
}

fn wait_one(
    addr: SocketAddr,
    proc: Option<Proc>,
    log: &Path,
    deadline: Instant,
) -> Result<(), String> {
    loop {
        let last = match banner(addr) {
            Ok(line) if line.starts_with("SSH-2.0-") => return Ok(()),
            Ok(line) => format!("unexpected banner {line:?}"),
            Err(e) => e.to_string(),
        };
        if let Some(p) = proc
            && !procs::alive(p)
        {
            return Err(format!("sshd for {addr} exited: {}", log_tail(log)));
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{addr}: no SSH banner in time ({last}): {}",
                log_tail(log)
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The first line a server sends.
fn banner(addr: SocketAddr) -> io::Result<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    s.set_read_timeout(Some(Duration::from_secs(3)))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 256];
    while !buf.contains(&b'\n') && buf.len() < 1024 {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let line = buf.split(|b| *b == b'\n').next().unwrap_or_default();
    Ok(String::from_utf8_lossy(line).trim_end().to_string())
}

fn log_tail(log: &Path) -> String {
    let text = fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(15)..].join("\n  ");
    format!("{} (last lines):\n  {tail}", log.display())
}

fn mkdir(p: &Path) -> Result<(), String> {
    fs::create_dir_all(p).map_err(|e| format!("{}: {e}", p.display()))
}

fn write(p: &Path, text: &str) -> Result<(), String> {
    fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()))
}

fn chmod(p: &Path, mode: u32) -> Result<(), String> {
    fs::set_permissions(p, fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {}: {e}", p.display()))
}
