//! Facts of one node: key, value and which provider gave it.

use super::main_block;
use super::theme::Theme;
use crate::app::tui::state::AppState;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Paragraph, Row, Table};

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let f = &state.facts;
    let node = f.node.clone().unwrap_or_default();
    let block = main_block(state, theme, format!("{node} · r refresh"));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if let Some(e) = &f.error {
        frame.render_widget(
            Paragraph::new(e.clone()).style(theme.fg(theme.error)),
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
        .map(|r| {
            let value = crate::ui::sanitize::sanitize(r.value.as_bytes(), &Default::default());
            Row::new(vec![r.key.clone(), value, r.source.clone()])
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
