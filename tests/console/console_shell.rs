//! A shell on a node from the console, in a real terminal (tmux) against real
//! sshd: through the bastion, with a resize during the session, back to the
//! console as it was, and the session in the node's journal; `drover ssh NODE`
//! in a terminal gets a pty. Needs root and tmux; prints SKIPPED lines otherwise.

use crate::cli_support;
use crate::ssh_support;
use crate::sshd;
use crate::tmux_support;

use ssh_support::Drover;
use sshd::JumpFleet;
use std::path::Path;
use std::time::Duration;
use tmux_support::{DroverPane, Tmux};

/// The console on the fleet's ssh_config in a 100x30 tmux pane.
fn console(tmux: &Tmux, d: &Drover, cfg: &Path) {
    DroverPane::new(d.dir.path(), &d.path("state"))
        .args(&["-F", &cfg.display().to_string()])
        .env(
            "XDG_STATE_HOME",
            &d.path("config/state").display().to_string(),
        )
        .size(100, 30)
        .start(tmux);
}

/// A tmux format evaluated for the pane (`#{pane_tty}`...).
fn pane_format(tmux: &Tmux, format: &str) -> String {
    let out = tmux.run(&["display-message", "-p", "-t", "t", format]);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Puts the inventory cursor on `node` (filter to it, then the last row).
fn select_node(tmux: &Tmux, node: &str) {
    tmux.keys(&["/"]);
    tmux.text(node);
    tmux.keys(&["Enter"]);
    tmux.keys(&["G"]);
}

#[test]
fn shell_through_the_bastion_and_back_to_the_console() {
    if !Tmux::available() {
        crate::prereq::missing("tmux is not installed");
        return;
    }
    let Some(jf) = JumpFleet::or_skip(1) else {
        return;
    };
    let d = Drover::new();
    let cfg = jf.ssh_config();
    let tmux = Tmux::new();
    console(&tmux, &d, &cfg);
    tmux.wait_for("the first frame", |s| {
        s.contains("Inventory") && s.contains("int001")
    });
    select_node(&tmux, "int001");
    tmux.keys(&["s"]);
    tmux.wait_for("the console to step aside", |s| {
        s.contains("shell on int001")
    });
    assert!(
        !tmux.alternate_screen_on(),
        "the session runs on the main screen"
    );

    // The remote pty starts at the pane's size; a resize while the shell runs
    // reaches it.
    tmux.wait_for("the prompt", |s| s.contains("root@int001"));
    tmux.text("echo size=$(tput cols)x$(tput lines)");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the first size", |s| s.contains("size=100x30"));
    tmux.run(&["resize-window", "-t", "t", "-x", "90", "-y", "25"]);
    tmux.text("echo cols=$(tput cols) rows=$(tput lines); echo SSH=$SSH_CONNECTION");
    tmux.keys(&["Enter"]);
    let addr = jf.node(0).address.to_string();
    let screen = tmux.wait_for("the node's address", |s| {
        s.lines()
            .any(|l| l.starts_with("SSH=") && l.contains(&addr))
    });
    assert!(screen.contains("cols=90 rows=25"), "{screen}");
    tmux.text("exit");
    tmux.keys(&["Enter"]);

    // The console is back: alternate screen, its frame, the outcome.
    let back = tmux.wait_for("the console again", |s| {
        s.contains("Inventory") && s.contains("shell exited 0")
    });
    assert!(tmux.alternate_screen_on(), "{back}");
    assert!(
        !back.contains("SSH="),
        "the session's output is still on screen:\n{back}"
    );
    // And it still takes keys: the journal pane of the node shows the session.
    tmux.keys(&["J"]);
    tmux.wait_for("the journal pane", |s| s.contains("session: shell ended"));

    tmux.keys(&["q"]);
    let after = tmux.wait_for("drover to exit", |s| s.contains("EXITED:"));
    assert!(after.contains("EXITED:0"), "{after}");
    assert!(!tmux.alternate_screen_on(), "{after}");
    assert_cooked(&tmux);

    let entries = d.journal(&cfg, "int001");
    let ended = entries
        .iter()
        .find(|e| e["action"] == "session: shell ended")
        .unwrap_or_else(|| panic!("no session end entry: {entries:#?}"));
    assert_eq!(ended["entry_type"], "event", "{ended}");
    assert_eq!(ended["status"], "success", "{ended}");
    assert_eq!(ended["details"]["exit_code"], 0, "{ended}");
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "session: shell" && e["status"] == "started"),
        "{entries:#?}"
    );
}

