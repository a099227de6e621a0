//! `update(state, message) -> effects`: the only place view state changes. No
//! I/O here: anything slow or outside (engine, store) is an `Effect` that the
//! runner carries out, and its result comes back as a message.

use super::commands::{self, cancel_newest, node_view, request_run, show};
use super::input::{Bar, BarKind, BarOutcome};
use super::inventory::Badge;
use super::keymap::Mode;
use super::keys::Key;
use super::layout;
use super::msg::{Effect, Loaded, Msg};
use super::output::RunOutput;
use super::overlay::Overlay;
use super::progress::RunProgress;
use super::state::{AppState, Focus, View};
use crate::engine::interaction::{Answer, Question};
use crate::engine::{EngineEvent, ExecutionStatus};
use crate::store::{EntryType, Stream};
use crate::ui::sanitize::sanitize;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::time::Instant;

pub fn update(state: &mut AppState, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => on_key(state, key),
        Msg::Paste(text) => {
            if let Some(bar) = &mut state.bar {
                bar.paste(&text);
            } else if let Some(Overlay::Editor { area, .. }) = state.overlays.last_mut() {
                area.insert_str(text);
            }
            Vec::new()
        }
        Msg::Resize | Msg::Tick => Vec::new(),
        Msg::Engine(event) => on_engine(state, event),
        Msg::EngineLagged(snapshots) => {
            resync(state, snapshots);
            Vec::new()
        }
        Msg::Output {
            execution,
            node,
            stream,
            data,
            missed,
        } => {
            state
                .output
                .append(&execution.0, &node, stream, &data, missed);
            Vec::new()
        }
        Msg::Loaded(loaded) => on_loaded(state, loaded),
        Msg::Question { id, question } => {
            state.overlays.push(Overlay::question(id, question));
            Vec::new()
        }
    }
}

fn on_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    if !state.overlays.is_empty() {
        return overlay_key(state, key);
    }
    if state.bar.is_some() {
        return bar_key(state, key);
    }
    let Some(k) = Key::from_event(&key) else {
        return Vec::new();
    };
    match state.keymap.lookup(state.mode(), k) {
        Some(action) => on_action(state, action),
        None => Vec::new(),
    }
}

fn open_bar(state: &mut AppState, kind: BarKind, initial: &str) {
    state.bar = Some(Bar::new(kind, initial));
}

fn bar_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    let Some(bar) = state.bar.as_mut() else {
        return Vec::new();
    };
    let kind = bar.kind;
    let recall: &[String] = if matches!(kind, BarKind::Run) {
        &state.recall
    } else {
        &[]
    };
    match bar.key(key, recall) {
        BarOutcome::Editing => Vec::new(),
        BarOutcome::Changed => {
            if kind == BarKind::HistoryQuery {
                let q = bar.text().to_string();
                state.history.set_query(&q);
            }
            Vec::new()
        }
        BarOutcome::Cancel => {
            state.bar = None;
            Vec::new()
        }
        BarOutcome::Submit(text) => {
            state.bar = None;
            submit_bar(state, kind, &text)
        }
    }
}

fn submit_bar(state: &mut AppState, kind: BarKind, text: &str) -> Vec<Effect> {
    match kind {
        BarKind::Command => commands::execute(state, text),
        BarKind::Run => commands::run_on_selection(state, text),
        BarKind::Filter => {
            let inventory = state.inventory_data.clone();
            match state.inventory.set_filter(&inventory, text) {
                Ok(n) if text.trim().is_empty() => state.info(format!("filter cleared: {n} nodes")),
                Ok(n) => state.info(format!("filter {text:?}: {n} nodes")),
                Err(e) => state.error(e),
            }
            Vec::new()
        }
        BarKind::Search => {
            state.output.search = (!text.is_empty()).then(|| text.to_string());
            if !text.is_empty() && !state.output.find(true) {
                state.error(format!("{text:?} not found"));
            }
            Vec::new()
        }
        BarKind::HistoryQuery => {
            state.history.set_query(text);
            Vec::new()
        }
    }
}

fn page(state: &AppState) -> usize {
    let a = state.areas();
    match state.focus {
        Focus::Inventory => layout::inner_height(a.inventory),
        Focus::Main => layout::inner_height(a.main),
    }
}

