//! The console front end. It owns the terminal: raw mode and the alternate
//! screen are restored on exit, on panic (ratatui's hook) and on SIGTERM; the
//! first frame is painted before the inventory loads.
//!
//! Data flows one way: terminal input becomes `Msg::Key`, engine events and
//! background job results become messages too; `update` turns each into view
//! state changes and effects; `views::build` turns the state into plain views
//! and `ui::draw` paints them.

pub mod action;
pub mod clock;
pub mod commands;
pub mod console;
pub mod cursor;
pub mod effects;
pub mod engine_events;
pub mod facts;
pub mod headless;
pub mod history;
pub mod input;
pub mod interaction;
pub mod inventory;
pub mod journal;
pub mod keymap;
pub mod keys;
pub use crate::ui::layout;
pub mod loaded;
pub mod messages;
pub mod msg;
pub mod news_update;
pub mod output;
pub mod output_search;
pub mod overlay;
mod pane;
pub mod panes;
pub mod plan;
pub mod plan_actions;
pub mod progress;
mod replay;
pub mod rerun_actions;
pub mod run_output;
pub mod run_request;
pub mod state;
pub mod store_news;
pub mod store_watch;
pub mod tabs;
pub mod target_preview;
pub mod update;
#[cfg(test)]
mod update_determinism;
pub mod views;
pub mod write_output;

use crate::app::stop_signals::{StopSignal, StopSignals};
use crate::app::{exit, setup};
use crate::cli::GlobalArgs;
use crate::config::Config;
pub use console::Handoff;
use console::{Console, Control};
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures_util::Stream;
use futures_util::StreamExt;
use interaction::ConsoleInteraction;
use keymap::Keymap;
use msg::Msg;
use ratatui::backend::Backend;
use ratatui::layout::Rect;
use ratatui::{DefaultTerminal, Terminal};
use state::{AppState, UiOptions};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// At most this often (60 fps); usually far less: only when something changed.
const FRAME: Duration = Duration::from_millis(16);

pub async fn launch(global: &GlobalArgs, config: Config, state_dir: PathBuf) -> u8 {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        eprintln!(
            "drover: the console needs a terminal; use a subcommand (drover run ...) for headless use"
        );
        return exit::USAGE;
    }
    let (keymap, mut options) = match console_settings(global, &config) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("drover: {e}");
            return exit::USAGE;
        }
    };
    options.no_color |= std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let (interaction, questions) = ConsoleInteraction::new();
    let run_options = setup::run_defaults(&config);

    // ratatui::init enters raw mode and the alternate screen and installs a panic
    // hook that restores the terminal before the previous hook prints.
    let mut terminal = ratatui::init();
    let size = terminal
        .size()
        .map(|s| Rect::new(0, 0, s.width, s.height))
        .unwrap_or_default();
    let mut state = AppState::new(
        keymap,
        options,
        size,
        crate::engine::common::request::local_user_name(),
    );
    state.info("loading inventory…");
    state.settle();
    let _ = terminal.draw(|f| crate::ui::draw(f, &views::build(&state, f.area())));

    let mut rt = match setup::start_console(global, config, state_dir, Arc::new(interaction)) {
        Ok(rt) => rt,
        Err(e) => {
            ratatui::restore();
            eprintln!("drover: {e:#}");
            return exit::USAGE;
        }
    };
    if let Err(e) = setup::act_as(global, &mut rt).await {
        ratatui::restore();
        eprintln!("drover: {e}");
        setup::finish(rt).await;
        return exit::DENIED;
    }
    let console = Console::new(
        state,
        rt.engine.clone(),
        run_options,
        rt.context.clone(),
        questions,
    );
    let mut console = console.with_task_path(rt.config.tasks.path.clone());
    if let Some(service) = rt.engine.inventory_service() {
        console.load_inventory(service);
    }
    // Runs and notes of other drover processes on the same store.
    console.watch_store();
    // Inventory files and the ssh_config are watched; a change reloads them and
    // the tree follows (EngineEvent::InventoryReloaded).
    let _watch = match setup::watch_inventory(&rt) {
        Ok(w) => Some(w),
        Err(e) => {
            console
                .state
                .error(format!("inventory files are not watched: {e:#}"));
            None
        }
    };
    // SIGTERM, SIGHUP (the terminal closed) and an outside SIGINT end the console as
    // `q` does: running work is cancelled by the shutdown below and the terminal is
    // restored; the exit code is 128 + the signal.
    let stopped_by = std::cell::Cell::new(None);
    let mut signals = StopSignals::listen();
    let quit = async {
        stopped_by.set(Some(signals.recv().await));
    };
    let engine = rt.engine.clone();
    let context = rt.context.clone();
    let sessions = rt.config.sessions.clone();
    let handoff = async |terminal: &mut DefaultTerminal, to: &Handoff| match to {
        Handoff::Shell(node) => {
            let record = sessions.record.then_some(sessions.max_transcript_bytes);
            shell_session(terminal, &engine, &context, node, record).await
        }
        Handoff::Replay(id) => replay::replay_transcript(terminal, &engine, &context, id).await,
    };
    let result = drive(
        &mut terminal,
        &mut console,
        EventStream::new(),
        quit,
        suspend,
        handoff,
    )
    .await;
    console.decline_pending();
    ratatui::restore();
    let code = match result {
        Ok(()) => stopped_by
            .get()
            .map_or(exit::SUCCESS, StopSignal::exit_code),
        Err(e) => {
            eprintln!("drover: terminal: {e}");
            exit::FAILED
        }
    };
    setup::finish(rt).await;
    code
}

