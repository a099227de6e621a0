//! The console end to end in a real terminal (tmux): select, run, folded output,
//! history, a journal note, quit with the terminal restored. Plus: without a terminal the console refuses to start.

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

impl Tmux {
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    fn text(&self, text: &str) {
        self.run(&["send-keys", "-t", "t", "-l", text]);
    }
}

/// The whole console in a real terminal: first frame, select, run, folded
/// output, history, a journal note, quit with the terminal restored — and the
/// note is then found by `drover journal`.
#[test]
fn console_runs_folds_records_and_restores_the_terminal() {
    if !Tmux::available() {
        eprintln!(
            "\n*** SKIPPED console_runs_folds_records_and_restores_the_terminal: tmux is not installed ***\n"
        );
        return;
    }
    let f = Fleet::nodes(&["web-alpha", "web-beta"]);
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
        .env("HOME", f.path("home"))
        .env("TERM", "xterm-256color");
    let out = start.output().expect("start tmux");
    assert!(out.status.success(), "tmux new-session: {out:?}");

    let frame = tmux.wait_for("the first frame", |s| {
        s.contains("Inventory") && s.contains("web-alpha") && s.contains("web-beta")
    });
    assert!(!frame.contains("EXITED"), "drover exited early:\n{frame}");
    assert!(
        tmux.alternate_screen_on(),
        "the console should use the alternate screen"
    );

    // Cursor on the source row: space selects both nodes; ! types a command.
    tmux.keys(&["Space"]);
    tmux.wait_for("the selection", |s| s.contains("2 selected"));
    tmux.keys(&["!"]);
    tmux.text("echo hello-from-drover");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the folded output", |s| {
        s.contains("web-[alpha,beta] (2)") || s.contains("web-alpha,web-beta (2)")
    });
    assert!(screen.contains("hello-from-drover"), "{screen}");
    tmux.wait_for("the run to finish", |s| s.contains("2/2 done"));

    // History lists it.
    tmux.keys(&["3"]);
    tmux.wait_for("history", |s| {
        s.contains("success") && s.contains("echo hello-from-drover")
    });

    // A journal note written in the editor.
    tmux.keys(&[":"]);
    tmux.text("journal web-beta");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the journal", |s| {
        s.contains("Journal") && s.contains("web-beta")
    });
    tmux.keys(&["n"]);
    tmux.wait_for("the editor", |s| s.contains("Note for web-beta"));
    tmux.text("fan replaced");
    tmux.keys(&["C-s"]);
    tmux.wait_for("the note saved", |s| s.contains("note saved"));

    tmux.keys(&["q"]);
    let after = tmux.wait_for("drover to exit", |s| s.contains("EXITED:"));
    assert!(after.contains("EXITED:0"), "exit status not 0:\n{after}");
    assert!(
        !tmux.alternate_screen_on(),
        "still on the alternate screen:\n{after}"
    );
    assert!(
        !after.contains("web-alpha") && !after.contains("Inventory"),
        "the console frame is still on screen:\n{after}"
    );

    let journal = f.journal("web-beta");
    assert!(
        journal
            .iter()
            .any(|e| e["action"] == "fan replaced" && e["entry_type"] == "manual"),
        "{journal:?}"
    );
    let history = f.history(&[]);
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0]["action"], "echo hello-from-drover");
}

#[test]
fn console_without_a_terminal_exits_2_with_a_message() {
    let f = Fleet::nodes(&["n01"]);
    let out = f.drover(&[]);
    assert_eq!(out.code(), 2, "{out:?}");
    assert!(out.err().contains("terminal"), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
}
