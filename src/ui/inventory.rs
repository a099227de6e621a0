//! The inventory tree: sources, groups and nodes, with selection marks and
//! each node's last-run badge. Only the rows on screen are drawn.

use super::theme::Theme;
use super::{ellipsize, visible_top};
use crate::app::tui::inventory::{Badge, Row, UNGROUPED};
use crate::app::tui::state::{AppState, Focus};
use crate::engine::resilience::breaker::BreakerState;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

pub fn badge(b: Badge, theme: &Theme) -> Span<'static> {
    let (sym, color) = match b {
        Badge::None => (" ", theme.dim),
        Badge::Running => ("●", theme.running),
        Badge::Ok => ("✓", theme.ok),
        Badge::Failed => ("✗", theme.failed),
        Badge::Unreachable => ("⊘", theme.unreachable),
        Badge::TimedOut => ("⏱", theme.timeout),
        Badge::Cancelled => ("-", theme.dim),
    };
    Span::styled(sym, theme.fg(color))
}

/// `⊗` open (work is refused at once), `◐` half-open (probing).
pub fn breaker_badge(b: BreakerState, theme: &Theme) -> Span<'static> {
    let sym = if b == BreakerState::HalfOpen {
        "◐"
    } else {
        "⊗"
    };
    Span::styled(sym, theme.fg(theme.breaker).add_modifier(Modifier::BOLD))
}

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let inv = &state.inventory;
    let focused = state.focus == Focus::Inventory;
    let mut title = format!(" Inventory {} ", inv.names.len());
    // The count includes selected nodes the filter hides: they are still hit.
    if inv.selected_count > 0 && inv.filter.is_some() {
        let shown = inv.selected_shown();
        title.push_str(&format!(
            "· {} selected, {shown} shown ",
            inv.selected_count
        ));
    } else if inv.selected_count > 0 {
        title.push_str(&format!("· {} selected ", inv.selected_count));
    }
    if let Some((expr, _)) = &inv.filter {
        title.push_str(&format!("· filter [{}]: {expr} ", inv.grammar));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(Span::styled(title, theme.fg(theme.title)));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if !inv.loaded {
        frame.render_widget(Paragraph::new("loading…").style(theme.fg(theme.dim)), inner);
        return;
    }
    let height = inner.height as usize;
    let top = visible_top(inv.top, inv.cursor, height);
    let width = inner.width as usize;
    let lines: Vec<Line> = inv
        .rows
        .iter()
        .enumerate()
        .skip(top)
        .take(height)
        .map(|(i, row)| {
            let mut line = row_line(state, *row, width, theme);
            if i == inv.cursor {
                line = if focused {
                    line.style(theme.cursor())
                } else {
                    line.style(Style::default().add_modifier(Modifier::UNDERLINED))
                };
            }
            line
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn row_line(state: &AppState, row: Row, width: usize, theme: &Theme) -> Line<'static> {
    let inv = &state.inventory;
    let indent = "  ".repeat(row.depth());
    match row {
        Row::Source(s) => {
            let src = &inv.sources[s as usize];
            let arrow = if src.open || inv.filter.is_some() {
                "▾"
            } else {
                "▸"
            };
            let text = format!("{arrow} {}", src.name);
            Line::from(Span::styled(
                ellipsize(&text, width),
                Style::default()
                    .fg(theme.header)
                    .add_modifier(Modifier::BOLD),
            ))
        }
        Row::Group(s, g) => {
            let group = inv.group(s, g);
            let arrow = if group.open || inv.filter.is_some() {
                "▾"
            } else {
                "▸"
            };
            let sel = group
                .nodes
                .iter()
                .filter(|n| inv.selected[**n as usize])
                .count();
            let mark = match sel {
                0 => "[ ]",
                n if n == group.nodes.len() => "[x]",
                _ => "[-]",
            };
            let at = if group.name == UNGROUPED { "" } else { "@" };
            let text = format!(
                "{indent}{arrow} {mark} {at}{} ({})",
                group.name,
                group.nodes.len()
            );
            let style = if sel > 0 {
                theme.fg(theme.selected)
            } else {
                Style::default()
            };
            Line::from(Span::styled(ellipsize(&text, width), style))
        }
        Row::Node(_, _, n) => {
            let name = &inv.names[n as usize];
            let selected = inv.selected[n as usize];
            let mark = if selected { "[x] " } else { "[ ] " };
            let style = if selected {
                theme.fg(theme.selected).add_modifier(Modifier::BOLD)
            } else {
                Style::default()
            };
            let room = width.saturating_sub(indent.len() + 6);
            // An open breaker outranks the last run's badge: work is refused.
            let (sign, style) = match inv.breaker_of(name) {
                Some(b) => (
                    breaker_badge(b, theme),
                    style.fg(theme.breaker).add_modifier(Modifier::CROSSED_OUT),
                ),
                None => (badge(inv.badges[n as usize], theme), style),
            };
            Line::from(vec![
                Span::raw(indent),
                sign,
                Span::raw(" "),
                Span::styled(format!("{mark}{}", ellipsize(name, room)), style),
            ])
        }
    }
}
