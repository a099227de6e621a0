//! The output pane as drawn: the lines of the run shown that fit the pane.

use crate::app::tui::output::OutputView;
use crate::app::tui::output_search::match_counter;
use crate::ui::view::output::{OutputPane, RunLines};

/// `height`: rows inside the pane.
pub fn pane(out: &OutputView, height: usize) -> OutputPane<'_> {
    let Some(run) = &out.run else {
        return OutputPane::NoRun;
    };
    let top = out.top.min(out.total.saturating_sub(1));
    OutputPane::Run(RunLines {
        command: &run.command,
        folded: out.folded,
        follow: out.follow,
        show_stderr: out.show_stderr,
        wrap: out.wrap,
        replay: run.replay,
        counter: match_counter(out),
        lines: out.window(top, height),
        left: if out.wrap { 0 } else { out.left },
        search: out.search.as_deref().filter(|s| !s.is_empty()),
    })
}
