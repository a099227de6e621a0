//! The service's HTTP/JSON API with real processes: `drover serve --foreground`
//! as a child, `drover --batch --attach run` against it (the same lines and
//! exit codes as the embedded run), tools speaking HTTP over the Unix socket
//! (a hand-written HTTP/1.1 client here), and RBAC by the socket's peer
//! credentials with a second real account.

use crate::cli_support;
use crate::prereq;

use base64::Engine as _;
use cli_support::{BIN, Fleet, Out, finish};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `drover serve --foreground` child, killed when dropped.
struct Served {
    child: Child,
    socket: PathBuf,
    err: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    fn start(fleet: &Fleet, extra: &[&str]) -> Served {
        let dir = fleet.path("sock");
        let socket = dir.join("s.sock");
        let err = fleet.path("serve.err");
        let mut args: Vec<&str> = extra.to_vec();
        let socket_arg = socket.display().to_string();
        args.extend_from_slice(&["serve", "--foreground", "--socket", &socket_arg]);
        let child = fleet
            .cmd(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&err).expect("serve.err"))
            .spawn()
            .expect("start drover serve");
        let mut served = Served { child, socket, err };
        // Another process starting up: nothing to await but its socket answering.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok((200, _)) = served.try_request("GET", "/v1/hello", None, &[]) {
                return served;
            }
            if let Ok(Some(status)) = served.child.try_wait() {
                panic!(
                    "drover serve exited ({status}): {}",
                    std::fs::read_to_string(&served.err).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "drover serve did not answer in 30 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn connect(&self) -> std::io::Result<UnixStream> {
        let s = UnixStream::connect(&self.socket)?;
        s.set_read_timeout(Some(Duration::from_secs(60)))?;
        Ok(s)
    }

    /// Sends a request; the connection, positioned at the body.
    fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> std::io::Result<Response> {
        let mut s = self.connect()?;
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut head = format!("{method} {path} HTTP/1.1\r\nhost: drover\r\nconnection: close\r\n");
        if !headers.iter().any(|(k, _)| *k == "drover-protocol") {
            head.push_str("drover-protocol: 1\r\n");
        }
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() {
            head.push_str("content-type: application/json\r\n");
        }
        head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
        s.write_all(head.as_bytes())?;
        s.write_all(body.as_bytes())?;
        Response::read_head(BufReader::new(s))
    }

    fn try_request(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> std::io::Result<(u16, Value)> {
        let mut r = self.send(method, path, body, headers)?;
        let bytes = r.body_to_end()?;
        let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((r.status, v))
    }

    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        self.try_request(method, path, body, &[])
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// `drover` with the fleet's inputs, attached to this service.
    fn attached(&self, fleet: &Fleet, targets: &str, flags: &[&str], command: &str) -> Out {
        let socket = self.socket.display().to_string();
        let mut cmd = fleet.cmd(&[
            "--batch", "--attach", "--socket", &socket, "run", "-t", targets,
        ]);
        cmd.args(flags).arg("--").arg(command);
        finish(cmd)
    }
}

/// An HTTP/1.1 answer being read: status, headers, and a body that may be
/// chunked (server-sent events are).
struct Response {
    status: u16,
    chunked: bool,
    length: Option<usize>,
    reader: BufReader<UnixStream>,
    /// What is left of the current chunk.
    left: usize,
    done: bool,
}

impl Response {
    fn read_head(mut reader: BufReader<UnixStream>) -> std::io::Result<Response> {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let (mut chunked, mut length) = (false, None);
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (k, v) = l.split_once(':').unwrap_or((l, ""));
            match k.to_ascii_lowercase().as_str() {
                "transfer-encoding" => chunked = v.trim().eq_ignore_ascii_case("chunked"),
                "content-length" => length = v.trim().parse().ok(),
                _ => {}
            }
        }
        Ok(Response {
            status,
            chunked,
            length,
            reader,
            left: 0,
            done: false,
        })
    }

    /// Some bytes of the body; empty at its end.
    fn body_some(&mut self) -> std::io::Result<Vec<u8>> {
        if self.done {
            return Ok(Vec::new());
        }
        if !self.chunked {
            let mut all = Vec::new();
            match self.length {
                Some(n) => {
                    all.resize(n, 0);
                    self.reader.read_exact(&mut all)?;
                }
                None => {
                    self.reader.read_to_end(&mut all)?;
                }
            }
            self.done = true;
            return Ok(all);
        }
        if self.left == 0 {
            let mut line = String::new();
            self.reader.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim(), 16)
                .map_err(|_| std::io::Error::other(format!("bad chunk size {line:?}")))?;
            if size == 0 {
                self.done = true;
                return Ok(Vec::new());
            }
            self.left = size;
        }
        let mut buf = vec![0; self.left];
        self.reader.read_exact(&mut buf)?;
        self.left = 0;
        let mut crlf = [0u8; 2];
        self.reader.read_exact(&mut crlf)?;
        Ok(buf)
    }

    fn body_to_end(&mut self) -> std::io::Result<Vec<u8>> {
        let mut all = Vec::new();
        loop {
            let some = self.body_some()?;
            if some.is_empty() {
                return Ok(all);
            }
            all.extend_from_slice(&some);
        }
    }
}

