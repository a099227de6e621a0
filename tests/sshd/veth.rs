//! A node whose network link a test can cut: a second sshd for one fleet node
//! (same host key, same homes), reachable only over a veth pair between two
//! network namespaces the test creates, one for the node and one for the client.
//!
//! Why no traffic can leave: the pair's two ends are the only interfaces of the
//! two namespaces besides their own loopbacks, both are created here, and neither
//! namespace has a route beyond the pair's /30 of link-local 169.254.0.0/16 (never
//! routed). The root namespace holds no end of the pair. The client (drover) runs
//! inside the client namespace with `ip netns exec`; `cut()` sets the node's end
//! down, which leaves TCP on both sides waiting as on a real cable cut.

use super::netns::{Netns, spawn_in};
use super::procs::{self, Proc};
use super::{SshdSet, node_sandbox, random};
use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CLIENT_IF: &str = "drv-c";
const NODE_IF: &str = "drv-n";

pub struct CutLink {
    /// The node's address, as seen from the client namespace.
    pub addr: Ipv4Addr,
    pub port: u16,
    pub alias: String,
    client: Netns,
    node: Netns,
    sshd: Option<(Child, Proc)>,
    log: PathBuf,
}

impl CutLink {
    /// The fleet's node `i`, served again behind a veth pair.
    pub fn start(set: &SshdSet, i: usize) -> Result<CutLink, String> {
        let client = Netns::create()?;
        let node = Netns::create()?;
        // One /30 out of 169.254.0.0/16 per link; .1 the client, .2 the node.
        let r = random();
        let (b, c) = ((r % 250) as u8 + 1, ((r >> 8) % 63) as u8 * 4);
        let addr = Ipv4Addr::new(169, 254, b, c + 2);
        let client_addr = format!("169.254.{b}.{}/30", c + 1);
        let run = |args: &[&str]| procs::run("ip", args);
        run(&[
            "-n",
            &client.name,
            "link",
            "add",
            CLIENT_IF,
            "type",
            "veth",
            "peer",
            "name",
            NODE_IF,
            "netns",
            &node.name,
        ])?;
        run(&[
            "-n",
            &client.name,
            "addr",
            "add",
            &client_addr,
            "dev",
            CLIENT_IF,
        ])?;
        run(&[
            "-n",
            &node.name,
            "addr",
            "add",
            &format!("{addr}/30"),
            "dev",
            NODE_IF,
        ])?;
        run(&["-n", &client.name, "link", "set", CLIENT_IF, "up"])?;
        run(&["-n", &node.name, "link", "set", NODE_IF, "up"])?;

        let daemon = &set.nodes[i];
        let port = set.port;
        let cfg_text = fs::read_to_string(daemon.cfg()).map_err(|e| e.to_string())?;
        let cfg_text: String = cfg_text
            .lines()
            .filter(|l| !l.starts_with("ListenAddress") && !l.starts_with("PidFile"))
            .map(|l| format!("{l}\n"))
            .collect();
        let cfg = daemon.dir.join("sshd_config.veth");
        let log = daemon.dir.join("sshd.veth.log");
        fs::write(
            &cfg,
            format!("ListenAddress {addr}:{port}\nPidFile none\n{cfg_text}"),
        )
        .map_err(|e| e.to_string())?;
        let sandbox = node_sandbox(&daemon.dir, &daemon.alias, Some(&node.file))?;
        let mut cmd = Command::new(super::SSHD);
        cmd.arg("-D")
            .arg("-f")
            .arg(&cfg)
            .arg("-E")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = spawn_in(&mut cmd, &sandbox).map_err(|e| format!("veth sshd: {e}"))?;
        let p = procs::proc_of(child.id() as i32).ok_or("veth sshd exited at once")?;
        procs::register_proc(p);
        let mut link = CutLink {
            addr,
            port,
            alias: daemon.alias.clone(),
            client,
            node,
            sshd: Some((child, p)),
            log,
        };
        link.wait_listening()?;
        Ok(link)
    }

    fn wait_listening(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + super::READY_LIMIT;
        while Instant::now() < deadline {
            let text = fs::read_to_string(&self.log).unwrap_or_default();
            if text.contains("Server listening on") {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("veth sshd not listening: {}", self.log.display()))
    }

    /// `ssh_config` text for alias `name` (as root) at this link's address.
    pub fn host_block(&self, name: &str, key: &Path, known_hosts: &Path) -> String {
        let mut out = String::new();
        super::host_block(
            &mut out,
            name,
            self.addr,
            self.port,
            "root",
            None,
            key,
            known_hosts,
        );
        out
    }

    /// `cmd` run inside the client namespace (`ip netns exec`, which execs it:
    /// the child's pid is `cmd`'s).
    pub fn inside(&self, cmd: &Command) -> Command {
        let mut wrapped = Command::new("ip");
        wrapped
            .args(["netns", "exec", &self.client.name])
            .arg(cmd.get_program())
            .args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => wrapped.env(k, v),
                None => wrapped.env_remove(k),
            };
        }
        wrapped
    }

    /// Sets the node's end of the pair down: packets are lost, nobody is told.
    pub fn cut(&self) {
        procs::run(
            "ip",
            &["-n", &self.node.name, "link", "set", NODE_IF, "down"],
        )
        .expect("cut the link");
    }

    /// Sets it up again.
    pub fn restore(&self) {
        procs::run("ip", &["-n", &self.node.name, "link", "set", NODE_IF, "up"])
            .expect("restore the link");
    }
}

impl Drop for CutLink {
    fn drop(&mut self) {
        // Deleting the namespaces ends everything inside them (sshd, sessions).
        self.node.delete();
        self.client.delete();
        if let Some((mut child, p)) = self.sshd.take() {
            let _ = child.kill();
            let _ = child.wait();
            procs::unregister_proc(p);
        }
    }
}
