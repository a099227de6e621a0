//! Results of background jobs (inventory, history, journal, facts...) folded
//! into view state.

use super::msg::{Effect, Loaded};
use super::output::RunOutput;
use super::overlay::Overlay;
use super::plan_actions;
use super::state::{AppState, Focus, View};
use crate::app::stored_output::{StoredNode, not_stored_notice};
use crate::engine::NodeStatus;
use crate::engine::common::ids::short_id;
use crate::engine::records::NodeResultRecord;
use crate::engine::records::{EntryType, Stream};
use crate::ui::sanitize::{SanitizeOptions, sanitize};

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
            let (record, stored) = *run;
            let results: Vec<&NodeResultRecord> = stored.iter().map(|s| &s.record).collect();
            // Every targeted node, in target order: one without a stored result is
            // still running (a run of another drover), or else it has no result
            // to show, which is not a success either.
            let mut nodes = record.nodes.clone();
            let targeted: std::collections::HashSet<&str> =
                record.nodes.iter().map(String::as_str).collect();
            let extra: Vec<String> = results
                .iter()
                .filter(|r| !targeted.contains(r.node.as_str()))
                .map(|r| r.node.clone())
                .collect();
            nodes.extend(extra);
            let mut out = RunOutput::new(record.id.clone(), record.action.clone(), &nodes, true);
            let unfinished = match record.status.as_str() {
                "queued" | "running" => NodeStatus::Running,
                _ => NodeStatus::Failed,
            };
            for n in &nodes {
                out.set_status(n, unfinished, None);
            }
            for s in &stored {
                let r = &s.record;
                out.set_status(&r.node, stored_status(&r.status), r.exit_code);
                replay_streams(&mut out, s, &state.output.sanitize);
            }
            state.output.show_replay(out);
            state.output.follow = false;
            state.view = View::Output;
            state.focus = Focus::Main;
            state.info(format!(
                "replaying {} ({}, {}) — esc returns to the live run, R re-runs its failed nodes",
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
                state.overlays.push(Overlay::message(
                    " Matching runs · j/k scroll · any other key closes ",
                    candidates.join("\n"),
                ));
            }
        }
        Loaded::Written { path, result } => match result {
            Ok(n) => state.info(format!("wrote {n} lines to {}", path.display())),
            Err(e) => state.error(e),
        },
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
        Loaded::Status(text) => state.overlays.push(Overlay::message(
            " Status · j/k pgup/pgdn scroll · any other key closes ",
            text,
        )),
        Loaded::ShellEnded { node, result } => match result {
            Ok(text) => state.info(format!("{node}: {text}")),
            Err(e) => state.error(format!("{node}: {e}")),
        },
        Loaded::ReplayEnded(result) => match result {
            Ok(text) => state.info(text),
            Err(e) => state.error(e),
        },
        Loaded::PlanStarted(started) => plan_actions::on_started(state, started),
        Loaded::PlanDone(done) => plan_actions::on_done(state, done),
        Loaded::Execution(snapshot) => plan_actions::on_execution(state, *snapshot),
        Loaded::Rerun { scope, run } => {
            return super::rerun_actions::on_loaded(state, scope, run);
        }
    }
    Vec::new()
}

/// A stored node status as the console folds it. `interrupted` (drover stopped
/// while the node ran, so how it ended is unknown) and any name this build does
/// not know show as `failed`: a replay never shows an unknown end as a success.
/// A node's stored streams into the replay: head, a notice where history
/// left bytes out, tail.
fn replay_streams(out: &mut RunOutput, node: &StoredNode, opts: &SanitizeOptions) {
    let name = node.record.node.as_str();
    for stream in [Stream::Stdout, Stream::Stderr] {
        let stored = node.stream(stream);
        out.append(name, stream, &stored.head, 0, opts);
        if stored.not_stored > 0 {
            out.notice(name, stream, &not_stored_notice(stored.not_stored));
        }
        out.append(name, stream, &stored.tail, 0, opts);
    }
}

pub(super) fn stored_status(name: &str) -> NodeStatus {
    crate::app::stored_output::node_status(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::tui::keymap::Keymap;
    use crate::app::tui::state::UiOptions;
    use crate::engine::records::{ExecutionRecord, NodeResultRecord, OutputMode};
    use ratatui::layout::Rect;
    use std::sync::Arc;

    fn record(status: &str, nodes: &[&str]) -> ExecutionRecord {
        ExecutionRecord {
            action: "echo same".into(),
            target_expr: "web[1-3]".into(),
            nodes: nodes.iter().map(|n| n.to_string()).collect(),
            status: status.into(),
            ..ExecutionRecord::sample("1a2b3c4d5e6f7a8b")
        }
    }

    fn result(node: &str, status: &str, exit_code: Option<i32>) -> NodeResultRecord {
        NodeResultRecord {
            execution_id: "1a2b3c4d5e6f7a8b".into(),
            node: node.into(),
            status: status.into(),
            exit_code,
            signal: None,
            started_at: 0,
            finished_at: 0,
            duration_ms: 0,
            attempts: 1,
            error_category: None,
            error: None,
            output_mode: OutputMode::Summary,
            stdout: "same\n".into(),
            stderr: String::new(),
            stdout_bytes: 5,
            stderr_bytes: 0,
            data: None,
        }
    }

    fn replay(
        record: ExecutionRecord,
        results: Vec<NodeResultRecord>,
    ) -> Vec<(String, NodeStatus)> {
        let mut state = AppState::new(
            Arc::new(Keymap::defaults()),
            UiOptions::default(),
            Rect::new(0, 0, 100, 30),
            "ops".into(),
        );
        on_loaded(
            &mut state,
            Loaded::StoredRun(Ok(Box::new((
                record,
                results.into_iter().map(StoredNode::from_record).collect(),
            )))),
        );
        let run = state.output.run.as_ref().unwrap();
        assert!(run.replay);
        run.blocks(true, true)
            .into_iter()
            .map(|b| (b.label, b.status))
            .collect()
    }

    #[test]
    fn a_replay_shows_every_targeted_node_with_its_stored_status() {
        let blocks = replay(
            record("partial", &["web1", "web2", "web3"]),
            vec![
                result("web1", "success", Some(0)),
                result("web2", "failed", Some(3)),
                result("web3", "interrupted", None),
            ],
        );
        assert_eq!(
            blocks,
            [
                // Failed without an exit code (interrupted) sorts before exit 3.
                ("web3".to_string(), NodeStatus::Failed),
                ("web2".to_string(), NodeStatus::Failed),
                ("web1".to_string(), NodeStatus::Success),
            ]
        );
        // A run still going elsewhere: nodes without a result are running.
        let blocks = replay(
            record("running", &["web1", "web2"]),
            vec![result("web1", "success", Some(0))],
        );
        assert_eq!(blocks.len(), 2, "{blocks:?}");
        assert!(blocks.contains(&("web2".to_string(), NodeStatus::Running)));
    }

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
