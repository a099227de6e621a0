//! What each pane shows, as plain data: the console fills these from its
//! state at draw time and `ui::draw` paints them. Nothing here knows where the
//! data came from, so drawing cannot reach into the console's state.

pub mod inventory;
pub mod output;
pub mod overlay;
pub mod progress;

use super::layout::Areas;
use crate::engine::records::{ExecutionRecord, JournalEntry};
use inventory::InventoryPane;
use output::OutputPane;
use overlay::{HelpSection, Overlay};
use progress::{ProgressPane, StripView};
use ratatui_textarea::TextArea;

/// One frame of the console.
pub struct ConsoleView<'a> {
    pub no_color: bool,
    pub areas: Areas,
    /// The tab row of a narrow terminal: each tab's name, and whether it is shown.
    pub tabs: Vec<(&'static str, bool)>,
    pub inventory: InventoryPane<'a>,
    pub strip: StripView<'a>,
    pub title: MainTitle,
    pub main: MainPane<'a>,
    pub bar: BarView<'a>,
    pub status: StatusView<'a>,
    /// Popups, bottom of the stack first.
    pub overlays: &'a [Overlay],
    /// The keymap as the help overlay lists it (empty when no help is open).
    pub help: Vec<HelpSection>,
}

/// The main pane's title: the views named as tabs, which one is shown, and
/// whether the pane has focus.
pub struct MainTitle {
    /// Empty on a narrow terminal, whose tab row names the views instead.
    pub views: Vec<&'static str>,
    pub shown: usize,
    pub focused: bool,
    /// Wide enough (120 columns) to name every view, not only the shown one.
    pub wide: bool,
}

/// The view in the main pane.
pub enum MainPane<'a> {
    Output(OutputPane<'a>),
    Progress(ProgressPane<'a>),
    History(HistoryPane<'a>),
    Journal(JournalPane<'a>),
    Facts(FactsPane<'a>),
}

/// A scrolled list: its first remembered row and the cursor.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListPos {
    pub top: usize,
    pub cursor: usize,
}

pub struct HistoryPane<'a> {
    pub records: &'a [ExecutionRecord],
    /// Indexes into `records`, in the order shown.
    pub matches: &'a [usize],
    pub query: &'a str,
    pub loading: bool,
    pub error: Option<&'a str>,
    pub pos: ListPos,
}

pub struct JournalPane<'a> {
    pub node: &'a str,
    /// The type filter's name ("all types" when none).
    pub filter: &'a str,
    /// Entries passing the filter, newest first.
    pub entries: Vec<&'a JournalEntry>,
    pub loading: bool,
    pub error: Option<&'a str>,
    pub pos: ListPos,
}

pub struct FactsPane<'a> {
    pub node: &'a str,
    /// Key, value (remote text, sanitised when drawn) and provider.
    pub rows: Vec<[&'a str; 3]>,
    pub loading: bool,
    pub error: Option<&'a str>,
    /// First row shown.
    pub top: usize,
}

/// The input line: a prompt being typed at, or the keys worth knowing.
pub enum BarView<'a> {
    Input {
        prompt: &'static str,
        area: &'a TextArea<'static>,
    },
    /// Each key with what it does, in the order shown.
    Hints(Vec<(String, &'static str)>),
}

/// The status line.
pub struct StatusView<'a> {
    pub left: StatusText<'a>,
    pub running: usize,
    /// The key that cancels, named while something runs.
    pub cancel_key: Option<String>,
}

pub enum StatusText<'a> {
    Empty,
    /// What a command typed on the run prompt will run on.
    Preview(String),
    Info(&'a str),
    Error(&'a str),
}
