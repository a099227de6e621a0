//! The status line: the last notice or error on the left (while a command is
//! typed on the `!` prompt, what it will run on), what runs on the right.

use super::ellipsize;
use super::safe;
use super::theme::Theme;
use crate::app::tui::action::Action;
use crate::app::tui::input::BarKind;
use crate::app::tui::state::{AppState, Level};
use crate::app::tui::target_preview::preview;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::Span;
use ratatui::widgets::Paragraph;

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let running = state.running_count();
    let right = if running > 0 {
        let cancel = state
            .keymap
            .key_for(state.mode(), Action::CancelExecution)
            .map(|k| format!(" · {k} cancels"))
            .unwrap_or_default();
        format!(" ● {running} running{cancel} ")
    } else {
        String::new()
    };
    let rw = (right.chars().count() as u16).min(area.width / 2);
    let [left, right_area] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(rw)]).areas(area);
    // While a command is typed, the line says what it will run on.
    if state.bar.as_ref().is_some_and(|b| b.kind == BarKind::Run) {
        let text = ellipsize(&safe(&preview(&state.inventory)), left.width as usize);
        frame.render_widget(
            Paragraph::new(Span::styled(text, theme.fg(theme.info))),
            left,
        );
    } else if let Some((level, text)) = &state.status {
        let style = match level {
            Level::Info => theme.fg(theme.info),
            Level::Error => theme.fg(theme.error).add_modifier(Modifier::BOLD),
        };
        let text = ellipsize(text, left.width as usize);
        frame.render_widget(Paragraph::new(Span::styled(text, style)), left);
    }
    frame.render_widget(
        Paragraph::new(Span::styled(right, theme.fg(theme.running))),
        right_area,
    );
}
