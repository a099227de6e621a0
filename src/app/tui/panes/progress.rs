//! The progress pane: a run's nodes, or the plan's steps (`p` switches), and
//! `]` / `[` between runs.

use super::super::action::Action;
use super::super::cursor::delta;
use super::super::keymap::Mode;
use super::super::msg::Effect;
use super::super::pane::page;
use super::super::plan_actions::cancel_plan;
use super::super::state::{AppState, Focus, View};
use super::{Handled, Pane};

pub struct Progress;

impl Pane for Progress {
    fn mode(&self) -> Mode {
        Mode::Progress
    }

    fn on_action(&self, state: &mut AppState, action: Action) -> Handled {
        if let Some(handled) = plan_action(state, action) {
            return handled;
        }
        use Action::*;
        let page = page(state);
        let p = &mut state.progress;
        if let Some(d) = delta(action, page) {
            p.move_by(d, page);
            return Handled::done();
        }
        match action {
            NextNode => p.cycle_run(true),
            PrevNode => p.cycle_run(false),
            TogglePlan if p.plan.is_some() => p.plan_shown = true,
            TogglePlan => state.info("no plan has run yet (:plan FILE runs one)"),
            Open => state.view = View::Output,
            Back => state.focus = Focus::Inventory,
            _ => return Handled::Ignored,
        }
        Handled::done()
    }
}

/// Keys on the plan's step list; `None` when the plan is not shown or the
/// key is not about it.
fn plan_action(state: &mut AppState, action: Action) -> Option<Handled> {
    use Action::*;
    let page = page(state);
    let plan = state
        .progress
        .plan
        .as_mut()
        .filter(|_| state.progress.plan_shown)?;
    if let Some(d) = delta(action, page) {
        plan.move_by(d, page);
        return Some(Handled::done());
    }
    match action {
        Open => {
            let Some(step) = plan.selected() else {
                return Some(Handled::done());
            };
            return Some(Handled::Consumed(match step.execution.clone() {
                Some(id) => vec![Effect::ShowExecution(id)],
                None => {
                    let text = format!("step {} has not run ({})", step.name, step.state.as_str());
                    state.error(text);
                    Vec::new()
                }
            }));
        }
        CancelExecution => return Some(Handled::Consumed(cancel_plan(state))),
        TogglePlan => state.progress.plan_shown = false,
        // `]` / `[` leave the plan for the runs, which they switch between.
        NextNode | PrevNode => {
            state.progress.plan_shown = false;
            return None;
        }
        _ => return None,
    }
    Some(Handled::done())
}
