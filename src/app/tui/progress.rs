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
    pub fn new(id: ExecutionId, command: String, user: String, nodes: &[String]) -> RunProgress {
        RunProgress {
            id,
            command,
            targets: nodeset::fold(nodes.iter().map(String::as_str)),
            user,
            status: ExecutionStatus::Queued,
            started: Instant::now(),
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

    pub fn elapsed(&self) -> Duration {
        self.duration.unwrap_or_else(|| self.started.elapsed())
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
    /// Which run the pane shows (index into `runs`).
    pub shown: usize,
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
    pub fn plan_mut(&mut self, id: &ExecutionId) -> &mut PlanRun {
        if self.plan.as_ref().is_none_or(|p| &p.id != id) {
            self.plan = Some(PlanRun::new(id.clone()));
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

    /// Shows the run with this id (a plan step's execution), when remembered.
    pub fn show_run(&mut self, id: &ExecutionId) -> bool {
        match self.runs.iter().position(|r| &r.id == id) {
            Some(i) => {
                self.shown = i;
                self.cursor = 0;
                self.top = 0;
                true
            }
            None => false,
        }
    }

    pub fn add(&mut self, run: RunProgress) {
        self.runs.push_front(run);
        self.runs.truncate(KEEP_RUNS);
        self.shown = 0;
        self.cursor = 0;
        self.top = 0;
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
        self.cursor = 0;
        self.top = 0;
    }
}

/// The first 8 characters of an execution id, as lists show it.
pub fn short_id(id: &str) -> &str {
    &id[..id.len().min(8)]
}
