//! Popups on top of the panes, as a stack: the top one takes the keys. Help,
//! confirmation before a risky run or before quitting while work runs, the engine's questions, the journal note
//! editor and the output diff.

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

impl Overlay {
    pub fn question(id: u64, question: Question) -> Overlay {
        let mut secret = TextArea::default();
        secret.set_mask_char('•');
        Overlay::Question {
            id,
            question,
            secret,
        }
    }

    pub fn message(title: &str, text: String) -> Overlay {
        Overlay::Message {
            title: title.to_string(),
            text,
            top: 0,
        }
    }

    pub fn editor(node: &str) -> Overlay {
        let mut area = TextArea::default();
        area.set_placeholder_text("Write the note; ctrl-s saves, esc discards.");
        Overlay::Editor {
            node: node.to_string(),
            area,
        }
    }
}
