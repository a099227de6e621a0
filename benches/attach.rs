//! Attach latency (plain `main`, no harness): `cargo bench --bench attach`.
//!
//! A real `drover serve` holds 1,000 past runs (filled in bulk, as the store
//! bench does) and one live run on 200 local nodes (`sleep 600`, started from a
//! console session over the protocol, as an operator would, then detached). The
//! bench then starts the real console client, `drover --attach`, on a
//! pseudo-terminal and times it from spawn to its first frame on the terminal
//! (the inventory pane's title), `DROVER_BENCH_SAMPLES` times (20). The first
//! attach starts a console session; the later ones take over the detached one, as
//! after a dropped link. Prints p50, p95 and max of each.

#[path = "team_store/fill.rs"]
#[allow(dead_code)]
mod fill;

use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use drover::app::attach::client::Client;
use drover::app::wire::protocol::{CONSOLE_UPGRADE, ClientFrame, ServerFrame};
use drover::store::{Store, StoreLocation};

const BIN: &str = env!("CARGO_BIN_EXE_drover");
const NODES: usize = 200;
const PAST_RUNS: usize = 1000;

fn samples() -> usize {
    std::env::var("DROVER_BENCH_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).expect("state dir");
    let db = state.join("drover.db");
    drop(Store::open_location(&StoreLocation::Sqlite(db.clone()), false).expect("create store"));
    fill::sqlite(&db, PAST_RUNS, 3);
    let inventory = dir.path().join("inventory.yaml");
    let mut yaml = String::from("nodes:\n");
    for i in 0..NODES {
        yaml.push_str(&format!("  n{i:03}: {{ groups: [web] }}\n"));
    }
    std::fs::write(&inventory, yaml).expect("inventory");
    let config = dir.path().join("config");
    let socket = dir.path().join("run/drover.sock");

    let mut service = Command::new(BIN)
        .env("XDG_CONFIG_HOME", &config)
        .env_remove("DROVER_STATE_DIR")
        .arg("serve")
        .arg("--foreground")
        .arg("--state-dir")
        .arg(&state)
        .arg("-i")
        .arg(&inventory)
        .arg("--socket")
        .arg(&socket)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start drover serve");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(start_live_run(&socket));
    println!(
        "attach latency: {PAST_RUNS} past runs in history, one live run on {NODES} nodes, {} samples",
        samples()
    );
    let mut first = None;
    let mut resumed = Vec::new();
    for i in 0..=samples() {
        let took = attach_once(&config, &state, &inventory, &socket);
        if i == 0 {
            first = Some(took);
        } else {
            resumed.push(took);
        }
    }
    resumed.sort();
    let at = |q: f64| resumed[((resumed.len() - 1) as f64 * q).round() as usize];
    println!(
        "  first attach (new console session): {:.1} ms",
        first.unwrap_or_default().as_secs_f64() * 1e3
    );
    println!(
        "  re-attach (the detached session): p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        at(0.5).as_secs_f64() * 1e3,
        at(0.95).as_secs_f64() * 1e3,
        resumed.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    // Stopped as an operator would, so the live run's 200 processes end with it.
    runtime.block_on(async {
        let stop = drover::app::wire::protocol::StopRequest { now: true };
        let answer: Result<drover::app::wire::protocol::StopAnswer, _> = Client::new(&socket)
            .json(hyper::Method::POST, "/v1/stop", Some(&stop))
            .await;
        answer.expect("drover serve --stop --now");
    });
    let _ = service.wait();
}

/// Waits for the service, then starts `sleep 600` on every node from a console
/// session, as keys (select all, `!`, the command, Enter, confirm), and leaves
/// the session detached.
async fn start_live_run(socket: &Path) {
    let client = Client::new(socket);
    let deadline = Instant::now() + Duration::from_secs(60);
    while client.hello().await.is_err() {
        assert!(Instant::now() < deadline, "drover serve did not answer");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let io = client
        .upgrade("/v1/console?cols=120&rows=40&fresh=true", CONSOLE_UPGRADE)
        .await
        .expect("attach");
    let (mut reader, mut writer) = tokio::io::split(io);
    let mut screen = Vec::new();
    // Until the inventory is shown: the first frames are drawn before it loads.
    // The text drawn so far, without its escape sequences (colours and cursor
    // moves may fall between the letters of a word).
    let escapes = regex::bytes::Regex::new(r"\x1b\[[0-9;?]*[ -/]*[@-~]").expect("regex");
    let wait_for = async |reader: &mut _, screen: &mut Vec<u8>, text: &str| {
        while !String::from_utf8_lossy(&escapes.replace_all(screen, &b""[..])).contains(text) {
            match ServerFrame::read(reader).await.expect("frame") {
                Some(ServerFrame::Screen(bytes)) => screen.extend_from_slice(&bytes),
                Some(other) => panic!("unexpected frame {other:?}"),
                None => panic!("the service closed the console"),
            }
        }
        screen.clear();
    };
    wait_for(&mut reader, &mut screen, "@web").await;
    let key = |c: char| {
        ClientFrame::Input(Event::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )))
    };
    for frame in [key('a'), key('!')] {
        frame.write(&mut writer).await.expect("key");
    }
    for c in "sleep 600".chars() {
        key(c).write(&mut writer).await.expect("key");
    }
    ClientFrame::Input(Event::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )))
    .write(&mut writer)
    .await
    .expect("enter");
    key('y').write(&mut writer).await.expect("confirm");
    wait_for(&mut reader, &mut screen, "running").await;
}

/// Starts `drover --attach` on a pseudo-terminal and times it to its first frame.
fn attach_once(config: &Path, state: &Path, inventory: &Path, socket: &Path) -> Duration {
    let size = nix::pty::Winsize {
        ws_row: 40,
        ws_col: 120,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let pty = nix::pty::openpty(Some(&size), None).expect("openpty");
    let slave = |fd: &OwnedFd| Stdio::from(fd.try_clone().expect("dup pty"));
    let started = Instant::now();
    let mut client: Child = Command::new(BIN)
        .env("XDG_CONFIG_HOME", config)
        .env("TERM", "xterm-256color")
        .env_remove("DROVER_STATE_DIR")
        .arg("--attach")
        .arg("--state-dir")
        .arg(state)
        .arg("-i")
        .arg(inventory)
        .arg("--socket")
        .arg(socket)
        .stdin(slave(&pty.slave))
        .stdout(slave(&pty.slave))
        .stderr(slave(&pty.slave))
        .spawn()
        .expect("start drover --attach");
    drop(pty.slave);
    let (tx, rx) = mpsc::channel();
    let mut master = std::fs::File::from(pty.master);
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 65536];
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&seen).contains("Inventory") {
                let _ = tx.send(started.elapsed());
                // Keep reading so the client never blocks on a full terminal.
                while matches!(master.read(&mut buf), Ok(n) if n > 0) {}
                break;
            }
        }
    });
    let took = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the console's first frame");
    let _ = client.kill();
    let _ = client.wait();
    took
}
