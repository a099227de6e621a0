//! The console driven without a terminal, for tests and benchmarks: key strings
//! in (`"<space>j:run uptime<enter>"`), view state and rendered screens out.
//! It waits on real engine events, never on the clock.

use super::console::{Console, Control};
use super::interaction::{Asked, ConsoleInteraction};
use super::keymap::Keymap;
use super::keys::{Key, KeyError};
use super::msg::Msg;
use super::state::{AppState, UiOptions};
use crate::engine::{Engine, ExecutionOptions};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

pub struct Headless {
    pub console: Console,
    terminal: Terminal<TestBackend>,
}

impl Headless {
    /// A console over `engine`, showing the inventory the engine holds.
    /// History, journals and facts are read through the engine (give it its
    /// store with `Engine::with_store`).
    pub fn new(engine: Engine, width: u16, height: u16) -> Headless {
        let (_, questions) = mpsc::unbounded_channel();
        Headless::with_questions(engine, width, height, questions)
    }

    /// Like `new`, answering the questions of a [`ConsoleInteraction`] given to
    /// the engine's transports.
    pub fn with_questions(
        engine: Engine,
        width: u16,
        height: u16,
        questions: mpsc::UnboundedReceiver<Asked>,
    ) -> Headless {
        let state = AppState::new(
            Arc::new(Keymap::defaults()),
            UiOptions::default(),
            Rect::new(0, 0, width, height),
            "test".into(),
        );
        // The default config's run options, with a bound so a stuck test ends.
        let options = ExecutionOptions {
            timeout: Some(Duration::from_secs(60)),
            ..crate::app::setup::run_defaults(&crate::config::Config::default())
        };
        let mut console = Console::new(
            state,
            engine,
            options,
            crate::engine::ExecutionContext::local(),
            questions,
        );
        console.show_engine_inventory();
        console.state.settle();
        let terminal = Terminal::new(TestBackend::new(width, height)).expect("test backend");
        Headless { console, terminal }
    }

    pub fn interaction() -> (ConsoleInteraction, mpsc::UnboundedReceiver<Asked>) {
        ConsoleInteraction::new()
    }

    pub fn state(&self) -> &AppState {
        &self.console.state
    }

    pub fn state_mut(&mut self) -> &mut AppState {
        &mut self.console.state
    }

    /// Types a key string; returns the last non-`Continue` control, if any.
    pub fn keys(&mut self, keys: &str) -> Result<Control, KeyError> {
        let mut control = Control::Continue;
        for key in Key::sequence(keys)? {
            let c = self.console.apply(Msg::Key(key.to_event()));
            self.console.state.settle();
            if c != Control::Continue {
                control = c;
            }
        }
        Ok(control)
    }

    /// Handles what the engine and background jobs send until `done` holds.
    /// `Err` (with the screen) if it does not within `limit` — a failure guard,
    /// not a synchronisation sleep.
    pub async fn until(
        &mut self,
        limit: Duration,
        done: impl Fn(&AppState) -> bool,
    ) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + limit;
        while !done(&self.console.state) {
            match tokio::time::timeout_at(deadline, self.console.recv()).await {
                Ok(incoming) => {
                    self.console.handle(incoming);
                }
                Err(_) => {
                    return Err(format!(
                        "condition not reached in {limit:?}; screen:\n{}",
                        self.screen()
                    ));
                }
            }
        }
        Ok(())
    }

    /// Draws the current state (what the terminal loop does each frame).
    pub fn draw(&mut self) {
        let state = &self.console.state;
        self.terminal
            .draw(|f| crate::ui::draw(f, &super::views::build(state, f.area())))
            .expect("drawing on a test backend");
    }

    /// Draws the current state and returns the screen as text, one line per row.
    pub fn screen(&mut self) -> String {
        self.draw();
        buffer_text(self.terminal.backend().buffer())
    }

    pub fn resize(&mut self, width: u16, height: u16) {
        self.terminal.backend_mut().resize(width, height);
        self.console.state.size = Rect::new(0, 0, width, height);
        self.console.apply(Msg::Resize);
        self.console.state.settle();
    }

    pub fn buffer(&self) -> &ratatui::buffer::Buffer {
        self.terminal.backend().buffer()
    }
}

/// A buffer's text, rows joined by newlines, trailing spaces trimmed.
pub fn buffer_text(buf: &ratatui::buffer::Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut line = String::new();
        for x in area.left()..area.right() {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
