//! Console sessions hosted in the service. Each is the console's own state
//! machine ([`crate::app::tui::console::Console`]) driven by the console's own
//! loop ([`crate::app::tui::drive`]) against the service's engine, under the
//! identity of the user who opened it; only its terminal is remote.
//!
//! A session outlives its terminal: when the connection goes (SIGHUP, a dropped
//! SSH link, `ctrl-z`, `:detach`) it keeps consuming engine events, and the next
//! console of the same user takes it over and is repainted whole. A second
//! console opened while the first is attached gets a session of its own; both
//! see the same runs, because they share one engine. `q` ends a session; the runs
//! it started go on in the service.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crossterm::event::Event;
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::layout::{Rect, Size};
use tokio::sync::{mpsc, oneshot};

use super::screen::{Link, RemoteScreen};
use crate::app::tui::console::{Console, Handoff as ConsoleHandoff};
use crate::app::tui::interaction::Asked;
use crate::app::tui::keymap::Keymap;
use crate::app::tui::state::{AppState, UiOptions};
use crate::app::wire::protocol::{Handoff, ServerFrame};
use crate::engine::{Engine, ExecutionContext, ExecutionOptions};

/// What every session is made from: the service's engine and the console
/// settings of the service's config.
pub struct HostSettings {
    pub engine: Engine,
    /// The service's own account: only its consoles are asked the engine's
    /// questions (a team service's runs are never answered for by a visitor).
    pub owner: String,
    pub keymap: Arc<Keymap>,
    pub ui: UiOptions,
    pub run_options: ExecutionOptions,
    pub task_path: Vec<std::path::PathBuf>,
}

/// One hosted console.
pub struct Session {
    pub id: u64,
    /// Whose it is: only they may attach to it.
    pub user: String,
    input: mpsc::UnboundedSender<Event>,
    pub(super) link: Arc<Link>,
    /// The engine's questions (an unknown host key) put to this console.
    questions: mpsc::UnboundedSender<Asked>,
    /// When a terminal last attached: questions go to the latest.
    attached_at: Mutex<std::time::Instant>,
    /// The answer a hand-off (a shell on the client's terminal) waits for.
    handoff: Mutex<Option<oneshot::Sender<Result<String, String>>>>,
}

impl Session {
    /// A key, paste or resize from the attached terminal.
    pub fn input(&self, event: Event) {
        if let Event::Resize(w, h) = event {
            self.link.set_size(Size::new(w, h));
        }
        let _ = self.input.send(event);
    }

    /// The client finished (or could not do) the hand-off it was asked for.
    pub fn handoff_done(&self, result: Result<String, String>) {
        if let Some(reply) = self.lock_handoff().take() {
            let _ = reply.send(result);
        }
    }

    /// The terminal `connection` went away.
    pub fn detach(&self, connection: u64) {
        self.link.detach(connection);
        if !self.link.is_attached() {
            self.handoff_done(Err("the terminal went away during the hand-off".into()));
        }
    }

