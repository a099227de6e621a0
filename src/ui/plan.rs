//! The plan in the progress pane: a gauge of its steps (completed / failed /
//! total, elapsed) above the main pane, and the list of steps with their state,
//! execution, duration and why a step did not complete.

use super::theme::Theme;
use super::time::duration;
use super::view::ListPos;
use super::view::MainTitle;
use super::view::progress::{PlanName, PlanStrip, StepLine};
use super::{ellipsize, list_table, main_block, safe};
use crate::engine::common::ids::short_id;
use crate::engine::orchestrator::plan_run::StepState;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Cell, Gauge, Row};

pub fn state_colour(s: StepState, theme: &Theme) -> Color {
    match s {
        StepState::Queued => theme.dim,
        StepState::Running => theme.running,
        StepState::Completed => theme.ok,
        StepState::Failed => theme.failed,
        StepState::Cancelled => theme.timeout,
    }
}

fn plan_title(plan: PlanName) -> String {
    if plan.name.is_empty() {
        short_id(plan.id).to_string()
    } else {
        safe(plan.name)
    }
}

pub fn draw_strip(frame: &mut Frame, area: Rect, plan: &PlanStrip, theme: &Theme) {
    let p = plan.progress;
    let total = p.total.max(plan.steps);
    let done = p.completed + p.failed + p.cancelled;
    let ratio = if total == 0 {
        1.0
    } else {
        done as f64 / total as f64
    };
    let heading = format!(
        " plan {} · {} · {} ",
        ellipsize(&plan_title(plan.plan), 30),
        plan.state.as_str(),
        duration(plan.elapsed)
    );
    let label = format!(
        "{done}/{total} steps · {} completed · {} failed · {} cancelled · {} running",
        p.completed, p.failed, p.cancelled, p.running
    );
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
                .title(Span::styled(heading, theme.fg(theme.title))),
        )
        .gauge_style(Style::default().fg(colour).add_modifier(Modifier::BOLD))
        .ratio(ratio.clamp(0.0, 1.0))
        .label(label);
    frame.render_widget(gauge, area);
}

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    title: &MainTitle,
    steps: &[StepLine],
    pos: ListPos,
    theme: &Theme,
) {
    let extra = "steps · enter output · p nodes".to_string();
    let block = main_block(title, theme, extra);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = inner.height.saturating_sub(1) as usize;
    let step_row = |s: &StepLine| {
        Row::new(vec![
            Cell::from(safe(s.name)),
            Cell::from(Span::styled(
                s.state.as_str(),
                theme.fg(state_colour(s.state, theme)),
            )),
            // The whole id: steps started together share any short prefix.
            Cell::from(s.execution.unwrap_or("-").to_string()),
            Cell::from(s.took.map(duration).unwrap_or_default()),
            Cell::from(Span::styled(
                s.reason.map(safe).unwrap_or_default(),
                theme.fg(theme.dim),
            )),
        ])
    };
    let table = list_table(
        steps,
        (pos.top, pos.cursor, height),
        step_row,
        vec![
            Constraint::Percentage(20),
            Constraint::Length(10),
            Constraint::Length(17),
            Constraint::Length(7),
            Constraint::Fill(1),
        ],
        vec!["step", "state", "execution", "time", "note"],
        theme,
    );
    frame.render_widget(table, inner);
}
