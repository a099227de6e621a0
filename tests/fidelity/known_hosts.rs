//! known_hosts verification against real files, keys made by `ssh-keygen`, and
//! `ssh-keygen -F` (OpenSSH's own lookup) as the oracle for which lines apply.

use drover::engine::transport::ssh::known_hosts::{
    Decision, KnownHosts, StrictHostKeyChecking, Verdict, append, append_hashed, decide,
    fingerprint, host_port_name,
};
use proptest::prelude::*;
use russh::keys::{Algorithm, Certificate, HashAlg, PublicKey};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

struct Key {
    pub_path: PathBuf,
    key: PublicKey,
    /// `type base64`, ready for a known_hosts line.
    text: String,
}

fn keygen(dir: &Path, name: &str, kind: &str) -> Key {
    let path = dir.join(name);
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-t", kind, "-N", "", "-C", name]);
    if kind == "rsa" {
        cmd.args(["-b", "2048"]);
    }
    let status = cmd.arg("-f").arg(&path).status().expect("run ssh-keygen");
    assert!(status.success(), "ssh-keygen -t {kind} failed");
    let pub_path = path.with_extension("pub");
    let line = fs::read_to_string(&pub_path).expect("read public key");
    let key = PublicKey::from_openssh(line.trim()).expect("parse public key");
    let text = line
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    Key {
        pub_path,
        key,
        text,
    }
}

fn ed(dir: &Path, name: &str) -> Key {
    keygen(dir, name, "ed25519")
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, content).expect("write known_hosts");
    path
}

/// Line numbers `ssh-keygen -F name -f file` reports (marked lines included).
fn oracle_lines(file: &Path, name: &str) -> Vec<usize> {
    let out = Command::new("ssh-keygen")
        .arg("-F")
        .arg(name)
        .arg("-f")
        .arg(file)
        .output()
        .expect("run ssh-keygen -F");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(" found: line ").map(|(_, rest)| rest))
        .map(|rest| {
            let n = rest.split_whitespace().next().expect("line number");
            n.parse().expect("numeric line")
        })
        .collect()
}

/// Our view of the same question as [`oracle_lines`].
/// For each name, our matching lines (port 22) are the ones `ssh-keygen -F` finds.
fn assert_lines_like_openssh(known: &KnownHosts, file: &Path, names: &[&str]) {
    for name in names {
        assert_eq!(
            our_lines(known, name, 22),
            oracle_lines(file, name),
            "{name}"
        );
    }
}

fn our_lines(known: &KnownHosts, host: &str, port: u16) -> Vec<usize> {
    known
        .entries_for(host, port)
        .iter()
        .map(|e| e.line)
        .collect()
}

fn trusted(file: &Path, line: usize) -> Verdict {
    Verdict::Trusted {
        file: file.to_path_buf(),
        line,
    }
}

fn changed(file: &Path, line: usize, expected: &Key, presented: &Key) -> Verdict {
    Verdict::Changed {
        file: file.to_path_buf(),
        line,
        expected_fingerprint: fingerprint(&expected.key),
        presented_fingerprint: fingerprint(&presented.key),
    }
}

fn unknown(presented: &Key) -> Verdict {
    Verdict::Unknown {
        presented_fingerprint: fingerprint(&presented.key),
    }
}

#[test]
fn plain_names_match_case_insensitively() {
    let dir = TempDir::new().unwrap();
    let (a, b) = (ed(dir.path(), "a"), ed(dir.path(), "b"));
    let file = write(
        dir.path(),
        "known_hosts",
        &format!(
            "# fleet\n\nweb1.example.com,10.0.0.5 {} comment here\nWeb2.Example.com {}\n",
            a.text, b.text
        ),
    );
    let known = KnownHosts::load([&file]);
    assert!(known.warnings().is_empty(), "{:?}", known.warnings());
    assert_eq!(
        known.verify("web1.example.com", 22, &a.key, &[]),
        trusted(&file, 3)
    );
    assert_eq!(known.verify("10.0.0.5", 22, &a.key, &[]), trusted(&file, 3));
    assert_eq!(
        known.verify("WEB1.example.COM", 22, &a.key, &[]),
        trusted(&file, 3)
    );
    assert_eq!(
        known.verify("web2.example.com", 22, &b.key, &[]),
        trusted(&file, 4)
    );
    assert_eq!(
        known.verify("web3.example.com", 22, &a.key, &[]),
        unknown(&a)
    );
    assert_eq!(known.verify("web1.example", 22, &a.key, &[]), unknown(&a));
    assert_lines_like_openssh(
        &known,
        &file,
        &[
            "web1.example.com",
            "WEB2.example.com",
            "10.0.0.5",
            "web3.example.com",
        ],
    );
}

