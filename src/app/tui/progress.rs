//! Progress of recent runs: per run the counts for the gauge, and per node its
//! status, attempts, duration and error — all folded from engine events. While a
//! plan runs (and after, until the next one), the pane shows the plan's steps.

use super::cursor::move_cursor;
use super::plan::PlanRun;
use crate::engine::inventory::nodeset;
use crate::engine::{ExecutionId, ExecutionStatus, NodeError, NodeStatus, Progress};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Runs remembered for the progress pane (older ones are in history).
const KEEP_RUNS: usize = 16;

#[derive(Debug, Clone)]
pub struct NodeRow {
    pub name: String,
    pub status: NodeStatus,
    pub started: Option<Instant>,
    pub duration: Option<Duration>,
    pub exit_code: Option<i32>,
    pub attempts: u32,
    pub error: Option<NodeError>,
}

#[derive(Debug, Clone)]
pub struct RunProgress {
    pub id: ExecutionId,
    pub command: String,
    /// The nodes as a folded node set.
    pub targets: String,
    pub user: String,
    pub status: ExecutionStatus,
    pub started: Instant,
    pub duration: Option<Duration>,
    pub nodes: Vec<NodeRow>,
    /// A step of the console's plan (the plan's summary speaks for it).
    pub plan_step: bool,
    index: HashMap<String, usize>,
}

impl RunProgress {
    pub fn new(
        id: ExecutionId,
        command: String,
        user: String,
        nodes: &[String],
        started: Instant,
    ) -> RunProgress {
        RunProgress {
            id,
            command,
            targets: nodeset::fold(nodes.iter().map(String::as_str)),
            user,
            status: ExecutionStatus::Queued,
            started,
            duration: None,
            plan_step: false,
            index: nodes
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i))
                .collect(),
            nodes: nodes
                .iter()
                .map(|n| NodeRow {
                    name: n.clone(),
                    status: NodeStatus::Pending,
                    started: None,
                    duration: None,
                    exit_code: None,
                    attempts: 0,
                    error: None,
                })
                .collect(),
        }
    }

    pub fn node_mut(&mut self, name: &str) -> Option<&mut NodeRow> {
        let i = *self.index.get(name)?;
        Some(&mut self.nodes[i])
    }

    pub fn node(&self, name: &str) -> Option<&NodeRow> {
        self.index.get(name).map(|i| &self.nodes[*i])
    }

    pub fn running(&self) -> bool {
        matches!(
            self.status,
            ExecutionStatus::Queued | ExecutionStatus::Running
        )
    }

    pub fn elapsed(&self, now: Instant) -> Duration {
        self.duration
            .unwrap_or_else(|| now.saturating_duration_since(self.started))
    }

    /// The gauge's counts, from the rows the list shows, so the two always agree:
    /// a node counts as running from its `NodeStarted` (it got its slot and its
    /// first attempt began) until it finishes.
    pub fn progress(&self) -> Progress {
        Progress::of_statuses(self.nodes.iter().map(|n| n.status))
    }
}

#[derive(Debug, Clone, Default)]
pub struct ProgressView {
    /// Newest first.
    pub runs: VecDeque<RunProgress>,
    /// Which run the pane shows (index into `runs`): the newest, unless the
    /// user picked another.
    pub shown: usize,
    /// The run the user picked (`]`/`[`, a plan step's output): new runs do not
    /// take the pane from it. `None` follows the newest run.
    picked: Option<ExecutionId>,
    pub cursor: usize,
    pub top: usize,
    /// The plan running or run last.
    pub plan: Option<PlanRun>,
    /// The correlation id the last plan started here runs under.
    pub plan_correlation: Option<String>,
    /// The pane shows the plan's steps rather than a run's nodes.
    pub plan_shown: bool,
}

impl ProgressView {
    /// The plan with this id; a new one replaces the last.
    pub fn plan_mut(&mut self, id: &ExecutionId, now: Instant) -> &mut PlanRun {
        if self.plan.as_ref().is_none_or(|p| &p.id != id) {
            self.plan = Some(PlanRun::new(id.clone(), now));
            self.plan_shown = true;
        }
        self.plan.as_mut().expect("set above")
    }

    /// Something to show in the gauge strip: a run or a plan.
    pub fn has_content(&self) -> bool {
        !self.runs.is_empty() || self.plan.is_some()
    }

    /// The plan, when the pane shows it.
    pub fn shown_plan(&self) -> Option<&PlanRun> {
        self.plan.as_ref().filter(|_| self.plan_shown)
    }

