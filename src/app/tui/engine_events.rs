//! Engine events folded into view state: runs, per-node progress, signs,
//! and the catch-up after missed events.

use super::msg::Effect;
use super::output::RunOutput;
use super::plan_actions;
use super::progress::RunProgress;
use super::state::{AppState, Focus, View};
use crate::engine::common::ids::short_id;
use crate::engine::{EngineEvent, ExecutionStatus, NodeStatus, Progress};
use crate::ui::sign::NodeSign;

pub(super) fn on_engine(state: &mut AppState, event: EngineEvent) -> Vec<Effect> {
    match event {
        EngineEvent::ExecutionQueued {
            execution,
            action,
            nodes,
            user,
            correlation_id,
        } => {
            for n in &nodes {
                state.inventory.set_sign(n, NodeSign::None);
            }
            let plan_step =
                state.progress.plan_correlation.as_deref() == Some(correlation_id.as_str());
            if !(plan_step && state.output.pinned) {
                state.output.pinned = false;
                state.output.show(RunOutput::new(
                    execution.0.clone(),
                    action.clone(),
                    &nodes,
                    false,
                ));
            }
            if !plan_step {
                // A run the user started: the progress pane and the gauge
                // follow it, also away from a plan shown before.
                state.progress.follow_newest();
                state.progress.plan_shown = false;
                // One pane at a time: the run's output is the one to see.
                if super::tabs::narrow(state) {
                    state.focus = Focus::Main;
                }
            }
            let mut run = RunProgress::new(execution, action, user, &nodes, state.clock.now);
            run.plan_step = plan_step;
            state.progress.add(run);
            if !matches!(state.view, View::Output | View::Progress)
                || state.focus == Focus::Inventory
            {
                state.view = View::Output;
            }
        }
        EngineEvent::ExecutionStarted { execution, .. } => {
            if let Some(run) = state.progress.run_mut(&execution) {
                run.status = ExecutionStatus::Running;
            }
        }
        EngineEvent::NodeStarted {
            execution,
            node,
            attempt,
        } => {
            state.inventory.set_sign(&node, NodeSign::Running);
            state
                .output
                .set_status(&execution.0, &node, NodeStatus::Running, None);
            if let Some(run) = state.progress.run_mut(&execution)
                && let Some(row) = run.node_mut(&node)
            {
                row.status = NodeStatus::Running;
                row.started.get_or_insert(state.clock.now);
                row.attempts = attempt;
            }
        }
        EngineEvent::NodeOutput { .. } => {}
        EngineEvent::RetryAttempt {
            node,
            attempt,
            max_attempts,
            reason,
            ..
        } => state.info(format!(
            "{node}: attempt {attempt}/{max_attempts} after {}",
            reason.reason
        )),
        EngineEvent::NodeFinished {
            execution,
            node,
            status,
            exit_code,
            duration,
            error,
            progress: _,
        } => {
            state.inventory.set_sign(
                &node,
                NodeSign::from_status(status, error.as_ref().map(|e| e.category)),
            );
            state
                .output
                .set_status(&execution.0, &node, status, exit_code);
            if let Some(run) = state.progress.run_mut(&execution)
                && let Some(row) = run.node_mut(&node)
            {
                row.status = status;
                row.exit_code = exit_code;
                row.duration = Some(duration);
                row.error = error;
            }
        }
        EngineEvent::ExecutionFinished {
            execution,
            status,
            duration,
            progress,
        } => {
            let mut plan_step = false;
            if let Some(run) = state.progress.run_mut(&execution) {
                run.status = status;
                run.duration = Some(duration);
                plan_step = run.plan_step;
            }
            if plan_step {
                // The plan's own summary goes to the status line when it ends.
                return Vec::new();
            }
            let text = format!(
                "run {}: {} — {} of {} in {}",
                short_id(&execution.0),
                status.as_str(),
                counts_text(&progress),
                progress.total,
                crate::ui::time::duration(duration)
            );
            if matches!(status, ExecutionStatus::Success) {
                state.info(text);
            } else {
                state.error(text);
            }
        }
        EngineEvent::JournalAppended { node, .. } => {
            if state.view == View::Journal && state.journal.node.as_deref() == Some(node.as_str()) {
                return vec![Effect::LoadJournal(node)];
            }
        }
        EngineEvent::InventoryReloaded {
            nodes,
            failed_sources,
        } => {
            if failed_sources.is_empty() {
                state.info(format!("inventory reloaded: {nodes} nodes"));
            } else {
                let text = self::failed_sources(&failed_sources);
                state.error(format!("inventory: {text}"));
            }
        }
        EngineEvent::BreakerChanged {
            scope,
            name,
            state: breaker,
        } => {
            if scope == crate::engine::resilience::breaker::BreakerScope::Node {
                state.inventory.set_breaker(&name, breaker);
            }
            let text = format!(
                "circuit breaker of {} {name}: {}",
                scope.as_str(),
                breaker.as_str()
            );
            if breaker == crate::engine::resilience::breaker::BreakerState::Closed {
                state.info(text);
            } else {
                state.error(text);
            }
        }
        EngineEvent::PlanStepChanged {
            plan,
            step,
            state: step_state,
            execution,
            progress,
        } => plan_actions::on_step_changed(state, &plan, &step, step_state, execution, progress),
        EngineEvent::PlanFinished {
            plan,
            name,
            state: plan_state,
            progress,
        } => plan_actions::on_finished(state, &plan, &name, plan_state, progress),
    }
    Vec::new()
}

/// After missed events: statuses, counts and signs from the engine's snapshots
/// (output is unaffected: it is read from the rings, not carried by events).
pub fn resync(state: &mut AppState, snapshots: Vec<crate::engine::ExecutionSnapshot>) {
    for snap in snapshots {
        if state.progress.run_mut(&snap.id).is_none() {
            // Its ExecutionQueued was among the missed events.
            let names: Vec<String> = snap.nodes.iter().map(|n| n.name.clone()).collect();
            state.output.show(RunOutput::new(
                snap.id.0.clone(),
                snap.action.clone(),
                &names,
                false,
            ));
            state.progress.add(RunProgress::new(
                snap.id.clone(),
                snap.action.clone(),
                snap.user.clone(),
                &names,
                state.clock.now,
            ));
        }
        let Some(run) = state.progress.run_mut(&snap.id) else {
            continue;
        };
        run.status = snap.status;
        for n in &snap.nodes {
            state
                .output
                .set_status(&snap.id.0, &n.name, n.status, n.exit_code);
            if let Some(row) = run.node_mut(&n.name) {
                row.status = n.status;
                row.exit_code = n.exit_code;
                row.attempts = n.attempts;
                row.error = n.error.clone();
                if n.status.is_finished() {
                    row.duration = n.duration;
                }
            }
            let sign = NodeSign::from_status(n.status, n.error.as_ref().map(|e| e.category));
            state.inventory.set_sign(&n.name, sign);
        }
    }
}

/// `2 ok, 1 failed, 1 cancelled`: cancelled nodes are named apart, not as failures.
pub fn counts_text(p: &Progress) -> String {
    let mut text = format!("{} ok, {} failed", p.completed, p.failed);
    if p.cancelled > 0 {
        text.push_str(&format!(", {} cancelled", p.cancelled));
    }
    text
}

/// The status line's text for failed sources: every one named, and what it means.
pub fn failed_sources(failures: &[crate::engine::inventory::service::SourceFailure]) -> String {
    let reasons: Vec<&str> = failures.iter().map(|f| f.reason.as_str()).collect();
    format!("{} (runs refused until fixed)", reasons.join("; "))
}
