//! The console without a terminal: view state, the effect runner, and the
//! engine's event and question channels. The terminal loop and the headless
//! test driver both feed it; neither holds logic of its own.

use super::effects::Runner;
use super::engine_events::failed_sources;
use super::interaction::Asked;
use super::msg::{Effect, Loaded, Msg};
use super::state::AppState;
use super::update::update;
use crate::engine::inventory::service::InventoryService;
use crate::engine::records::Stream;
use crate::engine::transport::interaction::Answer;
use crate::engine::{Engine, EngineEvent};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::{broadcast, mpsc, oneshot};

/// Engine events handled in one go before the screen may redraw.
const EVENT_BATCH: usize = 512;

/// What the loop must do after a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    Continue,
    Quit,
    Suspend,
    /// The terminal goes to something else for a while, then comes back.
    Handoff(Handoff),
}

/// What the console steps aside for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handoff {
    /// An interactive session on this node.
    Shell(String),
    /// Playing this session transcript.
    Replay(String),
}

/// Something arrived from inside drover (not from the terminal).
pub enum Incoming {
    Engine(Result<EngineEvent, RecvError>),
    Job(Msg),
    Question(Asked),
    /// Every source closed: nothing will ever arrive again.
    Closed,
}

pub struct Console {
    pub state: AppState,
    pub engine: Engine,
    runner: Runner,
    events: broadcast::Receiver<EngineEvent>,
    jobs: mpsc::UnboundedReceiver<Msg>,
    questions: mpsc::UnboundedReceiver<Asked>,
    pending: HashMap<u64, oneshot::Sender<Option<Answer>>>,
    next_question: u64,
}

impl Console {
    pub fn new(
        state: AppState,
        engine: Engine,
        options: crate::engine::ExecutionOptions,
        context: crate::engine::ExecutionContext,
        questions: mpsc::UnboundedReceiver<Asked>,
    ) -> Console {
        let (tx, jobs) = mpsc::unbounded_channel();
        let events = engine.subscribe();
        Console {
            state,
            runner: Runner {
                engine: engine.clone(),
                options,
                context,
                task_path: crate::engine::orchestrator::task::TaskSettings::default().path,
                plans: Default::default(),
                tx,
            },
            engine,
            events,
            jobs,
            questions,
            pending: HashMap::new(),
            next_question: 1,
        }
    }

