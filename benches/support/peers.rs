//! The peer tools as a benchmark runs them on a test fleet: each gets the
//! fleet's `ssh_config` (keys, known_hosts, user) the way it takes options,
//! and the same fan-out as drover (64).
//!
//! `scripts/bench/scale.sh` installs them (pdsh, clustershell, parallel-ssh in
//! a venv named by `$DROVER_BENCH_PSSH`); a peer that is missing is left out of
//! the table with a note, never replaced by something else.
#![allow(dead_code)] // each benchmark uses a different subset

use std::path::{Path, PathBuf};
use std::process::Command;

pub const FANOUT: usize = 64;

/// What the peers need to know of the fleet.
pub struct Fleet<'a> {
    pub ssh_config: &'a Path,
    /// One alias per line.
    pub hosts_file: &'a Path,
    /// `addr` per line, for parallel-ssh (it does not read ssh_config).
    pub addresses_file: &'a Path,
    pub port: u16,
    pub client_key: &'a Path,
    /// Holds a `clush.conf` naming the ssh_config.
    pub clush_dir: &'a Path,
}

impl Fleet<'_> {
    /// Writes the clush configuration the fleet needs into `clush_dir`.
    pub fn write_clush_conf(&self) {
        std::fs::create_dir_all(self.clush_dir).expect("clush dir");
        let conf = format!(
            "[Main]\nfanout: {FANOUT}\nconnect_timeout: 15\ncommand_timeout: 0\n\
             color: never\nfd_max: 16384\nssh_options: -F {}\n",
            self.ssh_config.display()
        );
        std::fs::write(self.clush_dir.join("clush.conf"), conf).expect("clush.conf");
    }
}

fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
}

/// `xargs -P64 ssh` over the hosts file: one OpenSSH client per node.
pub fn xargs_ssh(f: &Fleet, command: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!(
            "xargs -P{FANOUT} -I{{}} ssh -F \"$1\" {{}} \"$2\" < \"$3\""
        ))
        .arg("xargs")
        .arg(f.ssh_config)
        .arg(command)
        .arg(f.hosts_file);
    c
}

pub fn pdsh(f: &Fleet, command: &str) -> Option<Command> {
    if !on_path("pdsh") {
        return None;
    }
    let mut c = Command::new("pdsh");
    c.env(
        "PDSH_SSH_ARGS_APPEND",
        format!("-F {}", f.ssh_config.display()),
    )
    .args(["-R", "ssh", "-f", &FANOUT.to_string(), "-w"])
    .arg(format!("^{}", f.hosts_file.display()))
    .arg(command);
    Some(c)
}

/// `pdsh … | dshbak -c`: pdsh's way of folding identical outputs.
pub fn pdsh_folded(f: &Fleet, command: &str) -> Option<Command> {
    if !on_path("pdsh") || !on_path("dshbak") {
        return None;
    }
    let mut c = Command::new("sh");
    c.env(
        "PDSH_SSH_ARGS_APPEND",
        format!("-F {}", f.ssh_config.display()),
    )
    .arg("-c")
    .arg(format!(
        "pdsh -R ssh -f {FANOUT} -w \"^$1\" \"$2\" | dshbak -c"
    ))
    .arg("pdsh")
    .arg(f.hosts_file)
    .arg(command);
    Some(c)
}

/// `clush -b` (folded) or plain `clush`.
pub fn clush(f: &Fleet, command: &str, folded: bool) -> Option<Command> {
    if !on_path("clush") {
        return None;
    }
    let mut c = Command::new("clush");
    c.env("CLUSTERSHELL_CFGDIR", f.clush_dir)
        .args(["-f", &FANOUT.to_string()])
        .arg("--hostfile")
        .arg(f.hosts_file);
    if folded {
        c.arg("-b");
    }
    c.arg(command);
    Some(c)
}

/// parallel-ssh (ssh2-python) through the venv python in `$DROVER_BENCH_PSSH`,
/// running `scripts/bench/pssh_run.py`.
pub fn parallel_ssh(f: &Fleet, command: &str) -> Option<Command> {
    let python = PathBuf::from(std::env::var_os("DROVER_BENCH_PSSH")?);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench/pssh_run.py");
    let mut c = Command::new(python);
    c.arg(script)
        .arg("--hosts")
        .arg(f.addresses_file)
        .args(["--port", &f.port.to_string(), "--user", "root", "--key"])
        .arg(f.client_key)
        .args(["--pool", &FANOUT.to_string(), "--"])
        .arg(command);
    Some(c)
}
