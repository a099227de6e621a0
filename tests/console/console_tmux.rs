//! The console end to end in a real terminal (tmux): select, run, folded output,
//! history, a journal note, quit with the terminal restored. Plus: without a terminal the console refuses to start.

use crate::cli_support;
use crate::sshd;
use crate::tmux_support;

use cli_support::Fleet;
use tmux_support::{DroverPane, Tmux};

/// The whole console in a real terminal: first frame, select, run, folded
/// output, history, a journal note, quit with the terminal restored — and the
/// note is then found by `drover journal`.
/// Starts the console in `tmux` on `f`'s inventory and state dir, in a clean
/// environment (its own config and home); the pane prints `EXITED:<code>`
/// when drover ends.
fn start_console(tmux: &Tmux, f: &Fleet, width: u16, height: u16) {
    DroverPane::new(f.dir.path(), &f.state)
        .args(&["-i", &f.inventory.display().to_string()])
        .size(width, height)
        .start(tmux);
}

#[test]
fn console_runs_folds_records_and_restores_the_terminal() {
    if !Tmux::available() {
        crate::prereq::missing(
            "console_runs_folds_records_and_restores_the_terminal: tmux is not installed",
        );
        return;
    }
    let f = Fleet::nodes(&["web-alpha", "web-beta"]);
    let tmux = Tmux::new();
    start_console(&tmux, &f, 100, 30);

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
    // The block header (`── set (2)`), not the prompt's target preview, which
    // names the same set before the command runs.
    let screen = tmux.wait_for("the folded output", |s| {
        s.contains("── web-[alpha,beta] (2)") || s.contains("── web-alpha,web-beta (2)")
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

/// An unknown SSH host key in the console is a prompt with the fingerprint;
/// accepting and saving it lets the run go on and records the key.
#[test]
fn console_asks_about_an_unknown_host_key_and_saves_it() {
    if !Tmux::available() {
        crate::prereq::missing("console_asks_about_an_unknown_host_key_and_saves_it: no tmux");
        return;
    }
    let Some(fleet) = sshd::Fleet::or_skip(1) else {
        return;
    };
    let f = Fleet::nodes(&[]);
    let known = f.path("known_hosts");
    std::fs::write(&known, "").unwrap();
    let edited = fleet.ssh_config_asking_host_keys(&known);
    let cfg = f.path("ssh_config");
    std::fs::write(&cfg, edited).unwrap();

    let tmux = Tmux::new();
    DroverPane::new(f.dir.path(), &f.state)
        .args(&["-F", &cfg.display().to_string()])
        .size(110, 30)
        .start(&tmux);
    tmux.wait_for("the inventory", |s| s.contains("node001"));
    tmux.keys(&[":"]);
    tmux.text("filter node001");
    tmux.keys(&["Enter"]);
    tmux.keys(&["a", "!"]);
    tmux.text("echo via-ssh");
    tmux.keys(&["Enter"]);
    let prompt = tmux.wait_for("the host key prompt", |s| s.contains("Unknown host key"));
    assert!(prompt.contains("SHA256:"), "{prompt}");
    tmux.keys(&["s"]);
    let screen = tmux.wait_for("the output", |s| s.contains("1/1 done"));
    assert!(screen.contains("via-ssh"), "{screen}");
    assert!(screen.contains("node001 (1)"), "{screen}");
    tmux.keys(&["q"]);
    tmux.wait_for("drover to exit", |s| s.contains("EXITED:0"));
    let saved = std::fs::read_to_string(&known).unwrap();
    assert!(saved.contains("ssh-ed25519"), "known_hosts: {saved:?}");
}

/// SIGTERM (a closed SSH session, a `kill`) leaves the terminal as it was.
#[test]
fn sigterm_restores_the_terminal() {
    if !Tmux::available() {
        crate::prereq::missing("sigterm_restores_the_terminal: no tmux");
        return;
    }
    let f = Fleet::nodes(&["web-alpha"]);
    let tmux = Tmux::new();
    DroverPane::new(f.dir.path(), &f.state)
        .args(&["-i", &f.inventory.display().to_string()])
        .size(80, 24)
        .start(&tmux);
    tmux.wait_for("the first frame", |s| s.contains("web-alpha"));
    let shell = String::from_utf8(
        tmux.run(&["display-message", "-p", "-t", "t", "#{pane_pid}"])
            .stdout,
    )
    .unwrap();
    let out = std::process::Command::new("pkill")
        .args(["-TERM", "-P", shell.trim(), "drover"])
        .output()
        .unwrap();
    assert!(out.status.success(), "pkill: {out:?}");
    let after = tmux.wait_for("drover to exit", |s| s.contains("EXITED:"));
    assert!(
        !tmux.alternate_screen_on(),
        "still on the alternate screen:\n{after}"
    );
    assert!(!after.contains("Inventory"), "{after}");
}

/// SIGHUP (the terminal went away) while a run is going: the console cancels it,
/// kills the node's command, records `cancelled`, restores the terminal and exits 129.
#[test]
fn sighup_cancels_the_running_work_and_exits_129() {
    if !Tmux::available() {
        crate::prereq::missing("sighup_cancels_the_running_work_and_exits_129: no tmux");
        return;
    }
    let f = Fleet::nodes(&["web-alpha"]);
    let tmux = Tmux::new();
    start_console(&tmux, &f, 100, 30);
    tmux.wait_for("the first frame", |s| s.contains("web-alpha"));
    tmux.keys(&["Space"]);
    tmux.wait_for("the selection", |s| s.contains("1 selected"));
    let marker = format!("{}", std::process::id() as u64 * 1000 + 417);
    let sleeper = format!("sleep 300.{marker}");
    tmux.keys(&["!"]);
    tmux.text(&format!("echo started; {sleeper}"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the run to start", |s| s.contains("started"));
    let pgrep = |pattern: &str| {
        std::process::Command::new("pgrep")
            .args(["-f", pattern])
            .output()
            .map(|o| !o.stdout.is_empty())
            .unwrap_or(false)
    };
    let running = cli_support::eventually(std::time::Duration::from_secs(10), || {
        pgrep(&format!("^{sleeper}$"))
    });
    assert!(running, "{sleeper} never ran");
    let shell = String::from_utf8(
        tmux.run(&["display-message", "-p", "-t", "t", "#{pane_pid}"])
            .stdout,
    )
    .unwrap();
    let t = std::time::Instant::now();
    let out = std::process::Command::new("pkill")
        .args(["-HUP", "-P", shell.trim(), "drover"])
        .output()
        .unwrap();
    assert!(out.status.success(), "pkill: {out:?}");
    let after = tmux.wait_for("drover to exit", |s| s.contains("EXITED:"));
    let took = t.elapsed();
    assert!(after.contains("EXITED:129"), "{after}");
    assert!(!tmux.alternate_screen_on(), "still on the alternate screen");
    assert!(
        !pgrep(&format!("^{sleeper}$")),
        "{sleeper} outlived the console"
    );
    let history = f.history(&[]);
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0]["status"], "cancelled", "{history:?}");
    println!(
        "FAULT-ROW sighup-console: exit 129 in {:.2} s, history cancelled, 0 processes left, terminal restored",
        took.as_secs_f64()
    );
}

/// `:plan FILE` in a real terminal: the plan runs on the selection, the
/// progress pane shows every step completed, and each step is in history.
#[test]
fn console_runs_a_plan_and_shows_its_steps_completed() {
    if !Tmux::available() {
        crate::prereq::missing("console_runs_a_plan_and_shows_its_steps_completed: no tmux");
        return;
    }
    let f = Fleet::nodes(&["web-alpha", "web-beta"]);
    let plan = f.path("diamond.yaml");
    std::fs::write(
        &plan,
        "name: diamond\nsteps:\n  - name: first\n    command: echo one\n  - name: left\n    depends_on: [first]\n    command: echo left\n  - name: right\n    depends_on: [first]\n    command: echo right\n  - name: last\n    depends_on: [left, right]\n    command: echo last\n",
    )
    .unwrap();
    let tmux = Tmux::new();
    start_console(&tmux, &f, 120, 30);
    tmux.wait_for("the first frame", |s| {
        s.contains("Inventory") && s.contains("web-beta")
    });
    tmux.keys(&["Space"]);
    tmux.wait_for("the selection", |s| s.contains("2 selected"));
    tmux.keys(&[":"]);
    tmux.text(&format!("plan {}", plan.display()));
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the plan to complete", |s| {
        s.contains("plan diamond: completed")
    });
    assert!(
        screen.contains("4/4 steps · 4 completed · 0 failed"),
        "{screen}"
    );
    for step in ["first", "left", "right", "last"] {
        assert!(
            screen
                .lines()
                .any(|l| l.contains(&format!("│{step} ")) && l.contains("completed")),
            "{step}:\n{screen}"
        );
    }
    tmux.keys(&["q"]);
    let after = tmux.wait_for("drover to exit", |s| s.contains("EXITED:"));
    assert!(after.contains("EXITED:0"), "{after}");
    let history = f.history(&[]);
    assert_eq!(history.len(), 4, "one execution per step: {history:?}");
}

/// The output pane's block headers (`── n01 (1) ok`) as the terminal shows them.
fn headers(screen: &str) -> Vec<String> {
    screen
        .lines()
        .filter_map(|l| {
            l.find("── n0")
                .map(|i| l[i..].trim_end_matches('│').trim().to_string())
        })
        .collect()
}

/// Two nodes print the same line and one exits 3: in a real terminal the failed
/// node has its own block headed `exit 3`, listed first, both live and in the
/// replay from history; no `ok` header ever names it.
#[test]
fn console_never_shows_a_failed_node_under_an_ok_header() {
    if !Tmux::available() {
        crate::prereq::missing("console_never_shows_a_failed_node_under_an_ok_header: no tmux");
        return;
    }
    let f = Fleet::nodes(&["n01", "n02"]);
    let tmux = Tmux::new();
    start_console(&tmux, &f, 100, 30);
    tmux.wait_for("the first frame", |s| {
        s.contains("n01") && s.contains("n02")
    });
    tmux.keys(&["Space"]);
    tmux.wait_for("the selection", |s| s.contains("2 selected"));
    tmux.keys(&["!"]);
    tmux.text("echo same-line; test $DROVER_NODE != n02 || exit 3");
    tmux.keys(&["Enter"]);
    let expected = ["── n02 (1) exit 3", "── n01 (1) ok"];
    let live = tmux.wait_for("the run to finish", |s| s.contains("2/2 done"));
    assert_eq!(headers(&live), expected, "{live}");
    assert!(live.contains("1 ok · 1 failed · 0 cancelled"), "{live}");

    tmux.keys(&["3"]);
    // The history row itself (the gauge's title says `partial` already).
    tmux.wait_for("history", |s| s.contains("partial     n[01-02]"));
    tmux.keys(&["Enter"]);
    let replay = tmux.wait_for("the replay", |s| s.contains("replaying "));
    assert_eq!(headers(&replay), expected, "{replay}");

    tmux.keys(&["q"]);
    let after = tmux.wait_for("drover to exit", |s| s.contains("EXITED:"));
    assert!(after.contains("EXITED:0"), "{after}");
}
