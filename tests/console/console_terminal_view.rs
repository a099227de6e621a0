//! The console's output pane, bars and small screens, drawn on a `TestBackend`
//! at 60, 80 and 120 columns: output as a terminal shows it (carriage returns
//! overwrite, tabs stop every 8 columns), wrap and sideways scrolling, the
//! search counter, the bottom bar's keys per pane, tabs below 80 columns, the
//! status message in full, `:messages` and scrolling message boxes.

use drover::app::tui::clock::Stamp;
use drover::app::tui::headless::buffer_text;
use drover::app::tui::keymap::Keymap;
use drover::app::tui::keys::Key;
use drover::app::tui::msg::Msg;
use drover::app::tui::output::RunOutput;
use drover::app::tui::overlay::Overlay;
use drover::app::tui::state::{AppState, Focus, UiOptions, View};
use drover::app::tui::update::update;
use drover::engine::{Inventory, Node};
use drover::store::Stream;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use std::sync::Arc;

const WIDTHS: [u16; 3] = [60, 80, 120];

fn state(w: u16, h: u16) -> AppState {
    let mut s = AppState::new(
        Arc::new(Keymap::defaults()),
        UiOptions::default(),
        Rect::new(0, 0, w, h),
        "ops".into(),
    );
    let mut inv = Inventory::default();
    for name in ["web01", "web02", "db01"] {
        inv.add(Node::local(name, "hosts.yaml"));
    }
    let inv = Arc::new(inv);
    s.inventory.load(&inv);
    s.inventory_data = inv;
    s.settle();
    s
}

/// A run on `nodes` whose output is `bytes` on each, shown with focus.
fn with_output(w: u16, h: u16, nodes: &[&str], bytes: &[u8]) -> AppState {
    let mut s = state(w, h);
    let names: Vec<String> = nodes.iter().map(|n| n.to_string()).collect();
    let mut run = RunOutput::new("r1".into(), "cmd".into(), &names, false);
    let opts = s.output.sanitize.clone();
    for n in nodes {
        run.append(n, Stream::Stdout, bytes, 0, &opts);
    }
    s.output.show(run);
    s.focus = Focus::Main;
    s.view = View::Output;
    s.settle();
    s
}

fn screen(s: &AppState) -> String {
    let mut t = Terminal::new(TestBackend::new(s.size.width, s.size.height)).unwrap();
    t.draw(|f| drover::ui::draw(f, &drover::app::tui::views::build(s, f.area())))
        .unwrap();
    buffer_text(t.backend().buffer())
}

fn keys(s: &mut AppState, keys: &str) {
    for k in Key::sequence(keys).unwrap() {
        update(s, Msg::Key(k.to_event()), Stamp::read());
        s.settle();
    }
}

#[test]
fn carriage_returns_and_tabs_render_as_on_a_terminal_at_every_width() {
    for w in WIDTHS {
        let s = with_output(
            w,
            20,
            &["web01"],
            b"10%\r20%\r30%\r\nabcdef\rXY\na\tb\nprogress 5%\r",
        );
        let text = screen(&s);
        assert!(text.contains("  30%"), "{w}\n{text}");
        assert!(!text.contains("10%") && !text.contains("^M"), "{w}\n{text}");
        assert!(text.contains("  XYcdef"), "{w}\n{text}");
        assert!(text.contains("  a       b"), "{w}\n{text}");
        assert!(text.contains("  progress 5%"), "{w}\n{text}");
    }
}

#[test]
fn a_progress_bar_and_its_final_state_fold_with_plain_output() {
    let mut s = state(120, 20);
    let names: Vec<String> = ["web01", "web02"].iter().map(|n| n.to_string()).collect();
    let mut run = RunOutput::new("r1".into(), "cmd".into(), &names, false);
    let opts = s.output.sanitize.clone();
    run.append("web01", Stream::Stdout, b"1/3\r2/3\r3/3\ndone\n", 0, &opts);
    // Split differently, \r\n line ends: the same screen.
    run.append("web02", Stream::Stdout, b"3/3\r", 0, &opts);
    run.append("web02", Stream::Stdout, b"\ndone\r\n", 0, &opts);
    s.output.show(run);
    s.focus = Focus::Main;
    s.settle();
    let text = screen(&s);
    assert!(text.contains("── web[01-02] (2)"), "{text}");
}

#[test]
fn long_lines_scroll_sideways_and_w_wraps_them_at_every_width() {
    for w in WIDTHS {
        let line = format!("start {} END\n", "x".repeat(300));
        let mut s = with_output(w, 20, &["web01"], line.as_bytes());
        let text = screen(&s);
        assert!(
            text.contains("start") && !text.contains("END"),
            "{w}\n{text}"
        );
        // l scrolls 8 columns at a time until the end shows.
        keys(&mut s, &"l".repeat(35));
        let text = screen(&s);
        assert!(
            text.contains("END") && !text.contains("start"),
            "{w}\n{text}"
        );
        keys(&mut s, &"h".repeat(35));
        let text = screen(&s);
        assert!(
            text.contains("start") && !text.contains("END"),
            "{w}: h comes back"
        );
        keys(&mut s, &"l".repeat(35));
        keys(&mut s, "W");
        let text = screen(&s);
        assert!(
            text.contains("start") && text.contains("END"),
            "{w}\n{text}"
        );
        assert!(text.contains("wrap"), "the title says so\n{text}");
        assert!(text.lines().all(|l| l.chars().count() <= w as usize));
        keys(&mut s, "W");
        assert!(!screen(&s).contains("END"), "{w}: back to one row a line");
    }
}

