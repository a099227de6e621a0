//! The status line: the last notice or error on the left (while a command is
//! typed on the `!` prompt, what it will run on), what runs on the right.

use super::ellipsize;
use super::safe;
use super::theme::Theme;
use super::view::{StatusText, StatusView};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::Span;
use ratatui::widgets::Paragraph;

pub fn draw(frame: &mut Frame, area: Rect, status: &StatusView, theme: &Theme) {
    let running = status.running;
    let right = if running > 0 {
        let cancel = status
            .cancel_key
            .as_ref()
            .map(|k| format!(" · {k} cancels"))
            .unwrap_or_default();
        format!(" ● {running} running{cancel} ")
    } else {
        String::new()
    };
    let rw = (right.chars().count() as u16).min(area.width / 2);
    let [left, right_area] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(rw)]).areas(area);
    let width = left.width as usize;
    let shown = match &status.left {
        StatusText::Empty => None,
        StatusText::Preview(text) => Some((ellipsize(&safe(text), width), theme.fg(theme.info))),
        StatusText::Info(text) => Some((ellipsize(text, width), theme.fg(theme.info))),
        StatusText::Error(text) => Some((
            ellipsize(text, width),
            theme.fg(theme.error).add_modifier(Modifier::BOLD),
        )),
    };
    if let Some((text, style)) = shown {
        frame.render_widget(Paragraph::new(Span::styled(text, style)), left);
    }
    frame.render_widget(
        Paragraph::new(Span::styled(right, theme.fg(theme.running))),
        right_area,
    );
}