    /// The running plan's id.
    pub fn running_plan(&self) -> Option<&ExecutionId> {
        self.plan.as_ref().filter(|p| p.running()).map(|p| &p.id)
    }

    /// Shows the run with this id (a plan step's execution) and keeps it shown
    /// while newer runs start, when remembered.
    pub fn show_run(&mut self, id: &ExecutionId) -> bool {
        match self.runs.iter().position(|r| &r.id == id) {
            Some(i) => {
                self.shown = i;
                self.picked = Some(id.clone());
                self.cursor = 0;
                self.top = 0;
                true
            }
            None => false,
        }
    }

    /// The run the user picked, when it is not the newest: titles say so.
    pub fn picked_older(&self) -> Option<&RunProgress> {
        self.picked.as_ref()?;
        self.current().filter(|_| self.shown > 0)
    }

    /// Back to following the newest run (the user started a run of their own).
    pub fn follow_newest(&mut self) {
        self.picked = None;
        if self.shown != 0 {
            self.shown = 0;
            self.cursor = 0;
            self.top = 0;
        }
    }

    /// A new run: shown, unless the user picked one still remembered (that one
    /// stays, its cursor too).
    pub fn add(&mut self, run: RunProgress) {
        self.runs.push_front(run);
        self.runs.truncate(KEEP_RUNS);
        let picked = self
            .picked
            .as_ref()
            .and_then(|id| self.runs.iter().position(|r| &r.id == id));
        match picked {
            Some(i) => self.shown = i,
            None => {
                self.picked = None;
                self.shown = 0;
                self.cursor = 0;
                self.top = 0;
            }
        }
    }

    pub fn run_mut(&mut self, id: &ExecutionId) -> Option<&mut RunProgress> {
        self.runs.iter_mut().find(|r| &r.id == id)
    }

    pub fn current(&self) -> Option<&RunProgress> {
        self.runs.get(self.shown)
    }

    /// Runs still going, for the status bar and the cancel key.
    pub fn running(&self) -> impl Iterator<Item = &RunProgress> {
        self.runs.iter().filter(|r| r.running())
    }

    pub fn move_by(&mut self, delta: isize, page: usize) {
        let len = self.current().map(|r| r.nodes.len()).unwrap_or(0);
        move_cursor(&mut self.cursor, &mut self.top, len, delta, page);
    }

    /// `]` / `[`: older or newer run.
    pub fn cycle_run(&mut self, older: bool) {
        if self.runs.is_empty() {
            return;
        }
        self.shown = if older {
            (self.shown + 1).min(self.runs.len() - 1)
        } else {
            self.shown.saturating_sub(1)
        };
        // Back at the newest run, the pane follows new runs again.
        self.picked = (self.shown > 0).then(|| self.runs[self.shown].id.clone());
        self.cursor = 0;
        self.top = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str) -> RunProgress {
        RunProgress::new(
            ExecutionId(id.into()),
            "c".into(),
            "u".into(),
            &["n1".to_string()],
            Instant::now(),
        )
    }

    #[test]
    fn new_runs_are_shown_unless_the_user_picked_an_older_one() {
        let mut p = ProgressView::default();
        p.add(run("a"));
        p.add(run("b"));
        assert_eq!(p.current().unwrap().id.0, "b");
        assert!(p.picked_older().is_none());
        p.cycle_run(true);
        assert_eq!(p.current().unwrap().id.0, "a");
        p.add(run("c"));
        assert_eq!(p.current().unwrap().id.0, "a", "the pick stays");
        assert_eq!(p.picked_older().unwrap().id.0, "a");
        // Back to the newest: new runs are followed again.
        p.cycle_run(false);
        p.cycle_run(false);
        assert_eq!(p.current().unwrap().id.0, "c");
        assert!(p.picked_older().is_none());
        p.add(run("d"));
        assert_eq!(p.current().unwrap().id.0, "d");
        // A picked run that is forgotten gives the pane back to the newest.
        p.show_run(&ExecutionId("a".into()));
        for i in 0..KEEP_RUNS {
            p.add(run(&format!("x{i}")));
        }
        assert_eq!(p.current().unwrap().id.0, format!("x{}", KEEP_RUNS - 1));
        assert!(p.picked_older().is_none());
        p.show_run(&ExecutionId("x3".into()));
        p.follow_newest();
        assert_eq!(p.shown, 0);
    }
}
