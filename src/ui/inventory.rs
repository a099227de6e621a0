//! The inventory tree: sources, groups and nodes, with selection marks and
//! each node's last-run sign. Only the rows on screen are drawn.

use super::ellipsize;
use super::sign::NodeSign;
use super::theme::Theme;
use super::view::inventory::{InventoryPane, TreeRow};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

pub fn draw(frame: &mut Frame, area: Rect, inv: &InventoryPane, theme: &Theme) {
    let focused = inv.focused;
    let mut title = format!(" Inventory {} ", inv.nodes);
    // The count includes selected nodes the filter hides: they are still hit.
    match &inv.filter {
        Some(f) if inv.selected > 0 => title.push_str(&format!(
            "· {} selected, {} shown ",
            inv.selected, f.selected_shown
        )),
        _ if inv.selected > 0 => title.push_str(&format!("· {} selected ", inv.selected)),
        _ => {}
    }
    if let Some(f) = &inv.filter {
        title.push_str(&format!("· filter [{}]: {} ", f.grammar, f.expr));
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
    let width = inner.width as usize;
    let lines: Vec<Line> = inv
        .rows
        .iter()
        .take(height)
        .enumerate()
        .map(|(i, row)| {
            let mut line = row_line(row, width, theme);
            if Some(i) == inv.cursor {
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

fn row_line(row: &TreeRow, width: usize, theme: &Theme) -> Line<'static> {
    let arrow = |open: bool| if open { "▾" } else { "▸" };
    match row {
        TreeRow::Source { name, open } => {
            let text = format!("{} {name}", arrow(*open));
            Line::from(Span::styled(
                ellipsize(&text, width),
                Style::default()
                    .fg(theme.header)
                    .add_modifier(Modifier::BOLD),
            ))
        }
        TreeRow::Group {
            name,
            ungrouped,
            open,
            members,
            selected,
        } => {
            let indent = "  ";
            let mark = match *selected {
                0 => "[ ]",
                n if n == *members => "[x]",
                _ => "[-]",
            };
            let at = if *ungrouped { "" } else { "@" };
            let text = format!("{indent}{} {mark} {at}{name} ({members})", arrow(*open));
            let style = if *selected > 0 {
                theme.fg(theme.selected)
            } else {
                Style::default()
            };
            Line::from(Span::styled(ellipsize(&text, width), style))
        }
        TreeRow::Node {
            name,
            selected,
            sign: node_sign,
        } => {
            let indent = "    ";
            let mark = if *selected { "[x] " } else { "[ ] " };
            let style = if *selected {
                theme.fg(theme.selected).add_modifier(Modifier::BOLD)
            } else {
                Style::default()
            };
            let room = width.saturating_sub(indent.len() + 6);
            // An open breaker outranks the last run's sign: work is refused.
            let style = match node_sign {
                NodeSign::Breaker(_) => style.fg(theme.breaker).add_modifier(Modifier::CROSSED_OUT),
                _ => style,
            };
            Line::from(vec![
                Span::raw(indent),
                node_sign.span(theme),
                Span::raw(" "),
                Span::styled(format!("{mark}{}", ellipsize(name, room)), style),
            ])
        }
    }
}
