//! SSH certificates against real OpenSSH servers (`tests/sshd/`), CAs made with
//! `ssh-keygen -s`: host certificates trusted through `@cert-authority` lines (and
//! refused for a wrong principal, expiry, a revoked CA or a revoked host key), and
//! user certificates accepted by `TrustedUserCAKeys` without any authorized_keys
//! entry. Where it is cheap, OpenSSH's own `ssh` is run on the same files as the
//! oracle: drover must agree with it.

use crate::cli_support::finish;
use crate::ssh_support::{Agent, Drover, assert_error};
use crate::sshd::Fleet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `ssh-keygen -t ed25519` without a passphrase; returns the private key path.
fn keygen(dir: &Path, name: &str) -> PathBuf {
    keygen_typed(dir, name, "ed25519")
}

fn keygen_typed(dir: &Path, name: &str, key_type: &str) -> PathBuf {
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
fn sign(ca: &Path, key: &Path, host: bool, principals: &str, validity: &str) -> PathBuf {
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

fn pub_of(key: &Path) -> PathBuf {
    let mut p = key.as_os_str().to_owned();
    p.push(".pub");
    PathBuf::from(p)
}

fn read_pub(key: &Path) -> String {
    std::fs::read_to_string(pub_of(key))
        .expect("read .pub")
        .trim()
        .to_string()
}

/// A fleet of one whose node001 presents a host certificate signed by `ca` for
/// the principals `principals(address)` names, valid `validity`; and a copy of
/// its ssh_config reading `known_hosts(address, node key)` instead of the
/// fleet's known_hosts (which holds the plain key).
struct HostCase {
    fleet: Fleet,
    cfg: PathBuf,
    known_hosts: PathBuf,
}

fn host_case(
    d: &Drover,
    ca: &Path,
    principals: impl Fn(&str) -> String,
    validity: &str,
    known_hosts: impl Fn(&str, &str) -> String,
) -> Option<HostCase> {
    let mut fleet = Fleet::or_skip(1)?;
    let addr = fleet.node(0).address.to_string();
    let cert = sign(ca, &fleet.host_key(0), true, &principals(&addr), validity);
    fleet.add_sshd_config(0, &format!("HostCertificate {}\n", cert.display()));
    let kh = d.path("known_hosts.certs");
    std::fs::write(&kh, known_hosts(&addr, &read_pub(&fleet.host_key(0)))).unwrap();
    let fleet_kh = fleet.known_hosts().display().to_string();
    let cfg = d.edited_config(&fleet.ssh_config(), "ssh_config.certs", |t| {
        t.replace(&fleet_kh, &kh.display().to_string())
    });
    Some(HostCase {
        fleet,
        cfg,
        known_hosts: kh,
    })
}

/// `@cert-authority` for every name of the fleet's (random) 127.* block.
fn ca_line(ca: &Path) -> String {
    format!("@cert-authority [127.*]:* {}\n", read_pub(ca))
}

/// OpenSSH's verdict on the same files: does `ssh -F cfg node001 true` log in?
fn ssh_logs_in(cfg: &Path) -> bool {
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

#[test]
fn host_certificate_from_a_trusted_ca_is_enough_without_a_key_line() {
    let d = Drover::new();
    let ca = keygen(d.dir.path(), "host_ca");
    let Some(c) = host_case(&d, &ca, str::to_string, "-5m:+1h", |_, _| {
        format!("# CAs only\n{}", ca_line(&ca))
    }) else {
        return;
    };
    let r = d.report(&c.cfg, "node001", &[], "echo certified");
    assert_eq!(r.code(), 0, "{r:?}");
    assert_eq!(r.lines("node001", "stdout"), ["certified"], "{r:?}");
    assert!(ssh_logs_in(&c.cfg), "ssh refuses what drover accepted");
}

/// Runs node001 and expects it refused for its host certificate, naming each of
/// `needles`; OpenSSH's ssh must refuse the same files.
fn refused(d: &Drover, c: &HostCase, needles: &[&str]) {
    let r = d.report(&c.cfg, "node001", &[], "echo ran");
    assert_eq!(r.code(), 1, "{r:?}");
    assert_error(&r, "node001", "Authorization", needles);
    println!("CERT-ROW refused: {}", r.error("node001").1);
    assert!(r.lines("node001", "stdout").is_empty(), "{r:?}");
    assert_eq!(r.retries("node001"), 0, "a refused host is not retried");
    assert!(!ssh_logs_in(&c.cfg), "ssh accepts what drover refused");
}

fn at(c: &HostCase, line: usize) -> String {
    format!("{}:{line}", c.known_hosts.display())
}

#[test]
fn host_certificate_for_another_principal_is_refused() {
    let d = Drover::new();
    let ca = keygen(d.dir.path(), "host_ca");
    let Some(c) = host_case(
        &d,
        &ca,
        |_| "other.example,127.0.0.1".into(),
        "-5m:+1h",
        |_, _| format!("# CAs only\n{}", ca_line(&ca)),
    ) else {
        return;
    };
    let addr = c.fleet.node(0).address.to_string();
    refused(
        &d,
        &c,
        &[
            &format!("not valid for \"{addr}\""),
            "\"other.example\"",
            &at(&c, 2),
            "no known_hosts entry",
        ],
    );
}

/// Stricter than ssh 9.2, which accepts such a certificate for any host (the
/// README's SSH section says why): checked here so that the difference stays
/// known.
#[test]
fn host_certificate_without_principals_is_refused_where_ssh_accepts_it() {
    let d = Drover::new();
    let ca = keygen(d.dir.path(), "host_ca");
    let Some(c) = host_case(&d, &ca, |_| String::new(), "-5m:+1h", |_, _| ca_line(&ca)) else {
        return;
    };
    let r = d.report(&c.cfg, "node001", &[], "echo ran");
    assert_eq!(r.code(), 1, "{r:?}");
    assert_error(
        &r,
        "node001",
        "Authorization",
        &["lists no principals", &at(&c, 1)],
    );
    assert!(
        ssh_logs_in(&c.cfg),
        "ssh now refuses it too: drop the README note"
    );
}

#[test]
fn expired_host_certificate_is_refused() {
    let d = Drover::new();
    let ca = keygen(d.dir.path(), "host_ca");
    let Some(c) = host_case(&d, &ca, str::to_string, "20200101:20200102", |_, _| {
        ca_line(&ca)
    }) else {
        return;
    };
    refused(
        &d,
        &c,
        &["host certificate expired at 2020-01-02", &at(&c, 1)],
    );
}

#[test]
fn host_certificate_signed_by_a_revoked_ca_is_refused() {
    let d = Drover::new();
    let ca = keygen(d.dir.path(), "host_ca");
    let Some(c) = host_case(&d, &ca, str::to_string, "-5m:+1h", |_, _| {
        format!("{}@revoked * {}\n", ca_line(&ca), read_pub(&ca))
    }) else {
        return;
    };
    refused(&d, &c, &["certificate authority", "@revoked", &at(&c, 2)]);
}

#[test]
fn certified_host_key_that_is_revoked_is_refused() {
    let d = Drover::new();
    let ca = keygen(d.dir.path(), "host_ca");
    let Some(c) = host_case(&d, &ca, str::to_string, "-5m:+1h", |addr, key| {
        // Also a plain line for the key: revocation wins over it.
        format!("{}@revoked * {key}\n[{addr}]:* {key}\n", ca_line(&ca))
    }) else {
        return;
    };
    refused(&d, &c, &["host key", "@revoked", &at(&c, 2)]);
}

#[test]
fn host_certificate_from_an_unknown_ca_is_refused() {
    let d = Drover::new();
    let ca = keygen(d.dir.path(), "host_ca");
    let other = keygen(d.dir.path(), "other_ca");
    let Some(c) = host_case(&d, &ca, str::to_string, "-5m:+1h", |_, _| ca_line(&other)) else {
        return;
    };
    refused(&d, &c, &["unknown certificate authority", &at(&c, 1)]);
}

/// OpenSSH checks the certified key as a plain host key when the certificate
/// itself is not acceptable: a known_hosts line for that key still lets it in.
#[test]
fn unacceptable_host_certificate_falls_back_to_a_plain_key_line_as_ssh_does() {
    let d = Drover::new();
    let ca = keygen(d.dir.path(), "host_ca");
    let Some(c) = host_case(
        &d,
        &ca,
        |_| "other.example".into(),
        "-5m:+1h",
        |addr, key| format!("{}[{addr}]:* {key}\n", ca_line(&ca)),
    ) else {
        return;
    };
    let r = d.report(&c.cfg, "node001", &[], "echo ran");
    assert_eq!(r.code(), 0, "{r:?}");
    assert_eq!(r.lines("node001", "stdout"), ["ran"], "{r:?}");
    assert!(ssh_logs_in(&c.cfg), "ssh refuses what drover accepted");
}

/// node001 trusts `user_ca` for user certificates; a fresh key (in no
/// authorized_keys) is certified for root with `validity`. Returns the fleet,
/// the ssh_config using that key, the key and its certificate.
fn user_case(d: &Drover, validity: &str) -> Option<(Fleet, PathBuf, PathBuf, PathBuf)> {
    user_case_typed(d, validity, "ed25519")
}

fn user_case_typed(
    d: &Drover,
    validity: &str,
    key_type: &str,
) -> Option<(Fleet, PathBuf, PathBuf, PathBuf)> {
    let mut fleet = Fleet::or_skip(1)?;
    let user_ca = keygen(d.dir.path(), "user_ca");
    fleet.add_sshd_config(
        0,
        &format!("TrustedUserCAKeys {}\n", pub_of(&user_ca).display()),
    );
    let key = keygen_typed(d.dir.path(), "id_certified", key_type);
    let cert = sign(&user_ca, &key, false, "root", validity);
    let client = fleet.client_key().display().to_string();
    let cfg = d.edited_config(&fleet.ssh_config(), "ssh_config.user", |t| {
        t.replace(&client, &key.display().to_string())
    });
    Some((fleet, cfg, key, cert))
}

#[test]
fn user_certificate_logs_in_without_an_authorized_keys_entry() {
    let d = Drover::new();
    let Some((fleet, cfg, key, cert)) = user_case(&d, "-5m:+1h") else {
        return;
    };
    // `<identity>-cert.pub` beside the key, as ssh finds it.
    let r = d.report(&cfg, "node001", &[], "whoami");
    assert_eq!(r.code(), 0, "{r:?}");
    assert_eq!(r.lines("node001", "stdout"), ["root"], "{r:?}");
    let log = std::fs::read_to_string(fleet.sshd_log(0)).unwrap();
    assert!(
        log.contains("Accepted publickey for root") && log.contains("ED25519-CERT"),
        "{log}"
    );
    assert!(ssh_logs_in(&cfg), "ssh refuses what drover accepted");

    // Elsewhere, named by CertificateFile.
    let moved = d.path("elsewhere-cert.pub");
    std::fs::rename(&cert, &moved).unwrap();
    let key_s = key.display().to_string();
    let with_file = d.edited_config(&cfg, "ssh_config.certfile", |t| {
        t.replace(
            &format!("IdentityFile {key_s}\n"),
            &format!(
                "IdentityFile {key_s}\n  CertificateFile {}\n",
                moved.display()
            ),
        )
    });
    let r = d.report(&with_file, "node001", &[], "whoami");
    assert_eq!(r.code(), 0, "{r:?}");
    assert!(ssh_logs_in(&with_file), "ssh refuses what drover accepted");

    // Without the certificate the key alone is refused: it was the certificate.
    let r = d.report(&cfg, "node001", &[], "whoami");
    assert_eq!(r.code(), 1, "{r:?}");
    assert_error(
        &r,
        "node001",
        "Authorization",
        &[&format!("{key_s} (refused by server)")],
    );
}

#[test]
fn expired_user_certificate_fails_authentication_saying_so() {
    let d = Drover::new();
    let Some((_fleet, cfg, _key, cert)) = user_case(&d, "20200101:20200102") else {
        return;
    };
    let r = d.report(&cfg, "node001", &[], "whoami");
    assert_eq!(r.code(), 1, "{r:?}");
    assert_error(
        &r,
        "node001",
        "Authorization",
        &[
            "authentication as root failed",
            &format!("certificate {}", cert.display()),
            "refused by server: certificate expired at 2020-01-02",
        ],
    );
    println!("CERT-ROW refused: {}", r.error("node001").1);
    assert!(!ssh_logs_in(&cfg), "ssh accepts what drover refused");
}

/// An RSA key's certificate is signed with SHA-2 (`rsa-sha2-512-cert-v01`):
/// OpenSSH refuses the SHA-1 `ssh-rsa-cert-v01` since 8.8.
#[test]
fn rsa_user_certificate_logs_in_with_a_sha2_signature() {
    let d = Drover::new();
    let Some((fleet, cfg, _key, _cert)) = user_case_typed(&d, "-5m:+1h", "rsa") else {
        return;
    };
    let r = d.report(&cfg, "node001", &[], "whoami");
    assert_eq!(r.code(), 0, "{r:?}");
    assert_eq!(r.lines("node001", "stdout"), ["root"], "{r:?}");
    let log = std::fs::read_to_string(fleet.sshd_log(0)).unwrap();
    assert!(log.contains("RSA-CERT"), "{log}");
}

/// A report of `run node001 -- whoami` with the agent at `socket`.
fn run_with_agent(d: &Drover, cfg: &Path, socket: &Path) -> crate::ssh_support::Report {
    let mut cmd = d.run_cmd(cfg, "node001", &["-o", "json"], "whoami");
    cmd.env("SSH_AUTH_SOCK", socket);
    crate::ssh_support::Report::new(finish(cmd))
}

/// The agent's own certificate (`ssh-add` of a key with its `-cert.pub`) logs
/// in with no key or certificate file left; and a certificate file whose key
/// only the agent holds is signed by the agent.
#[test]
fn certificates_work_through_the_agent() {
    let d = Drover::new();
    let Some((_fleet, cfg, key, cert)) = user_case(&d, "-5m:+1h") else {
        return;
    };
    let Some(agent) = Agent::start(d.dir.path(), &key) else {
        crate::prereq::missing("ssh-agent is not available");
        return;
    };
    let cfg = d.edited_config(&cfg, "ssh_config.agent", |t| {
        t.replace("IdentitiesOnly yes", "IdentitiesOnly no")
    });
    // Keep the certificate aside, then remove every file of the key.
    let aside = d.path("aside-cert.pub");
    std::fs::copy(&cert, &aside).unwrap();
    for f in [key.clone(), pub_of(&key), cert.clone()] {
        std::fs::remove_file(f).unwrap();
    }
    let r = run_with_agent(&d, &cfg, &agent.socket);
    assert_eq!(r.code(), 0, "{r:?}");
    assert_eq!(r.lines("node001", "stdout"), ["root"], "{r:?}");

    // An agent with the plain key only: its certificate is a CertificateFile.
    let status = Command::new("ssh-add")
        .arg("-D")
        .env("SSH_AUTH_SOCK", &agent.socket)
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    let plain = keygen(d.dir.path(), "id_plain_only");
    let plain_cert = sign(&d.path("user_ca"), &plain, false, "root", "-5m:+1h");
    // Moved first: `ssh-add` would load a `-cert.pub` beside the key too.
    let named = d.path("named-cert.pub");
    std::fs::rename(&plain_cert, &named).unwrap();
    let in_agent = Command::new("ssh-add")
        .arg(&plain)
        .env("SSH_AUTH_SOCK", &agent.socket)
        .output()
        .unwrap();
    assert!(in_agent.status.success(), "{in_agent:?}");
    std::fs::remove_file(&plain).unwrap();
    let key_s = key.display().to_string();
    let with_file = d.edited_config(&cfg, "ssh_config.agent-file", |t| {
        t.replace(
            &format!("IdentityFile {key_s}\n"),
            &format!(
                "IdentityFile {key_s}\n  CertificateFile {}\n",
                named.display()
            ),
        )
    });
    let r = run_with_agent(&d, &with_file, &agent.socket);
    assert_eq!(r.code(), 0, "{r:?}");
    // Without the certificate, the agent's key alone is refused.
    let r = run_with_agent(&d, &cfg, &agent.socket);
    assert_eq!(r.code(), 1, "{r:?}");
    assert_error(&r, "node001", "Authorization", &["agent (1 keys refused)"]);
}

/// With `HostKeyAlias`, ssh looks known_hosts up under the alias alone and wants
/// the alias among the certificate's principals; so does drover.
#[test]
fn host_key_alias_is_the_known_hosts_name_and_the_principal() {
    let d = Drover::new();
    let ca = keygen(d.dir.path(), "host_ca");
    let Some(c) = host_case(
        &d,
        &ca,
        |_| "alias.example".into(),
        "-5m:+1h",
        |_, _| format!("@cert-authority alias.example {}\n", read_pub(&ca)),
    ) else {
        return;
    };
    let aliased = d.edited_config(&c.cfg, "ssh_config.alias", |t| {
        t.replace(
            "Host node001\n",
            "Host node001\n  HostKeyAlias Alias.Example\n",
        )
    });
    let r = d.report(&aliased, "node001", &[], "echo aliased");
    assert_eq!(r.code(), 0, "{r:?}");
    assert_eq!(r.lines("node001", "stdout"), ["aliased"], "{r:?}");
    assert!(ssh_logs_in(&aliased), "ssh refuses what drover accepted");
    // Without the alias the CA line does not apply to `[addr]:port`, and the
    // certificate does not name the address: refused by both.
    refused(&d, &c, &["no known_hosts entry"]);
}
