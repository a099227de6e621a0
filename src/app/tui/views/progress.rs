//! The progress strip and pane as drawn: the run shown (or the plan), with
//! every node's or step's own status.

use crate::app::tui::plan::PlanRun;
use crate::app::tui::progress::ProgressView;
use crate::ui::view::ListPos;
use crate::ui::view::progress::{
    NodeLine, PlanName, PlanStrip, ProgressPane, RunNodes, RunStrip, StepLine, StripView,
};
use crate::ui::visible_top;
use std::time::Instant;

/// `now`: the time of the last message (elapsed times move with it).
pub fn strip(pv: &ProgressView, now: Instant) -> StripView<'_> {
    if let Some(plan) = pv.shown_plan() {
        return StripView::Plan(PlanStrip {
            plan: plan_name(plan),
            state: plan.state,
            elapsed: plan.elapsed(now),
            progress: plan.progress,
            steps: plan.steps.len(),
        });
    }
    let Some(run) = pv.current() else {
        return StripView::Empty;
    };
    let newest_if_picked = match (pv.picked_older(), pv.runs.front()) {
        (Some(_), Some(newest)) => Some(newest.id.0.as_str()),
        _ => None,
    };
    StripView::Run(RunStrip {
        newest_if_picked,
        id: &run.id.0,
        command: &run.command,
        targets: &run.targets,
        status: run.status.as_str(),
        elapsed: run.elapsed(now),
        progress: run.progress(),
    })
}

fn plan_name(plan: &PlanRun) -> PlanName<'_> {
    PlanName {
        id: &plan.id.0,
        name: &plan.name,
    }
}

/// `rows`: list rows the pane has room for (under its column titles).
pub fn pane(pv: &ProgressView, rows: usize, now: Instant) -> ProgressPane<'_> {
    if let Some(plan) = pv.shown_plan() {
        let steps = plan
            .steps
            .iter()
            .map(|s| StepLine {
                name: &s.name,
                state: s.state,
                execution: s.execution.as_ref().map(|e| e.0.as_str()),
                took: s.elapsed(now),
                reason: s.reason.as_deref(),
            })
            .collect();
        let pos = ListPos {
            top: plan.top,
            cursor: plan.cursor,
        };
        return ProgressPane::Plan(steps, pos);
    }
    let Some(run) = pv.current() else {
        return ProgressPane::NoRun;
    };
    // Only the rows on screen: a run may span thousands of nodes.
    let first = visible_top(pv.top, pv.cursor, rows);
    let nodes = run
        .nodes
        .iter()
        .skip(first)
        .take(rows)
        .map(|n| NodeLine {
            name: &n.name,
            status: n.status,
            exit_code: n.exit_code,
            attempts: n.attempts,
            took: n
                .duration
                .or_else(|| n.started.map(|s| now.saturating_duration_since(s))),
            error: n.error.as_ref(),
        })
        .collect();
    ProgressPane::Run(RunNodes {
        picked: pv.picked_older().is_some(),
        number: pv.shown + 1,
        of: pv.runs.len(),
        id: &run.id.0,
        has_plan: pv.plan.is_some(),
        nodes,
        pos: ListPos {
            top: 0,
            cursor: pv.cursor - first,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::tui::progress::RunProgress;
    use crate::engine::{ExecutionId, NodeStatus};

    #[test]
    fn only_the_nodes_on_screen_are_built_each_with_its_own_status() {
        let names: Vec<String> = (0..100).map(|i| format!("n{i:02}")).collect();
        let mut run = RunProgress::new(
            ExecutionId("r1".into()),
            "uptime".into(),
            "ops".into(),
            &names,
            Instant::now(),
        );
        run.node_mut("n49").unwrap().status = NodeStatus::Failed;
        run.node_mut("n50").unwrap().status = NodeStatus::Success;
        let mut pv = ProgressView::default();
        pv.add(run);
        pv.cursor = 50;
        let ProgressPane::Run(shown) = pane(&pv, 10, Instant::now()) else {
            panic!("a run is shown");
        };
        let names: Vec<&str> = shown.nodes.iter().map(|n| n.name).collect();
        assert_eq!(names.first(), Some(&"n41"));
        assert_eq!(names.len(), 10);
        assert_eq!(shown.nodes[shown.pos.cursor].name, "n50");
        assert_eq!(shown.nodes[8].status, NodeStatus::Failed);
        assert_eq!(shown.nodes[9].status, NodeStatus::Success);
        assert_eq!(shown.nodes[0].status, NodeStatus::Pending);
    }
}