/// The keymap and view options a console takes from the config (`[ui]`, and
/// `keymap.toml` beside the config file); the terminal's `NO_COLOR` is the
/// caller's to add. `Err` names the keymap file and what is wrong with it.
pub fn console_settings(
    global: &GlobalArgs,
    config: &Config,
) -> Result<(Arc<Keymap>, UiOptions), keymap::KeymapError> {
    let keymap_file = config
        .ui
        .keymap
        .clone()
        .or_else(|| setup::keymap_path(global));
    let keymap = Arc::new(Keymap::load(keymap_file.as_deref())?);
    let options = UiOptions {
        no_color: config.ui.theme == "no-color",
        confirm_above: config.ui.confirm_above_nodes,
        danger: config.ui.danger_patterns.clone(),
        ..UiOptions::default()
    };
    Ok((keymap, options))
}

/// The console's loop over any terminal and input stream (the benchmarks drive
/// it with a counting backend and synthetic input). Input wins ties (biased),
/// engine events are handled in batches, and a frame is drawn only when
/// something changed, at most every `FRAME`.
pub async fn drive<B, I>(
    terminal: &mut Terminal<B>,
    console: &mut Console,
    mut input: I,
    quit: impl Future<Output = ()>,
    mut suspend: impl FnMut(&mut Terminal<B>) -> std::io::Result<()>,
    mut handoff: impl AsyncFnMut(&mut Terminal<B>, &Handoff) -> std::io::Result<Result<String, String>>,
) -> std::io::Result<()>
where
    B: Backend,
    B::Error: Into<std::io::Error>,
    I: Stream<Item = std::io::Result<Event>> + Unpin,
{
    let mut quit = std::pin::pin!(quit);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    loop {
        if dirty && last_draw.elapsed() >= FRAME {
            terminal
                .draw(|f| crate::ui::draw(f, &views::build(&console.state, f.area())))
                .map_err(Into::into)?;
            last_draw = Instant::now();
            dirty = false;
        }
        let running =
            console.state.running_count() > 0 || console.state.progress.running_plan().is_some();
        let control = tokio::select! {
            biased;
            ev = input.next() => match ev {
                // The screen was lost (a terminal attached to a hosted session):
                // everything is painted again, not only what changed.
                Some(Ok(Event::FocusGained)) => {
                    terminal.clear().map_err(Into::into)?;
                    dirty = true;
                    Control::Continue
                }
                Some(Ok(ev)) => {
                    dirty = true;
                    terminal_event(console, ev)
                }
                Some(Err(e)) => return Err(e),
                None => Control::Quit,
            },
            _ = &mut quit => Control::Quit,
            incoming = console.recv() => {
                dirty = true;
                console.handle(incoming)
            }
            _ = tokio::time::sleep_until(last_draw + FRAME), if dirty => Control::Continue,
            _ = tick.tick(), if running => {
                dirty = true;
                console.apply(Msg::Tick)
            }
        };
        match control {
            Control::Continue => {}
            Control::Quit => return Ok(()),
            Control::Suspend => {
                suspend(terminal)?;
                dirty = true;
            }
            Control::Handoff(to) => {
                // The loop waits here: nothing reads the terminal but the session
                // (or the replay).
                let result = handoff(terminal, &to).await?;
                if let Ok(size) = terminal.size() {
                    console.state.size = Rect::new(0, 0, size.width, size.height);
                    console.apply(Msg::Resize);
                }
                let ended = match to {
                    Handoff::Shell(node) => msg::Loaded::ShellEnded { node, result },
                    Handoff::Replay(_) => msg::Loaded::ReplayEnded(result),
                };
                console.apply(Msg::Loaded(ended));
                console.state.settle();
                dirty = true;
            }
        }
        if console.state.quit {
            return Ok(());
        }
    }
}

