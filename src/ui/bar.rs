//! The input line: a prompt and the text being typed, or key hints when idle.

use super::theme::Theme;
use crate::app::tui::action::Action;
use crate::app::tui::state::AppState;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Actions whose keys the idle bar advertises, per mode.
const HINTS: [(Action, &str); 6] = [
    (Action::ToggleSelect, "select"),
    (Action::RunPrompt, "run"),
    (Action::CommandMode, "command"),
    (Action::ShowHistory, "history"),
    (Action::Help, "help"),
    (Action::Quit, "quit"),
];

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let Some(bar) = &state.bar else {
        let mut spans = Vec::new();
        // While something runs, the first hint is how to stop it.
        let busy = state.running_count() > 0 || state.progress.running_plan().is_some();
        let cancel = busy.then_some((Action::CancelExecution, "cancel"));
        for (action, label) in cancel.into_iter().chain(HINTS) {
            if let Some(k) = state.keymap.key_for(state.mode(), action) {
                spans.push(Span::styled(k.to_string(), theme.fg(theme.key)));
                spans.push(Span::styled(format!(" {label}  "), theme.fg(theme.dim)));
            }
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
