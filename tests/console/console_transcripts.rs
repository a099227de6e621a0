//! Session transcripts in a real terminal (tmux) against real sshd: a secret
//! typed at a no-echo prompt (`read -s`) of a recorded session is in no file of
//! the state dir, while what the session printed is; and enter on a recorded
//! session's entry in the console's journal pane plays its transcript, then
//! gives the console back. Needs root and tmux; prints SKIPPED lines otherwise.

use crate::cli_support;
use crate::ssh_support;
use crate::sshd;
use crate::tmux_support;

use cli_support::{files_containing, finish};
use ssh_support::Drover;
use sshd::Fleet;
use tmux_support::{DroverPane, Tmux};

const SECRET: &str = "hunter2-Zq8-SECRET-value";

#[test]
fn a_secret_typed_at_a_no_echo_prompt_is_in_no_file_of_the_state_dir() {
    if !Tmux::available() {
        crate::prereq::missing("tmux is not installed");
        return;
    }
    let Some(fleet) = Fleet::or_skip(1) else {
        return;
    };
    let d = Drover::new();
    let cfg = fleet.ssh_config();
    let state = d.path("state");
    let tmux = Tmux::new();
    DroverPane::new(d.dir.path(), &state)
        .args(&[
            "-F",
            &cfg.display().to_string(),
            "ssh",
            "--record",
            "node001",
        ])
        .size(100, 30)
        .start(&tmux);
    tmux.text("echo READY-$((6*7))");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the remote shell", |s| s.contains("READY-42"));
    // The remote pty does not echo what is typed at `read -s`: it is never
    // printed, so never recorded (and keys are never recorded at all).
    tmux.text("read -s SECRET_VAR; echo \"got=${#SECRET_VAR}\"");
    tmux.keys(&["Enter"]);
    tmux.text(SECRET);
    tmux.keys(&["Enter"]);
    let want = format!("got={}", SECRET.len());
    let screen = tmux.wait_for("the secret's length", |s| s.contains(&want));
    assert!(!screen.contains(SECRET), "{screen}");
    tmux.text("exit");
    tmux.keys(&["Enter"]);
    let after = tmux.wait_for("drover to exit", |s| s.contains("EXITED:"));
    assert!(after.contains("EXITED:0"), "{after}");

    // The transcript holds what the session printed...
    let entries = d.journal(&cfg, "node001");
    let ended = entries
        .iter()
        .find(|e| e["action"] == "session: shell ended")
        .unwrap_or_else(|| panic!("{entries:#?}"));
    let id = ended["details"]["transcript"].as_str().expect("recorded");
    let raw = finish(d.cmd(&cfg, &["journal", "replay", "--raw", id]));
    raw.expect(0);
    assert!(raw.out().contains(&want), "{raw:?}");
    assert!(raw.out().contains("READY-42"), "{raw:?}");
    // ...stored as it was printed (the search below would find it)...
    assert!(
        !files_containing(&state, want.as_bytes()).is_empty(),
        "the printed text is in the state dir"
    );
    // ...and the secret is nowhere.
    assert_eq!(
        files_containing(&state, SECRET.as_bytes()),
        Vec::<String>::new()
    );
    assert!(!raw.out().contains(SECRET));
}

#[test]
fn enter_on_a_recorded_session_in_the_journal_pane_plays_it_and_returns() {
    if !Tmux::available() {
        crate::prereq::missing("tmux is not installed");
        return;
    }
    let Some(fleet) = Fleet::or_skip(1) else {
        return;
    };
    let d = Drover::new();
    let cfg = fleet.ssh_config();
    let config_dir = d.path("config/drover");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(
        config_dir.join("config.toml"),
        "[sessions]\nrecord = true\n",
    )
    .unwrap();
    let tmux = Tmux::new();
    DroverPane::new(d.dir.path(), &d.path("state"))
        .args(&["-F", &cfg.display().to_string()])
        .size(100, 30)
        .start(&tmux);
    tmux.wait_for("the first frame", |s| {
        s.contains("Inventory") && s.contains("node001")
    });
    tmux.keys(&["/"]);
    tmux.text("node001");
    tmux.keys(&["Enter"]);
    tmux.keys(&["G"]);
    tmux.keys(&["s"]);
    tmux.text("echo MARK-$((6*7))");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the remote shell", |s| s.contains("MARK-42"));
    tmux.text("exit");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the console again", |s| {
        s.contains("Inventory") && s.contains("shell exited 0")
    });
    assert!(
        !tmux.capture().contains("MARK-42"),
        "the session's output is off screen"
    );
    tmux.keys(&["J"]);
    tmux.wait_for("the journal pane", |s| s.contains("session: shell ended"));
    // The newest entry (the session's end) is under the cursor.
    tmux.keys(&["Enter"]);
    let played = tmux.wait_for("the replay", |s| {
        s.contains("MARK-42") && s.contains("end of the transcript")
    });
    assert!(!tmux.alternate_screen_on(), "{played}");
    tmux.keys(&["x"]);
    let back = tmux.wait_for("the console after the replay", |s| {
        s.contains("Inventory") && s.contains("transcript")
    });
    assert!(tmux.alternate_screen_on(), "{back}");
    assert!(!back.contains("MARK-42"), "{back}");
    tmux.keys(&["q"]);
    let after = tmux.wait_for("drover to exit", |s| s.contains("EXITED:"));
    assert!(after.contains("EXITED:0"), "{after}");
}
