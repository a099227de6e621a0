//! What an action means in each pane of the main area and in the inventory.

use super::commands::request_run;
use super::input::BarKind;
use super::msg::Effect;
use super::overlay::Overlay;
use super::state::{AppState, Focus, View};
use super::update::{open_bar, page};

pub(super) fn inventory_action(state: &mut AppState, action: super::action::Action) -> Vec<Effect> {
    use super::action::Action::*;
    let page = page(state);
    let inv = &mut state.inventory;
    match action {
        Up => inv.move_by(-1, page),
        Down => inv.move_by(1, page),
        PageUp => inv.move_by(-(page as isize), page),
        PageDown => inv.move_by(page as isize, page),
        Top => inv.move_by(isize::MIN / 2, page),
        Bottom => inv.move_by(isize::MAX / 2, page),
        Left => inv.set_open(false),
        Right => inv.set_open(true),
        Open => {
            if inv.current_node().is_some() {
                state.focus = Focus::Main;
            } else {
                inv.toggle_open();
            }
        }
        ToggleSelect => {
            inv.toggle_select();
            inv.move_by(1, page);
        }
        SelectAll => inv.select_all_visible(),
        ClearSelection => inv.clear_selection(),
        ExpandAll => inv.open_all(true),
        CollapseAll => inv.open_all(false),
        Filter => {
            let current = inv
                .filter
                .as_ref()
                .map(|(e, _)| e.clone())
                .unwrap_or_default();
            open_bar(state, BarKind::Filter, &current);
        }
        Back if inv.filter.is_some() => {
            let inventory = state.inventory_data.clone();
            let _ = state.inventory.set_filter(&inventory, "");
            state.info("filter cleared");
        }
        _ => {}
    }
    Vec::new()
}

pub(super) fn output_action(state: &mut AppState, action: super::action::Action) -> Vec<Effect> {
    use super::action::Action::*;
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
        Right => out.left += 8,
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
        SearchNext | SearchPrev if !out.find(action == SearchNext) => state.error("no match"),
        Back if out.back_to_live() => state.info("back to the live run"),
        Diff => match out.diff() {
            Some((title, lines)) => state.overlays.push(Overlay::Diff {
                title,
                lines,
                top: 0,
            }),
            None => state.error("nothing to compare yet"),
        },
        Back => state.focus = Focus::Inventory,
        _ => {}
    }
    Vec::new()
}

pub(super) fn progress_action(state: &mut AppState, action: super::action::Action) -> Vec<Effect> {
    use super::action::Action::*;
    let page = page(state);
    let p = &mut state.progress;
    match action {
        Up => p.move_by(-1, page),
        Down => p.move_by(1, page),
        PageUp => p.move_by(-(page as isize), page),
        PageDown => p.move_by(page as isize, page),
        Top => p.move_by(isize::MIN / 2, page),
        Bottom => p.move_by(isize::MAX / 2, page),
        NextNode => p.cycle_run(true),
        PrevNode => p.cycle_run(false),
        TogglePlan if p.plan.is_some() => p.plan_shown = true,
        TogglePlan => state.info("no plan has run yet (:plan FILE runs one)"),
        Open => state.view = View::Output,
        Back => state.focus = Focus::Inventory,
        _ => {}
    }
    Vec::new()
}

pub(super) fn history_action(state: &mut AppState, action: super::action::Action) -> Vec<Effect> {
    use super::action::Action::*;
    let page = page(state);
    let h = &mut state.history;
    match action {
        Up => h.move_by(-1, page),
        Down => h.move_by(1, page),
        PageUp => h.move_by(-(page as isize), page),
        PageDown => h.move_by(page as isize, page),
        Top => h.move_by(isize::MIN / 2, page),
        Bottom => h.move_by(isize::MAX / 2, page),
        Search | Filter => {
            let q = h.query.clone();
            open_bar(state, BarKind::HistoryQuery, &q);
        }
        Open => {
            if let Some(r) = h.selected() {
                let id = r.id.clone();
                state.info(format!("loading {id}"));
                return vec![Effect::LoadStoredRun(id)];
            }
        }
        Rerun => {
            if let Some(r) = h.selected() {
                let (command, targets, count) =
                    (r.action.clone(), r.target_expr.clone(), r.nodes.len());
                return request_run(state, &command, &targets, count);
            }
        }
        Refresh => {
            h.loading = true;
            return vec![Effect::LoadHistory];
        }
        Back => state.focus = Focus::Inventory,
        _ => {}
    }
    Vec::new()
}

pub(super) fn journal_action(state: &mut AppState, action: super::action::Action) -> Vec<Effect> {
    use super::action::Action::*;
    let page = page(state);
    let j = &mut state.journal;
    match action {
        Up => j.move_by(-1, page),
        Down => j.move_by(1, page),
        PageUp => j.move_by(-(page as isize), page),
        PageDown => j.move_by(page as isize, page),
        Top => j.move_by(isize::MIN / 2, page),
        Bottom => j.move_by(isize::MAX / 2, page),
        CycleType => j.cycle_filter(),
        NewNote => match j.node.clone() {
            Some(node) => state.overlays.push(Overlay::editor(&node)),
            None => state.error("open a node's journal first"),
        },
        Refresh => {
            if let Some(node) = j.node.clone() {
                j.loading = true;
                return vec![Effect::LoadJournal(node)];
            }
        }
        Back => state.focus = Focus::Inventory,
        _ => {}
    }
    Vec::new()
}

pub(super) fn facts_action(state: &mut AppState, action: super::action::Action) -> Vec<Effect> {
    use super::action::Action::*;
    let page = page(state) as isize;
    let f = &mut state.facts;
    match action {
        Up => f.scroll(-1),
        Down => f.scroll(1),
        PageUp => f.scroll(-page),
        PageDown => f.scroll(page),
        Top => f.scroll(isize::MIN / 2),
        Bottom => f.scroll(isize::MAX / 2),
        Refresh => {
            if let Some(node) = f.node.clone() {
                f.loading = true;
                return vec![Effect::LoadFacts {
                    node,
                    refresh: true,
                }];
            }
        }
        Back => state.focus = Focus::Inventory,
        _ => {}
    }
    Vec::new()
}