#[test]
fn wildcards_match_like_openssh() {
    let dir = TempDir::new().unwrap();
    let (a, b) = (ed(dir.path(), "a"), ed(dir.path(), "b"));
    let file = write(
        dir.path(),
        "known_hosts",
        &format!(
            "*.prod.example.com {}\nweb?.lan,10.1.*.* {}\n",
            a.text, b.text
        ),
    );
    let known = KnownHosts::load([&file]);
    assert_eq!(
        known.verify("db7.prod.example.com", 22, &a.key, &[]),
        trusted(&file, 1)
    );
    assert_eq!(known.verify("web1.lan", 22, &b.key, &[]), trusted(&file, 2));
    assert_eq!(
        known.verify("10.1.200.3", 22, &b.key, &[]),
        trusted(&file, 2)
    );
    assert_eq!(known.verify("web12.lan", 22, &b.key, &[]), unknown(&b));
    assert_eq!(
        known.verify("prod.example.com", 22, &a.key, &[]),
        unknown(&a)
    );
    assert_eq!(
        known.verify("x.prod.example.com", 22, &b.key, &[]),
        changed(&file, 1, &a, &b)
    );
    assert_lines_like_openssh(
        &known,
        &file,
        &[
            "db7.prod.example.com",
            "prod.example.com",
            "web1.lan",
            "web12.lan",
            "weba.lan",
            "10.1.200.3",
            "10.2.0.1",
        ],
    );
}

#[test]
fn a_negated_pattern_makes_the_line_not_apply() {
    let dir = TempDir::new().unwrap();
    let (a, b) = (ed(dir.path(), "a"), ed(dir.path(), "b"));
    let file = write(
        dir.path(),
        "known_hosts",
        &format!(
            "*.example.com,!bastion.example.com {}\nbastion.example.com {}\n",
            a.text, b.text
        ),
    );
    let known = KnownHosts::load([&file]);
    assert_eq!(
        known.verify("web.example.com", 22, &a.key, &[]),
        trusted(&file, 1)
    );
    assert_eq!(
        known.verify("bastion.example.com", 22, &b.key, &[]),
        trusted(&file, 2)
    );
    // Line 1 holds key a but does not apply to the bastion: a is a changed key there.
    assert_eq!(
        known.verify("bastion.example.com", 22, &a.key, &[]),
        changed(&file, 2, &b, &a)
    );
    assert_eq!(
        known.verify("BASTION.example.com", 22, &a.key, &[]),
        changed(&file, 2, &b, &a)
    );

    let only_negated = write(
        dir.path(),
        "negated",
        &format!("*.example.com,!bastion.example.com {}\n", a.text),
    );
    let known2 = KnownHosts::load([&only_negated]);
    assert_eq!(
        known2.verify("bastion.example.com", 22, &b.key, &[]),
        unknown(&b)
    );
    let names = ["web.example.com", "bastion.example.com", "other.org"];
    assert_lines_like_openssh(&known, &file, &names);
    assert_lines_like_openssh(&known2, &only_negated, &names);
}