pub fn on_action(state: &mut AppState, action: super::action::Action) -> Vec<Effect> {
    use super::action::Action::*;
    match action {
        Quit => {
            state.quit = true;
            return vec![Effect::Quit];
        }
        Help => {
            state.overlays.push(Overlay::Help { top: 0 });
            return Vec::new();
        }
        Suspend => return vec![Effect::Suspend],
        CommandMode => {
            open_bar(state, BarKind::Command, "");
            return Vec::new();
        }
        RunPrompt => {
            open_bar(state, BarKind::Run, "");
            return Vec::new();
        }
        FocusNext | FocusPrev => {
            state.focus = match state.focus {
                Focus::Inventory => Focus::Main,
                Focus::Main => Focus::Inventory,
            };
            return Vec::new();
        }
        ShowOutput => return show(state, View::Output),
        ShowProgress => return show(state, View::Progress),
        ShowHistory => return show(state, View::History),
        ShowJournal => return node_view(state, View::Journal, ""),
        ShowFacts => return node_view(state, View::Facts, ""),
        CancelExecution => return cancel_newest(state),
        Shell => {
            return match state.inventory.current_node() {
                Some(n) => vec![Effect::Shell(n.to_string())],
                None => {
                    state.error("move the inventory cursor to a node to open a shell on it");
                    Vec::new()
                }
            };
        }
        _ => {}
    }
    match state.mode() {
        Mode::Inventory => inventory_action(state, action),
        Mode::Output => output_action(state, action),
        Mode::Progress => progress_action(state, action),
        Mode::History => history_action(state, action),
        Mode::Journal => journal_action(state, action),
        Mode::Facts | Mode::Global => facts_action(state, action),
    }
}

