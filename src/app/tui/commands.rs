//! Command mode (`:run uptime`, `:history`, `:q`...), running on the selection
//! (something must be targeted), cancelling and quitting.

use super::msg::Effect;
use super::overlay::Overlay;
use super::run_request::request_run;
use super::state::{AppState, Focus, View};
use super::tabs::{self, Tab};

/// Parses and carries out one `:` command.
pub fn execute(state: &mut AppState, line: &str) -> Vec<Effect> {
    let line = line.trim();
    let (word, rest) = line
        .split_once(char::is_whitespace)
        .map(|(w, r)| (w, r.trim()))
        .unwrap_or((line, ""));
    match word {
        "" => Vec::new(),
        "q" | "quit" => quit_or_ask(state),
        "q!" | "quit!" => {
            state.quit = true;
            vec![Effect::Quit]
        }
        "rerun" => super::rerun_actions::rerun_command(state, rest),
        "run" | "r" if rest.is_empty() => {
            state.error(":run needs a command, e.g. :run uptime");
            Vec::new()
        }
        "run" | "r" => run_on_selection(state, rest),
        "history" | "h" if rest.is_empty() => show(state, View::History),
        // A run id or any unique prefix of one: its stored output is replayed.
        "history" | "h" => {
            state.info(format!("loading {rest}"));
            vec![Effect::LoadStoredRun(rest.to_string())]
        }
        "journal" | "j" => node_view(state, View::Journal, rest),
        "facts" | "f" => node_view(state, View::Facts, rest),
        "output" | "o" => show(state, View::Output),
        "progress" | "p" => show(state, View::Progress),
        "filter" => {
            let inventory = state.inventory_data.clone();
            match state.inventory.set_filter(&inventory, rest) {
                Ok(n) => {
                    let grammar = state.inventory.grammar;
                    let mut line = format!("filter [{grammar}] {rest:?}: {n} nodes");
                    for warning in &state.inventory.filter_warnings {
                        line.push_str(&format!(" · warning: {warning}"));
                    }
                    state.info(line)
                }
                Err(e) => state.error(e),
            }
            Vec::new()
        }
        "cancel" => cancel_newest(state),
        "detach" if state.options.hosted => vec![Effect::Suspend],
        "detach" => {
            state.error(
                "this console is not attached to a service: runs end with it \
                 (`[engine] detach = true` or `drover --attach` starts consoles in `drover serve`)",
            );
            Vec::new()
        }
        "status" => vec![Effect::LoadStatus],
        "messages" => {
            super::messages::open_messages(state);
            Vec::new()
        }
        "help" => {
            state.overlays.push(Overlay::Help { top: 0 });
            Vec::new()
        }
        "task" => task_on_selection(state, rest),
        "write" | "w" => super::write_output::write_command(state, rest, false),
        "write!" | "w!" => super::write_output::write_command(state, rest, true),
        "plan" => super::plan_actions::plan_command(state, rest),
        other => {
            state.error(format!("unknown command :{other} (try :help)"));
            Vec::new()
        }
    }
}

pub fn show(state: &mut AppState, view: View) -> Vec<Effect> {
    state.view = view;
    state.focus = Focus::Main;
    match view {
        View::History => {
            state.history.loading = true;
            vec![Effect::LoadHistory]
        }
        _ => Vec::new(),
    }
}

/// Journal and facts are about one node: the one named, else the one under the
/// inventory cursor.
pub fn node_view(state: &mut AppState, view: View, named: &str) -> Vec<Effect> {
    let node = if named.is_empty() {
        match state.inventory.current_node() {
            Some(n) => n.to_string(),
            None => {
                state.error(
                    "move the inventory cursor to a node first (or name one: :journal NODE)",
                );
                return Vec::new();
            }
        }
    } else if state.inventory_data.node(named).is_some() {
        named.to_string()
    } else {
        state.error(format!("no node {named:?} in the inventory"));
        return Vec::new();
    };
    state.view = view;
    state.focus = Focus::Main;
    match view {
        View::Journal => {
            state.journal.open(&node);
            vec![Effect::LoadJournal(node)]
        }
        _ => {
            state.facts.open(&node);
            vec![Effect::LoadFacts {
                node,
                refresh: false,
            }]
        }
    }
}

