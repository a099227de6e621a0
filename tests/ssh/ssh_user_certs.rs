//! User certificates against real OpenSSH servers (`tests/sshd/`): a key in no
//! authorized_keys logs in with a certificate from a CA the node trusts
//! (`TrustedUserCAKeys`), found beside the key, by `CertificateFile` or in the
//! agent; an expired one fails naming the cause.

use crate::cli_support::finish;
use crate::ssh_support::certs::{keygen, keygen_typed, pub_of, sign, ssh_logs_in};
use crate::ssh_support::{Agent, Drover, Report, assert_error};
use crate::sshd::Fleet;
use std::path::{Path, PathBuf};
use std::process::Command;

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
fn run_with_agent(d: &Drover, cfg: &Path, socket: &Path) -> Report {
    let mut cmd = d.run_cmd(cfg, "node001", &["-o", "json"], "whoami");
    cmd.env("SSH_AUTH_SOCK", socket);
    Report::new(finish(cmd))
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
