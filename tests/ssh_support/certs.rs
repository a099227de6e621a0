//! Certificate fixtures for the SSH tests: keys and CAs made with `ssh-keygen`,
//! certificates signed with `ssh-keygen -s`, and OpenSSH's own `ssh` as the
//! oracle on the same files.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `ssh-keygen -t ed25519` without a passphrase; returns the private key path.
pub fn keygen(dir: &Path, name: &str) -> PathBuf {
    keygen_typed(dir, name, "ed25519")
}

pub fn keygen_typed(dir: &Path, name: &str, key_type: &str) -> PathBuf {
    let key = dir.join(name);
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", key_type, "-N", "", "-C", name, "-f"])
        .arg(&key)
        .status()
        .expect("run ssh-keygen");
    assert!(st.success(), "ssh-keygen {name}");
    key
}

/// `ssh-keygen -s CA -I ID [-h] [-n PRINCIPALS] -V VALIDITY KEY.pub`; returns the
/// certificate (`KEY-cert.pub`).
pub fn sign(ca: &Path, key: &Path, host: bool, principals: &str, validity: &str) -> PathBuf {
    let mut cmd = Command::new("ssh-keygen");
    cmd.arg("-q")
        .arg("-s")
        .arg(ca)
        .args(["-I", "drover-test", "-V", validity]);
    if host {
        cmd.arg("-h");
    }
    if !principals.is_empty() {
        cmd.args(["-n", principals]);
    }
    let out = cmd
        .arg(pub_of(key))
        .stdin(Stdio::null())
        .output()
        .expect("run ssh-keygen -s");
    assert!(out.status.success(), "ssh-keygen -s: {out:?}");
    let mut cert = key.as_os_str().to_owned();
    cert.push("-cert.pub");
    PathBuf::from(cert)
}

pub fn pub_of(key: &Path) -> PathBuf {
    let mut p = key.as_os_str().to_owned();
    p.push(".pub");
    PathBuf::from(p)
}

pub fn read_pub(key: &Path) -> String {
    std::fs::read_to_string(pub_of(key))
        .expect("read .pub")
        .trim()
        .to_string()
}

/// OpenSSH's verdict on the same files: does `ssh -F cfg node001 true` log in?
pub fn ssh_logs_in(cfg: &Path) -> bool {
    Command::new("ssh")
        .arg("-F")
        .arg(cfg)
        .args(["node001", "true"])
        .stdin(Stdio::null())
        .output()
        .expect("run ssh")
        .status
        .success()
}
