//! What flows into `update` (messages) and what comes out of it (effects). The
//! loop turns terminal input, engine events and finished background jobs into
//! messages; effects are carried out by the effect runner, never by `update`.

use super::plan::{PlanDone, PlanStarted};
use super::store_news::News;
use crate::app::rerun::Scope;
use crate::app::stored_output::StoredNode;
use crate::engine::records::{ExecutionRecord, JournalEntry, NodeResultRecord, Stream};
use crate::engine::submit::label::RerunOf;
use crate::engine::transport::interaction::{Answer, Question};
use crate::engine::{EngineEvent, ExecutionId, ExecutionSnapshot, Inventory};
use crossterm::event::KeyEvent;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Paste(String),
    Resize,
    /// Once a second while something runs: elapsed times move (to the
    /// message's stamp).
    Tick,
    Engine(EngineEvent),
    /// The event channel overflowed: what was missed is rebuilt from these.
    EngineLagged(Vec<ExecutionSnapshot>),
    /// New bytes of a node's stream, read from its ring by the loop.
    Output {
        execution: ExecutionId,
        node: String,
        stream: Stream,
        data: Vec<u8>,
        /// Bytes the ring dropped before these (the view shows a marker).
        missed: u64,
    },
    Loaded(Loaded),
    /// Runs and journal entries another drover process recorded in the store.
    StoreNews(Vec<News>),
    /// The engine needs an answer (host key, passphrase).
    Question {
        id: u64,
        question: Question,
    },
}

/// Results of background jobs started by effects.
#[derive(Debug, Clone)]
pub enum Loaded {
    Inventory(Result<Arc<Inventory>, String>),
    Submitted {
        command: String,
        result: Result<ExecutionId, String>,
    },
    History(Result<Vec<ExecutionRecord>, String>),
    StoredRun(Result<Box<(ExecutionRecord, Vec<StoredNode>)>, String>),
    Journal {
        node: String,
        entries: Result<Vec<JournalEntry>, String>,
    },
    NoteSaved {
        node: String,
        result: Result<(), String>,
    },
    Facts {
        node: String,
        facts: Result<Vec<FactRow>, String>,
    },
    /// `:status`: the engine's health report, as text.
    Status(String),
    ShellEnded {
        node: String,
        result: Result<String, String>,
    },
    /// A transcript was played: what to say of it, or why it could not be.
    ReplayEnded(Result<String, String>),
    /// `:plan FILE` started the plan, or why nothing runs (file:line problems).
    PlanStarted(Result<PlanStarted, String>),
    /// The plan ended; every step's final state and reason.
    PlanDone(PlanDone),
    /// A recent execution to show in the output pane (read from the engine).
    Execution(Box<ExecutionSnapshot>),
    /// The stored run a re-run repeats.
    Rerun {
        scope: Scope,
        run: Result<Box<(ExecutionRecord, Vec<NodeResultRecord>)>, String>,
    },
    /// `:write` finished: lines written, or why not (naming the path).
    Written {
        path: std::path::PathBuf,
        result: Result<usize, String>,
    },
}

/// One fact of a node as the facts pane shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct FactRow {
    pub key: String,
    pub value: String,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Submit {
        command: String,
        targets: String,
        /// Set for a re-run (`R`, `:rerun`): the run it repeats, and the only
        /// nodes it may touch.
        rerun: Option<RerunOf>,
    },
    /// `:task NAME key=value...` on the selection.
    SubmitTask {
        name: String,
        params: Vec<(String, String)>,
        targets: String,
        noop: bool,
        rerun: Option<RerunOf>,
    },
    /// `R` / `:rerun SCOPE [ID]`: read the run (once what the engine holds is
    /// written) to repeat it on the nodes `scope` picks.
    LoadRerun {
        id: String,
        scope: Scope,
    },
    Cancel(ExecutionId),
    /// `:plan FILE`; `targets` (the selection) serve steps that name none.
    RunPlan {
        file: std::path::PathBuf,
        targets: Option<String>,
        /// Chosen before the plan starts, so its steps' executions are known
        /// for the plan's from their first event.
        correlation_id: String,
    },
    CancelPlan(ExecutionId),
    /// Show this execution's output (a plan step's), live or from the store.
    ShowExecution(ExecutionId),
    LoadHistory,
    LoadStoredRun(String),
    LoadJournal(String),
    SaveNote {
        node: String,
        text: String,
    },
    LoadFacts {
        node: String,
        refresh: bool,
    },
    Answer {
        id: u64,
        answer: Option<Answer>,
    },
    LoadStatus,
    Shell(String),
    /// Play a session transcript on the terminal (by its id).
    Replay(String),
    /// `:write`: the output view, already rendered; refused when the file
    /// exists unless `overwrite`.
    WriteFile {
        path: std::path::PathBuf,
        contents: String,
        lines: usize,
        overwrite: bool,
    },
    Suspend,
    Quit,
}