#[test]
fn a_killed_server_brings_the_console_back_with_the_reason() {
    if !Tmux::available() {
        crate::prereq::missing("tmux is not installed");
        return;
    }
    let Some(mut jf) = JumpFleet::or_skip(1) else {
        return;
    };
    let d = Drover::new();
    let cfg = jf.ssh_config();
    let tmux = Tmux::new();
    console(&tmux, &d, &cfg);
    tmux.wait_for("the first frame", |s| s.contains("int001"));
    select_node(&tmux, "int001");
    tmux.keys(&["s"]);
    tmux.wait_for("the prompt", |s| s.contains("root@int001"));
    tmux.text("echo READY-$((6*7))");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the shell", |s| s.contains("READY-42"));
    jf.stop_node(0);
    let back = tmux.wait_for("the console with the error", |s| {
        s.contains("Inventory") && s.contains("connection was lost")
    });
    assert!(back.contains("int001"), "{back}");
    assert!(tmux.alternate_screen_on(), "{back}");
    // The console still takes keys, and quits cleanly.
    tmux.keys(&["q"]);
    let after = tmux.wait_for("drover to exit", |s| s.contains("EXITED:"));
    assert!(after.contains("EXITED:0"), "{after}");
    assert_cooked(&tmux);
}

/// The pane's terminal is back in canonical (cooked) mode with echo.
fn assert_cooked(tmux: &Tmux) {
    let tty = pane_format(tmux, "#{pane_tty}");
    let out = std::process::Command::new("stty")
        .args(["-a", "-F", &tty])
        .output()
        .expect("stty");
    let modes = String::from_utf8_lossy(&out.stdout);
    let words: Vec<&str> = modes.split_whitespace().collect();
    assert!(
        words.contains(&"icanon") && words.contains(&"echo"),
        "{tty} left raw: {modes}"
    );
}

#[test]
fn a_local_node_gets_a_local_shell() {
    if !Tmux::available() {
        crate::prereq::missing("tmux is not installed");
        return;
    }
    let f = cli_support::Fleet::nodes(&["web-alpha"]);
    let tmux = Tmux::new();
    DroverPane::new(f.dir.path(), &f.state)
        .args(&["-i", &f.inventory.display().to_string()])
        .env("SHELL", "/bin/sh")
        .env("ENV", "/dev/null")
        .size(100, 30)
        .start(&tmux);
    tmux.wait_for("the first frame", |s| s.contains("web-alpha"));
    select_node(&tmux, "web-alpha");
    tmux.keys(&["s"]);
    tmux.wait_for("the local shell", |s| s.contains("shell on web-alpha"));
    tmux.text("echo LOCAL-$((40+2)); exit 3");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the console again", |s| {
        s.contains("Inventory") && s.contains("shell exited 3")
    });
    assert!(tmux.alternate_screen_on());
    tmux.keys(&["q"]);
    tmux.wait_for("drover to exit", |s| s.contains("EXITED:0"));
    assert_cooked(&tmux);
    let journal = f.journal("web-alpha");
    assert!(
        journal
            .iter()
            .any(|e| e["action"] == "session: shell ended" && e["details"]["exit_code"] == 3),
        "{journal:#?}"
    );
}

