//! History search: the query, then matching executions, newest or best first.

use super::theme::Theme;
use super::view::{HistoryPane, MainTitle};
use super::{ellipsize, list_table, main_block};
use crate::engine::common::ids::short_id;
use crate::ui::time::format_time;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};

pub fn draw(frame: &mut Frame, area: Rect, title: &MainTitle, h: &HistoryPane, theme: &Theme) {
    let extra = format!("{} of {}", h.matches.len(), h.records.len());
    let block = main_block(title, theme, extra);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [query, list] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(inner);
    let prompt = if h.query.is_empty() {
        Line::from(Span::styled(
            "/ search · enter replays · r edits its command · R re-runs failed · ctrl-r reloads",
            theme.fg(theme.dim),
        ))
    } else {
        Line::from(vec![
            Span::styled("search: ", theme.fg(theme.dim)),
            Span::raw(h.query.to_string()),
        ])
    };
    frame.render_widget(Paragraph::new(prompt), query);
    if h.loading && h.records.is_empty() {
        frame.render_widget(Paragraph::new("loading…").style(theme.fg(theme.dim)), list);
        return;
    }
    if let Some(e) = &h.error {
        frame.render_widget(
            Paragraph::new(e.to_string()).style(theme.fg(theme.error)),
            list,
        );
        return;
    }
    let height = list.height.saturating_sub(1) as usize;
    let wide = list.width >= 100;
    let record_row = |idx: &usize| {
        let r = &h.records[*idx];
        let colour = match r.status.as_str() {
            "success" => theme.ok,
            "running" | "queued" => theme.running,
            _ => theme.failed,
        };
        let action = super::safe(&r.action);
        let mut cells = vec![
            Cell::from(short_id(&r.id).to_string()),
            Cell::from(Span::styled(r.status.clone(), theme.fg(colour))),
        ];
        if wide {
            cells.push(Cell::from(format_time(r.started_at)));
            cells.push(Cell::from(r.user.clone()));
        }
        cells.push(Cell::from(ellipsize(&r.target_expr, 24)));
        cells.push(Cell::from(action));
        Row::new(cells)
    };
    // Narrow panes keep what identifies a run: id, status, targets, command.
    let (widths, header): (Vec<Constraint>, Vec<&str>) = if wide {
        (
            vec![
                Constraint::Length(8),
                Constraint::Length(11),
                Constraint::Length(19),
                Constraint::Length(10),
                Constraint::Length(24),
                Constraint::Fill(1),
            ],
            vec!["id", "status", "started", "user", "targets", "command"],
        )
    } else {
        (
            vec![
                Constraint::Length(8),
                Constraint::Length(11),
                Constraint::Max(16),
                Constraint::Fill(1),
            ],
            vec!["id", "status", "targets", "command"],
        )
    };
    let table = list_table(
        h.matches,
        (h.pos.top, h.pos.cursor, height),
        record_row,
        widths,
        header,
        theme,
    );
    frame.render_widget(table, list);
}
