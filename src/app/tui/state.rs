//! The console's view state: one small struct per pane, composed here, plus
//! focus, the input bar, the overlay stack and the status line. `update.rs`
//! changes it; `views` turns it into what `ui` draws.

use super::clock::Stamp;
use super::facts::FactsView;
use super::history::HistoryView;
use super::input::Bar;
use super::inventory::InventoryView;
use super::journal::JournalView;
use super::keymap::{Keymap, Mode};
use super::layout::{self, Areas};
use super::output::OutputView;
use super::overlay::Overlay;
use super::progress::ProgressView;
use crate::engine::Inventory;
use crate::ui::sanitize::SanitizeOptions;
use ratatui::layout::Rect;
use std::collections::VecDeque;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Inventory,
    Main,
}

/// What the main pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Output,
    Progress,
    History,
    Journal,
    Facts,
}

impl View {
    pub const ALL: [View; 5] = [
        View::Output,
        View::Progress,
        View::History,
        View::Journal,
        View::Facts,
    ];

    pub fn title(self) -> &'static str {
        match self {
            View::Output => "Output",
            View::Progress => "Progress",
            View::History => "History",
            View::Journal => "Journal",
            View::Facts => "Facts",
        }
    }

    pub fn mode(self) -> Mode {
        match self {
            View::Output => Mode::Output,
            View::Progress => Mode::Progress,
            View::History => Mode::History,
            View::Journal => Mode::Journal,
            View::Facts => Mode::Facts,
        }
    }
}

/// Console settings from the config's `[ui]` section.
#[derive(Debug, Clone)]
pub struct UiOptions {
    /// Ask before running on more nodes than this.
    pub confirm_above: usize,
    /// Ask before running a command containing one of these.
    pub danger: Vec<String>,
    pub sanitize: SanitizeOptions,
    pub no_color: bool,
    /// Hosted by `drover serve`: runs outlive the console, so quitting leaves
    /// them going and `:detach` lets the terminal go.
    pub hosted: bool,
}

impl Default for UiOptions {
    fn default() -> Self {
        UiOptions {
            confirm_above: 50,
            danger: [
                "rm -rf", "reboot", "shutdown", "halt", "poweroff", "mkfs", "dd ", "init 0",
            ]
            .map(String::from)
            .to_vec(),
            sanitize: SanitizeOptions {
                keep_sgr: true,
                tab_width: Some(8),
                cursor_controls: true,
            },
            no_color: false,
            hosted: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

/// Notices and errors kept for `:messages`; older ones are let go.
pub const MAX_MESSAGES: usize = 500;

/// One notice or error, when it was shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub at_ms: i64,
    pub level: Level,
    pub text: String,
}

pub struct AppState {
    pub keymap: Arc<Keymap>,
    pub options: UiOptions,
    pub size: Rect,
    pub focus: Focus,
    pub view: View,
    pub inventory_data: Arc<Inventory>,
    pub inventory: InventoryView,
    pub output: OutputView,
    pub progress: ProgressView,
    pub history: HistoryView,
    pub journal: JournalView,
    pub facts: FactsView,
    pub bar: Option<Bar>,
    /// Commands run this session and from history, oldest first.
    pub recall: Vec<String>,
    pub overlays: Vec<Overlay>,
    pub status: Option<(Level, String)>,
    /// Every notice and error of the session, oldest first (bounded), for
    /// `:messages`.
    pub messages: VecDeque<Message>,
    pub user: String,
    pub quit: bool,
    /// When the message being handled (or the last one) came: the only time
    /// `update` and the views know.
    pub clock: Stamp,
}

impl AppState {
    pub fn new(keymap: Arc<Keymap>, options: UiOptions, size: Rect, user: String) -> AppState {
        let mut output = OutputView::default();
        output.sanitize = options.sanitize.clone();
        AppState {
            keymap,
            options,
            size,
            focus: Focus::Inventory,
            view: View::Output,
            inventory_data: Arc::new(Inventory::default()),
            inventory: InventoryView::default(),
            output,
            progress: ProgressView::default(),
            history: HistoryView::default(),
            journal: JournalView::default(),
            facts: FactsView::default(),
            bar: None,
            recall: Vec::new(),
            overlays: Vec::new(),
            status: None,
            messages: VecDeque::new(),
            user,
            quit: false,
            clock: Stamp::read(),
        }
    }

    pub fn areas(&self) -> Areas {
        layout::areas(
            self.size,
            self.focus == Focus::Main,
            self.progress.has_content(),
            self.bar.is_some(),
        )
    }

    /// The keymap mode of whatever has focus.
    pub fn mode(&self) -> Mode {
        match self.focus {
            Focus::Inventory => Mode::Inventory,
            Focus::Main => self.view.mode(),
        }
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.notify(Level::Info, text.into());
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.notify(Level::Error, text.into());
    }

    fn notify(&mut self, level: Level, text: String) {
        if self.messages.len() >= MAX_MESSAGES {
            self.messages.pop_front();
        }
        self.messages.push_back(Message {
            at_ms: self.clock.wall_ms,
            level,
            text: text.clone(),
        });
        self.status = Some((level, text));
    }

    /// Recomputes derived view data after a batch of messages.
    pub fn settle(&mut self) {
        let areas = self.areas();
        self.output.page = layout::inner_height(areas.main);
        self.output.settle();
    }

    pub fn running_count(&self) -> usize {
        self.progress.running().count()
    }
}
