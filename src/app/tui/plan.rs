//! The plan the console runs (or ran last): its steps in file order, each with
//! the state the engine announced, its execution and how long it took, folded
//! from `PlanStepChanged` / `PlanFinished` events and the plan's final result.

use super::cursor::move_cursor;
use crate::engine::ExecutionId;
use crate::engine::orchestrator::plan_run::{PlanProgress, PlanResult, StepState};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq)]
pub struct StepRow {
    pub name: String,
    pub state: StepState,
    pub execution: Option<ExecutionId>,
    pub started: Option<Instant>,
    pub duration: Option<Duration>,
    /// Why the step failed or was cancelled (from the plan's result).
    pub reason: Option<String>,
}

impl StepRow {
    fn new(name: String) -> StepRow {
        StepRow {
            name,
            state: StepState::Queued,
            execution: None,
            started: None,
            duration: None,
            reason: None,
        }
    }

    /// Time spent running: final once the step ended, growing while it runs.
    pub fn elapsed(&self, now: Instant) -> Option<Duration> {
        self.duration
            .or_else(|| self.started.map(|s| now.saturating_duration_since(s)))
    }
}

/// What `:plan FILE` started, as the runner reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanStarted {
    pub id: ExecutionId,
    pub name: String,
    pub file: String,
    /// Step names in file order.
    pub steps: Vec<String>,
}

/// One step at the plan's end.
#[derive(Debug, Clone, PartialEq)]
pub struct StepEnd {
    pub name: String,
    pub state: StepState,
    pub execution: Option<ExecutionId>,
    pub reason: Option<String>,
    /// How long its execution took, when it ran.
    pub duration: Option<Duration>,
}

/// A plan's end as the engine returned it: every step's final state and reason.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanDone {
    pub id: ExecutionId,
    pub name: String,
    pub state: StepState,
    pub steps: Vec<StepEnd>,
}