#[test]
fn search_shows_the_match_counter_and_n_comes_round() {
    for w in WIDTHS {
        let mut s = with_output(w, 20, &["web01"], b"alpha\nhit one\nbeta\nhit two\n");
        keys(&mut s, "/hit<enter>");
        assert!(screen(&s).contains("match 1/2"), "{w}\n{}", screen(&s));
        keys(&mut s, "n");
        assert!(screen(&s).contains("match 2/2"), "{w}\n{}", screen(&s));
        keys(&mut s, "n");
        let text = screen(&s);
        assert!(text.contains("match 1/2"), "{w}\n{text}");
        assert!(text.contains("search wrapped to the top"), "{w}\n{text}");
        keys(&mut s, "N");
        assert!(screen(&s).contains("match 2/2"), "{w}\n{}", screen(&s));
    }
}

#[test]
fn the_bottom_bar_shows_the_keys_of_the_pane_in_focus() {
    let mut s = with_output(120, 20, &["web01"], b"x\n");
    let bar = |s: &AppState| screen(s).lines().nth(18).unwrap_or_default().to_string();
    let output = bar(&s);
    for hint in ["? help", "f fold", "W wrap", "/ search", "n next", "! run"] {
        assert!(output.contains(hint), "{hint:?} in {output:?}");
    }
    assert!(!output.contains("select"), "{output:?}");
    s.focus = Focus::Inventory;
    let inventory = bar(&s);
    assert!(inventory.contains("space select"), "{inventory:?}");
    assert!(inventory.contains("/ filter"), "{inventory:?}");
    assert!(!inventory.contains("fold"), "{inventory:?}");
}

#[test]
fn below_80_columns_the_panes_are_tabs_and_tab_goes_round_them() {
    for w in [60u16, 79] {
        let mut s = with_output(w, 24, &["web01"], b"hello\n");
        s.focus = Focus::Inventory;
        let text = screen(&s);
        let first = text.lines().next().unwrap().to_string();
        assert!(
            first.contains("Inventory") && first.contains("Output"),
            "{first}"
        );
        assert!(text.contains("web01") && !text.contains("hello"), "{text}");
        keys(&mut s, "<tab>");
        assert_eq!((s.focus, s.view), (Focus::Main, View::Output));
        let text = screen(&s);
        assert!(text.contains("hello") && !text.contains("db01"), "{text}");
        keys(&mut s, "<tab>");
        assert_eq!(s.view, View::Progress);
        keys(&mut s, "<shift-tab><shift-tab>");
        assert_eq!(s.focus, Focus::Inventory);
        keys(&mut s, "<shift-tab>");
        assert_eq!((s.focus, s.view), (Focus::Main, View::Facts));
    }
    // From 80 columns both panes show side by side, without a tab row.
    let mut s = with_output(80, 24, &["web01"], b"hello\n");
    let text = screen(&s);
    assert!(text.contains("hello") && text.contains("db01"), "{text}");
    keys(&mut s, "<tab>");
    assert_eq!(s.focus, Focus::Inventory);
}

#[test]
fn e_opens_the_status_message_whole_and_messages_keep_them_all_with_times() {
    for w in WIDTHS {
        let mut s = state(w, 24);
        s.info("first notice");
        let long = format!("connect failed: {} THE-END", "reason ".repeat(40));
        s.error(long.clone());
        let text = screen(&s);
        assert!(!text.contains("THE-END"), "the status line cuts it\n{text}");
        keys(&mut s, "E");
        let text = screen(&s);
        assert!(
            text.contains("Error") && text.contains("THE-END"),
            "{w}\n{text}"
        );
        keys(&mut s, "<esc>");
        assert!(s.overlays.is_empty());
        keys(&mut s, ":messages<enter>");
        let Some(Overlay::Message { text, .. }) = s.overlays.last() else {
            panic!("no messages overlay");
        };
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].contains("info") && lines[0].ends_with("first notice"));
        assert!(lines[1].contains("error") && lines[1].ends_with("THE-END"));
        // A time in front: 2026-12-06 03:04:05.
        assert_eq!(lines[0].as_bytes()[4], b'-', "{}", lines[0]);
        assert!(screen(&s).contains("first notice"));
    }
}

#[test]
fn a_long_message_box_scrolls_with_j_and_k() {
    for w in WIDTHS {
        let mut s = state(w, 20);
        let text: Vec<String> = (0..60).map(|i| format!("health line {i:02}")).collect();
        s.overlays
            .push(Overlay::message(" Status ", text.join("\n")));
        assert!(screen(&s).contains("health line 00"));
        keys(&mut s, "jjjjj");
        let shown = screen(&s);
        assert!(!shown.contains("health line 04"), "{shown}");
        assert!(shown.contains("health line 05"), "{shown}");
        keys(&mut s, "<pgdn>k");
        assert!(screen(&s).contains("health line 14"), "{}", screen(&s));
        keys(&mut s, "x");
        assert!(s.overlays.is_empty(), "any other key closes");
    }
}

#[test]
fn a_long_journal_note_wraps_in_full_below_the_list() {
    for w in WIDTHS {
        let mut s = state(w, 24);
        let note = format!(
            "replaced the disk controller; {} THE-END",
            "details ".repeat(45)
        );
        s.journal.open("web01");
        s.journal.loading = false;
        s.journal.entries = vec![drover::store::JournalEntry {
            id: 1,
            node: "web01".into(),
            entry_type: drover::store::EntryType::Manual,
            timestamp: 0,
            user: "ops".into(),
            action: note,
            status: None,
            execution_id: None,
            details: serde_json::Value::Null,
        }];
        s.focus = Focus::Main;
        s.view = View::Journal;
        let text = screen(&s);
        assert!(text.contains("replaced the disk"), "{w}\n{text}");
        assert!(text.contains("THE-END"), "the whole note shows\n{text}");
        assert!(text.lines().all(|l| l.chars().count() <= w as usize));
    }
}
