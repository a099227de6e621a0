//! Facts of one node: key, value and which provider gave it.

use super::main_block;
use super::theme::Theme;
use super::view::{FactsPane, MainTitle};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Paragraph, Row, Table};

pub fn draw(frame: &mut Frame, area: Rect, title: &MainTitle, f: &FactsPane, theme: &Theme) {
    let node = f.node;
    let block = main_block(title, theme, format!("{node} · r refresh"));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if let Some(e) = &f.error {
        frame.render_widget(
            Paragraph::new(e.to_string()).style(theme.fg(theme.error)),
            inner,
        );
        return;
    }
    if f.rows.is_empty() {
        let text = if f.loading {
            "gathering…"
        } else {
            "No facts."
        };
        frame.render_widget(Paragraph::new(text).style(theme.fg(theme.dim)), inner);
        return;
    }
    let rows: Vec<Row> = f
        .rows
        .iter()
        .skip(f.top)
        .take(inner.height as usize)
        .map(|[key, value, source]| {
            let value = crate::ui::sanitize::sanitize(value.as_bytes(), &Default::default());
            Row::new(vec![key.to_string(), value, source.to_string()])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Percentage(30),
            Constraint::Fill(1),
            Constraint::Length(16),
        ],
    )
    .header(Row::new(["key", "value", "source"]).style(theme.fg(theme.dim)));
    frame.render_widget(table, inner);
}