#[test]
fn bracketed_names_carry_the_port() {
    let dir = TempDir::new().unwrap();
    let (a, b, c) = (
        ed(dir.path(), "a"),
        ed(dir.path(), "b"),
        ed(dir.path(), "c"),
    );
    let file = write(
        dir.path(),
        "known_hosts",
        &format!(
            "[db.example.com]:2222 {a}\n[*.wild.example.com]:2200 {a}\n[twentytwo.example.com]:22 {a}\n\
             app.example.com {b}\n[app.example.com]:2300 {c}\n",
            a = a.text,
            b = b.text,
            c = c.text
        ),
    );
    let known = KnownHosts::load([&file]);
    assert_eq!(
        known.verify("db.example.com", 2222, &a.key, &[]),
        trusted(&file, 1)
    );
    assert_eq!(
        known.verify("x.wild.example.com", 2200, &a.key, &[]),
        trusted(&file, 2)
    );
    // A bracketed line never matches port 22, nor another port...
    assert_eq!(known.verify("db.example.com", 22, &a.key, &[]), unknown(&a));
    assert_eq!(
        known.verify("db.example.com", 2223, &a.key, &[]),
        unknown(&a)
    );
    // ...not even `[host]:22`: ssh looks port 22 up as the bare name (checked with
    // OpenSSH 9.2: "No ED25519 host key is known" for such a line).
    assert_eq!(
        known.verify("twentytwo.example.com", 22, &a.key, &[]),
        unknown(&a)
    );
    // Another port with no line of its own: a bare line with the same key trusts it
    // (ssh's "found matching key w/out port"), a bare line with another key is no
    // evidence of a change.
    assert_eq!(
        known.verify("app.example.com", 2200, &b.key, &[]),
        trusted(&file, 4)
    );
    assert_eq!(
        known.verify("app.example.com", 2200, &a.key, &[]),
        unknown(&a)
    );
    // A port with a line of its own is judged by it alone.
    assert_eq!(
        known.verify("app.example.com", 2300, &c.key, &[]),
        trusted(&file, 5)
    );
    assert_eq!(
        known.verify("app.example.com", 2300, &b.key, &[]),
        changed(&file, 5, &c, &b)
    );
    for (host, port) in [
        ("db.example.com", 2222),
        ("db.example.com", 22),
        ("x.wild.example.com", 2200),
        ("twentytwo.example.com", 22),
        ("app.example.com", 2300),
        ("app.example.com", 22),
    ] {
        assert_eq!(
            our_lines(&known, host, port),
            oracle_lines(&file, &host_port_name(host, port)),
            "{host}:{port}"
        );
    }
}

#[test]
fn entries_hashed_by_ssh_keygen_match() {
    let dir = TempDir::new().unwrap();
    let (a, b) = (ed(dir.path(), "a"), ed(dir.path(), "b"));
    let file = write(
        dir.path(),
        "known_hosts",
        &format!(
            "web1.example.com,10.0.0.1 {}\n[db.example.com]:2222 {}\n",
            a.text, b.text
        ),
    );
    let out = Command::new("ssh-keygen")
        .arg("-H")
        .arg("-f")
        .arg(&file)
        .output()
        .expect("run ssh-keygen -H");
    assert!(out.status.success());
    let hashed = fs::read_to_string(&file).unwrap();
    assert_eq!(hashed.lines().filter(|l| l.starts_with("|1|")).count(), 3);
    assert!(
        !hashed.contains("example.com"),
        "names must be hashed: {hashed}"
    );

    let known = KnownHosts::load([&file]);
    assert!(known.warnings().is_empty(), "{:?}", known.warnings());
    for (host, port, key) in [
        ("web1.example.com", 22, &a),
        ("WEB1.Example.com", 22, &a),
        ("10.0.0.1", 22, &a),
        ("db.example.com", 2222, &b),
    ] {
        let name = host_port_name(host, port);
        let lines = oracle_lines(&file, &name);
        assert_eq!(lines.len(), 1, "ssh-keygen finds {name} once");
        assert_eq!(
            known.verify(host, port, &key.key, &[]),
            trusted(&file, lines[0])
        );
        assert_eq!(our_lines(&known, host, port), lines);
    }
    assert_eq!(
        known.verify("web2.example.com", 22, &a.key, &[]),
        unknown(&a)
    );
    assert_eq!(known.verify("db.example.com", 22, &b.key, &[]), unknown(&b));
    let db_line = oracle_lines(&file, "[db.example.com]:2222")[0];
    assert_eq!(
        known.verify("db.example.com", 2222, &a.key, &[]),
        changed(&file, db_line, &b, &a)
    );
}