/// Server-sent events read one message at a time: the `data:` of each, as JSON.
struct Sse {
    response: Response,
    buf: String,
}

impl Sse {
    fn new(response: Response) -> Sse {
        assert!(
            (200..300).contains(&response.status),
            "event stream answered {}",
            response.status
        );
        Sse {
            response,
            buf: String::new(),
        }
    }

    fn next(&mut self) -> Option<Value> {
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let message: String = self.buf.drain(..end + 2).collect();
                let data: Vec<&str> = message
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(|d| d.strip_prefix(' ').unwrap_or(d))
                    .collect();
                if !data.is_empty() {
                    return Some(serde_json::from_str(&data.join("\n")).expect("JSON data"));
                }
            }
            let more = self.response.body_some().expect("read the event stream");
            if more.is_empty() {
                return None;
            }
            self.buf.push_str(&String::from_utf8_lossy(&more));
        }
    }

    fn rest(mut self) -> Vec<Value> {
        std::iter::from_fn(|| self.next()).collect()
    }
}

fn sorted(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// The attached run and the embedded run print the same (lines sorted: nodes
/// run in parallel) and exit the same.
fn same_as_embedded(fleet: &Fleet, served: &Served, targets: &str, flags: &[&str], command: &str) {
    let embedded = fleet.run(targets, flags, command);
    let attached = served.attached(fleet, targets, flags, command);
    assert_eq!(
        attached.code(),
        embedded.code(),
        "exit codes: {attached:?} vs {embedded:?}"
    );
    assert_eq!(
        sorted(&attached.out()),
        sorted(&embedded.out()),
        "stdout: {attached:?} vs {embedded:?}"
    );
    assert_eq!(
        sorted(&attached.err()),
        sorted(&embedded.err()),
        "stderr: {attached:?} vs {embedded:?}"
    );
}

#[test]
fn service_attach_run_prints_the_lines_and_exit_codes_of_the_embedded_run() {
    let fleet = Fleet::nodes(&["a", "b", "c"]);
    let served = Served::start(&fleet, &[]);
    let ok = "echo out $(echo 1); printf 'no newline'; echo err >&2";
    let fails_on_b = r#"echo hi; [ "$DROVER_NODE" != b ] || exit 7"#;
    same_as_embedded(&fleet, &served, "a,b,c", &[], ok);
    let out = served.attached(&fleet, "a,b,c", &[], ok);
    out.expect(0);
    assert!(
        out.out_lines().contains(&"b: no newline".to_string()),
        "{out:?}"
    );
    same_as_embedded(&fleet, &served, "a,b,c", &[], fails_on_b);
    served
        .attached(&fleet, "a,b,c", &[], fails_on_b)
        .expect(1)
        .err_has("1 failed (b)");
    same_as_embedded(&fleet, &served, "a,b,c", &["--max-exit"], fails_on_b);
    served
        .attached(&fleet, "a,b,c", &["--max-exit"], fails_on_b)
        .expect(7);
    // Grouped prints at the end in a fixed order: the same bytes exactly.
    let embedded = fleet.run("a,b,c", &["-o", "grouped"], fails_on_b);
    let attached = served.attached(&fleet, "a,b,c", &["-o", "grouped"], fails_on_b);
    assert_eq!(attached.out(), embedded.out());
    assert_eq!(attached.code(), embedded.code());
    // JSON: the same objects but for ids and timings.
    let strip = |out: &Out| -> Vec<String> {
        let mut v: Vec<String> = out
            .out()
            .lines()
            .map(|l| {
                let mut o: Value = serde_json::from_str(l).expect("json line");
                for k in ["execution", "duration_ms", "correlation_id", "progress"] {
                    o.as_object_mut().unwrap().remove(k);
                }
                o.to_string()
            })
            .collect();
        v.sort();
        v
    };
    let embedded = fleet.run("a,b,c", &["-o", "json"], ok);
    let attached = served.attached(&fleet, "a,b,c", &["-o", "json"], ok);
    assert_eq!(strip(&attached), strip(&embedded));
    // No match: exit 4 from the service's refusal, as embedded.
    same_as_embedded(&fleet, &served, "nope", &[], "true");
}

#[test]
fn service_attach_without_a_service_names_the_socket() {
    let fleet = Fleet::nodes(&["a"]);
    let socket = fleet.path_str("none/s.sock");
    let mut cmd = fleet.cmd(&[
        "--batch", "--attach", "--socket", &socket, "run", "-t", "a", "--", "true",
    ]);
    cmd.env_remove("DROVER_SOCKET");
    let out = finish(cmd);
    out.expect(1).err_has(&socket).err_has("drover serve");
    let out = fleet.drover(&["--batch", "--attach", "--socket", &socket, "history"]);
    out.expect(2).err_has("not available with --attach yet");
}

#[test]
fn service_api_stream_of_a_new_run_carries_all_its_output_in_order() {
    let fleet = Fleet::nodes(&["a", "b"]);
    let served = Served::start(&fleet, &[]);
    let body = json!({
        "targets": "a,b",
        "command": "for i in $(seq 1 500); do echo line $i; done; printf 'caf\\303\\251 \\377'",
        "stream": true,
    });
    let response = served
        .send("POST", "/v1/runs", Some(&body), &[])
        .expect("POST");
    assert_eq!(response.status, 201);
    let messages = Sse::new(response).rest();
    assert_eq!(messages[0]["type"], "submitted");
    let id = messages[0]["id"].as_str().expect("id").to_string();
    let last = messages.last().expect("messages");
    assert_eq!(last["type"], "execution_finished", "{last}");
    assert_eq!(last["status"], "success");
    for node in ["a", "b"] {
        let mut bytes = Vec::new();
        for m in messages
            .iter()
            .filter(|m| m["type"] == "output" && m["node"] == node)
        {
            let data = m["data"].as_str().expect("data");
            bytes.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .expect("base64"),
            );
        }
        let mut expected: Vec<u8> = (1..=500)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        expected.extend_from_slice(b"caf\xc3\xa9 \xff");
        assert_eq!(bytes, expected, "node {node}'s output");
        let finished = messages
            .iter()
            .position(|m| m["type"] == "node_finished" && m["node"] == node)
            .expect("node_finished");
        let last_output = messages
            .iter()
            .rposition(|m| m["type"] == "output" && m["node"] == node)
            .expect("output");
        assert!(last_output < finished, "output before the node's end");
        assert!(
            messages
                .iter()
                .all(|m| m["type"] == "submitted" || m["type"] == "output" || m["execution"] == id)
        );
    }
    let (status, run) = served.request("GET", &format!("/v1/runs/{id}"), None);
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["status"], "success");
    assert_eq!(run["result"]["nodes"].as_array().expect("nodes").len(), 2);
    let (status, runs) = served.request("GET", "/v1/runs", None);
    assert_eq!(status, 200);
    assert!(
        runs.as_array()
            .expect("list")
            .iter()
            .any(|r| r["id"] == id.as_str())
    );
    // Without the stream: 201 and the id.
    let (status, created) = served.request(
        "POST",
        "/v1/runs",
        Some(&json!({"targets": "a", "command": "true"})),
    );
    assert_eq!(status, 201, "{created}");
    assert!(created["id"].is_string());
}

