//! The console attached to `drover serve`, end to end: real sshd nodes, the
//! console in tmux, the terminal killed under a running `sleep 20`. The run
//! goes on in the service (the remote sleeps survive, seen with pgrep on the
//! node side), and the next console shows it finish `success`. Also: two
//! consoles at once see the same run, `ctrl-z` detaches, and a service killed
//! with -9 leaves its run `interrupted` for the next start to record.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::cli_support::{bare, eventually, finish};
use crate::ssh_support::{Drover, marker, pgrep};
use crate::sshd::Fleet;
use crate::tmux_support::{DroverPane, Tmux};

/// `drover serve --foreground` on a socket of the test's own, killed when dropped.
pub struct Service {
    child: Child,
    pub socket: PathBuf,
}

impl Service {
    /// Starts it on `state` with `args` (`-F CFG`, `-i INV`) and returns once it
    /// says it serves (its first line on stderr).
    pub fn start(config_home: &Path, state: &Path, args: &[&str]) -> Service {
        let socket = config_home.join("run").join("drover.sock");
        let mut cmd = bare(config_home);
        cmd.env_remove("SSH_AUTH_SOCK")
            .arg("serve")
            .arg("--foreground")
            .arg("--state-dir")
            .arg(state)
            .arg("--socket")
            .arg(&socket)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start drover serve");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        assert!(
            first.contains("serving on"),
            "drover serve did not start: {first}"
        );
        // The rest of what it says is drained, so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Service { child, socket }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`: nothing of it runs its shutdown.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the process to end by itself (after `--stop`).
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child.wait().expect("wait for drover serve")
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `drover serve` on the drover home `d`'s state, with the ssh_config `cfg`.
fn service_on(d: &Drover, cfg: &Path) -> Service {
    Service::start(
        &d.path("config"),
        &d.path("state"),
        &["-F", &cfg.display().to_string()],
    )
}

/// The console attached to `service`, on the fleet's ssh_config, in pane `t`.
fn console(tmux: &Tmux, d: &Drover, cfg: &Path, service: &Service) {
    DroverPane::new(d.dir.path(), &d.path("state"))
        .args(&["-F", &cfg.display().to_string()])
        .attach(&service.socket)
        .size(110, 30)
        .start(tmux);
}

fn prerequisites() -> Option<Fleet> {
    if !Tmux::available() {
        crate::prereq::missing("tmux is not installed");
        return None;
    }
    Fleet::or_skip(3)
}

/// Runs `command` on every host of the fleet's ssh_config (each node's root and
/// user logins: six) from the console in pane `t`.
fn run_on_all(tmux: &Tmux, command: &str) {
    tmux.keys(&["a"]);
    tmux.wait_for("the selection", |s| s.contains("6 selected"));
    tmux.keys(&["!"]);
    tmux.text(command);
    tmux.keys(&["Enter"]);
}

/// The remote processes of `pattern` (sshd's children on this machine).
fn remote(pattern: &str, n: usize) -> bool {
    eventually(Duration::from_secs(20), || pgrep(pattern, &[]).len() == n)
}

#[test]
fn a_run_outlives_its_terminal_and_the_next_console_shows_it_finish() {
    let Some(fleet) = prerequisites() else {
        return;
    };
    let d = Drover::new();
    let cfg = fleet.ssh_config();
    let service = service_on(&d, &cfg);
    let tmux = Tmux::new();
    console(&tmux, &d, &cfg, &service);
    tmux.wait_for("the first frame", |s| s.contains(&fleet.alias(0)));
    let m = marker();
    // The sleep processes themselves, not the shells that started them.
    let sleep = format!("^sleep 20.{m}$");
    run_on_all(&tmux, &format!("sleep 20.{m}; echo woke-{m}"));
    tmux.wait_for("the run", |s| s.contains("running"));
    assert!(remote(&sleep, 6), "the remote sleeps did not start");

    // The terminal goes: the console's client gets SIGHUP and ends.
    tmux.run(&["kill-session", "-t", "t"]);
    let socket = service.socket.display().to_string();
    assert!(
        eventually(Duration::from_secs(10), || pgrep(
            &format!("attach --socket {socket}"),
            &[]
        )
        .is_empty()),
        "the console's client did not end with its terminal"
    );
    assert_eq!(
        pgrep(&sleep, &[]).len(),
        6,
        "the remote sleeps must survive the console's terminal"
    );

    // The next console is the same session, repainted, with the run still going.
    console(&tmux, &d, &cfg, &service);
    let screen = tmux.wait_for("the run, still going", |s| {
        s.contains(&format!("sleep 20.{m}")) && s.contains("running")
    });
    assert!(screen.contains("6 selected"), "the same session: {screen}");
    let screen = tmux.wait_for("the run to finish", |s| s.contains("success"));
    assert!(screen.contains("6 ok"), "{screen}");
    tmux.wait_for("its output", |s| s.contains(&format!("woke-{m}")));

    // History says the same, read by a drover of its own on the service's store.
    let out = finish(d.cmd(&cfg, &["history", "--json", "--limit", "1"]));
    out.expect(0);
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("history json");
    assert_eq!(runs[0]["status"], "success", "{runs}");
}

#[test]
fn two_consoles_see_the_same_run_and_ctrl_z_detaches() {
    let Some(fleet) = prerequisites() else {
        return;
    };
    let d = Drover::new();
    let cfg = fleet.ssh_config();
    let service = service_on(&d, &cfg);
    let first = Tmux::new();
    console(&first, &d, &cfg, &service);
    first.wait_for("the first frame", |s| s.contains(&fleet.alias(0)));
    let second = Tmux::new();
    console(&second, &d, &cfg, &service);
    second.wait_for("the second console", |s| s.contains(&fleet.alias(0)));

    let m = marker();
    run_on_all(&first, &format!("sleep 3.{m}; echo both-{m}"));
    // The second console did not start it, and shows it all the same.
    let screen = second.wait_for("the other console's run", |s| {
        s.contains(&format!("both-{m}")) || s.contains(&format!("sleep 3.{m}"))
    });
    assert!(
        !screen.contains("6 selected"),
        "a session of its own: {screen}"
    );
    first.wait_for("the run to finish", |s| s.contains("success"));
    second.wait_for("the run to finish there too", |s| s.contains("success"));

    // ctrl-z lets the terminal go; the client says how to come back and ends 0.
    first.keys(&["C-z"]);
    let screen = first.wait_for("the detach", |s| s.contains("EXITED:"));
    assert!(screen.contains("detached"), "{screen}");
    assert!(screen.contains("EXITED:0"), "{screen}");
}

#[test]
fn a_service_killed_with_kill_9_leaves_its_run_interrupted_for_the_next_start() {
    let Some(fleet) = prerequisites() else {
        return;
    };
    let d = Drover::new();
    let cfg = fleet.ssh_config();
    let mut service = service_on(&d, &cfg);
    let tmux = Tmux::new();
    console(&tmux, &d, &cfg, &service);
    tmux.wait_for("the first frame", |s| s.contains(&fleet.alias(0)));
    let m = marker();
    run_on_all(&tmux, &format!("sleep 30.{m}"));
    tmux.wait_for("the run", |s| s.contains("running"));
    let pid = service.pid();
    service.kill();
    assert!(
        eventually(Duration::from_secs(5), || !Path::new(&format!(
            "/proc/{pid}"
        ))
        .exists()),
        "the service did not die"
    );
    // The next drover on the store records the run it left behind.
    let out = finish(d.cmd(&cfg, &["history", "--json", "--limit", "1"]));
    out.expect(0);
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("history json");
    assert_eq!(runs[0]["status"], "interrupted", "{runs}");
    // A new service takes the socket a dead one left.
    let mut again = service_on(&d, &cfg);
    let stop = finish({
        let mut c: Command = bare(&d.path("config"));
        c.arg("serve")
            .arg("--stop")
            .arg("--socket")
            .arg(&again.socket);
        c
    });
    stop.expect(0);
    assert!(again.wait().success(), "the stopped service ends 0");
}

/// `drover serve --stop` waits for a run to end; `--stop --now` cancels it first.
#[test]
fn stop_waits_for_the_runs_and_now_cancels_them() {
    if !Tmux::available() {
        crate::prereq::missing("tmux is not installed");
        return;
    }
    let f = crate::cli_support::Fleet::nodes(&["a", "b"]);
    let inventory = f.inventory.display().to_string();
    for now in [false, true] {
        let mut service =
            Service::start(&f.dir.path().join("config"), &f.state, &["-i", &inventory]);
        let tmux = Tmux::new();
        DroverPane::new(f.dir.path(), &f.state)
            .args(&["-i", &inventory])
            .attach(&service.socket)
            .start(&tmux);
        tmux.wait_for("the first frame", |s| s.contains("@web"));
        tmux.keys(&["a"]);
        tmux.wait_for("the selection", |s| s.contains("2 selected"));
        tmux.keys(&["!"]);
        let m = marker();
        tmux.text(&format!("sleep 4.{m}; echo slept"));
        tmux.keys(&["Enter"]);
        tmux.wait_for("the run", |s| s.contains("running"));
        let mut stop = bare(&f.dir.path().join("config"));
        stop.arg("serve")
            .arg("--stop")
            .arg("--socket")
            .arg(&service.socket);
        if now {
            stop.arg("--now");
        }
        let out = finish(stop);
        out.expect(0);
        let said = String::from_utf8_lossy(&out.stderr);
        let verb = if now {
            "cancelled 1 run"
        } else {
            "waited for 1 run"
        };
        assert!(said.contains(verb), "{said}");
        assert!(service.wait().success(), "the service ends 0");
        let history = finish(f.cmd(&["--batch", "history", "--json", "--limit", "1"]));
        history.expect(0);
        let runs: serde_json::Value =
            serde_json::from_slice(&history.stdout).expect("history json");
        let status = if now { "cancelled" } else { "success" };
        assert_eq!(runs[0]["status"], status, "{runs}");
        // The attached console was told, and its client ended.
        tmux.wait_for("the console to be let go", |s| s.contains("EXITED:"));
    }
}

/// A console that finds no service starts one, and that service ends by itself
/// once its last console is quit and no run is left.
#[test]
fn a_console_starts_its_service_which_ends_with_the_last_console() {
    if !Tmux::available() {
        crate::prereq::missing("tmux is not installed");
        return;
    }
    let f = crate::cli_support::Fleet::nodes(&["a", "b"]);
    let inventory = f.inventory.display().to_string();
    let socket = f.dir.path().join("run/drover.sock");
    let tmux = Tmux::new();
    DroverPane::new(f.dir.path(), &f.state)
        .args(&["-i", &inventory])
        .attach(&socket)
        .start(&tmux);
    tmux.wait_for("the first frame", |s| s.contains("@web"));
    assert!(
        socket.exists(),
        "the console started a service on its socket"
    );
    let service = pgrep(&format!("serve --foreground .*{}", socket.display()), &[]);
    assert_eq!(service.len(), 1, "one service: {service:?}");
    tmux.keys(&["q"]);
    tmux.wait_for("the console to end", |s| s.contains("EXITED:0"));
    assert!(
        eventually(Duration::from_secs(10), || !socket.exists()
            && !Path::new(&format!("/proc/{}", service[0])).exists()),
        "the service did not end with its last console"
    );
}

/// The engine's questions reach the owner's attached console: an unknown host
/// key met by a run of the service is a prompt there, and the answer lets the
/// run go on and records the key.
#[test]
fn an_attached_console_is_asked_about_an_unknown_host_key() {
    let Some(fleet) = prerequisites() else {
        return;
    };
    let d = Drover::new();
    let known = d.path("known_hosts");
    std::fs::write(&known, "").unwrap();
    let edited = fleet.ssh_config_asking_host_keys(&known);
    let cfg = d.path("ssh_config");
    std::fs::write(&cfg, edited).unwrap();
    let service = service_on(&d, &cfg);
    let tmux = Tmux::new();
    console(&tmux, &d, &cfg, &service);
    let node = fleet.alias(0);
    tmux.wait_for("the inventory", |s| s.contains(&node));
    tmux.keys(&[":"]);
    tmux.text(&format!("filter {node}"));
    tmux.keys(&["Enter"]);
    tmux.keys(&["a", "!"]);
    tmux.text("echo asked-in-the-service");
    tmux.keys(&["Enter"]);
    let prompt = tmux.wait_for("the host key prompt", |s| s.contains("Unknown host key"));
    assert!(prompt.contains("SHA256:"), "{prompt}");
    tmux.keys(&["s"]);
    let screen = tmux.wait_for("the output", |s| s.contains("1/1 done"));
    assert!(screen.contains("asked-in-the-service"), "{screen}");
    let saved = std::fs::read_to_string(&known).unwrap();
    assert!(saved.contains("ssh-ed25519"), "known_hosts: {saved:?}");
}
