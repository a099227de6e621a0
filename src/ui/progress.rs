//! Progress: a gauge strip above the main pane for the run shown, and the
//! per-node status list with attempts, durations and errors.

use super::output::status_span;
use super::theme::Theme;
use super::view::MainTitle;
use super::view::progress::{NodeLine, ProgressPane, RunStrip, StripView};
use super::{ellipsize, list_table, main_block};
use crate::engine::common::ids::short_id;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Gauge, Paragraph, Row};

pub use super::time::duration;

pub fn draw_strip(frame: &mut Frame, area: Rect, strip: &StripView, theme: &Theme) {
    match strip {
        StripView::Empty => {}
        StripView::Plan(plan) => super::plan::draw_strip(frame, area, plan, theme),
        StripView::Run(run) => run_strip(frame, area, run, theme),
    }
}

fn run_strip(frame: &mut Frame, area: Rect, run: &RunStrip, theme: &Theme) {
    let p = run.progress;
    let done = p.finished();
    let ratio = if p.total == 0 {
        1.0
    } else {
        done as f64 / p.total as f64
    };
    // A run the user picked over newer ones says so first, with the newest's id.
    let picked = match run.newest_if_picked {
        Some(newest) => format!("picked · newest {} · ", short_id(newest)),
        None => String::new(),
    };
    let title = format!(
        " {picked}{} {} on {} · {} · {} ",
        short_id(run.id),
        ellipsize(&super::safe(run.command), 30),
        ellipsize(run.targets, 30),
        run.status,
        duration(run.elapsed)
    );
    let label = format!(
        "{done}/{} done · {} ok · {} failed · {} cancelled · {} running",
        p.total, p.completed, p.failed, p.cancelled, p.running
    );
    // A cancelled run is not shown in the colour of success.
    let colour = if p.failed > 0 {
        theme.failed
    } else if p.cancelled > 0 {
        theme.timeout
    } else {
        theme.ok
    };
    let gauge = Gauge::default()
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border(false))
                .title(Span::styled(title, theme.fg(theme.title))),
        )
        .gauge_style(Style::default().fg(colour).add_modifier(Modifier::BOLD))
        .ratio(ratio.clamp(0.0, 1.0))
        .label(label);
    frame.render_widget(gauge, area);
}

pub fn draw(frame: &mut Frame, area: Rect, title: &MainTitle, pane: &ProgressPane, theme: &Theme) {
    let run = match pane {
        ProgressPane::Plan(steps, pos) => {
            return super::plan::draw(frame, area, title, steps, *pos, theme);
        }
        ProgressPane::NoRun => {
            let block = main_block(title, theme, String::new());
            frame.render_widget(
                Paragraph::new("No run yet.")
                    .style(theme.fg(theme.dim))
                    .block(block),
                area,
            );
            return;
        }
        ProgressPane::Run(run) => run,
    };
    let extra = format!(
        "{}run {}/{} ({}) [ ] switch runs{}",
        if run.picked { "picked " } else { "" },
        run.number,
        run.of,
        short_id(run.id),
        if run.has_plan { " · p plan" } else { "" }
    );
    let block = main_block(title, theme, extra);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = inner.height.saturating_sub(1) as usize;
    let node_row = |n: &NodeLine| {
        let took = n.took.map(duration).unwrap_or_default();
        let error = n
            .error
            .map(|e| format!("{}: {}", e.category.as_str(), e.reason))
            .unwrap_or_default();
        Row::new(vec![
            Cell::from(n.name.to_string()),
            Cell::from(Line::from(status_span(n.status, n.exit_code, theme))),
            Cell::from(n.attempts.to_string()),
            Cell::from(took),
            Cell::from(Span::styled(error, theme.fg(theme.failed))),
        ])
    };
    let table = list_table(
        &run.nodes,
        (run.pos.top, run.pos.cursor, height),
        node_row,
        vec![
            Constraint::Percentage(30),
            Constraint::Length(10),
            Constraint::Length(3),
            Constraint::Length(8),
            Constraint::Fill(1),
        ],
        vec!["node", "status", "try", "time", "error"],
        theme,
    );
    frame.render_widget(table, inner);
}