#[test]
fn several_files_report_the_first_matching_line() {
    let dir = TempDir::new().unwrap();
    let (k1, k2, k3) = (
        ed(dir.path(), "k1"),
        ed(dir.path(), "k2"),
        ed(dir.path(), "k3"),
    );
    let user1 = write(
        dir.path(),
        "user1",
        &format!("# mine\nother {}\nweb {}\n", k1.text, k2.text),
    );
    let user2 = write(
        dir.path(),
        "user2",
        &format!("web,web.example.com {}\n", k1.text),
    );
    let global = write(dir.path(), "global", &format!("web {}\n", k1.text));
    let missing = dir.path().join("does-not-exist");

    let known = KnownHosts::load([&user1, &missing, &user2, &global]);
    assert!(
        known.warnings().is_empty(),
        "a missing file is not an error"
    );
    // A line holding the key anywhere wins over a different key elsewhere.
    assert_eq!(known.verify("web", 22, &k1.key, &[]), trusted(&user2, 1));
    assert_eq!(known.verify("web", 22, &k2.key, &[]), trusted(&user1, 3));
    assert_eq!(known.verify("other", 22, &k1.key, &[]), trusted(&user1, 2));
    // No line holds k3: the first offending line is named.
    assert_eq!(
        known.verify("web", 22, &k3.key, &[]),
        changed(&user1, 3, &k2, &k3)
    );

    let reversed = KnownHosts::load([&global, &user2, &user1]);
    assert_eq!(
        reversed.verify("web", 22, &k1.key, &[]),
        trusted(&global, 1)
    );
    assert_eq!(
        reversed.verify("web", 22, &k3.key, &[]),
        changed(&global, 1, &k1, &k3)
    );
}

#[test]
fn a_revoked_key_is_revoked_for_every_host() {
    let dir = TempDir::new().unwrap();
    let (a, b) = (ed(dir.path(), "a"), ed(dir.path(), "b"));
    let user = write(
        dir.path(),
        "user",
        &format!("web {}\ndb {}\n", a.text, b.text),
    );
    let global = write(
        dir.path(),
        "global",
        &format!("# revocations\n@revoked unrelated.invalid {}\n", a.text),
    );
    let known = KnownHosts::load([&user, &global]);
    let revoked = Verdict::Revoked {
        file: global.clone(),
        line: 2,
    };
    assert_eq!(known.verify("web", 22, &a.key, &[]), revoked);
    assert_eq!(known.verify("never-seen", 2222, &a.key, &[]), revoked);
    assert_eq!(known.verify("db", 22, &b.key, &[]), trusted(&user, 2));
    assert_eq!(known.revoked(a.key.key_data()).map(|e| e.line), Some(2));
    assert!(known.revoked(b.key.key_data()).is_none());
    match decide(&revoked, StrictHostKeyChecking::No, true) {
        Decision::Reject(msg) => assert!(msg.contains(&format!("{}:2", global.display())), "{msg}"),
        other => panic!("revoked key accepted: {other:?}"),
    }
}

#[test]
fn a_different_key_is_a_change_whatever_its_type() {
    let dir = TempDir::new().unwrap();
    let old = ed(dir.path(), "old");
    let new = ed(dir.path(), "new");
    let rsa = keygen(dir.path(), "rsa", "rsa");
    let file = write(
        dir.path(),
        "known_hosts",
        &format!("web {}\nrsaonly {}\n", old.text, rsa.text),
    );
    let known = KnownHosts::load([&file]);
    let verdict = known.verify("web", 22, &new.key, &[]);
    assert_eq!(verdict, changed(&file, 1, &old, &new));
    // OpenSSH 9.2 reports "REMOTE HOST IDENTIFICATION HAS CHANGED ... Offending RSA
    // key" for an ED25519 key when only an RSA key is recorded.
    assert_eq!(
        known.verify("rsaonly", 22, &new.key, &[]),
        changed(&file, 2, &rsa, &new)
    );
    assert_eq!(
        known.known_algorithms("rsaonly", 22),
        vec![rsa.key.algorithm()]
    );
    for policy in [
        StrictHostKeyChecking::Yes,
        StrictHostKeyChecking::Ask,
        StrictHostKeyChecking::AcceptNew,
        StrictHostKeyChecking::No,
    ] {
        match decide(&verdict, policy, true) {
            Decision::Reject(msg) => {
                assert!(msg.contains(&format!("{}:1", file.display())), "{msg}");
                assert!(msg.contains(&fingerprint(&old.key)), "{msg}");
            }
            other => panic!("changed key not rejected under {policy}: {other:?}"),
        }
    }
}

#[test]
fn an_unknown_host_is_unknown() {
    let dir = TempDir::new().unwrap();
    let (a, b) = (ed(dir.path(), "a"), ed(dir.path(), "b"));
    let file = write(dir.path(), "known_hosts", &format!("web {}\n", a.text));
    let known = KnownHosts::load([&file]);
    assert_eq!(known.verify("db", 22, &b.key, &[]), unknown(&b));
    assert_eq!(known.verify("db", 22, &a.key, &[]), unknown(&a));
    assert_eq!(
        KnownHosts::default().verify("web", 22, &a.key, &[]),
        unknown(&a)
    );
}