impl From<&PlanResult> for PlanDone {
    fn from(r: &PlanResult) -> PlanDone {
        PlanDone {
            id: r.id.clone(),
            name: r.name.clone(),
            state: r.state,
            steps: r
                .steps
                .iter()
                .map(|s| StepEnd {
                    name: s.name.clone(),
                    state: s.state,
                    execution: s.execution.clone(),
                    reason: s.reason.clone(),
                    duration: s.result.as_ref().map(|r| r.duration),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PlanRun {
    pub id: ExecutionId,
    pub name: String,
    pub file: String,
    /// Running until the plan finished; then Completed, Failed or Cancelled.
    pub state: StepState,
    pub progress: PlanProgress,
    pub started: Instant,
    pub duration: Option<Duration>,
    pub steps: Vec<StepRow>,
    pub cursor: usize,
    pub top: usize,
    /// The result arrived: events still queued behind it are older news.
    settled: bool,
}

impl PlanRun {
    /// A plan known by its id only (its events may come before the runner's
    /// report of the start): steps are added as they are announced.
    pub fn new(id: ExecutionId, now: Instant) -> PlanRun {
        PlanRun {
            id,
            name: String::new(),
            file: String::new(),
            state: StepState::Running,
            progress: PlanProgress::default(),
            started: now,
            duration: None,
            steps: Vec::new(),
            cursor: 0,
            top: 0,
            settled: false,
        }
    }

    pub fn running(&self) -> bool {
        !self.state.is_terminal()
    }

    pub fn elapsed(&self, now: Instant) -> Duration {
        self.duration
            .unwrap_or_else(|| now.saturating_duration_since(self.started))
    }

    fn row_mut(&mut self, name: &str) -> &mut StepRow {
        let i = match self.steps.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => {
                self.steps.push(StepRow::new(name.to_string()));
                self.steps.len() - 1
            }
        };
        &mut self.steps[i]
    }

    /// Name, file and every step in file order; states already announced stay.
    pub fn describe(&mut self, started: &PlanStarted) {
        self.name = started.name.clone();
        self.file = started.file.clone();
        let mut known = std::mem::take(&mut self.steps);
        self.steps = started
            .steps
            .iter()
            .map(|n| match known.iter().position(|s| &s.name == n) {
                Some(i) => known.swap_remove(i),
                None => StepRow::new(n.clone()),
            })
            .collect();
        if self.progress.total == 0 {
            self.progress.total = self.steps.len();
        }
    }

    pub fn step_changed(
        &mut self,
        step: &str,
        state: StepState,
        execution: Option<ExecutionId>,
        progress: PlanProgress,
        now: Instant,
    ) {
        if self.settled {
            return;
        }
        self.progress = progress;
        let row = self.row_mut(step);
        if execution.is_some() {
            row.execution = execution;
        }
        match state {
            StepState::Running => {
                row.started.get_or_insert(now);
            }
            s if s.is_terminal() => {
                row.duration = row.started.map(|t| now.saturating_duration_since(t));
            }
            _ => {}
        }
        row.state = state;
    }

    pub fn finished(&mut self, name: &str, state: StepState, progress: PlanProgress, now: Instant) {
        if self.name.is_empty() {
            self.name = name.to_string();
        }
        if self.settled {
            return;
        }
        self.state = state;
        self.progress = progress;
        self.duration
            .get_or_insert_with(|| now.saturating_duration_since(self.started));
    }

    /// The engine's final word: states and reasons of every step (events
    /// missed on the way, or still queued behind it, are made good here).
    pub fn done(&mut self, done: &PlanDone, now: Instant) {
        if self.name.is_empty() {
            self.name = done.name.clone();
        }
        for end in &done.steps {
            let row = self.row_mut(&end.name);
            row.state = end.state;
            if end.execution.is_some() {
                row.execution = end.execution.clone();
            }
            row.reason = end.reason.clone();
            row.duration = end
                .duration
                .or(row.duration)
                .or_else(|| row.started.map(|t| now.saturating_duration_since(t)));
        }
        self.state = done.state;
        self.duration
            .get_or_insert_with(|| now.saturating_duration_since(self.started));
        let count = |s: StepState| self.steps.iter().filter(|r| r.state == s).count();
        self.progress = PlanProgress {
            total: self.steps.len(),
            completed: count(StepState::Completed),
            failed: count(StepState::Failed),
            cancelled: count(StepState::Cancelled),
            running: 0,
        };
        self.settled = true;
    }

    /// The first reason a step failed or was cancelled, for the status line.
    pub fn first_problem(&self) -> Option<String> {
        self.steps
            .iter()
            .find(|s| matches!(s.state, StepState::Failed) && s.reason.is_some())
            .or_else(|| self.steps.iter().find(|s| s.reason.is_some()))
            .map(|s| format!("step {}: {}", s.name, s.reason.as_deref().unwrap_or("")))
    }

    pub fn move_by(&mut self, delta: isize, page: usize) {
        move_cursor(
            &mut self.cursor,
            &mut self.top,
            self.steps.len(),
            delta,
            page,
        );
    }

    pub fn selected(&self) -> Option<&StepRow> {
        self.steps.get(self.cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(total: usize, completed: usize) -> PlanProgress {
        PlanProgress {
            total,
            completed,
            ..PlanProgress::default()
        }
    }

    #[test]
    fn events_before_the_start_report_keep_their_state_and_file_order_wins() {
        let mut p = PlanRun::new(ExecutionId("p".into()), Instant::now());
        let e = ExecutionId("e".into());
        p.step_changed(
            "b",
            StepState::Running,
            Some(e.clone()),
            progress(3, 0),
            Instant::now(),
        );
        p.describe(&PlanStarted {
            id: p.id.clone(),
            name: "demo".into(),
            file: "demo.yaml".into(),
            steps: vec!["a".into(), "b".into(), "c".into()],
        });
        let names: Vec<&str> = p.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(p.steps[1].state, StepState::Running);
        assert_eq!(p.steps[1].execution, Some(e));
        assert_eq!(p.steps[0].state, StepState::Queued);
        p.step_changed(
            "b",
            StepState::Completed,
            None,
            progress(3, 1),
            Instant::now(),
        );
        assert!(p.steps[1].duration.is_some());
        assert!(p.running());
        p.finished("demo", StepState::Completed, progress(3, 3), Instant::now());
        assert!(!p.running());
    }

    fn end(name: &str, state: StepState, reason: Option<&str>) -> StepEnd {
        StepEnd {
            name: name.into(),
            state,
            execution: None,
            reason: reason.map(String::from),
            duration: (state == StepState::Completed).then(|| Duration::from_millis(1500)),
        }
    }

    #[test]
    fn the_result_names_the_first_failure() {
        let mut p = PlanRun::new(ExecutionId("p".into()), Instant::now());
        p.done(
            &PlanDone {
                id: p.id.clone(),
                name: "demo".into(),
                state: StepState::Failed,
                steps: vec![
                    end("a", StepState::Completed, None),
                    end("c", StepState::Cancelled, Some("not run: step b failed")),
                    end("b", StepState::Failed, Some("execution failed")),
                ],
            },
            Instant::now(),
        );
        assert_eq!(p.first_problem().unwrap(), "step b: execution failed");
        assert_eq!(p.state, StepState::Failed);
        assert_eq!((p.progress.completed, p.progress.failed), (1, 1));
        assert_eq!(p.progress.cancelled, 1);
        assert_eq!(p.steps[0].duration, Some(Duration::from_millis(1500)));
        // An event queued behind the result changes nothing.
        p.step_changed(
            "b",
            StepState::Running,
            None,
            PlanProgress::default(),
            Instant::now(),
        );
        assert_eq!(p.steps[2].state, StepState::Failed);
        assert_eq!(p.progress.failed, 1);
    }
}
