//! `update(state, message) -> effects`: the only place view state changes. No
//! I/O here: anything slow or outside (engine, store) is an `Effect` that the
//! runner carries out, and its result comes back as a message.

use super::clock::Stamp;
use super::commands::{self, cancel_newest, node_view, show};
use super::engine_events::{on_engine, resync};
use super::input::{BarKind, BarOutcome};
use super::keymap::Mode;
use super::keys::Key;
use super::loaded::on_loaded;
use super::msg::{Effect, Msg};
use super::overlay::Overlay;
use super::overlay_keys::overlay_key;
use super::pane::open_bar;
use super::pane_actions::{
    facts_action, history_action, inventory_action, journal_action, output_action, progress_action,
};
use super::state::{AppState, Focus, View};
use crossterm::event::KeyEvent;
/// `at`: when the message came (see `clock`); the only time `update` knows.
pub fn update(state: &mut AppState, msg: Msg, at: Stamp) -> Vec<Effect> {
    state.clock = at;
    match msg {
        Msg::Key(key) => on_key(state, key),
        Msg::Paste(text) => {
            if let Some(bar) = &mut state.bar {
                bar.paste(&text);
            } else if let Some(Overlay::Editor { area, .. }) = state.overlays.last_mut() {
                area.insert_str(text);
            }
            Vec::new()
        }
        Msg::Resize | Msg::Tick => Vec::new(),
        Msg::Engine(event) => on_engine(state, event),
        Msg::EngineLagged(snapshots) => {
            resync(state, snapshots);
            Vec::new()
        }
        Msg::Output {
            execution,
            node,
            stream,
            data,
            missed,
        } => {
            state
                .output
                .append(&execution.0, &node, stream, &data, missed);
            Vec::new()
        }
        Msg::Loaded(loaded) => on_loaded(state, loaded),
        Msg::Question { id, question } => {
            state.overlays.push(Overlay::question(id, question));
            Vec::new()
        }
    }
}

pub(super) fn on_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    if !state.overlays.is_empty() {
        return overlay_key(state, key);
    }
    if state.bar.is_some() {
        return bar_key(state, key);
    }
    let Some(k) = Key::from_event(&key) else {
        return Vec::new();
    };
    match state.keymap.lookup(state.mode(), k) {
        Some(action) => on_action(state, action),
        None => Vec::new(),
    }
}

pub(super) fn bar_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    let Some(bar) = state.bar.as_mut() else {
        return Vec::new();
    };
    let kind = bar.kind;
    let recall: &[String] = if matches!(kind, BarKind::Run) {
        &state.recall
    } else {
        &[]
    };
    match bar.key(key, recall) {
        BarOutcome::Editing => Vec::new(),
        BarOutcome::Changed => {
            if kind == BarKind::HistoryQuery {
                let q = bar.text().to_string();
                state.history.set_query(&q);
            }
            Vec::new()
        }
        BarOutcome::Cancel => {
            state.bar = None;
            Vec::new()
        }
        BarOutcome::Submit(text) => {
            state.bar = None;
            submit_bar(state, kind, &text)
        }
    }
}

pub(super) fn submit_bar(state: &mut AppState, kind: BarKind, text: &str) -> Vec<Effect> {
    match kind {
        BarKind::Command => commands::execute(state, text),
        BarKind::Run => commands::run_on_selection(state, text),
        BarKind::Filter => {
            let inventory = state.inventory_data.clone();
            match state.inventory.set_filter(&inventory, text) {
                Ok(n) if text.trim().is_empty() => state.info(format!("filter cleared: {n} nodes")),
                Ok(n) => {
                    let grammar = state.inventory.grammar;
                    let mut line = format!("filter [{grammar}] {text:?}: {n} nodes");
                    for warning in &state.inventory.filter_warnings {
                        line.push_str(&format!(" · warning: {warning}"));
                    }
                    state.info(line)
                }
                Err(e) => state.error(e),
            }
            Vec::new()
        }
        BarKind::Search => {
            state.output.set_search(text);
            if !text.is_empty() {
                match state.output.find(true) {
                    Some(_) => {
                        let counter = super::output_search::match_counter(&state.output);
                        state.info(format!("{text:?}: {counter} · n next, N previous"));
                    }
                    None => state.error(format!("{text:?} not found")),
                }
            }
            Vec::new()
        }
        BarKind::HistoryQuery => {
            state.history.set_query(text);
            Vec::new()
        }
        BarKind::Write => super::write_output::write_command(state, text, false),
    }
}

pub fn on_action(state: &mut AppState, action: super::action::Action) -> Vec<Effect> {
    use super::action::Action::*;
    if state.mode() == Mode::Progress
        && let Some(effects) = super::plan_actions::plan_action(state, action)
    {
        return effects;
    }
    match action {
        Quit => return commands::quit_or_ask(state),
        RerunFailed => return super::rerun_actions::rerun_failed(state),
        Help => {
            state.overlays.push(Overlay::Help { top: 0 });
            return Vec::new();
        }
        Suspend => return vec![Effect::Suspend],
        CommandMode => {
            open_bar(state, BarKind::Command, "");
            return Vec::new();
        }
        RunPrompt => {
            open_bar(state, BarKind::Run, "");
            return Vec::new();
        }
        FocusNext | FocusPrev if super::tabs::narrow(state) => {
            return super::commands::step_tab(state, action == FocusNext);
        }
        FocusNext | FocusPrev => {
            state.focus = match state.focus {
                Focus::Inventory => Focus::Main,
                Focus::Main => Focus::Inventory,
            };
            return Vec::new();
        }
        ShowOutput => return show(state, View::Output),
        ShowProgress => return show(state, View::Progress),
        ShowHistory => return show(state, View::History),
        ShowJournal => return node_view(state, View::Journal, ""),
        ShowFacts => return node_view(state, View::Facts, ""),
        CancelExecution => return cancel_newest(state),
        ShowMessage => {
            super::messages::open_status_message(state);
            return Vec::new();
        }
        Messages => {
            super::messages::open_messages(state);
            return Vec::new();
        }
        Shell => {
            return match state.inventory.current_node() {
                Some(n) => vec![Effect::Shell(n.to_string())],
                None => {
                    state.error("move the inventory cursor to a node to open a shell on it");
                    Vec::new()
                }
            };
        }
        _ => {}
    }
    match state.mode() {
        Mode::Inventory => inventory_action(state, action),
        Mode::Output => output_action(state, action),
        Mode::Progress => progress_action(state, action),
        Mode::History => history_action(state, action),
        Mode::Journal => journal_action(state, action),
        Mode::Facts | Mode::Global => facts_action(state, action),
    }
}