#[test]
fn drover_ssh_in_a_terminal_gets_a_pty_and_restores_the_terminal() {
    if !Tmux::available() {
        crate::prereq::missing("tmux is not installed");
        return;
    }
    let Some(fleet) = sshd::Fleet::or_skip(1) else {
        return;
    };
    let d = Drover::new();
    let tmux = Tmux::new();
    DroverPane::new(d.dir.path(), &d.path("state"))
        .args(&[
            "-F",
            &fleet.ssh_config().display().to_string(),
            "ssh",
            "node001",
        ])
        .first("stty erase '^H'")
        .size(80, 24)
        .start(&tmux);
    tmux.wait_for("the prompt", |s| s.contains("root@node001"));
    // Raw passthrough: Ctrl-C reaches the remote shell, not drover.
    // The key goes in once the remote `sleep` runs: a Ctrl-C that lands while the
    // remote bash is still starting it is bash's race, not drover's.
    tmux.text("sleep 100.25");
    tmux.keys(&["Enter"]);
    assert!(
        cli_support::eventually(Duration::from_secs(30), running_sleep_100_25),
        "the remote sleep never started"
    );
    tmux.keys(&["C-c"]);
    tmux.wait_for("a new prompt", |s| {
        s.matches("root@node001:~#").count() >= 2
    });
    // The local terminal's modes are the remote pty's (erase set to ^H above).
    tmux.text("stty -a | grep -o 'erase = [^;]*' | tr -d ' '");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the remote erase character", |s| {
        s.lines().any(|l| l.trim() == "erase=^H")
    });
    tmux.text("echo term=$TERM size=$(tput cols)x$(tput lines) tty=$(tty); exit 4");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("drover to exit", |s| s.contains("EXITED:"));
    // TERM is the pane's own (tmux sets it), passed on as is.
    let term = tmux.run(&["show-options", "-gv", "default-terminal"]);
    let term = String::from_utf8_lossy(&term.stdout).trim().to_string();
    let want = format!("term={term} size=80x24 tty=/dev/pts/");
    assert!(screen.contains(&want), "{want} not in:\n{screen}");
    assert!(screen.contains("EXITED:4"), "{screen}");
    assert_cooked(&tmux);
}

#[test]
fn a_refused_pty_brings_the_console_back_with_the_reason() {
    if !Tmux::available() {
        crate::prereq::missing("tmux is not installed");
        return;
    }
    let Some(fleet) = sshd::Fleet::or_skip(1) else {
        return;
    };
    // `no-pty` on the key: sshd refuses every pty request of this login.
    let keys = fleet.dir().join("authorized_keys.root");
    let key = std::fs::read_to_string(&keys).expect("authorized_keys");
    std::fs::write(&keys, format!("no-pty {key}")).expect("write authorized_keys");
    let d = Drover::new();
    let tmux = Tmux::new();
    console(&tmux, &d, &fleet.ssh_config());
    tmux.wait_for("the first frame", |s| s.contains("node001"));
    select_node(&tmux, "node001");
    tmux.keys(&["s"]);
    let back = tmux.wait_for("the console with the error", |s| {
        s.contains("Inventory") && s.contains("refused a pty")
    });
    assert!(back.contains("node001"), "{back}");
    assert!(tmux.alternate_screen_on(), "{back}");
    tmux.keys(&["q"]);
    let after = tmux.wait_for("drover to exit", |s| s.contains("EXITED:"));
    assert!(after.contains("EXITED:0"), "{after}");
    assert_cooked(&tmux);
}

/// The pid of the pane command's child (drover, under the pane's `sh -c`).
fn drover_pid(tmux: &Tmux) -> i32 {
    let shell = pane_format(tmux, "#{pane_pid}");
    let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
        .expect("children of the pane's shell");
    children
        .split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no child of pane shell {shell}: {children:?}"))
}

#[test]
fn sigterm_during_drover_ssh_restores_the_terminal() {
    if !Tmux::available() {
        crate::prereq::missing("tmux is not installed");
        return;
    }
    let Some(fleet) = sshd::Fleet::or_skip(1) else {
        return;
    };
    let d = Drover::new();
    let tmux = Tmux::new();
    DroverPane::new(d.dir.path(), &d.path("state"))
        .args(&[
            "-F",
            &fleet.ssh_config().display().to_string(),
            "ssh",
            "node001",
        ])
        .size(80, 24)
        .start(&tmux);
    tmux.wait_for("the prompt", |s| s.contains("root@node001"));
    let pid = drover_pid(&tmux);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM");
    let screen = tmux.wait_for("drover to exit", |s| s.contains("EXITED:"));
    assert!(screen.contains("EXITED:255"), "{screen}");
    assert!(
        screen.contains("node001") && screen.contains("SIGTERM"),
        "{screen}"
    );
    assert_cooked(&tmux);
}

/// A `sleep 100.25` is running on this machine (the loopback node's processes are
/// ours to see).
fn running_sleep_100_25() -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries
        .flatten()
        .any(|e| std::fs::read(e.path().join("cmdline")).is_ok_and(|c| c == b"sleep\x00100.25\x00"))
}