#[test]
fn other_names_can_only_make_it_worse() {
    let dir = TempDir::new().unwrap();
    let (a, b) = (ed(dir.path(), "a"), ed(dir.path(), "b"));
    let file = write(
        dir.path(),
        "known_hosts",
        &format!(
            "web {}\n10.0.0.9 {}\n10.0.0.10 {}\n",
            a.text, b.text, a.text
        ),
    );
    let known = KnownHosts::load([&file]);
    assert_eq!(
        known.verify("web", 22, &a.key, &["10.0.0.10"]),
        trusted(&file, 1)
    );
    assert_eq!(
        known.verify("web", 22, &a.key, &["10.0.0.11"]),
        trusted(&file, 1)
    );
    assert_eq!(
        known.verify("web", 22, &a.key, &["10.0.0.9"]),
        changed(&file, 2, &b, &a)
    );
    // Known only by its address: still an unknown host name.
    assert_eq!(known.verify("db", 22, &b.key, &["10.0.0.9"]), unknown(&b));
}

#[test]
fn cert_authorities_are_recorded_and_usable() {
    let dir = TempDir::new().unwrap();
    let ca = ed(dir.path(), "ca");
    let other_ca = ed(dir.path(), "other_ca");
    let host = ed(dir.path(), "host");
    let file = write(
        dir.path(),
        "known_hosts",
        &format!(
            "@cert-authority *.example.com {}\n@cert-authority [*.example.com]:2222 {}\n\
             @cert-authority *.other.org {}\n",
            ca.text, other_ca.text, other_ca.text
        ),
    );
    let known = KnownHosts::load([&file]);
    let lines = |host: &str, port| -> Vec<usize> {
        known
            .trusted_ca_keys(host, port)
            .iter()
            .map(|e| e.line)
            .collect()
    };
    assert_eq!(lines("web.example.com", 22), vec![1]);
    assert_eq!(lines("web.example.com", 2222), vec![2, 1]);
    assert_eq!(lines("web.other.org", 22), vec![3]);
    assert!(lines("web.elsewhere.net", 22).is_empty());
    assert_eq!(
        known.trusted_ca_keys("web.example.com", 22)[0]
            .key
            .key_data(),
        ca.key.key_data()
    );
    // A CA line vouches for certificates, not for plain keys.
    assert_eq!(
        known.verify("web.example.com", 22, &ca.key, &[]),
        unknown(&ca)
    );
    assert_eq!(
        known.verify("web.example.com", 22, &host.key, &[]),
        unknown(&host)
    );

    // The documented route for certificates: validate against the CA fingerprints.
    let status = Command::new("ssh-keygen")
        .args(["-q", "-s"])
        .arg(dir.path().join("ca"))
        .args(["-I", "web", "-h", "-n", "web.example.com", "-V", "-5m:+1h"])
        .arg(&host.pub_path)
        .status()
        .expect("run ssh-keygen -s");
    assert!(status.success());
    let cert_text = fs::read_to_string(dir.path().join("host-cert.pub")).unwrap();
    let cert = Certificate::from_openssh(cert_text.trim()).expect("parse certificate");
    let fps = |host: &str| -> Vec<_> {
        known
            .trusted_ca_keys(host, 22)
            .iter()
            .map(|e| e.key.fingerprint(HashAlg::Sha256))
            .collect()
    };
    assert!(cert.validate(&fps("web.example.com")).is_ok());
    assert!(cert.validate(&fps("web.other.org")).is_err());
    assert!(known.revoked(cert.signature_key()).is_none());
}

