//! The console's state as the panes show it: `build` fills `ui::view`'s plain
//! data at draw time, so drawing never reads the state itself.

mod inventory;
mod output;
mod progress;

use super::action::Action;
use super::input::BarKind;
use super::keymap::Mode;
use super::state::{AppState, Level, View};
use super::tabs;
use super::target_preview::preview;
use crate::ui::view::overlay::{HelpSection, Overlay};
use crate::ui::view::{
    BarView, ConsoleView, FactsPane, HistoryPane, JournalPane, ListPos, MainPane, MainTitle,
    StatusText, StatusView,
};

/// Everything one frame of `size` shows (the frame's own size, which may
/// differ from the last size the state was told of).
pub fn build(state: &AppState, size: ratatui::layout::Rect) -> ConsoleView<'_> {
    let current = tabs::current(state);
    let areas = crate::ui::layout::areas(
        size,
        state.focus == super::state::Focus::Main,
        state.progress.has_content(),
        state.bar.is_some(),
    );
    // Rows inside a bordered pane (none when the pane is not on screen).
    let inside =
        |r: Option<ratatui::layout::Rect>| r.map_or(0, |r| r.height.saturating_sub(2) as usize);
    ConsoleView {
        no_color: state.options.no_color,
        areas,
        tabs: tabs::all().map(|t| (t.title(), t == current)).collect(),
        inventory: inventory::pane(
            &state.inventory,
            state.focus == super::state::Focus::Inventory,
            inside(areas.inventory),
        ),
        strip: progress::strip(&state.progress, state.clock.now),
        title: main_title(state),
        main: main_pane(state, inside(areas.main)),
        bar: bar(state),
        status: status(state),
        overlays: &state.overlays,
        help: help(state),
    }
}

/// The keymap's sections for the help overlay, when one is open.
fn help(state: &AppState) -> Vec<HelpSection> {
    if !state
        .overlays
        .iter()
        .any(|o| matches!(o, Overlay::Help { .. }))
    {
        return Vec::new();
    }
    state
        .keymap
        .described()
        .into_iter()
        .map(|(mode, actions)| HelpSection {
            title: match mode {
                Mode::Global => "Everywhere".to_string(),
                m => format!("In {}", m.name().replace('_', " ")),
            },
            actions: actions
                .into_iter()
                .map(|(action, keys)| {
                    let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
                    (keys.join(", "), action.describe())
                })
                .collect(),
        })
        .collect()
}

fn main_title(state: &AppState) -> MainTitle {
    let views = if tabs::narrow(state) {
        Vec::new()
    } else {
        View::ALL.iter().map(|v| v.title()).collect()
    };
    MainTitle {
        views,
        shown: View::ALL.iter().position(|v| *v == state.view).unwrap_or(0),
        focused: state.focus == super::state::Focus::Main,
        wide: state.size.width >= 120,
    }
}

fn main_pane(state: &AppState, height: usize) -> MainPane<'_> {
    match state.view {
        View::Output => MainPane::Output(output::pane(&state.output, height)),
        View::Progress => MainPane::Progress(progress::pane(
            &state.progress,
            height.saturating_sub(1),
            state.clock.now,
        )),
        View::History => {
            let h = &state.history;
            MainPane::History(HistoryPane {
                records: &h.records,
                matches: &h.matches,
                query: &h.query,
                loading: h.loading,
                error: h.error.as_deref(),
                pos: ListPos {
                    top: h.top,
                    cursor: h.cursor,
                },
            })
        }
        View::Journal => {
            let j = &state.journal;
            MainPane::Journal(JournalPane {
                node: j.node.as_deref().unwrap_or_default(),
                filter: j.filter.map(|t| t.as_str()).unwrap_or("all types"),
                entries: j.shown().collect(),
                loading: j.loading,
                error: j.error.as_deref(),
                pos: ListPos {
                    top: j.top,
                    cursor: j.cursor,
                },
            })
        }
        View::Facts => {
            let f = &state.facts;
            MainPane::Facts(FactsPane {
                node: f.node.as_deref().unwrap_or_default(),
                rows: f
                    .rows
                    .iter()
                    .map(|r| [r.key.as_str(), r.value.as_str(), r.source.as_str()])
                    .collect(),
                loading: f.loading,
                error: f.error.as_deref(),
                top: f.top,
            })
        }
    }
}

fn bar(state: &AppState) -> BarView<'_> {
    if let Some(bar) = &state.bar {
        return BarView::Input {
            prompt: bar.kind.prompt(),
            area: &bar.area,
        };
    }
    // While something runs, the first hint is how to stop it.
    let busy = state.running_count() > 0 || state.progress.running_plan().is_some();
    let cancel = busy
        .then(|| state.keymap.key_for(state.mode(), Action::CancelExecution))
        .flatten()
        .map(|k| (k, Action::CancelExecution));
    let hints = cancel
        .into_iter()
        .chain(super::panes::focused_hints(state))
        .map(|(key, action)| {
            let label = if action == Action::CancelExecution {
                "cancel"
            } else {
                action.hint()
            };
            (key.to_string(), label)
        })
        .collect();
    BarView::Hints(hints)
}

fn status(state: &AppState) -> StatusView<'_> {
    let running = state.running_count();
    let cancel_key = (running > 0)
        .then(|| state.keymap.key_for(state.mode(), Action::CancelExecution))
        .flatten()
        .map(|k| k.to_string());
    // While a command is typed, the line says what it will run on.
    let left = if state.bar.as_ref().is_some_and(|b| b.kind == BarKind::Run) {
        StatusText::Preview(preview(&state.inventory))
    } else {
        match &state.status {
            Some((Level::Info, text)) => StatusText::Info(text),
            Some((Level::Error, text)) => StatusText::Error(text),
            None => StatusText::Empty,
        }
    };
    StatusView {
        left,
        running,
        cancel_key,
    }
}