    fn lock_handoff(
        &self,
    ) -> std::sync::MutexGuard<'_, Option<oneshot::Sender<Result<String, String>>>> {
        self.handoff.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The sessions of one service.
pub struct ConsoleHost {
    settings: HostSettings,
    sessions: Mutex<Vec<Arc<Session>>>,
    next_id: AtomicU64,
    /// Told each time a session ends (one waiter: the idle check; a permit is
    /// kept if it is busy, so no end goes unseen).
    pub ended: tokio::sync::Notify,
}

/// What `attach` gives a connection: its session, its id, and what to send it.
pub struct Attached {
    pub session: Arc<Session>,
    pub connection: u64,
    pub frames: mpsc::UnboundedReceiver<ServerFrame>,
    /// Whether it took over a detached session (else it started one).
    pub resumed: bool,
}

impl ConsoleHost {
    pub fn new(settings: HostSettings) -> Arc<ConsoleHost> {
        Arc::new(ConsoleHost {
            settings,
            sessions: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
            ended: tokio::sync::Notify::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Session>>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Puts the engine's questions to the owner's most recently attached
    /// console; with none attached, a question is declined at once (the
    /// connection then fails with the reason, as in batch).
    pub fn route_questions(self: &Arc<Self>, mut asked: mpsc::UnboundedReceiver<Asked>) {
        let host = Arc::clone(self);
        tokio::spawn(async move {
            while let Some((question, reply)) = asked.recv().await {
                let target = host
                    .lock()
                    .iter()
                    .filter(|s| s.user == host.settings.owner && s.link.is_attached())
                    .max_by_key(|s| *s.attached_at.lock().unwrap_or_else(|p| p.into_inner()))
                    .cloned();
                match target {
                    Some(session) => {
                        if let Err(mpsc::error::SendError((_, reply))) =
                            session.questions.send((question, reply))
                        {
                            let _ = reply.send(None);
                        }
                    }
                    None => {
                        let _ = reply.send(None);
                    }
                }
            }
        });
    }

    /// Whether no console session is left (for a service that ends when idle).
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Every attached terminal is let go, told `why` (the service is stopping).
    pub fn let_all_go(&self, why: &str) {
        for session in self.lock().iter() {
            session.link.let_go(why);
        }
    }

    /// Attaches a terminal of `size` for `context.user`: to that user's most
    /// recently opened detached session, unless `fresh`; else to a new one.
    pub fn attach(
        self: &Arc<Self>,
        context: ExecutionContext,
        size: Size,
        no_color: bool,
        fresh: bool,
    ) -> Attached {
        let connection = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, frames) = mpsc::unbounded_channel();
        let detached = if fresh {
            None
        } else {
            self.lock()
                .iter()
                .rev()
                .find(|s| s.user == context.user && !s.link.is_attached())
                .cloned()
        };
        let (session, resumed) = match detached {
            Some(s) => (s, true),
            None => (self.start(context, size, no_color), false),
        };
        session.link.attach(connection, tx, size);
        *session
            .attached_at
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = std::time::Instant::now();
        // The new terminal is blank: its size first, then everything repainted.
        session.input(Event::Resize(size.width, size.height));
        let _ = session.input.send(Event::FocusGained);
        Attached {
            session,
            connection,
            frames,
            resumed,
        }
    }

    fn start(
        self: &Arc<Self>,
        context: ExecutionContext,
        size: Size,
        no_color: bool,
    ) -> Arc<Session> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (input, input_rx) = mpsc::unbounded_channel();
        let (questions, questions_rx) = mpsc::unbounded_channel();
        let session = Arc::new(Session {
            id,
            user: context.user.clone(),
            input,
            link: Arc::new(Link::default()),
            questions,
            attached_at: Mutex::new(std::time::Instant::now()),
            handoff: Mutex::new(None),
        });
        session.link.set_size(size);
        self.lock().push(Arc::clone(&session));
        let host = Arc::clone(self);
        let running = Arc::clone(&session);
        // The console's loop holds its terminal across awaits in ways that are not
        // `Send`; it gets a thread of its own, blocking on the service's runtime,
        // so what it spawns (runs, reads) still runs there and outlives it.
        let runtime = tokio::runtime::Handle::current();
        let spawned = std::thread::Builder::new()
            .name(format!("console-{id}"))
            .spawn(move || {
                let asked = questions_rx;
                runtime.block_on(host.run(&running, context, size, no_color, input_rx, asked));
                running.link.send(ServerFrame::Ended);
                host.lock().retain(|s| s.id != running.id);
                host.ended.notify_one();
                tracing::info!(session = running.id, user = %running.user, "console session ended");
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start a console session thread: {e}");
            session.link.send(ServerFrame::Detached(format!(
                "cannot start a console session: {e}"
            )));
            self.lock().retain(|s| s.id != id);
        }
        tracing::info!(session = id, user = %session.user, "console session started");
        session
    }

    /// The console's loop over the remote screen until the session is quit.
    async fn run(
        &self,
        session: &Arc<Session>,
        context: ExecutionContext,
        size: Size,
        no_color: bool,
        mut input: mpsc::UnboundedReceiver<Event>,
        questions: mpsc::UnboundedReceiver<Asked>,
    ) {
        let s = &self.settings;
        let mut ui = s.ui.clone();
        ui.no_color |= no_color;
        ui.hosted = true;
        let mut state = AppState::new(
            Arc::clone(&s.keymap),
            ui,
            Rect::new(0, 0, size.width, size.height),
            context.user.clone(),
        );
        state.settle();
        let console = Console::new(
            state,
            s.engine.clone(),
            s.run_options.clone(),
            context,
            questions,
        );
        let mut console = console.with_task_path(s.task_path.clone());
        console.show_engine_inventory();
        // Runs already going (another console's, a batch's): shown with what
        // their rings hold.
        console.catch_up();
        console.watch_store();
        let mut terminal = match Terminal::new(RemoteScreen::new(Arc::clone(&session.link))) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!("console session {}: {e}", session.id);
                return;
            }
        };
        let keys = futures_util::stream::poll_fn(move |cx| input.poll_recv(cx)).map(Ok);
        let link = Arc::clone(&session.link);
        let suspend = move |_: &mut Terminal<RemoteScreen>| {
            link.let_go("detached; `drover` attaches again");
            Ok(())
        };
        let handoff = async |_: &mut Terminal<RemoteScreen>, to: &ConsoleHandoff| {
            let (reply, answer) = oneshot::channel();
            *session.lock_handoff() = Some(reply);
            if !session.link.is_attached() {
                return Ok(Err("no terminal is attached".to_string()));
            }
            session.link.send(ServerFrame::Handoff(match to {
                ConsoleHandoff::Shell(node) => Handoff::Shell(node.clone()),
                ConsoleHandoff::Replay(id) => Handoff::Replay(id.clone()),
            }));
            Ok(answer
                .await
                .unwrap_or_else(|_| Err("the terminal went away during the hand-off".into())))
        };
        let quit = std::future::pending::<()>();
        if let Err(e) =
            crate::app::tui::drive(&mut terminal, &mut console, keys, quit, suspend, handoff).await
        {
            tracing::error!("console session {}: {e}", session.id);
        }
        console.decline_pending();
    }
}
