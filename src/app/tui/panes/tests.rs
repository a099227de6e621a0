//! Keys reach panes, prompts and popups through the keymap alone.

use super::super::keymap::{Keymap, Mode};
use super::super::keys::Key;
use super::super::overlay::Overlay;
use super::super::state::{AppState, UiOptions};
use super::{PANES, active, on_key};
use ratatui::layout::Rect;
use std::sync::Arc;

fn state(keymap: Keymap) -> AppState {
    AppState::new(
        Arc::new(keymap),
        UiOptions::default(),
        Rect::new(0, 0, 120, 30),
        "ops".into(),
    )
}

fn keys(state: &mut AppState, text: &str) {
    for k in Key::sequence(text).unwrap() {
        on_key(state, k.to_event());
    }
}

#[test]
fn every_mode_has_exactly_one_pane() {
    for mode in Mode::ALL {
        let n = PANES.iter().filter(|p| p.mode() == mode).count();
        assert_eq!(n, 1, "{} has {n} panes", mode.name());
    }
}

#[test]
fn a_popup_takes_its_own_bindings_and_no_global_one() {
    let mut map = Keymap::defaults();
    map.merge_toml("[pager]\n\"x\" = \"down\"\n", "mine.toml")
        .unwrap();
    let mut s = state(map);
    keys(&mut s, "?");
    assert_eq!(active(&s), Mode::Pager);
    keys(&mut s, "xxj");
    assert!(matches!(s.overlays.last(), Some(Overlay::Help { top: 3 })));
    // `q` quits everywhere else; in the pager it is bound to nothing: it closes.
    keys(&mut s, "q");
    assert!(s.overlays.is_empty());
    assert!(!s.quit);
}

#[test]
fn a_prompt_submits_on_its_own_key_and_types_the_rest() {
    let mut map = Keymap::defaults();
    map.merge_toml("[prompt]\n\"ctrl-o\" = \"submit\"\n", "mine.toml")
        .unwrap();
    let mut s = state(map);
    keys(&mut s, ":qx");
    assert_eq!(active(&s), Mode::Prompt);
    assert_eq!(s.bar.as_ref().map(|b| b.text()), Some("qx"));
    keys(&mut s, "<backspace><ctrl-o>");
    assert!(s.bar.is_none());
    assert!(s.quit, "`:q` with nothing running quits");
}

#[test]
fn enter_on_a_recorded_session_entry_plays_its_transcript() {
    use super::super::msg::Effect;
    use super::super::state::{Focus, View};
    use crate::engine::records::{EntryType, JournalEntry};
    let entry = |id, details: serde_json::Value| JournalEntry {
        id,
        node: "web01".into(),
        entry_type: EntryType::Event,
        timestamp: 1,
        user: "ops".into(),
        action: "session: shell ended".into(),
        status: Some("success".into()),
        execution_id: None,
        details,
    };
    let mut s = state(Keymap::defaults());
    s.focus = Focus::Main;
    s.view = View::Journal;
    s.journal.node = Some("web01".into());
    s.journal.entries = vec![
        entry(2, serde_json::json!({ "transcript": "0190aabbccddeeff" })),
        entry(1, serde_json::json!({})),
    ];
    assert_eq!(active(&s), Mode::Journal);
    let effects = on_key(&mut s, Key::sequence("<enter>").unwrap()[0].to_event());
    assert!(
        matches!(effects.as_slice(), [Effect::Replay(id)] if id == "0190aabbccddeeff"),
        "{effects:?}"
    );
    // An entry with neither a run nor a transcript says so and does nothing.
    keys(&mut s, "j");
    let effects = on_key(&mut s, Key::sequence("<enter>").unwrap()[0].to_event());
    assert!(effects.is_empty(), "{effects:?}");
}
