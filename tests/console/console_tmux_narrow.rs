//! The console end to end in a 70-column terminal (tmux): the panes are tabs
//! that `tab` goes round, a node's carriage returns overwrite its line as the
//! terminal itself would show them, `W` wraps a long line, and `E` opens the
//! status line's message whole.

use crate::cli_support;
use crate::tmux_support;

use cli_support::Fleet;
use tmux_support::{DroverPane, Tmux};

#[test]
fn a_narrow_console_shows_tabs_overwritten_lines_and_wraps() {
    if !Tmux::available() {
        crate::prereq::missing("a_narrow_console_shows_tabs_overwritten_lines_and_wraps: no tmux");
        return;
    }
    let f = Fleet::nodes(&["web-alpha", "web-beta"]);
    let tmux = Tmux::new();
    DroverPane::new(f.dir.path(), &f.state)
        .args(&["-i", &f.inventory.display().to_string()])
        .size(70, 24)
        .start(&tmux);

    let frame = tmux.wait_for("the tab row", |s| {
        s.lines()
            .next()
            .is_some_and(|l| l.contains("Inventory") && l.contains("Output"))
            && s.contains("web-alpha")
    });
    assert!(!frame.contains("EXITED"), "{frame}");

    tmux.keys(&["Space", "!"]);
    tmux.text(&format!(
        "printf 'load 1\\rload 2\\rload 3\\n'; echo start-{}-END",
        "x".repeat(120)
    ));
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the output tab", |s| s.contains("│  load 3"));
    // The command in the title shows the \r; the output lines do not.
    assert!(
        !screen.contains("│  load 1") && !screen.contains("│  load 2") && !screen.contains("^M"),
        "{screen}"
    );
    assert!(
        !screen.contains("web-beta  "),
        "one pane at a time\n{screen}"
    );
    assert!(!screen.contains("-END"), "long lines are clipped\n{screen}");
    tmux.wait_for("the run to end", |s| s.contains("2/2 done"));

    tmux.keys(&["W"]);
    tmux.wait_for("the long line wrapped", |s| {
        s.contains("start-x") && s.contains("-END") && s.contains("wrap")
    });

    tmux.keys(&["Tab"]);
    tmux.wait_for("the progress tab", |s| {
        s.contains("status") && s.contains("try") && !s.contains("│  load 3")
    });
    tmux.keys(&["Tab", "Tab", "Tab", "Tab"]);
    tmux.wait_for("back to the inventory", |s| {
        s.contains("web-alpha") && !s.contains("│  load 3")
    });

    tmux.keys(&[":"]);
    tmux.text("nonsense-command");
    tmux.keys(&["Enter", "E"]);
    tmux.wait_for("the message whole", |s| {
        s.contains("Error") && s.contains("unknown command :nonsense-command")
    });
    // Apart: an escape straight followed by `q` reads as alt-q.
    tmux.keys(&["Escape"]);
    tmux.wait_for("the message closed", |s| !s.contains("Error ·"));
    tmux.keys(&["q"]);
    let after = tmux.wait_for("drover to exit", |s| s.contains("EXITED:"));
    assert!(after.contains("EXITED:0"), "{after}");
}