#[test]
fn malformed_lines_are_skipped_with_file_and_line() {
    let dir = TempDir::new().unwrap();
    let (a, b) = (ed(dir.path(), "a"), ed(dir.path(), "b"));
    let ed_data = a.text.split_once(' ').unwrap().1;
    let content = [
        "# comment".to_string(),                        // 1
        "\r".to_string(),                               // 2 (CRLF blank line)
        "justahost".to_string(),                        // 3 bad
        "host ssh-ed25519".to_string(),                 // 4 bad
        "host ssh-ed25519 @@@notbase64@@@".to_string(), // 5 bad
        format!("@bogus web {}", a.text),               // 6 bad
        format!("|1|nope|nope {}", a.text),             // 7 bad
        "host 1024 35 1234567890123".to_string(),       // 8 bad (SSH1 RSA)
        format!("host ssh-rsa {ed_data}"),              // 9 bad (type mismatch)
        format!("@revoked {}", a.text),                 // 10 bad (no host list)
        format!("crlf {}\r", b.text),                   // 11 good
        format!("   web {}   # trailing", a.text),      // 12 good
    ]
    .join("\n");
    let file = write(dir.path(), "known_hosts", &content);
    let known = KnownHosts::load([&file]);
    let bad: Vec<_> = known.warnings().iter().map(|w| w.line).collect();
    assert_eq!(
        bad,
        [3, 4, 5, 6, 7, 8, 9, 10].map(Some).to_vec(),
        "{:?}",
        known.warnings()
    );
    for w in known.warnings() {
        let shown = w.to_string();
        assert!(
            shown.starts_with(&format!("{}:{}: ", file.display(), w.line.unwrap())),
            "{shown}"
        );
    }
    assert_eq!(known.entries().len(), 2);
    assert_eq!(known.verify("web", 22, &a.key, &[]), trusted(&file, 12));
    assert_eq!(known.verify("crlf", 22, &b.key, &[]), trusted(&file, 11));

    // An unreadable "file" (a directory) is a warning without a line.
    let as_dir = dir.path().join("a-directory");
    fs::create_dir(&as_dir).unwrap();
    let known = KnownHosts::load([&as_dir, &file]);
    assert_eq!(known.warnings()[0].line, None);
    assert_eq!(known.warnings()[0].file, as_dir);
    assert_eq!(known.verify("web", 22, &a.key, &[]), trusted(&file, 12));

    // Arbitrary bytes never panic.
    let mut junk = KnownHosts::default();
    junk.add_text(
        Path::new("junk"),
        "\u{0}\u{1}|1|||\n@\n@@\n,,, ,\n[]:x y z\n\t\t\n",
    );
    assert!(junk.entries().is_empty());
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn append_then_verify_is_trusted() {
    let dir = TempDir::new().unwrap();
    let (a, b) = (ed(dir.path(), "a"), ed(dir.path(), "b"));
    let ssh_dir = dir.path().join("home/.ssh");
    let file = ssh_dir.join("known_hosts");
    append(&file, "Web.Example.com", 22, &a.key).unwrap();
    append(&file, "db.example.com", 2222, &b.key).unwrap();
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(&ssh_dir), 0o700);
    assert_eq!(mode(&dir.path().join("home")), 0o700);

    let text = fs::read_to_string(&file).unwrap();
    assert_eq!(
        text,
        format!(
            "web.example.com {}\n[db.example.com]:2222 {}\n",
            a.text, b.text
        )
    );
    let known = KnownHosts::load([&file]);
    assert_eq!(
        known.verify("web.example.com", 22, &a.key, &[]),
        trusted(&file, 1)
    );
    assert_eq!(
        known.verify("db.example.com", 2222, &b.key, &[]),
        trusted(&file, 2)
    );
    // OpenSSH reads what we wrote.
    assert_eq!(oracle_lines(&file, "web.example.com"), vec![1]);
    assert_eq!(oracle_lines(&file, "[db.example.com]:2222"), vec![2]);

    // Hashed appends are found by OpenSSH and by us, and reveal no name.
    append_hashed(&file, "hidden.example.com", 2022, &a.key).unwrap();
    let text = fs::read_to_string(&file).unwrap();
    assert!(!text.contains("hidden"));
    assert_eq!(oracle_lines(&file, "[hidden.example.com]:2022"), vec![3]);
    let known = KnownHosts::load([&file]);
    assert_eq!(
        known.verify("hidden.example.com", 2022, &a.key, &[]),
        trusted(&file, 3)
    );

    // Names that would change the line's meaning are refused.
    for bad in [
        "a,b",
        "*",
        "x y",
        "!x",
        "@cert-authority",
        "|1|",
        "",
        "a\nb",
    ] {
        assert!(append(&file, bad, 22, &a.key).is_err(), "{bad:?}");
    }
    assert_eq!(fs::read_to_string(&file).unwrap(), text);
}

