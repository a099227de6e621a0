//! The status line: the last notice or error on the left, what runs on the right.

use super::ellipsize;
use super::theme::Theme;
use crate::app::tui::state::{AppState, Level};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::Span;
use ratatui::widgets::Paragraph;

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let running = state.running_count();
    let right = if running > 0 {
        format!(" ● {running} running · ctrl-x cancels ")
    } else {
        String::new()
    };
    let rw = (right.chars().count() as u16).min(area.width / 2);
    let [left, right_area] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(rw)]).areas(area);
    if let Some((level, text)) = &state.status {
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