#[test]
fn service_api_refusals_are_json_with_a_fitting_status() {
    let fleet = Fleet::nodes(&["a"]);
    let served = Served::start(&fleet, &[]);
    let (status, body) = served
        .try_request("GET", "/v1/runs", None, &[("drover-protocol", "0")])
        .expect("request");
    assert_eq!(status, 426);
    let said = body["error"].as_str().expect("error");
    assert!(
        said.contains("protocol 1") && said.contains("speaks 0"),
        "{said}"
    );
    let (status, body) = served.request("GET", "/v1/runs/0123456789abcdef", None);
    assert_eq!(status, 404);
    assert!(
        body["error"]
            .as_str()
            .expect("error")
            .contains("0123456789abcdef"),
        "{body}"
    );
    let (status, body) = served.request("POST", "/v1/runs/0123456789abcdef/cancel", None);
    assert_eq!(status, 404, "{body}");
    let (status, body) = served.request(
        "POST",
        "/v1/runs",
        Some(&json!({"targets": "zz", "command": "true"})),
    );
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"].as_str().expect("error").contains("zz"),
        "{body}"
    );
    let (status, body) = served.request("POST", "/v1/runs", Some(&json!({"targets": "a"})));
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().expect("error").contains("command"),
        "{body}"
    );
    let (status, body) = served.request(
        "POST",
        "/v1/runs",
        Some(&json!({"targets": "a", "command": "true", "options": {"backoff": "sideways"}})),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .expect("error")
            .contains("options.backoff"),
        "{body}"
    );
    let keyed = json!({"targets": "a", "command": "sleep 30", "idempotency_key": "once"});
    let (status, first) = served.request("POST", "/v1/runs", Some(&keyed));
    assert_eq!(status, 201, "{first}");
    let (status, again) = served.request("POST", "/v1/runs", Some(&keyed));
    assert_eq!(status, 409, "{again}");
    assert_eq!(again["id"], first["id"]);
    assert!(
        again["error"].as_str().expect("error").contains("once"),
        "{again}"
    );
    let id = first["id"].as_str().expect("id");
    let (status, _) = served.request("POST", &format!("/v1/runs/{id}/cancel"), None);
    assert_eq!(status, 202);
}

