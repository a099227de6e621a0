//! The input line: a prompt and the text being typed, or, when idle, the keys
//! of the pane in focus (generated from the keymap) and a few global ones.

use super::theme::Theme;
use crate::app::tui::action::Action;
use crate::app::tui::keymap::{Keymap, Mode};
use crate::app::tui::keys::Key;
use crate::app::tui::state::AppState;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Global actions the idle bar advertises around the focused pane's own keys
/// (help and run come first, so they show however narrow the bar).
const GLOBAL_HINTS: [Action; 6] = [
    Action::Help,
    Action::RunPrompt,
    Action::CommandMode,
    Action::FocusNext,
    Action::ShowMessage,
    Action::Quit,
];

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let Some(bar) = &state.bar else {
        let mut spans = Vec::new();
        // While something runs, the first hint is how to stop it.
        let busy = state.running_count() > 0 || state.progress.running_plan().is_some();
        let cancel = busy
            .then(|| state.keymap.key_for(state.mode(), Action::CancelExecution))
            .flatten()
            .map(|k| (k, Action::CancelExecution));
        for (key, action) in cancel.into_iter().chain(hints(&state.keymap, state.mode())) {
            let label = if action == Action::CancelExecution {
                "cancel"
            } else {
                action.hint()
            };
            spans.push(Span::styled(key.to_string(), theme.fg(theme.key)));
            spans.push(Span::styled(format!(" {label}  "), theme.fg(theme.dim)));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
        return;
    };
    let prompt = bar.kind.prompt();
    let width = (prompt.chars().count() as u16).min(area.width);
    let [p, text] =
        Layout::horizontal([Constraint::Length(width), Constraint::Fill(1)]).areas(area);
    frame.render_widget(Paragraph::new(Span::styled(prompt, theme.fg(theme.key))), p);
    frame.render_widget(&bar.area, text);
}

/// Help and run, the keys of the focused pane's mode (one per action, in the order
/// actions are declared), then a few global ones, each only where the key really does
/// that in this mode.
pub fn hints(keymap: &Keymap, mode: Mode) -> Vec<(Key, Action)> {
    let described = keymap.described();
    let mut own: Vec<(Key, Action)> = described
        .get(&mode)
        .into_iter()
        .flatten()
        .filter(|(a, _)| mode != Mode::Global && !GLOBAL_HINTS.contains(a))
        .filter_map(|(a, keys)| Some((*keys.first()?, *a)))
        .collect();
    // What the pane does first; switching to another view last.
    own.sort_by_key(|(_, a)| matches!(a, Action::ShowJournal | Action::ShowFacts));
    let global = GLOBAL_HINTS.into_iter().filter_map(|action| {
        let key = keymap.key_for(mode, action)?;
        (keymap.lookup(mode, key) == Some(action)).then_some((key, action))
    });
    let (first, rest): (Vec<_>, Vec<_>) =
        global.partition(|(_, a)| matches!(a, Action::Help | Action::RunPrompt));
    first.into_iter().chain(own).chain(rest).collect()
}