    /// Loads the inventory sources in the background (the first frame does not
    /// wait). Sources that fail are reported; the others are shown.
    pub fn load_inventory(&self, service: Arc<InventoryService>) {
        let tx = self.runner.tx.clone();
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || {
            let loaded = service.refresh();
            // Not `apply_inventory`: this first load is no reload to announce.
            engine.set_inventory(crate::engine::Inventory::clone(&loaded.inventory));
            engine.set_inventory_failures(loaded.failures.clone());
            let _ = tx.send(Msg::Loaded(Loaded::Inventory(Ok(engine.inventory()))));
            if !loaded.failures.is_empty() {
                let _ = tx.send(Msg::Loaded(Loaded::Inventory(Err(failed_sources(
                    &loaded.failures,
                )))));
            }
        });
    }

    /// Hears of the runs and journal entries other drover processes record in
    /// the engine's store ([`super::store_watch`]) until the console goes.
    pub fn watch_store(&self) {
        super::store_watch::spawn(
            self.engine.clone(),
            self.runner.context.clone(),
            self.runner.tx.clone(),
        );
    }

    /// Looks for `:task` tasks on this path (the config's) instead of the default.
    pub fn with_task_path(mut self, path: Vec<std::path::PathBuf>) -> Console {
        self.runner.task_path = path;
        self
    }

    /// Shows the inventory the engine holds now.
    pub fn show_engine_inventory(&mut self) {
        let inventory = self.engine.inventory();
        self.apply(Msg::Loaded(Loaded::Inventory(Ok(Arc::clone(&inventory)))));
    }

    /// Waits for the next thing from the engine, a job or a question. Every
    /// branch is cancel-safe, so the terminal loop may race it with input.
    pub async fn recv(&mut self) -> Incoming {
        tokio::select! {
            ev = self.events.recv() => Incoming::Engine(ev),
            Some(msg) = self.jobs.recv() => Incoming::Job(msg),
            Some(q) = self.questions.recv() => Incoming::Question(q),
            else => Incoming::Closed,
        }
    }

    /// Applies what arrived, plus any engine events already queued behind it.
    pub fn handle(&mut self, incoming: Incoming) -> Control {
        let mut control = Control::Continue;
        let keep = |c: Control, control: &mut Control| {
            if *control == Control::Continue {
                *control = c;
            }
        };
        match incoming {
            Incoming::Engine(first) => {
                let mut next = Some(first);
                let mut handled = 0;
                while let Some(ev) = next.take() {
                    match ev {
                        Ok(ev) => {
                            if matches!(ev, EngineEvent::InventoryReloaded { .. }) {
                                // The tree first, then the event's notice on top.
                                let inventory = self.engine.inventory();
                                self.apply(Msg::Loaded(Loaded::Inventory(Ok(inventory))));
                            }
                            for msg in self.translate(ev) {
                                let c = self.apply(msg);
                                keep(c, &mut control);
                            }
                        }
                        Err(RecvError::Lagged(_)) => {
                            let snapshots = self.engine.executions();
                            let c = self.apply(Msg::EngineLagged(snapshots));
                            keep(c, &mut control);
                            self.catch_up_output();
                        }
                        Err(RecvError::Closed) => break,
                    }
                    handled += 1;
                    if handled < EVENT_BATCH {
                        next = match self.events.try_recv() {
                            Ok(ev) => Some(Ok(ev)),
                            Err(TryRecvError::Lagged(n)) => Some(Err(RecvError::Lagged(n))),
                            Err(_) => None,
                        };
                    }
                }
            }
            Incoming::Job(msg) => control = self.apply(msg),
            Incoming::Question((question, reply)) => {
                let id = self.next_question;
                self.next_question += 1;
                self.pending.insert(id, reply);
                control = self.apply(Msg::Question { id, question });
            }
            Incoming::Closed => {}
        }
        self.state.settle();
        control
    }

    /// Engine events become messages; a "new output" notice becomes the bytes
    /// themselves, read from the node's rings (which also re-arms the notice).
    /// The notice is one per node: bytes of the other stream that came while it
    /// was armed are announced by nobody, so both streams are read.
    fn translate(&self, ev: EngineEvent) -> Vec<Msg> {
        let EngineEvent::NodeOutput {
            execution,
            node,
            stream,
        } = &ev
        else {
            return vec![Msg::Engine(ev)];
        };
        // Output of a run the pane does not show is not read: its notice stays
        // unarmed, so a finished-with run costs nothing more.
        let Some(run) = self.state.output.live().filter(|r| r.id == execution.0) else {
            return Vec::new();
        };
        let other = match stream {
            Stream::Stdout => Stream::Stderr,
            Stream::Stderr => Stream::Stdout,
        };
        let mut msgs = Vec::new();
        for s in [*stream, other] {
            let offset = run.offset(node, s);
            let Some(read) = self.engine.read_output(execution, node, s, offset) else {
                continue;
            };
            if s == *stream || !read.data.is_empty() || read.missed > 0 {
                msgs.push(Msg::Output {
                    execution: execution.clone(),
                    node: node.clone(),
                    stream: s,
                    data: read.data,
                    missed: read.missed,
                });
            }
        }
        msgs
    }

    /// Shows what the engine holds now, as after missed events: runs already
    /// going when this console opened (another console's, a batch's) with
    /// their statuses and what their rings hold.
    pub fn catch_up(&mut self) {
        let snapshots = self.engine.executions();
        if !snapshots.is_empty() {
            self.apply(Msg::EngineLagged(snapshots));
            self.catch_up_output();
            self.state.settle();
        }
    }

    /// Reads every node's ring of the live run: output notices may have been
    /// among the missed events, and a notice is not repeated until it is read.
    fn catch_up_output(&mut self) {
        let Some(run) = self.state.output.live() else {
            return;
        };
        let id = crate::engine::ExecutionId(run.id.clone());
        let wanted: Vec<(String, Stream, u64)> = run
            .nodes
            .iter()
            .flat_map(|n| {
                [Stream::Stdout, Stream::Stderr]
                    .map(|s| (n.name.clone(), s, run.offset(&n.name, s)))
            })
            .collect();
        for (node, stream, offset) in wanted {
            if let Some(read) = self.engine.read_output(&id, &node, stream, offset)
                && (!read.data.is_empty() || read.missed > 0)
            {
                self.apply(Msg::Output {
                    execution: id.clone(),
                    node,
                    stream,
                    data: read.data,
                    missed: read.missed,
                });
            }
        }
    }

    /// Shows a recent execution in the output pane: from the engine's rings
    /// while it holds the run, else from the store.
    fn show_execution(&mut self, id: crate::engine::ExecutionId) {
        match self.engine.snapshot(&id) {
            Some(snapshot) => {
                self.apply(Msg::Loaded(Loaded::Execution(Box::new(snapshot))));
                self.catch_up_output();
            }
            None => self.runner.spawn(Effect::LoadStoredRun(id.0)),
        }
    }

    /// Runs `update` and carries out its effects.
    pub fn apply(&mut self, msg: Msg) -> Control {
        let mut control = Control::Continue;
        for effect in update(&mut self.state, msg, super::clock::Stamp::read()) {
            match effect {
                Effect::Quit => control = Control::Quit,
                Effect::Suspend => control = Control::Suspend,
                Effect::Shell(node) => control = Control::Handoff(Handoff::Shell(node)),
                Effect::Replay(id) => control = Control::Handoff(Handoff::Replay(id)),
                Effect::ShowExecution(id) => self.show_execution(id),
                Effect::Answer { id, answer } => {
                    if let Some(reply) = self.pending.remove(&id) {
                        let _ = reply.send(answer);
                    }
                }
                other => self.runner.spawn(other),
            }
        }
        control
    }

    /// Questions nobody will answer (the console is leaving) are declined.
    pub fn decline_pending(&mut self) {
        for (_, reply) in self.pending.drain() {
            let _ = reply.send(None);
        }
    }
}