#[test]
fn append_keeps_existing_content_and_mends_a_missing_newline() {
    let dir = TempDir::new().unwrap();
    let (a, b) = (ed(dir.path(), "a"), ed(dir.path(), "b"));
    let file = write(
        dir.path(),
        "known_hosts",
        &format!("# keep me\nold {}", a.text),
    );
    append(&file, "new", 22, &b.key).unwrap();
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        format!("# keep me\nold {}\nnew {}\n", a.text, b.text)
    );
    let known = KnownHosts::load([&file]);
    assert_eq!(known.verify("old", 22, &a.key, &[]), trusted(&file, 2));
    assert_eq!(known.verify("new", 22, &b.key, &[]), trusted(&file, 3));
}

#[test]
fn concurrent_appends_from_one_process_stay_whole() {
    let dir = TempDir::new().unwrap();
    let key = ed(dir.path(), "a");
    let file = dir.path().join("known_hosts");
    std::thread::scope(|s| {
        for t in 0..8 {
            let (file, key) = (&file, &key.key);
            s.spawn(move || {
                for i in 0..25 {
                    append(file, &format!("host-{t}-{i}"), 22, key).unwrap();
                }
            });
        }
    });
    let known = KnownHosts::load([&file]);
    assert!(known.warnings().is_empty(), "{:?}", known.warnings());
    assert_eq!(known.entries().len(), 200);
    for t in 0..8 {
        for i in 0..25 {
            let v = known.verify(&format!("host-{t}-{i}"), 22, &key.key, &[]);
            assert!(matches!(v, Verdict::Trusted { .. }), "host-{t}-{i}: {v:?}");
        }
    }
}

#[test]
fn fingerprints_match_ssh_keygen() {
    let dir = TempDir::new().unwrap();
    for kind in ["ed25519", "ecdsa", "rsa"] {
        let key = keygen(dir.path(), kind, kind);
        let out = Command::new("ssh-keygen")
            .arg("-lf")
            .arg(&key.pub_path)
            .output()
            .expect("run ssh-keygen -lf");
        assert!(out.status.success());
        let stdout = String::from_utf8_lossy(&out.stdout);
        let theirs = stdout.split_whitespace().nth(1).expect("fingerprint field");
        assert!(theirs.starts_with("SHA256:") && !theirs.ends_with('='));
        assert_eq!(fingerprint(&key.key), theirs, "{kind}");
    }
}

#[test]
fn known_algorithms_list_recorded_types_in_order() {
    let dir = TempDir::new().unwrap();
    let rsa = keygen(dir.path(), "rsa", "rsa");
    let a = ed(dir.path(), "a");
    let file = write(
        dir.path(),
        "known_hosts",
        &format!(
            "web {}\nweb {}\n@cert-authority web {}\n[web]:2222 {}\n",
            rsa.text, a.text, a.text, a.text
        ),
    );
    let known = KnownHosts::load([&file]);
    assert_eq!(
        known.known_algorithms("web", 22),
        vec![rsa.key.algorithm(), Algorithm::Ed25519]
    );
    assert_eq!(
        known.known_algorithms("web", 2222),
        vec![Algorithm::Ed25519, rsa.key.algorithm()]
    );
    assert!(known.known_algorithms("db", 22).is_empty());
}

#[test]
fn policy_table() {
    use StrictHostKeyChecking::*;
    let fp = "SHA256:abc".to_string();
    let unknown = Verdict::Unknown {
        presented_fingerprint: fp.clone(),
    };
    let reject = |d: Decision| matches!(d, Decision::Reject(_));
    assert!(reject(decide(&unknown, Yes, true)));
    assert!(reject(decide(&unknown, Yes, false)));
    assert_eq!(
        decide(&unknown, Ask, true),
        Decision::Prompt {
            fingerprint_sha256: fp.clone()
        }
    );
    match decide(&unknown, Ask, false) {
        Decision::Reject(msg) => assert!(msg.contains("accept-new") && msg.contains(&fp), "{msg}"),
        other => panic!("batch must not prompt: {other:?}"),
    }
    assert_eq!(
        decide(&unknown, AcceptNew, false),
        Decision::AcceptAndRecord
    );
    assert_eq!(decide(&unknown, AcceptNew, true), Decision::AcceptAndRecord);
    assert_eq!(decide(&unknown, No, false), Decision::Accept);
    let t = Verdict::Trusted {
        file: PathBuf::from("/k"),
        line: 3,
    };
    for p in [Yes, Ask, AcceptNew, No] {
        assert_eq!(decide(&t, p, false), Decision::Accept);
    }
    assert_eq!("accept-new".parse::<StrictHostKeyChecking>(), Ok(AcceptNew));
    assert_eq!("Off".parse::<StrictHostKeyChecking>(), Ok(No));
    assert!("maybe".parse::<StrictHostKeyChecking>().is_err());
}

