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

/// Global actions the idle bar advertises after the focused pane's own keys
/// (help comes first, so it shows however narrow the bar).
const GLOBAL_HINTS: [Action; 6] = [
    Action::RunPrompt,
    Action::CommandMode,
    Action::FocusNext,
    Action::ShowMessage,
    Action::Help,
    Action::Quit,
];

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let Some(bar) = &state.bar else {
        let mut spans = Vec::new();
        for (key, action) in hints(&state.keymap, state.mode()) {
            spans.push(Span::styled(key.to_string(), theme.fg(theme.key)));
            spans.push(Span::styled(
                format!(" {}  ", action.hint()),
                theme.fg(theme.dim),
            ));
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

/// Help, the keys of the focused pane's mode (one per action, in the order
/// actions are declared), then a few global ones, each only where the key really does
/// that in this mode.
pub fn hints(keymap: &Keymap, mode: Mode) -> Vec<(Key, Action)> {
    let described = keymap.described();
    let own = described
        .get(&mode)
        .into_iter()
        .flat_map(|actions| actions.keys().copied())
        .filter(|a| mode != Mode::Global && !GLOBAL_HINTS.contains(a));
    std::iter::once(Action::Help)
        .chain(own)
        .chain(GLOBAL_HINTS.into_iter().filter(|a| *a != Action::Help))
        .filter_map(|action| {
            let key = keymap.key_for(mode, action)?;
            (keymap.lookup(mode, key) == Some(action)).then_some((key, action))
        })
        .collect()
}
