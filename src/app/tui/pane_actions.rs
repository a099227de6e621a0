//! What an action means in each pane of the main area and in the inventory.

use super::cursor::delta;
use super::input::BarKind;
use super::msg::Effect;
use super::output_search::match_counter;
use super::overlay::Overlay;
use super::pane::{open_bar, page};
use super::state::{AppState, Focus, View};

pub(super) fn inventory_action(state: &mut AppState, action: super::action::Action) -> Vec<Effect> {
    use super::action::Action::*;
    let page = page(state);
    let inv = &mut state.inventory;
    if let Some(d) = delta(action, page) {
        inv.move_by(d, page);
        return Vec::new();
    }
    match action {
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
                    (true, true) => state.info(format!("{counter} · search wrapped to the top")),
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
        WriteOutput => match super::write_output::default_name(out) {
            Some(name) => open_bar(state, BarKind::Write, &name),
            None => state.error("no output to write yet: run a command first"),
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
    if let Some(d) = delta(action, page) {
        p.move_by(d, page);
        return Vec::new();
    }
    match action {
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
    if let Some(d) = delta(action, page) {
        h.move_by(d, page);
        return Vec::new();
    }
    match action {
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
        Rerun => super::rerun_actions::edit_in_prompt(state),
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
    if let Some(d) = delta(action, page) {
        j.move_by(d, page);
        return Vec::new();
    }
    match action {
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
        // An entry linked to a run: enter replays that run from history.
        Open => {
            let linked = j.shown().nth(j.cursor).map(|e| e.execution_id.clone());
            match linked {
                Some(Some(id)) => {
                    state.info(format!("loading {id}"));
                    return vec![Effect::LoadStoredRun(id)];
                }
                Some(None) => state.info("this entry is not linked to a run"),
                None => {}
            }
        }
        Back => state.focus = Focus::Inventory,
        _ => {}
    }
    Vec::new()
}

pub(super) fn facts_action(state: &mut AppState, action: super::action::Action) -> Vec<Effect> {
    use super::action::Action::*;
    let page = page(state);
    let f = &mut state.facts;
    if let Some(d) = delta(action, page) {
        f.scroll(d);
        return Vec::new();
    }
    match action {
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
