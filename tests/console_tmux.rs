//! The console end to end in a real terminal (tmux): first frame, `q` to quit,
//! terminal restored. Plus: without a terminal the console refuses to start.

mod cli_support;

use cli_support::{BIN, Fleet, eventually};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A private tmux server (own socket), killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn available() -> bool {
        Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    fn new() -> Tmux {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        Tmux {
            socket: format!("drover-test-{}-{nanos}", std::process::id()),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.args(["-L", &self.socket, "-f", "/dev/null"]).args(args);
        cmd.stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = self.command(args).output().expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn capture(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "t"]).stdout).into_owned()
    }

    fn alternate_screen_on(&self) -> bool {
        let out = self.run(&["display-message", "-p", "-t", "t", "#{alternate_on}"]);
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    /// Polls the pane until `cond` holds; fails with the last screen otherwise.
    fn wait_for(&self, what: &str, cond: impl Fn(&str) -> bool) -> String {
        let mut screen = String::new();
        let ok = eventually(Duration::from_secs(30), || {
            screen = self.capture();
            cond(&screen)
        });
        assert!(ok, "timed out waiting for {what}; screen:\n{screen}");
        screen
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command(&["kill-server"]).output();
    }
}

/// Single-quotes `s` for the shell tmux runs the pane command with.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[test]
fn console_shows_the_inventory_and_q_restores_the_terminal() {
    if !Tmux::available() {
        eprintln!(
            "\n*** SKIPPED console_shows_the_inventory_and_q_restores_the_terminal: tmux is not installed ***\n"
        );
        return;
    }
    let f = Fleet::nodes(&["web-alpha", "db-beta"]);
    let tmux = Tmux::new();
    let pane = format!(
        "{} --state-dir {} -i {}; echo \"EXITED:$?\"; exec sleep 600",
        sh_quote(BIN),
        sh_quote(&f.state.display().to_string()),
        sh_quote(&f.inventory.display().to_string()),
    );
    let mut start = tmux.command(&[
        "new-session",
        "-d",
        "-s",
        "t",
        "-x",
        "100",
        "-y",
        "30",
        &pane,
    ]);
    start
        .env_remove("DROVER_STATE_DIR")
        .env("XDG_CONFIG_HOME", f.path("config"))
        .env("TERM", "xterm-256color");
    let out = start.output().expect("start tmux");
    assert!(out.status.success(), "tmux new-session: {out:?}");

    let frame = tmux.wait_for("the first frame", |s| {
        s.contains("drover") && s.contains("web-alpha") && s.contains("db-beta")
    });
    assert!(frame.contains("inventory"), "{frame}");
    assert!(!frame.contains("EXITED"), "drover exited early:\n{frame}");
    assert!(
        tmux.alternate_screen_on(),
        "the console should use the alternate screen"
    );

    tmux.run(&["send-keys", "-t", "t", "q"]);
    let after = tmux.wait_for("drover to exit", |s| s.contains("EXITED:"));
    assert!(after.contains("EXITED:0"), "exit status not 0:\n{after}");
    assert!(
        !tmux.alternate_screen_on(),
        "still on the alternate screen:\n{after}"
    );
    assert!(
        !after.contains("web-alpha") && !after.contains("inventory"),
        "the console frame is still on screen:\n{after}"
    );
}

#[test]
fn console_without_a_terminal_exits_2_with_a_message() {
    let f = Fleet::nodes(&["n01"]);
    let out = f.drover(&[]);
    assert_eq!(out.code(), 2, "{out:?}");
    assert!(out.err().contains("terminal"), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
}
