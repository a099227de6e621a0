//! The output pane: the lines of the run shown (folded groups or per-node
//! blocks), as the flattened view gives them, and how they are shown.

use crate::engine::NodeStatus;

/// A kept line of a node's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutLine {
    pub stderr: bool,
    /// drover's word, not the node's: where history left bytes out.
    pub notice: bool,
    /// Sanitised: no control characters, only SGR sequences when kept.
    pub text: String,
}

/// A line of the flattened view, as drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewLine<'a> {
    Header {
        label: &'a str,
        members: usize,
        rep: usize,
        /// Every member's status: a block never mixes them.
        status: NodeStatus,
        exit_code: Option<i32>,
    },
    Gap {
        dropped: u64,
        missed: u64,
    },
    /// A kept line; `node` names its node in the per-node view (`node: line`).
    Text {
        line: &'a OutLine,
        node: Option<&'a str>,
    },
    /// The unfinished last line of a stream.
    Partial {
        line: OutLine,
        node: Option<&'a str>,
    },
}

pub enum OutputPane<'a> {
    NoRun,
    Run(RunLines<'a>),
}

/// The lines on screen of the run shown, and how they are shown.
pub struct RunLines<'a> {
    pub command: &'a str,
    pub folded: bool,
    pub follow: bool,
    pub show_stderr: bool,
    pub wrap: bool,
    pub replay: bool,
    /// `match 3/17` while searching, else empty.
    pub counter: String,
    /// The lines from the first one shown, a pane's height of them.
    pub lines: Vec<ViewLine<'a>>,
    /// Columns scrolled off the left (none when wrapping).
    pub left: usize,
    /// What is searched for, highlighted.
    pub search: Option<&'a str>,
}
