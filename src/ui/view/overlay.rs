//! Popups on top of the panes, as a stack: the top one takes the keys. Help,
//! confirmation before a risky run or before quitting while work runs, the
//! engine's questions, the journal note editor and the output diff. The
//! console keeps the stack; drawing shows it as it is.

use crate::engine::transport::interaction::Question;
use ratatui_textarea::TextArea;

pub enum Overlay {
    Help {
        top: usize,
    },
    Confirm {
        command: String,
        targets: String,
        count: usize,
        reasons: Vec<String>,
        /// Set when the run is a re-run of an earlier one.
        rerun: Option<crate::engine::submit::label::RerunOf>,
    },
    /// `q` while something runs: quit anyway (y) or stay (n).
    ConfirmQuit {
        /// What is still running, for the question.
        running: String,
    },
    Question {
        id: u64,
        question: Question,
        /// Passphrase input, shown masked.
        secret: TextArea<'static>,
    },
    Editor {
        node: String,
        area: TextArea<'static>,
    },
    Diff {
        title: String,
        lines: Vec<(char, String)>,
        top: usize,
    },
    /// A long error or notice, wrapped and scrollable.
    Message {
        title: String,
        text: String,
        /// First (unwrapped) line shown.
        top: usize,
    },
}

/// The help overlay's text for one keymap mode: its title and each action's
/// keys with what it does.
pub struct HelpSection {
    pub title: String,
    pub actions: Vec<(String, &'static str)>,
}
