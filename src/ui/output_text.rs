//! The output pane's lines as plain text: what the pane draws, minus colours,
//! borders and scrolling. The pane builds its lines from these pieces, and
//! `:write` saves `lines` of the whole view, so a written file holds what the pane shows.

use super::sgr;
use super::view::output::ViewLine;
use crate::engine::NodeStatus;

/// `── web[01-03] (3) ` (the status follows).
pub fn header(label: &str, members: usize) -> String {
    format!("── {label} ({members}) ")
}

pub fn status(status: NodeStatus, exit: Option<i32>) -> String {
    match status {
        NodeStatus::Pending => "pending".into(),
        NodeStatus::Running => "running".into(),
        NodeStatus::Success => "ok".into(),
        NodeStatus::Failed => match exit {
            Some(c) => format!("exit {c}"),
            None => "failed".into(),
        },
        NodeStatus::Timeout => "timed out".into(),
        NodeStatus::Cancelled => "cancelled".into(),
    }
}

/// What the pane no longer holds of a node.
pub fn gap(dropped: u64, missed: u64) -> String {
    let mut what = Vec::new();
    if dropped > 0 {
        what.push(format!("{dropped} earlier lines not kept"));
    }
    if missed > 0 {
        what.push(format!("{missed} bytes skipped while the pane was behind"));
    }
    format!("  … {} …", what.join(", "))
}

/// `! ` for stderr, two spaces for stdout.
pub fn marker(stderr: bool) -> &'static str {
    if stderr { "! " } else { "  " }
}

/// `node: ` in the per-node view (pdsh's `node: line`), nothing when folded.
pub fn node_prefix(node: Option<&str>) -> String {
    node.map(|n| format!("{n}: ")).unwrap_or_default()
}

/// One line of the view as text.
pub fn line(l: &ViewLine) -> String {
    match l {
        ViewLine::Header {
            label,
            members,
            status: s,
            exit_code,
            ..
        } => header(label, *members) + &status(*s, *exit_code),
        ViewLine::Gap { dropped, missed } => gap(*dropped, *missed),
        ViewLine::Text { line, node } => text(line.stderr, *node, &line.text),
        ViewLine::Partial { line, node } => text(line.stderr, *node, &line.text),
    }
}

fn text(stderr: bool, node: Option<&str>, body: &str) -> String {
    format!(
        "{}{}{}",
        marker(stderr),
        node_prefix(node),
        sgr::plain(body)
    )
}

/// Every line given (of the whole view, folded or per node, stderr shown or not).
pub fn lines(view: &[ViewLine]) -> Vec<String> {
    view.iter().map(line).collect()
}