#[test]
fn service_api_cancel_ends_a_streamed_run_as_cancelled() {
    let fleet = Fleet::nodes(&["a", "b"]);
    let served = Served::start(&fleet, &[]);
    let body = json!({"targets": "a,b", "command": "echo started; sleep 60", "stream": true});
    let mut sse = Sse::new(
        served
            .send("POST", "/v1/runs", Some(&body), &[])
            .expect("POST"),
    );
    let id = sse.next().expect("submitted")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let mut started = 0;
    while started < 2 {
        let m = sse.next().expect("the run's messages");
        if m["type"] == "output" {
            started += 1;
        }
    }
    let (status, said) = served.request("POST", &format!("/v1/runs/{id}/cancel"), None);
    assert_eq!(status, 202, "{said}");
    let rest = sse.rest();
    let last = rest.last().expect("messages");
    assert_eq!(last["type"], "execution_finished");
    assert_eq!(last["status"], "cancelled");
    let (_, run) = served.request("GET", &format!("/v1/runs/{id}"), None);
    assert_eq!(run["result"]["status"], "cancelled");
}

#[test]
fn service_attach_run_stopped_by_sigterm_cancels_the_run_in_the_service() {
    let fleet = Fleet::nodes(&["a"]);
    let served = Served::start(&fleet, &[]);
    let socket = served.socket.display().to_string();
    let mut child = fleet
        .cmd(&[
            "--batch",
            "--attach",
            "--socket",
            &socket,
            "run",
            "-t",
            "a",
            "--",
            "echo started; sleep 60",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("drover --attach run");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("a line");
    assert_eq!(line, "a: started\n");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM");
    let status = child.wait().expect("wait");
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    // As the embedded run: 128 + SIGTERM once the cancelled run has ended.
    assert_eq!(status.code(), Some(143), "{err}");
    assert!(err.contains("cancelling"), "{err}");
    let (_, runs) = served.request("GET", "/v1/runs", None);
    let runs = runs.as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "cancelled", "{runs:?}");
}

#[test]
fn service_api_events_carry_a_runs_events() {
    let fleet = Fleet::nodes(&["a", "b"]);
    let served = Served::start(&fleet, &[]);
    // The answer's head comes once the service has subscribed.
    let mut events = Sse::new(
        served
            .send("GET", "/v1/events", None, &[])
            .expect("GET /v1/events"),
    );
    let (status, created) = served.request(
        "POST",
        "/v1/runs",
        Some(&json!({"targets": "a,b", "command": "echo x"})),
    );
    assert_eq!(status, 201);
    let id = created["id"].as_str().expect("id");
    let mut seen = Vec::new();
    loop {
        let m = events.next().expect("events until the run ends");
        if m["execution"] != id {
            continue;
        }
        let kind = m["type"].as_str().expect("type").to_string();
        seen.push(kind.clone());
        if kind == "execution_finished" {
            assert_eq!(m["status"], "success");
            break;
        }
    }
    for kind in [
        "execution_queued",
        "execution_started",
        "node_started",
        "node_finished",
    ] {
        assert!(
            seen.iter().any(|k| k == kind),
            "{kind} missing from {seen:?}"
        );
    }
    assert_eq!(seen.iter().filter(|k| *k == "node_finished").count(), 2);
}

const PEER: &str = "drover-peer";

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The uid and gid of `PEER`, made (`useradd --system`) when missing.
fn peer_account() -> (u32, u32) {
    if nix::unistd::User::from_name(PEER).ok().flatten().is_none() {
        run_ok(Command::new("useradd").args(["--system", "--user-group", PEER]));
    }
    let user = nix::unistd::User::from_name(PEER)
        .expect("passwd")
        .expect(PEER);
    (user.uid.as_raw(), user.gid.as_raw())
}

fn chown(path: &Path, uid: Option<u32>, gid: Option<u32>) {
    nix::unistd::chown(
        path,
        uid.map(nix::unistd::Uid::from_raw),
        gid.map(nix::unistd::Gid::from_raw),
    )
    .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
}

#[test]
fn service_rbac_follows_the_peer_credentials_not_the_clients_config() {
    if !nix::unistd::getuid().is_root() {
        prereq::missing("RBAC by peer credentials needs root (a second account, runuser)");
        return;
    }
    let (peer_uid, peer_gid) = peer_account();
    let fleet = Fleet::nodes(&["a"]);
    use std::os::unix::fs::PermissionsExt;
    // The peer reaches the socket, its binary and its own config inside.
    std::fs::set_permissions(fleet.dir.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    let service_config = fleet.path("service.toml");
    let owner = nix::unistd::User::from_uid(nix::unistd::getuid())
        .expect("passwd")
        .expect("me")
        .name;
    std::fs::write(
        &service_config,
        format!(
            r#"
[engine]
socket_mode = "0660"

[rbac]
default_roles = []

[rbac.roles.admins]
capabilities = ["admin"]

[rbac.roles.readers]
capabilities = ["history.read"]

[rbac.users]
{owner} = ["admins"]
{PEER} = ["readers"]
"#
        ),
    )
    .expect("service config");
    let served = Served::start(
        &fleet,
        &["--config", service_config.to_str().expect("utf-8")],
    );
    // A team service's group: the peer's.
    chown(served.socket.parent().expect("dir"), None, Some(peer_gid));
    chown(&served.socket, None, Some(peer_gid));
    let peer_home = fleet.path("peer");
    std::fs::create_dir(&peer_home).expect("peer dir");
    chown(&peer_home, Some(peer_uid), Some(peer_gid));
    let peer_config = fleet.path("peer.toml");
    std::fs::write(
        &peer_config,
        format!("[rbac.roles.admins]\ncapabilities = [\"admin\"]\n\n[rbac.users]\n{PEER} = [\"admins\"]\n"),
    )
    .expect("peer config");
    std::fs::set_permissions(&peer_config, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let bin = fleet.path("drover");
    std::fs::copy(BIN, &bin).expect("copy drover");
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let marker = fleet.path("ran");
    let touch = format!("touch {}", marker.display());
    let mut cmd = Command::new("runuser");
    cmd.args(["-u", PEER, "--"])
        .arg(&bin)
        .env("HOME", &peer_home)
        .env("XDG_CONFIG_HOME", peer_home.join("config"))
        .env("XDG_STATE_HOME", peer_home.join("state"))
        .env_remove("DROVER_STATE_DIR")
        .env_remove("DROVER_SOCKET")
        .args(["--batch", "--attach", "--socket"])
        .arg(&served.socket)
        .arg("--state-dir")
        .arg(peer_home.join("state"))
        .arg("--config")
        .arg(&peer_config)
        .args(["run", "-t", "a", "--"])
        .arg(&touch);
    let out = finish(cmd);
    out.expect(3)
        .err_has("permission denied")
        .err_has(PEER)
        .err_has("command.run");
    assert!(!marker.exists(), "the refused run ran");
    // What the peer may do, it may: its role reads the runs.
    let mut cmd = Command::new("runuser");
    cmd.args(["-u", PEER, "--"])
        .arg("curl")
        .args(["-s", "--unix-socket"])
        .arg(&served.socket)
        .arg("http://drover/v1/runs");
    let listed = finish(cmd);
    if listed.code() == 0 {
        assert_eq!(listed.out().trim(), "[]", "{listed:?}");
    }
    // The service's owner sees that nothing ran, in the engine and in history.
    let (_, runs) = served.request("GET", "/v1/runs", None);
    assert_eq!(runs, json!([]));
    let history = fleet.json(&[
        "--config",
        service_config.to_str().expect("utf-8"),
        "history",
        "--json",
    ]);
    assert_eq!(history, json!([]), "history after the refusal");
}

#[test]
fn service_api_a_caller_reads_their_own_runs_without_history_read() {
    let fleet = Fleet::nodes(&["a"]);
    let config = fleet.path("service.toml");
    let owner = nix::unistd::User::from_uid(nix::unistd::getuid())
        .expect("passwd")
        .expect("me")
        .name;
    std::fs::write(
        &config,
        format!(
            "[rbac]\ndefault_roles = []\n\n[rbac.roles.runner]\ncapabilities = [\"command.run\"]\n\n[rbac.users]\n{owner} = [\"runner\"]\n"
        ),
    )
    .expect("config");
    let config = config.to_str().expect("utf-8").to_string();
    let served = Served::start(&fleet, &["--config", &config]);
    let socket = served.socket.display().to_string();
    let out = finish(fleet.cmd(&[
        "--config",
        &config,
        "--batch",
        "--attach",
        "--socket",
        &socket,
        "run",
        "-t",
        "a",
        "--",
        "echo mine",
    ]));
    out.expect(0);
    assert_eq!(out.out(), "a: mine\n");
    let (status, runs) = served.request("GET", "/v1/runs", None);
    assert_eq!(status, 200);
    assert_eq!(runs.as_array().expect("runs").len(), 1, "{runs}");
    let (status, body) = served
        .try_request("GET", "/v1/events", None, &[])
        .expect("GET /v1/events");
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]
            .as_str()
            .expect("error")
            .contains("history.read"),
        "{body}"
    );
}

/// `--as` is the embedded engine's: with `--attach` the service would name the
/// caller by their account anyway, so the pair is refused before anything runs.
#[test]
fn service_attach_refuses_as() {
    let fleet = Fleet::nodes(&["a"]);
    let out = finish(fleet.cmd(&[
        "--batch", "--attach", "--as", "bob", "run", "-t", "a", "--", "true",
    ]));
    out.expect(2).err_has("--as cannot be used with --attach");
}