fn terminal_event(console: &mut Console, ev: Event) -> Control {
    let control = match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => console.apply(Msg::Key(k)),
        Event::Paste(text) => console.apply(Msg::Paste(text)),
        Event::Resize(w, h) => {
            console.state.size = Rect::new(0, 0, w, h);
            console.apply(Msg::Resize)
        }
        _ => Control::Continue,
    };
    console.state.settle();
    control
}

/// Ctrl-z: give the terminal back to the shell, stop, and take it again on `fg`.
fn suspend(terminal: &mut DefaultTerminal) -> std::io::Result<()> {
    ratatui::restore();
    let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGTSTP);
    crossterm::terminal::enable_raw_mode()?;
    crossterm::execute!(std::io::stdout(), crossterm::terminal::EnterAlternateScreen)?;
    terminal.clear()
}

/// `s` on a node: hand the terminal to an interactive session on it, then take
/// it back as it was. The session restores cooked mode itself (a guard); here
/// the console's raw mode and alternate screen come back whatever happened.
async fn shell_session(
    terminal: &mut DefaultTerminal,
    engine: &crate::engine::Engine,
    context: &crate::engine::ExecutionContext,
    node: &str,
    record: Option<u64>,
) -> std::io::Result<Result<String, String>> {
    // Keys that arrived together with `s` (a paste, fast typing) were meant for
    // neither side for sure; run as console keys after the session they could
    // quit or start things, so they are dropped.
    while crossterm::event::poll(Duration::ZERO).unwrap_or(false) {
        let _ = crossterm::event::read();
    }
    ratatui::restore();
    let _ = crossterm::execute!(std::io::stdout(), crossterm::cursor::Show);
    println!("drover: shell on {node}; exit it to return to the console");
    // Questions cannot be answered while the console is away: a connection that
    // would need one (unknown host key, encrypted key) fails with the reason.
    let open = crate::app::session::Open {
        node,
        command: None,
        interaction: Some(Arc::new(
            crate::engine::transport::interaction::NoInteraction,
        )),
        context: context.clone(),
        record,
    };
    let outcome = crate::app::session::run(engine, open).await;
    crossterm::terminal::enable_raw_mode()?;
    crossterm::execute!(std::io::stdout(), crossterm::terminal::EnterAlternateScreen)?;
    terminal.clear()?;
    Ok(match outcome {
        Ok(o) => Ok(o.summary("shell")),
        Err(e) => Err(e.detail()),
    })
}