fn verdicts() -> impl Strategy<Value = Verdict> {
    let file = "/[a-z]{1,8}(/[a-z_.]{1,8}){0,3}".prop_map(PathBuf::from);
    let fp = "SHA256:[A-Za-z0-9+/]{43}";
    prop_oneof![
        (file.clone(), 1usize..100_000).prop_map(|(file, line)| Verdict::Trusted { file, line }),
        (file.clone(), 1usize..100_000).prop_map(|(file, line)| Verdict::Revoked { file, line }),
        (file, 1usize..100_000, fp, fp).prop_map(|(file, line, e, p)| Verdict::Changed {
            file,
            line,
            expected_fingerprint: e,
            presented_fingerprint: p,
        }),
        fp.prop_map(|p| Verdict::Unknown {
            presented_fingerprint: p
        }),
    ]
}

fn policies() -> impl Strategy<Value = StrictHostKeyChecking> {
    prop::sample::select(vec![
        StrictHostKeyChecking::Yes,
        StrictHostKeyChecking::Ask,
        StrictHostKeyChecking::AcceptNew,
        StrictHostKeyChecking::No,
    ])
}

proptest! {
    #[test]
    fn changed_or_revoked_never_accepted_and_batch_never_prompts(
        verdict in verdicts(),
        policy in policies(),
        interactive in any::<bool>(),
    ) {
        let decision = decide(&verdict, policy, interactive);
        if !interactive {
            prop_assert!(!matches!(decision, Decision::Prompt { .. }), "{:?}", decision);
        }
        match &verdict {
            Verdict::Revoked { file, line } | Verdict::Changed { file, line, .. } => {
                let Decision::Reject(msg) = &decision else {
                    return Err(TestCaseError::fail(format!("{verdict:?} gave {decision:?}")));
                };
                let location = format!("{}:{line}", file.display());
                prop_assert!(msg.contains(&location), "{} lacks {}", msg, location);
            }
            Verdict::Trusted { .. } => prop_assert_eq!(&decision, &Decision::Accept),
            Verdict::Unknown { presented_fingerprint } => {
                if let Decision::Prompt { fingerprint_sha256 } = &decision {
                    prop_assert!(interactive && policy == StrictHostKeyChecking::Ask);
                    prop_assert_eq!(fingerprint_sha256, presented_fingerprint);
                }
                let accepted = matches!(decision, Decision::Accept | Decision::AcceptAndRecord);
                prop_assert_eq!(
                    accepted,
                    matches!(policy, StrictHostKeyChecking::AcceptNew | StrictHostKeyChecking::No)
                );
            }
        }
    }
}

/// Host fields drawn from a small alphabet so lines and names collide: plain names
/// in both cases, wildcards, negations and ports.
fn host_field() -> impl Strategy<Value = String> {
    let pattern = prop::sample::select(vec![
        "web.x",
        "WEB.x",
        "db.x",
        "*.x",
        "w?b.x",
        "!web.x",
        "!db.x",
        "[web.x]:2222",
        "*",
    ]);
    prop::collection::vec(pattern, 1..4).prop_map(|p| p.join(","))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The lines that apply to a name, over generated files: exactly those
    /// `ssh-keygen -F` finds, in its order, whatever mix of plain names (which
    /// drover looks up by name), wildcards and negations the file holds.
    #[test]
    fn generated_files_match_the_lines_ssh_keygen_finds(
        fields in prop::collection::vec(host_field(), 1..12),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = shared_key();
        let text: String = fields.iter().map(|f| format!("{f} {}\n", key.text)).collect();
        let file = write(dir.path(), "known_hosts", &text);
        let known = KnownHosts::load([&file]);
        for name in ["web.x", "WEB.X", "db.x", "wab.x", "other", "[web.x]:2222"] {
            prop_assert_eq!(our_lines(&known, name, 22), oracle_lines(&file, name), "{} in\n{}", name, text);
        }
    }
}

/// One key for every generated file (only which lines apply is compared).
fn shared_key() -> &'static Key {
    static KEY: std::sync::OnceLock<(TempDir, Key)> = std::sync::OnceLock::new();
    let (_, key) = KEY.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = ed(dir.path(), "generated");
        (dir, key)
    });
    key
}
