//! A node's journal: entries newest first, the selected one in full below.

use super::theme::Theme;
use super::view::{JournalPane, MainTitle};
use super::{list_table, main_block};
use crate::engine::records::JournalEntry;
use crate::ui::time::format_time;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Wrap};

pub fn draw(frame: &mut Frame, area: Rect, title: &MainTitle, j: &JournalPane, theme: &Theme) {
    let (node, filter) = (j.node, j.filter);
    let block = main_block(title, theme, format!("{node} · {filter} · n note · t type"));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if let Some(e) = &j.error {
        frame.render_widget(
            Paragraph::new(e.to_string()).style(theme.fg(theme.error)),
            inner,
        );
        return;
    }
    let shown = &j.entries;
    if shown.is_empty() {
        let text = if j.loading {
            "loading…"
        } else {
            "No entries. Press n to write a note."
        };
        frame.render_widget(Paragraph::new(text).style(theme.fg(theme.dim)), inner);
        return;
    }
    // The selected entry in full below the list, wrapped: a third of the pane,
    // up to half when a long note needs it.
    let note_rows = shown.get(j.pos.cursor).map_or(0, |e| {
        let width = inner.width.max(1) as usize;
        e.action
            .lines()
            .map(|l| l.chars().count().div_ceil(width).max(1))
            .sum::<usize>()
            + 3
    });
    let detail_height = if inner.height >= 8 {
        (note_rows as u16).clamp(inner.height / 3, inner.height / 2)
    } else {
        0
    };
    let [list, detail] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(detail_height)]).areas(inner);
    let height = list.height.saturating_sub(1) as usize;
    let entry_row = |e: &&JournalEntry| {
        let first = e.action.lines().next().unwrap_or("");
        let more = if e.action.contains('\n') { " …" } else { "" };
        Row::new(vec![
            Cell::from(format_time(e.timestamp)),
            Cell::from(e.entry_type.as_str()),
            Cell::from(e.user.clone()),
            Cell::from(e.status.clone().unwrap_or_default()),
            Cell::from(format!("{first}{more}")),
        ])
    };
    let table = list_table(
        shown,
        (j.pos.top, j.pos.cursor, height),
        entry_row,
        vec![
            Constraint::Length(19),
            Constraint::Length(12),
            Constraint::Length(10),
            Constraint::Length(9),
            Constraint::Fill(1),
        ],
        vec!["time", "type", "user", "status", "what"],
        theme,
    );
    frame.render_widget(table, list);
    if detail_height > 0
        && let Some(e) = shown.get(j.pos.cursor)
    {
        let mut text = e.action.clone();
        if let Some(id) = &e.execution_id {
            text.push_str(&format!("\n\nexecution {id}"));
        }
        if let Some(id) = e
            .details
            .get(crate::engine::transcript::DETAIL_KEY)
            .and_then(|t| t.as_str())
        {
            text.push_str(&format!("\n\ntranscript {id} (enter plays it)"));
            if let Some(cut) = e.details.get("transcript_cut").and_then(|c| c.as_str()) {
                text.push_str(&format!("; {cut}"));
            }
        }
        let block = Block::default()
            .borders(Borders::TOP)
            .border_style(theme.border(false))
            .title(Span::styled(" entry ", theme.fg(theme.dim)));
        frame.render_widget(
            Paragraph::new(text).wrap(Wrap { trim: false }).block(block),
            detail,
        );
    }
}
