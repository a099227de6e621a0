//! Plans in the console: `:plan FILE` and `:plan cancel`, the plan's events and
//! results folded into the progress pane (its keys are `panes::progress`'s).

use super::msg::Effect;
use super::output::RunOutput;
use super::plan::{PlanDone, PlanStarted};
use super::state::{AppState, Focus, View};
use crate::engine::common::ids::short_id;
use crate::engine::orchestrator::plan_run::{PlanProgress, StepState};
use crate::engine::{ExecutionId, ExecutionSnapshot};
use std::path::PathBuf;

/// `:plan FILE` runs the plan (steps without targets of their own or of the
/// plan run on the selection); `:plan cancel` cancels the running one.
pub fn plan_command(state: &mut AppState, rest: &str) -> Vec<Effect> {
    match rest {
        "" => {
            state.error(":plan needs a plan file, e.g. :plan deploy.yaml (or :plan cancel)");
            Vec::new()
        }
        "cancel" => cancel_plan(state),
        file => {
            if let Some(id) = state.progress.running_plan() {
                state.error(format!(
                    "plan {} is still running (:plan cancel stops it)",
                    short_id(&id.0)
                ));
                return Vec::new();
            }
            let targets = state.inventory.targets().map(|(t, _)| t);
            let correlation_id = state.clock.fresh_id().0;
            state.progress.plan_correlation = Some(correlation_id.clone());
            state.info(format!("loading plan {file}"));
            vec![Effect::RunPlan {
                file: expand_home(file, std::env::var_os("HOME").map(PathBuf::from)),
                targets,
                correlation_id,
            }]
        }
    }
}

/// `~` and `~/...` name the home directory; anything else is taken as given
/// (relative paths are relative to the directory drover was started in).
pub fn expand_home(file: &str, home: Option<PathBuf>) -> PathBuf {
    match (file.strip_prefix('~'), home) {
        (Some(""), Some(home)) => home,
        (Some(rest), Some(home)) if rest.starts_with('/') => home.join(&rest[1..]),
        _ => PathBuf::from(file),
    }
}

pub fn cancel_plan(state: &mut AppState) -> Vec<Effect> {
    match state.progress.running_plan().cloned() {
        Some(id) => {
            let name = state.progress.plan.as_ref().map(|p| p.name.clone());
            state.info(format!(
                "cancelling plan {}: running steps are cancelled, queued ones not started",
                name.unwrap_or_default()
            ));
            vec![Effect::CancelPlan(id)]
        }
        None => {
            state.info("no plan is running");
            Vec::new()
        }
    }
}

pub fn on_started(state: &mut AppState, started: Result<PlanStarted, String>) {
    match started {
        Ok(s) => {
            let now = state.clock.now;
            state.progress.plan_mut(&s.id, now).describe(&s);
            state.progress.plan_shown = true;
            state.view = View::Progress;
            state.focus = Focus::Main;
            state.info(format!(
                "plan {} started: {} steps — enter shows a step's output, ctrl-c cancels",
                crate::ui::safe(&s.name),
                s.steps.len()
            ));
        }
        Err(e) => state.error(e),
    }
}

pub fn on_step_changed(
    state: &mut AppState,
    plan: &ExecutionId,
    step: &str,
    step_state: StepState,
    execution: Option<ExecutionId>,
    progress: PlanProgress,
) {
    let now = state.clock.now;
    state
        .progress
        .plan_mut(plan, now)
        .step_changed(step, step_state, execution, progress, now);
}

pub fn on_finished(
    state: &mut AppState,
    plan: &ExecutionId,
    name: &str,
    plan_state: StepState,
    progress: PlanProgress,
) {
    let now = state.clock.now;
    state
        .progress
        .plan_mut(plan, now)
        .finished(name, plan_state, progress, now);
}

/// The plan's result: final states, reasons, and one line on the status line.
pub fn on_done(state: &mut AppState, done: PlanDone) {
    let now = state.clock.now;
    let p = state.progress.plan_mut(&done.id, now);
    p.done(&done, now);
    let text = format!(
        "plan {}: {} — {} completed, {} failed, {} cancelled of {} in {}",
        crate::ui::safe(&p.name),
        p.state.as_str(),
        p.progress.completed,
        p.progress.failed,
        p.progress.cancelled,
        p.progress.total,
        crate::ui::progress::duration(p.elapsed(now))
    );
    match (p.state, p.first_problem()) {
        (StepState::Completed, _) => state.info(text),
        (_, Some(problem)) => state.error(format!("{text}; {}", crate::ui::safe(&problem))),
        _ => state.error(text),
    }
}

/// A step's execution, read from the engine: shown as the live run.
pub fn on_execution(state: &mut AppState, snap: ExecutionSnapshot) {
    let names: Vec<String> = snap.nodes.iter().map(|n| n.name.clone()).collect();
    let mut out = RunOutput::new(snap.id.0.clone(), snap.action.clone(), &names, false);
    // Statuses come with the snapshot: the step may have ended before it was
    // opened, and its later events update them as for any live run.
    for n in &snap.nodes {
        out.set_status(&n.name, n.status, n.exit_code);
    }
    state.output.show(out);
    state.output.pinned = true;
    state.progress.show_run(&snap.id);
    state.view = View::Output;
    state.focus = Focus::Main;
    state.info(format!(
        "output of {} ({}) — 2 shows the plan again",
        short_id(&snap.id.0),
        crate::ui::safe(&snap.action)
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_is_expanded_only_in_front() {
        let home = Some(PathBuf::from("/home/u"));
        assert_eq!(
            expand_home("~/p.yaml", home.clone()),
            PathBuf::from("/home/u/p.yaml")
        );
        assert_eq!(expand_home("~", home.clone()), PathBuf::from("/home/u"));
        assert_eq!(
            expand_home("plans/~x.yaml", home.clone()),
            PathBuf::from("plans/~x.yaml")
        );
        assert_eq!(expand_home("~bob/p", home), PathBuf::from("~bob/p"));
        assert_eq!(expand_home("~/p", None), PathBuf::from("~/p"));
    }
}
