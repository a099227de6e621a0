//! The progress gauge strip and the progress pane: a run's nodes, or the
//! plan's steps, each with its own status.

use super::ListPos;
use crate::engine::orchestrator::plan_run::{PlanProgress, StepState};
use crate::engine::{NodeError, NodeStatus, Progress};
use std::time::Duration;

/// The gauge above the main pane.
pub enum StripView<'a> {
    Empty,
    Run(RunStrip<'a>),
    Plan(PlanStrip<'a>),
}

pub struct RunStrip<'a> {
    /// The newest run's id, when the user picked an older one.
    pub newest_if_picked: Option<&'a str>,
    pub id: &'a str,
    pub command: &'a str,
    pub targets: &'a str,
    pub status: &'static str,
    pub elapsed: Duration,
    pub progress: Progress,
}

pub struct PlanStrip<'a> {
    pub plan: PlanName<'a>,
    pub state: StepState,
    pub elapsed: Duration,
    pub progress: PlanProgress,
    /// Steps known so far (the total may not be announced yet).
    pub steps: usize,
}

/// A plan's name, or its id when it has none.
#[derive(Debug, Clone, Copy)]
pub struct PlanName<'a> {
    pub id: &'a str,
    pub name: &'a str,
}

/// The progress view of the main pane.
pub enum ProgressPane<'a> {
    NoRun,
    Run(RunNodes<'a>),
    Plan(Vec<StepLine<'a>>, ListPos),
}

pub struct RunNodes<'a> {
    /// The user picked this run over newer ones.
    pub picked: bool,
    /// Which run (1 the newest) of how many.
    pub number: usize,
    pub of: usize,
    pub id: &'a str,
    /// A plan ran here too (`p` shows its steps).
    pub has_plan: bool,
    /// The nodes on screen, from the first one shown.
    pub nodes: Vec<NodeLine<'a>>,
    /// The cursor among `nodes`.
    pub pos: ListPos,
}

pub struct NodeLine<'a> {
    pub name: &'a str,
    pub status: NodeStatus,
    pub exit_code: Option<i32>,
    pub attempts: u32,
    /// Final, or so far while it runs; `None` before it started.
    pub took: Option<Duration>,
    pub error: Option<&'a NodeError>,
}

pub struct StepLine<'a> {
    pub name: &'a str,
    pub state: StepState,
    pub execution: Option<&'a str>,
    pub took: Option<Duration>,
    /// Why it failed or was cancelled.
    pub reason: Option<&'a str>,
}
