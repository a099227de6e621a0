//! The input line: a prompt and the text being typed, or, when idle, the keys
//! of the pane in focus and a few global ones (chosen by the console from the
//! keymap).

use super::theme::Theme;
use super::view::BarView;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn draw(frame: &mut Frame, area: Rect, bar: &BarView, theme: &Theme) {
    let (prompt, text_area) = match bar {
        BarView::Hints(hints) => {
            let mut spans = Vec::new();
            for (key, label) in hints {
                spans.push(Span::styled(key.clone(), theme.fg(theme.key)));
                spans.push(Span::styled(format!(" {label}  "), theme.fg(theme.dim)));
            }
            frame.render_widget(Paragraph::new(Line::from(spans)), area);
            return;
        }
        BarView::Input { prompt, area } => (*prompt, *area),
    };
    let width = (prompt.chars().count() as u16).min(area.width);
    let [p, text] =
        Layout::horizontal([Constraint::Length(width), Constraint::Fill(1)]).areas(area);
    frame.render_widget(Paragraph::new(Span::styled(prompt, theme.fg(theme.key))), p);
    frame.render_widget(text_area, text);
}
