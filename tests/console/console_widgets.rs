//! Console drawing, pane by pane (cells and styles of a `Buffer`) and whole
//! screens against stored snapshots. Set `DROVER_UPDATE_SNAPSHOTS=1` to rewrite
//! the snapshots after a deliberate change, then review the diff.

use drover::app::tui::headless::buffer_text;
use drover::app::tui::keymap::Keymap;
use drover::app::tui::output::RunOutput;
use drover::app::tui::overlay::Overlay;
use drover::app::tui::state::{AppState, Focus, Level, UiOptions};
use drover::engine::{Inventory, Node};
use drover::store::Stream;
use drover::ui::sign::NodeSign;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};
use std::path::PathBuf;
use std::sync::Arc;

fn inventory() -> Inventory {
    let mut inv = Inventory::default();
    for (name, group) in [
        ("web01", "web"),
        ("web02", "web"),
        ("web03", "web"),
        ("db01", "db"),
    ] {
        let mut n = Node::local(name, "hosts.yaml");
        n.groups.push(group.into());
        inv.add(n);
    }
    inv.add(Node::local("localhost", "builtin"));
    inv
}

fn state(w: u16, h: u16, no_color: bool) -> AppState {
    let options = UiOptions {
        no_color,
        ..UiOptions::default()
    };
    let mut s = AppState::new(
        Arc::new(Keymap::defaults()),
        options,
        Rect::new(0, 0, w, h),
        "ops".into(),
    );
    let inv = Arc::new(inventory());
    s.inventory.load(&inv);
    s.inventory_data = inv;
    s.settle();
    s
}

fn render(state: &AppState) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(state.size.width, state.size.height)).unwrap();
    t.draw(|f| drover::ui::draw(f, &drover::app::tui::views::build(state, f.area())))
        .unwrap();
    t.backend().buffer().clone()
}

/// The row of the first cell whose line contains `text`.
fn row_of(buf: &Buffer, text: &str) -> (u16, u16) {
    let lines: Vec<String> = buffer_text(buf).lines().map(String::from).collect();
    for (y, line) in lines.iter().enumerate() {
        if let Some(byte) = line.find(text) {
            let x = line[..byte].chars().count();
            return (x as u16, y as u16);
        }
    }
    panic!("{text:?} not on screen:\n{}", lines.join("\n"));
}

#[test]
fn inventory_pane_marks_selection_badges_and_cursor() {
    let mut s = state(100, 20, false);
    // Rows: db source... sorted: builtin, hosts.yaml. Move to web02 and select it.
    while s.inventory.current_node() != Some("web02") {
        s.inventory.move_by(1, 10);
    }
    s.inventory.toggle_select();
    s.inventory.set_sign("web01", NodeSign::Failed);
    s.inventory.set_sign("web03", NodeSign::Ok);
    s.focus = Focus::Inventory;
    let buf = render(&s);
    let (x, y) = row_of(&buf, "[x] web02");
    assert_eq!(
        buf[(x, y)].fg,
        Color::Yellow,
        "selected node in the theme's colour"
    );
    let (x, y) = row_of(&buf, "✗ [ ] web01");
    assert_eq!(buf[(x, y)].fg, Color::Red);
    let (x, y) = row_of(&buf, "✓ [ ] web03");
    assert_eq!(buf[(x, y)].fg, Color::Green);
    // The cursor stayed on web02 (toggle does not move it here): highlighted.
    let (x, y) = row_of(&buf, "[x] web02");
    assert_eq!(buf[(x, y)].bg, Color::Blue);
    let (x, y) = row_of(&buf, "[-] @web (3)");
    assert_eq!(buf[(x, y)].fg, Color::Yellow, "partly selected group");
    assert!(buffer_text(&buf).contains("Inventory 5 · 1 selected"));
}

#[test]
fn output_pane_tells_stderr_apart_and_clips_long_lines() {
    let mut s = state(60, 16, false);
    let names = vec!["web01".to_string()];
    let mut run = RunOutput::new("r1".into(), "cmd".into(), &names, false);
    let opts = s.output.sanitize.clone();
    run.append(
        "web01",
        Stream::Stdout,
        format!("out {}\n", "x".repeat(500)).as_bytes(),
        0,
        &opts,
    );
    run.append("web01", Stream::Stderr, b"oops\n", 0, &opts);
    s.output.show(run);
    s.focus = Focus::Main;
    s.settle();
    let buf = render(&s);
    let (x, y) = row_of(&buf, "! oops");
    assert_eq!(buf[(x + 2, y)].fg, Color::LightRed);
    let text = buffer_text(&buf);
    assert!(text.lines().all(|l| l.chars().count() <= 60), "{text}");
    let (_, y) = row_of(&buf, "out xxx");
    assert_eq!(
        buf[(59, y)].symbol(),
        "│",
        "the long line stops at the pane's border"
    );
}

