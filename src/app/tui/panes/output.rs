//! The output pane: scrolling, folding, following, stderr, search, diff and
//! writing the view to a file.

use super::super::action::Action;
use super::super::input::BarKind;
use super::super::keymap::Mode;
use super::super::output_search::match_counter;
use super::super::overlay::Overlay;
use super::super::pane::{open_bar, page};
use super::super::state::{AppState, Focus};
use super::{Handled, Pane};

pub struct Output;

impl Pane for Output {
    fn mode(&self) -> Mode {
        Mode::Output
    }

    fn on_action(&self, state: &mut AppState, action: Action) -> Handled {
        use Action::*;
        let page = page(state) as isize;
        let out = &mut state.output;
        match action {
            Up => out.scroll(-1),
            Down => out.scroll(1),
            PageUp => out.scroll(-page),
            PageDown => out.scroll(page),
            Top => out.scroll(isize::MIN / 2),
            Bottom => out.to_bottom(),
            Left => out.left = out.left.saturating_sub(8),
            Right if out.wrap => state.info("lines wrap (W scrolls sideways instead)"),
            Right => out.left += 8,
            ToggleWrap => {
                out.wrap = !out.wrap;
                out.left = 0;
            }
            ToggleFold => {
                out.folded = !out.folded;
                out.mark_dirty();
            }
            ToggleFollow => {
                if out.follow {
                    out.follow = false;
                } else {
                    out.to_bottom();
                }
            }
            ToggleStderr => {
                out.show_stderr = !out.show_stderr;
                out.mark_dirty();
            }
            NextNode => out.jump_block(true),
            PrevNode => out.jump_block(false),
            Search => open_bar(state, BarKind::Search, ""),
            SearchNext | SearchPrev => match out.find(action == SearchNext) {
                Some(found) => {
                    let counter = match_counter(out);
                    match (found.wrapped, action == SearchNext) {
                        (true, true) => {
                            state.info(format!("{counter} · search wrapped to the top"))
                        }
                        (true, false) => {
                            state.info(format!("{counter} · search wrapped to the bottom"))
                        }
                        (false, _) => state.info(counter),
                    }
                }
                None => state.error("no match"),
            },
            Back if out.back_to_live() => state.info("back to the live run"),
            Diff => match out.diff() {
                Some((title, lines)) => state.overlays.push(Overlay::Diff {
                    title,
                    lines,
                    top: 0,
                }),
                None => state.error("nothing to compare yet"),
            },
            WriteOutput => match super::super::write_output::default_name(out) {
                Some(name) => open_bar(state, BarKind::Write, &name),
                None => state.error("no output to write yet: run a command first"),
            },
            Back => state.focus = Focus::Inventory,
            _ => return Handled::Ignored,
        }
        Handled::done()
    }
}
