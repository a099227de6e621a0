//! `w` end to end in a real terminal (tmux) on real sshd nodes: run a command,
//! press `w`, accept the offered name, and the file in the directory drover
//! started in holds exactly the lines the pane showed (read back with
//! `tmux capture-pane`, borders removed); the per-node view likewise.

use crate::cli_support;
use crate::sshd;
use crate::tmux_support;

use cli_support::Fleet;
use tmux_support::{DroverPane, Tmux, sh_quote};

/// The output pane's rows as captured, without borders: the text between the
/// main pane's side borders, from under its title to its bottom border.
fn pane_rows(screen: &str) -> Vec<String> {
    let rows: Vec<&str> = screen.lines().collect();
    let top = rows
        .iter()
        .position(|r| r.contains("1:Output"))
        .expect("the output pane's title");
    let mut out: Vec<String> = rows[top + 1..]
        .iter()
        .take_while(|r| r.split('│').count() >= 4)
        .map(|r| r.split('│').nth(3).unwrap_or("").trim_end().to_string())
        .collect();
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out
}

fn file_rows(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("the written file");
    assert!(!text.contains('\x1b'), "escape sequences in {text:?}");
    text.lines().map(|l| l.trim_end().to_string()).collect()
}

#[test]
fn w_writes_the_lines_the_pane_shows_into_the_start_directory() {
    if !Tmux::available() {
        crate::prereq::missing(
            "w_writes_the_lines_the_pane_shows_into_the_start_directory: no tmux",
        );
        return;
    }
    let Some(fleet) = sshd::Fleet::or_skip(2) else {
        return;
    };
    let f = Fleet::nodes(&[]);
    let start_dir = f.path("start");
    std::fs::create_dir_all(&start_dir).unwrap();
    let tmux = Tmux::new();
    DroverPane::new(f.dir.path(), &f.state)
        .args(&["-F", &fleet.ssh_config().display().to_string()])
        .first(&format!(
            "cd {}",
            sh_quote(&start_dir.display().to_string())
        ))
        .size(110, 40)
        .start(&tmux);
    let (a, b) = (fleet.alias(0), fleet.alias(1));
    tmux.wait_for("the inventory", |s| s.contains(&a) && s.contains(&b));
    tmux.keys(&[":"]);
    tmux.text(&format!("filter {a},{b}"));
    tmux.keys(&["Enter"]);
    tmux.keys(&["a"]);
    tmux.wait_for("the selection", |s| s.contains("2 selected"));
    tmux.keys(&["!"]);
    tmux.text(r"echo same; echo warn >&2; printf '\033[32mgreen\033[0m\n'; exit 2");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the run to end", |s| s.contains("2/2 done"));

    tmux.keys(&["Tab", "w"]);
    let prompt = tmux.wait_for("the file name prompt", |s| s.contains("write to> drover-"));
    let offered = prompt
        .lines()
        .find_map(|l| l.trim().strip_prefix("write to> "))
        .expect("the offered name")
        .trim()
        .to_string();
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the write", |s| s.contains("wrote "));
    let written = start_dir.join(&offered);
    let rows = file_rows(&written);
    assert!(
        screen.contains(&format!("wrote {} lines to {offered}", rows.len())),
        "{screen}"
    );
    assert_eq!(rows, pane_rows(&screen), "{screen}");
    assert!(
        rows[0].starts_with("── ") && rows[0].ends_with(" (2) exit 2"),
        "{rows:#?}"
    );
    for line in ["  same", "! warn", "  green"] {
        assert!(rows.contains(&line.to_string()), "{line}: {rows:#?}");
    }

    // Per node: `node: line`, each node under its own header.
    tmux.keys(&["f", ":"]);
    tmux.text("write per-node.txt");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the second write", |s| s.contains("to per-node.txt"));
    let rows = file_rows(&start_dir.join("per-node.txt"));
    assert_eq!(rows, pane_rows(&screen), "{screen}");
    for node in [&a, &b] {
        assert!(rows.contains(&format!("! {node}: warn")), "{rows:#?}");
        assert!(rows.contains(&format!("── {node} (1) exit 2")), "{rows:#?}");
    }

    tmux.keys(&["q"]);
    tmux.wait_for("drover to exit", |s| s.contains("EXITED:0"));
}
