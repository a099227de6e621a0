//! A private tmux server for driving the console in a real terminal: start a
//! pane, send keys, read the screen back.
#![allow(dead_code)]

use crate::cli_support::eventually;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A private tmux server (own socket), killed on drop.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    pub fn available() -> bool {
        Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    pub fn new() -> Tmux {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        Tmux {
            socket: format!("drover-test-{}-{nanos}", std::process::id()),
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.args(["-L", &self.socket, "-f", "/dev/null"]).args(args);
        cmd.stdin(Stdio::null());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let out = self.command(args).output().expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn capture(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "t"]).stdout).into_owned()
    }

    pub fn alternate_screen_on(&self) -> bool {
        let out = self.run(&["display-message", "-p", "-t", "t", "#{alternate_on}"]);
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    /// Polls the pane until `cond` holds; fails with the last screen otherwise.
    pub fn wait_for(&self, what: &str, cond: impl Fn(&str) -> bool) -> String {
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
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl Tmux {
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    pub fn text(&self, text: &str) {
        self.run(&["send-keys", "-t", "t", "-l", text]);
    }
}

impl Tmux {
    /// The `new-session` command for the test's one pane (`t`) running `pane`
    /// at `width`×`height`; callers add their environment, then run it.
    pub fn session(&self, pane: &str, width: u16, height: u16) -> Command {
        let (w, h) = (width.to_string(), height.to_string());
        self.command(&["new-session", "-d", "-s", "t", "-x", &w, "-y", &h, pane])
    }
}

/// drover started in a pane of a private tmux server, isolated from the caller's
/// environment: its own state dir, config dir (`DIR/config`) and home (`DIR/home`),
/// no ssh-agent, a 256-colour terminal. The pane prints `EXITED:<code>` when drover
/// ends and stays open so the screen can still be read.
pub struct DroverPane {
    dir: std::path::PathBuf,
    args: Vec<String>,
    first: Option<String>,
    env: Vec<(String, String)>,
    size: (u16, u16),
}

impl DroverPane {
    /// `drover --no-attach --state-dir STATE`, its config and home under `dir`,
    /// 100x30: the console with an engine of its own (see [`attach`](Self::attach)).
    pub fn new(dir: &std::path::Path, state: &std::path::Path) -> DroverPane {
        DroverPane {
            dir: dir.to_path_buf(),
            args: vec![
                "--no-attach".into(),
                "--state-dir".into(),
                state.display().to_string(),
            ],
            first: None,
            env: Vec::new(),
            size: (100, 30),
        }
    }

    /// The console attached to the `drover serve` on `socket` instead.
    pub fn attach(mut self, socket: &std::path::Path) -> DroverPane {
        self.args.retain(|a| a != "--no-attach");
        self.args.extend([
            "--attach".to_string(),
            "--socket".to_string(),
            socket.display().to_string(),
        ]);
        self
    }

    /// More arguments (`-i INV`, `-F CFG`, a subcommand...).
    pub fn args(mut self, args: &[&str]) -> DroverPane {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// A shell command the pane runs before drover (`cd DIR`, `stty erase '^H'`).
    pub fn first(mut self, shell: &str) -> DroverPane {
        self.first = Some(shell.to_string());
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> DroverPane {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn size(mut self, width: u16, height: u16) -> DroverPane {
        self.size = (width, height);
        self
    }

    pub fn start(self, tmux: &Tmux) {
        let drover: Vec<String> = std::iter::once(crate::cli_support::BIN.to_string())
            .chain(self.args)
            .map(|a| sh_quote(&a))
            .collect();
        let first = self.first.map(|f| format!("{f} && ")).unwrap_or_default();
        let pane = format!(
            "{first}{}; echo \"EXITED:$?\"; exec sleep 600",
            drover.join(" ")
        );
        let mut start = tmux.session(&pane, self.size.0, self.size.1);
        start
            .env_remove("DROVER_STATE_DIR")
            .env_remove("SSH_AUTH_SOCK")
            .env("XDG_CONFIG_HOME", self.dir.join("config"))
            .env("HOME", self.dir.join("home"))
            .env("TERM", "xterm-256color");
        for (k, v) in &self.env {
            start.env(k, v);
        }
        let out = start.output().expect("start tmux");
        assert!(out.status.success(), "tmux new-session: {out:?}");
    }
}
