//! The service's optional TCP listener, with real processes and a real client
//! (curl): TLS always, a bearer token on every request naming the user to the
//! service's own RBAC, and refusals for no token, a wrong token, plain HTTP and
//! a user the policy does not allow.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use crate::cli_support::Fleet;

fn curl(args: &[&str]) -> (String, String) {
    let out = Command::new("curl")
        .args(["-s", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "000"));
    (code.to_string(), body.to_string())
}

/// The service, killed however the test ends.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn service_tcp_needs_tls_and_a_token_which_names_the_user_to_rbac() {
    for tool in ["curl", "openssl"] {
        if Command::new(tool).arg("--version").output().is_err() {
            crate::prereq::missing(&format!("{tool} is not installed"));
            return;
        }
    }
    let fleet = Fleet::nodes(&["a", "b"]);
    let cert = fleet.path("cert.pem");
    let key = fleet.path("key.pem");
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .args([
            "-days",
            "1",
            "-subj",
            "/CN=drover-test",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .output()
        .expect("openssl");
    assert!(made.status.success(), "openssl: {made:?}");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let hash = |t: &str| {
        let hex: String = Sha256::digest(t.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("sha256:{hex}")
    };
    let config = fleet.path("service.toml");
    std::fs::write(
        &config,
        format!(
            "[engine]\nlisten = \"127.0.0.1:{port}\"\ntls_cert = \"{}\"\ntls_key = \"{}\"\n\
             [engine.tokens]\nalice = \"{}\"\nmallory = \"{}\"\n\
             [rbac]\ndefault_roles = []\n[rbac.roles.ops]\ncapabilities = [\"command.run\", \"history.read\"]\n\
             [rbac.users]\nalice = [\"ops\"]\n",
            cert.display(),
            key.display(),
            hash("tok-alice"),
            hash("tok-mallory"),
        ),
    )
    .unwrap();
    let socket = fleet.path("sock/s.sock");
    let mut child = fleet
        .cmd(&[
            "--config",
            &config.display().to_string(),
            "serve",
            "--foreground",
            "--socket",
        ])
        .arg(&socket)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("drover serve");
    let mut said = BufReader::new(child.stderr.take().unwrap()).lines();
    let _service = Killed(child);
    // The TCP line comes first, then the socket's, once both listen.
    let mut lines = Vec::new();
    while let Some(Ok(line)) = said.next() {
        lines.push(line);
        if lines
            .last()
            .is_some_and(|l| l.contains(&socket.display().to_string()))
        {
            break;
        }
    }
    std::thread::spawn(move || for _ in said {});
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!("127.0.0.1:{port}")) && l.contains("TLS")),
        "{lines:?}"
    );
    let url = |path: &str| format!("https://127.0.0.1:{port}{path}");
    let ca = cert.display().to_string();

    let (code, body) = curl(&["--cacert", &ca, &url("/v1/hello")]);
    assert_eq!(code, "401", "no token: {body}");
    assert!(body.contains("bearer token"), "{body}");
    let (code, _) = curl(&[
        "--cacert",
        &ca,
        "-H",
        "Authorization: Bearer tok-wrong",
        &url("/v1/hello"),
    ]);
    assert_eq!(code, "401", "a wrong token");
    let (code, body) = curl(&[
        "--cacert",
        &ca,
        "-H",
        "Authorization: Bearer tok-alice",
        &url("/v1/hello"),
    ]);
    assert_eq!(code, "200", "{body}");
    let hello: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(hello["peer"], "alice", "the token names the user: {hello}");
    // No plain text on that port.
    let (code, _) = curl(&[&format!("http://127.0.0.1:{port}/v1/hello")]);
    assert_ne!(code, "200", "plain HTTP must not be answered");

    let run = r#"{"targets": "a", "command": "echo over-tcp", "stream": false}"#;
    let post = |token: &str| {
        curl(&[
            "--cacert",
            &ca,
            "-H",
            &format!("Authorization: Bearer {token}"),
            "-H",
            "content-type: application/json",
            "-H",
            "drover-protocol: 1",
            "-d",
            run,
            &url("/v1/runs"),
        ])
    };
    let (code, body) = post("tok-mallory");
    assert_eq!(
        code, "403",
        "the service's policy gives mallory nothing: {body}"
    );
    assert!(body.contains("mallory"), "{body}");
    let (code, body) = post("tok-alice");
    assert_eq!(code, "201", "{body}");
    let id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"]
        .as_str()
        .expect("an id")
        .to_string();
    let (code, body) = curl(&[
        "--cacert",
        &ca,
        "-H",
        "Authorization: Bearer tok-alice",
        &url(&format!("/v1/runs/{id}")),
    ]);
    assert_eq!(code, "200", "{body}");
    assert!(body.contains("alice"), "the run is alice's: {body}");
}