#[test]
fn status_line_shows_errors_emphasised() {
    let mut s = state(80, 10, false);
    s.status = Some((Level::Error, "web01: connection refused".into()));
    let buf = render(&s);
    let (x, y) = row_of(&buf, "web01: connection refused");
    assert_eq!(buf[(x, y)].fg, Color::LightRed);
    assert!(buf[(x, y)].modifier.contains(Modifier::BOLD));
}

#[test]
fn no_color_draws_without_colours() {
    let mut s = state(80, 24, true);
    s.inventory.set_sign("web01", NodeSign::Failed);
    s.status = Some((Level::Error, "bad".into()));
    s.overlays.push(Overlay::Help { top: 0 });
    let buf = render(&s);
    for cell in buf.content() {
        assert_eq!(cell.fg, Color::Reset, "{cell:?}");
        assert_eq!(cell.bg, Color::Reset, "{cell:?}");
    }
}

fn snapshot(name: &str, screen: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/console/snapshots")
        .join(name);
    if std::env::var_os("DROVER_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, screen).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with DROVER_UPDATE_SNAPSHOTS=1)",
            path.display()
        )
    });
    assert_eq!(screen, expected, "snapshot {name} differs; got:\n{screen}");
}

#[test]
fn snapshots_of_the_main_states() {
    let s = state(80, 24, false);
    snapshot("console_80x24.txt", &buffer_text(&render(&s)));
    let s = state(40, 12, false);
    snapshot("console_40x12.txt", &buffer_text(&render(&s)));
    let mut s = state(40, 12, false);
    s.focus = Focus::Main;
    snapshot("console_40x12_main.txt", &buffer_text(&render(&s)));
    let mut s = state(80, 24, false);
    s.overlays.push(Overlay::Help { top: 0 });
    snapshot("console_80x24_help.txt", &buffer_text(&render(&s)));
    let mut s = state(80, 24, false);
    s.overlays.push(Overlay::Confirm {
        command: "reboot".into(),
        targets: "web[01-03]".into(),
        count: 3,
        reasons: vec!["the command contains \"reboot\"".into()],
        rerun: None,
    });
    snapshot("console_80x24_confirm.txt", &buffer_text(&render(&s)));
}

/// A plan half way: one step of each state, fixed durations (drawing is then
/// the same on every run).
fn plan_state() -> AppState {
    use drover::app::tui::plan::PlanStarted;
    use drover::engine::ExecutionId;
    use drover::engine::orchestrator::plan_run::{PlanProgress, StepState};
    use std::time::Duration;
    let mut s = state(120, 20, false);
    let id = ExecutionId("0000000000aplan".into());
    let now = s.clock.now;
    let plan = s.progress.plan_mut(&id, now);
    plan.describe(&PlanStarted {
        id: id.clone(),
        name: "deploy".into(),
        file: "deploy.yaml".into(),
        steps: ["fetch", "build", "test", "ship", "notify"]
            .map(String::from)
            .to_vec(),
    });
    let progress = PlanProgress {
        total: 5,
        completed: 1,
        failed: 1,
        cancelled: 1,
        running: 1,
    };
    for (step, state, exec) in [
        ("fetch", StepState::Completed, Some("018f00000001aaaa1")),
        ("build", StepState::Running, Some("018f00000002bbbb2")),
        ("test", StepState::Failed, Some("018f00000003cccc3")),
        ("ship", StepState::Cancelled, None),
    ] {
        plan.step_changed(
            step,
            state,
            exec.map(|e| ExecutionId(e.into())),
            progress,
            now,
        );
    }
    for (i, ms) in [(0, 1_200), (1, 3_400), (2, 500)] {
        plan.steps[i].duration = Some(Duration::from_millis(ms));
    }
    plan.steps[3].reason = Some("not run: step test failed".into());
    plan.duration = Some(Duration::from_millis(5_100));
    plan.cursor = 2;
    s.view = drover::app::tui::state::View::Progress;
    s.focus = Focus::Main;
    s.settle();
    s
}

#[test]
fn plan_pane_shows_each_step_state_in_its_colour_and_the_gauge_counts_steps() {
    let s = plan_state();
    let buf = render(&s);
    let theme = drover::ui::theme::Theme::get(false);
    let (x, y) = row_of(&buf, "failed     018f00000003cccc3");
    assert_eq!(buf[(x, y)].fg, theme.failed);
    // The cursor row (test) is highlighted.
    assert_eq!(buf[(x, y)].bg, theme.cursor_bg);
    let (x, y) = row_of(&buf, "running    018f00000002bbbb2");
    assert_eq!(buf[(x, y)].fg, theme.running);
    let (x, y) = row_of(&buf, "completed  018f00000001aaaa1");
    assert_eq!(buf[(x, y)].fg, theme.ok);
    let (x, y) = row_of(&buf, "queued     -");
    assert_eq!(buf[(x, y)].fg, theme.dim);
    row_of(&buf, "cancelled  -");
    row_of(&buf, "not run: step test failed");
    row_of(&buf, "plan deploy · running · 5.1s");
    row_of(
        &buf,
        "3/5 steps · 1 completed · 1 failed · 1 cancelled · 1 running",
    );
    snapshot("console_120x20_plan.txt", &buffer_text(&buf));
}