fn inventory_action(state: &mut AppState, action: super::action::Action) -> Vec<Effect> {
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

fn output_action(state: &mut AppState, action: super::action::Action) -> Vec<Effect> {
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

fn progress_action(state: &mut AppState, action: super::action::Action) -> Vec<Effect> {
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
        Open => state.view = View::Output,
        Back => state.focus = Focus::Inventory,
        _ => {}
    }
    Vec::new()
}

fn history_action(state: &mut AppState, action: super::action::Action) -> Vec<Effect> {
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

fn journal_action(state: &mut AppState, action: super::action::Action) -> Vec<Effect> {
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

fn facts_action(state: &mut AppState, action: super::action::Action) -> Vec<Effect> {
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

fn overlay_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let Some(top) = state.overlays.last_mut() else {
        return Vec::new();
    };
    let close = matches!(key.code, KeyCode::Esc) || (ctrl && key.code == KeyCode::Char('c'));
    match top {
        Overlay::Help { top } | Overlay::Diff { top, .. } => match key.code {
            KeyCode::Char('j') | KeyCode::Down => *top += 1,
            KeyCode::Char('k') | KeyCode::Up => *top = top.saturating_sub(1),
            KeyCode::PageDown | KeyCode::Char(' ') => *top += 10,
            KeyCode::PageUp => *top = top.saturating_sub(10),
            _ => {
                state.overlays.pop();
            }
        },
        Overlay::Message { .. } => {
            state.overlays.pop();
        }
        Overlay::Confirm {
            command, targets, ..
        } => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                let effect = Effect::Submit {
                    command: command.clone(),
                    targets: targets.clone(),
                };
                state.overlays.pop();
                return vec![effect];
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                state.overlays.pop();
                state.info("not run");
            }
            _ => {}
        },
        Overlay::Question {
            id,
            question,
            secret,
        } => {
            let id = *id;
            let answer = match question {
                Question::UnknownHostKey { .. } => match key.code {
                    KeyCode::Char('a') | KeyCode::Char('o') => Some(Some(Answer::AcceptOnce)),
                    KeyCode::Char('s') => Some(Some(Answer::AcceptAndSave)),
                    KeyCode::Char('r') | KeyCode::Char('n') | KeyCode::Esc => {
                        Some(Some(Answer::Reject))
                    }
                    _ => None,
                },
                Question::Passphrase { .. } => match key.code {
                    KeyCode::Enter => Some(Some(Answer::Passphrase(
                        secret.lines().first().cloned().unwrap_or_default(),
                    ))),
                    _ if close => Some(None),
                    _ => {
                        secret.input(key);
                        None
                    }
                },
            };
            if let Some(answer) = answer {
                state.overlays.pop();
                return vec![Effect::Answer { id, answer }];
            }
        }
        Overlay::Editor { node, area } => {
            if ctrl && key.code == KeyCode::Char('s') {
                let text = area.lines().join("\n");
                let node = node.clone();
                state.overlays.pop();
                if text.trim().is_empty() {
                    state.info("empty note not saved");
                    return Vec::new();
                }
                return vec![Effect::SaveNote { node, text }];
            }
            if close {
                state.overlays.pop();
                state.info("note discarded");
            } else {
                area.input(key);
            }
        }
    }
    Vec::new()
}

fn on_engine(state: &mut AppState, event: EngineEvent) -> Vec<Effect> {
    match event {
        EngineEvent::ExecutionQueued {
            execution,
            action,
            nodes,
            user,
            ..
        } => {
            for n in &nodes {
                state.inventory.set_badge(n, Badge::None);
            }
            state.output.show(RunOutput::new(
                execution.0.clone(),
                action.clone(),
                &nodes,
                false,
            ));
            state
                .progress
                .add(RunProgress::new(execution, action, user, &nodes));
            if !matches!(state.view, View::Output | View::Progress)
                || state.focus == Focus::Inventory
            {
                state.view = View::Output;
            }
        }
        EngineEvent::ExecutionStarted { execution, .. } => {
            if let Some(run) = state.progress.run_mut(&execution) {
                run.status = ExecutionStatus::Running;
            }
        }
        EngineEvent::NodeStarted {
            execution,
            node,
            attempt,
        } => {
            state.inventory.set_badge(&node, Badge::Running);
            if let Some(run) = state.progress.run_mut(&execution)
                && let Some(row) = run.node_mut(&node)
            {
                row.status = crate::engine::NodeStatus::Running;
                row.started.get_or_insert_with(Instant::now);
                row.attempts = attempt;
            }
        }
        EngineEvent::NodeOutput { .. } => {}
        EngineEvent::RetryAttempt {
            node,
            attempt,
            max_attempts,
            reason,
            ..
        } => state.info(format!(
            "{node}: attempt {attempt}/{max_attempts} after {}",
            reason.reason
        )),
        EngineEvent::NodeFinished {
            execution,
            node,
            status,
            exit_code,
            duration,
            error,
            progress,
        } => {
            state.inventory.set_badge(
                &node,
                Badge::from_status(status, error.as_ref().map(|e| e.category)),
            );
            if let Some(run) = state.progress.run_mut(&execution) {
                run.progress = progress;
                if let Some(row) = run.node_mut(&node) {
                    row.status = status;
                    row.exit_code = exit_code;
                    row.duration = Some(duration);
                    row.error = error;
                }
            }
        }
        EngineEvent::ExecutionFinished {
            execution,
            status,
            duration,
            progress,
        } => {
            if let Some(run) = state.progress.run_mut(&execution) {
                run.status = status;
                run.duration = Some(duration);
                run.progress = progress;
            }
            let text = format!(
                "run {}: {} — {} ok, {} failed of {} in {:.1}s",
                short_id(&execution.0),
                status.as_str(),
                progress.completed,
                progress.failed,
                progress.total,
                duration.as_secs_f64()
            );
            if matches!(status, ExecutionStatus::Success) {
                state.info(text);
            } else {
                state.error(text);
            }
        }
        EngineEvent::JournalAppended { node, .. } => {
            if state.view == View::Journal && state.journal.node.as_deref() == Some(node.as_str()) {
                return vec![Effect::LoadJournal(node)];
            }
        }
    }
    Vec::new()
}

/// After missed events: statuses, counts and badges from the engine's snapshots
/// (output is unaffected: it is read from the rings, not carried by events).
fn resync(state: &mut AppState, snapshots: Vec<crate::engine::ExecutionSnapshot>) {
    for snap in snapshots {
        if state.progress.run_mut(&snap.id).is_none() {
            // Its ExecutionQueued was among the missed events.
            let names: Vec<String> = snap.nodes.iter().map(|n| n.name.clone()).collect();
            state.output.show(RunOutput::new(
                snap.id.0.clone(),
                snap.action.clone(),
                &names,
                false,
            ));
            state.progress.add(RunProgress::new(
                snap.id.clone(),
                snap.action.clone(),
                snap.user.clone(),
                &names,
            ));
        }
        let Some(run) = state.progress.run_mut(&snap.id) else {
            continue;
        };
        run.status = snap.status;
        run.progress = snap.progress;
        for n in &snap.nodes {
            if let Some(row) = run.node_mut(&n.name) {
                row.status = n.status;
                row.exit_code = n.exit_code;
                row.attempts = n.attempts;
                row.error = n.error.clone();
                if !matches!(
                    n.status,
                    crate::engine::NodeStatus::Running | crate::engine::NodeStatus::Pending
                ) {
                    row.duration = n.duration;
                }
            }
            let badge = Badge::from_status(n.status, n.error.as_ref().map(|e| e.category));
            state.inventory.set_badge(&n.name, badge);
        }
    }
}

pub fn short_id(id: &str) -> &str {
    &id[..id.len().min(8)]
}

fn on_loaded(state: &mut AppState, loaded: Loaded) -> Vec<Effect> {
    match loaded {
        Loaded::Inventory(Ok(inventory)) => {
            let reload = state.inventory.loaded;
            state.inventory.load(&inventory);
            let n = inventory.len();
            state.inventory_data = inventory;
            if reload {
                state.info(format!("inventory reloaded: {n} nodes"));
            } else {
                state.info(format!(
                    "{n} nodes — space selects, ! runs a command, ? help"
                ));
            }
        }
        Loaded::Inventory(Err(e)) => state.error(format!("inventory: {e}")),
        Loaded::Submitted { result: Ok(_), .. } => {}
        Loaded::Submitted {
            command,
            result: Err(e),
        } => state.error(format!("{command:?} not run: {e}")),
        Loaded::History(Ok(records)) => {
            if state.recall.is_empty() {
                let mut seen = std::collections::HashSet::new();
                let mut recall: Vec<String> = records
                    .iter()
                    .filter(|r| seen.insert(r.action.clone()))
                    .take(200)
                    .map(|r| r.action.clone())
                    .collect();
                recall.reverse();
                state.recall = recall;
            }
            state.history.set_records(records);
        }
        Loaded::History(Err(e)) => {
            state.history.loading = false;
            state.history.error = Some(e.clone());
            state.error(format!("history: {e}"));
        }
        Loaded::StoredRun(Ok(run)) => {
            let (record, results) = *run;
            let nodes: Vec<String> = results.iter().map(|r| r.node.clone()).collect();
            let mut out = RunOutput::new(record.id.clone(), record.action.clone(), &nodes, true);
            for r in &results {
                out.append(
                    &r.node,
                    Stream::Stdout,
                    r.stdout.as_bytes(),
                    0,
                    &state.output.sanitize,
                );
                out.append(
                    &r.node,
                    Stream::Stderr,
                    r.stderr.as_bytes(),
                    0,
                    &state.output.sanitize,
                );
            }
            state.output.show_replay(out);
            state.output.follow = false;
            state.view = View::Output;
            state.focus = Focus::Main;
            state.info(format!(
                "replaying {} ({}, {}) — esc returns to the live run, r in history runs it again",
                short_id(&record.id),
                sanitize(record.action.as_bytes(), &Default::default()),
                record.status
            ));
        }
        Loaded::StoredRun(Err(e)) => state.error(format!("history: {e}")),
        Loaded::Journal { node, entries } => {
            if state.journal.node.as_deref() == Some(node.as_str()) {
                state.journal.loading = false;
                match entries {
                    Ok(e) => state.journal.entries = e,
                    Err(e) => state.journal.error = Some(e),
                }
            }
        }
        Loaded::NoteSaved { node, result } => match result {
            Ok(()) => {
                state.info(format!("note saved to {node}'s journal"));
                if state.journal.node.as_deref() == Some(node.as_str()) {
                    state.journal.filter = state.journal.filter.filter(|t| *t == EntryType::Manual);
                    return vec![Effect::LoadJournal(node)];
                }
            }
            Err(e) => state.error(format!("note for {node} not saved: {e}")),
        },
        Loaded::Facts { node, facts } => {
            if state.facts.node.as_deref() == Some(node.as_str()) {
                state.facts.loading = false;
                match facts {
                    Ok(rows) => state.facts.rows = rows,
                    Err(e) => state.facts.error = Some(e),
                }
            }
        }
        Loaded::ShellEnded { node, result } => match result {
            Ok(text) => state.info(format!("{node}: {text}")),
            Err(e) => state.error(format!("{node}: {e}")),
        },
    }
    Vec::new()
}
