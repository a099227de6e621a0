//! Cancel and re-run in a real terminal (tmux) on real OpenSSH servers: `R`
//! repeats a run on the one node where it failed, and `ctrl-c` stops a remote
//! `sleep` on every node while the console stays open.

use crate::cli_support;
use crate::sshd;
use crate::tmux_support;

use cli_support::{Fleet, eventually};
use std::process::Command;
use std::time::Duration;
use tmux_support::{DroverPane, Tmux};

/// Starts the console in tmux on the sshd fleet's ssh_config, with `f`'s state
/// dir; the pane prints `EXITED:<code>` when drover ends.
fn start_console(tmux: &Tmux, f: &Fleet, cfg: &std::path::Path) {
    DroverPane::new(f.dir.path(), &f.state)
        .args(&["-F", &cfg.display().to_string()])
        .size(120, 32)
        .start(tmux);
}

/// Selects node001..node003 (and not the `user-` aliases of the same servers).
fn select_three(tmux: &Tmux) {
    tmux.wait_for("the inventory", |s| s.contains("node003"));
    tmux.keys(&[":"]);
    tmux.text("filter node00[1-3]");
    tmux.keys(&["Enter"]);
    tmux.keys(&["a"]);
    tmux.wait_for("the selection", |s| s.contains("3 selected"));
}

fn pgrep(pattern: &str) -> bool {
    Command::new("pgrep")
        .args(["-f", pattern])
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false)
}

#[test]
fn capital_r_reruns_the_failed_node_only_and_ctrl_c_stops_remote_sleeps() {
    if !Tmux::available() {
        crate::prereq::missing("console_rerun: tmux is not installed");
        return;
    }
    let Some(fleet) = sshd::Fleet::or_skip(3) else {
        return;
    };
    let f = Fleet::nodes(&[]);
    let tmux = Tmux::new();
    start_console(&tmux, &f, &fleet.ssh_config());
    select_three(&tmux);

    // The prompt says what Enter will hit.
    tmux.keys(&["!"]);
    tmux.wait_for("the target preview", |s| {
        s.contains("→ node[001-003] (3) · selection")
    });
    tmux.text("echo ran-on-$(hostname); test $(hostname) != node002");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the first run", |s| s.contains("3/3 done"));
    assert!(screen.contains("ran-on-node001"), "{screen}");
    let first = f.latest();

    tmux.keys(&["R"]);
    let screen = tmux.wait_for("the re-run", |s| s.contains("1/1 done"));
    assert!(screen.contains("ran-on-node002"), "{screen}");
    assert!(!screen.contains("ran-on-node001"), "{screen}");
    let rerun = f.latest();
    assert_ne!(rerun["id"], first["id"]);
    assert_eq!(rerun["rerun_of"], first["id"], "{rerun}");
    assert_eq!(rerun["nodes"], serde_json::json!(["node002"]), "{rerun}");

    // ctrl-c on a remote sleep: gone on every node, the console still open.
    let sleeper = format!("sleep 30.{}", std::process::id() % 1000);
    tmux.keys(&["!"]);
    tmux.text(&sleeper);
    tmux.keys(&["Enter"]);
    let pattern = format!("^{sleeper}$");
    assert!(
        eventually(Duration::from_secs(15), || pgrep(&pattern)),
        "{sleeper} never ran"
    );
    let t = std::time::Instant::now();
    tmux.keys(&["C-c"]);
    assert!(
        eventually(Duration::from_secs(10), || !pgrep(&pattern)),
        "{sleeper} outlived ctrl-c"
    );
    let killed = t.elapsed();
    let screen = tmux.wait_for("the run cancelled", |s| s.contains("3 cancelled"));
    assert!(
        !screen.contains("EXITED"),
        "ctrl-c left the console:\n{screen}"
    );
    // The store's writer may trail the screen by a moment.
    assert!(
        eventually(Duration::from_secs(10), || f.latest()["status"]
            == "cancelled"),
        "{}",
        f.latest()
    );
    println!(
        "FAULT-ROW ctrl-c-console-ssh: 3 of 3 remote sleeps gone {:.2} s after ctrl-c, console open",
        killed.as_secs_f64()
    );

    // With nothing running, ctrl-c only says how to quit; q quits.
    tmux.keys(&["C-c"]);
    tmux.wait_for("the hint", |s| {
        s.contains("nothing running — q or :q quits")
    });
    tmux.keys(&["q"]);
    let after = tmux.wait_for("drover to exit", |s| s.contains("EXITED:"));
    assert!(after.contains("EXITED:0"), "{after}");
}
