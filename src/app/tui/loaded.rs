//! Results of background jobs (inventory, history, journal, facts...) folded
//! into view state.

use super::msg::{Effect, Loaded};
use super::output::RunOutput;
use super::overlay::Overlay;
use super::plan_actions;
use super::progress::short_id;
use super::state::{AppState, Focus, View};
use crate::engine::NodeStatus;
use crate::store::{EntryType, Stream};
use crate::ui::sanitize::sanitize;

pub(super) fn on_loaded(state: &mut AppState, loaded: Loaded) -> Vec<Effect> {
    match loaded {
        Loaded::Inventory(Ok(inventory)) => {
            let reload = state.inventory.loaded;
            state.inventory.load(&inventory);
            let n = inventory.len();
            state.inventory_data = inventory;
            if reload {
                state.info(format!("inventory reloaded: {n} nodes"));
            } else {
                state.info(format!(
                    "{n} nodes — space selects, ! runs a command, ? help"
                ));
            }
        }
        Loaded::Inventory(Err(e)) => state.error(format!("inventory: {e}")),
        Loaded::Submitted { result: Ok(_), .. } => {}
        Loaded::Submitted {
            command,
            result: Err(e),
        } => state.error(format!("{command:?} not run: {e}")),
        Loaded::History(Ok(records)) => {
            if state.recall.is_empty() {
                let mut seen = std::collections::HashSet::new();
                let mut recall: Vec<String> = records
                    .iter()
                    .filter(|r| seen.insert(r.action.clone()))
                    .take(200)
                    .map(|r| r.action.clone())
                    .collect();
                recall.reverse();
                state.recall = recall;
            }
            state.history.set_records(records);
        }
        Loaded::History(Err(e)) => {
            state.history.loading = false;
            state.history.error = Some(e.clone());
            state.error(format!("history: {e}"));
        }
        Loaded::StoredRun(Ok(run)) => {
            let (record, results) = *run;
            let nodes: Vec<String> = results.iter().map(|r| r.node.clone()).collect();
            let mut out = RunOutput::new(record.id.clone(), record.action.clone(), &nodes, true);
            for r in &results {
                out.set_status(&r.node, stored_status(&r.status), r.exit_code);
                out.append(
                    &r.node,
                    Stream::Stdout,
                    r.stdout.as_bytes(),
                    0,
                    &state.output.sanitize,
                );
                out.append(
                    &r.node,
                    Stream::Stderr,
                    r.stderr.as_bytes(),
                    0,
                    &state.output.sanitize,
                );
            }
            state.output.show_replay(out);
            state.output.follow = false;
            state.view = View::Output;
            state.focus = Focus::Main;
            state.info(format!(
                "replaying {} ({}, {}) — esc returns to the live run, r in history runs it again",
                short_id(&record.id),
                sanitize(record.action.as_bytes(), &Default::default()),
                record.status
            ));
        }
        Loaded::StoredRun(Err(e)) => {
            // An ambiguous id comes with the runs it could mean, one per line:
            // the status line says so and an overlay lists them.
            let mut lines = e.lines();
            state.error(format!("history: {}", lines.next().unwrap_or_default()));
            let candidates: Vec<&str> = lines.collect();
            if !candidates.is_empty() {
                state.overlays.push(Overlay::Message {
                    title: " Matching runs · any key closes ".into(),
                    text: candidates.join("\n"),
                });
            }
        }
        Loaded::Journal { node, entries } => {
            if state.journal.node.as_deref() == Some(node.as_str()) {
                state.journal.loading = false;
                match entries {
                    Ok(e) => state.journal.entries = e,
                    Err(e) => state.journal.error = Some(e),
                }
            }
        }
        Loaded::NoteSaved { node, result } => match result {
            Ok(()) => {
                state.info(format!("note saved to {node}'s journal"));
                if state.journal.node.as_deref() == Some(node.as_str()) {
                    state.journal.filter = state.journal.filter.filter(|t| *t == EntryType::Manual);
                    return vec![Effect::LoadJournal(node)];
                }
            }
            Err(e) => state.error(format!("note for {node} not saved: {e}")),
        },
        Loaded::Facts { node, facts } => {
            if state.facts.node.as_deref() == Some(node.as_str()) {
                state.facts.loading = false;
                match facts {
                    Ok(rows) => state.facts.rows = rows,
                    Err(e) => state.facts.error = Some(e),
                }
            }
        }
        Loaded::Status(text) => state.overlays.push(Overlay::Message {
            title: " Status · any key closes ".into(),
            text,
        }),
        Loaded::ShellEnded { node, result } => match result {
            Ok(text) => state.info(format!("{node}: {text}")),
            Err(e) => state.error(format!("{node}: {e}")),
        },
        Loaded::PlanStarted(started) => plan_actions::on_started(state, started),
        Loaded::PlanDone(done) => plan_actions::on_done(state, done),
        Loaded::Execution(snapshot) => plan_actions::on_execution(state, *snapshot),
    }
    Vec::new()
}

/// A stored node status as the console folds it. `interrupted` (drover stopped
/// while the node ran, so how it ended is unknown) and any name this build does
/// not know show as `failed`: a replay never shows an unknown end as a success.
pub(super) fn stored_status(name: &str) -> NodeStatus {
    match name {
        "success" => NodeStatus::Success,
        "timeout" => NodeStatus::Timeout,
        "cancelled" => NodeStatus::Cancelled,
        "pending" => NodeStatus::Pending,
        "running" => NodeStatus::Running,
        _ => NodeStatus::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::stored_status;
    use crate::engine::NodeStatus;

    #[test]
    fn stored_statuses_map_back_and_unknown_ones_are_failures() {
        for s in [
            NodeStatus::Pending,
            NodeStatus::Running,
            NodeStatus::Success,
            NodeStatus::Failed,
            NodeStatus::Timeout,
            NodeStatus::Cancelled,
        ] {
            assert_eq!(stored_status(s.as_str()), s);
        }
        assert_eq!(stored_status("interrupted"), NodeStatus::Failed);
        assert_eq!(stored_status(""), NodeStatus::Failed);
    }
}