/// `:task NAME key=value...`: the task runs on the selection; its parameters
/// are checked against its metadata before anything runs.
fn task_on_selection(state: &mut AppState, rest: &str) -> Vec<Effect> {
    let mut words = rest.split_whitespace();
    let Some(name) = words.next() else {
        state.error(":task needs a task name, e.g. :task drover::package action=status name=curl");
        return Vec::new();
    };
    let mut params = Vec::new();
    for kv in words {
        match kv.split_once('=') {
            Some((k, v)) => params.push((k.to_string(), v.to_string())),
            None => {
                state.error(format!("task parameter {kv:?} is not key=value"));
                return Vec::new();
            }
        }
    }
    let Some((targets, _)) = state.inventory.targets() else {
        state.error(
            "nothing to run on: select nodes with space, or move the cursor to a node or group",
        );
        return Vec::new();
    };
    vec![Effect::SubmitTask {
        name: name.to_string(),
        params,
        targets,
        noop: false,
        rerun: None,
    }]
}

pub fn run_on_selection(state: &mut AppState, command: &str) -> Vec<Effect> {
    let Some((targets, count)) = state.inventory.targets() else {
        state.error(
            "nothing to run on: select nodes with space, or move the cursor to a node or group",
        );
        return Vec::new();
    };
    request_run(state, command, &targets, count, None)
}

pub fn cancel_newest(state: &mut AppState) -> Vec<Effect> {
    let newest = state.progress.running().next().map(|r| r.id.clone());
    match newest {
        Some(id) => {
            state.info(format!("cancelling {}", id.0));
            vec![Effect::Cancel(id)]
        }
        None => {
            state.info("nothing running — q or :q quits");
            Vec::new()
        }
    }
}

/// `q` / `:q`: quits at once when nothing runs; while a run or a plan is in
/// flight it asks first (`:q!` does not).
pub fn quit_or_ask(state: &mut AppState) -> Vec<Effect> {
    let runs = state.running_count();
    let plan = state.progress.running_plan().is_some();
    // Hosted by the service, runs go on without this console: nothing to ask.
    if (runs == 0 && !plan) || state.options.hosted {
        state.quit = true;
        return vec![Effect::Quit];
    }
    let mut running = Vec::new();
    if plan {
        running.push("a plan".to_string());
    }
    if runs > 0 {
        running.push(format!("{runs} run{}", if runs == 1 { "" } else { "s" }));
    }
    state.overlays.push(Overlay::ConfirmQuit {
        running: running.join(" and "),
    });
    Vec::new()
}

/// The next (or previous) tab. A node's journal or facts open for the node
/// under the inventory cursor when none is open yet.
pub fn step_tab(state: &mut AppState, forward: bool) -> Vec<Effect> {
    let tabs: Vec<Tab> = tabs::all().collect();
    let at = tabs
        .iter()
        .position(|t| *t == tabs::current(state))
        .unwrap_or(0);
    let n = tabs.len();
    let next = tabs[if forward {
        (at + 1) % n
    } else {
        (at + n - 1) % n
    }];
    match next {
        Tab::Inventory => {
            state.focus = Focus::Inventory;
            Vec::new()
        }
        Tab::Main(View::Journal) if state.journal.node.is_none() => {
            open_for_cursor(state, View::Journal)
        }
        Tab::Main(View::Facts) if state.facts.node.is_none() => open_for_cursor(state, View::Facts),
        Tab::Main(view) => show(state, view),
    }
}

fn open_for_cursor(state: &mut AppState, view: View) -> Vec<Effect> {
    if state.inventory.current_node().is_some() {
        node_view(state, view, "")
    } else {
        show(state, view)
    }
}
