//! The headless front end: subcommands that run or read, print, and exit with a
//! documented code. Never prompts.

pub mod access;
pub mod events;
pub mod facts;
pub mod grouping;
pub mod history;
pub mod history_output;
pub mod inventory;
pub mod journal;
pub mod json;
pub mod lines;
pub mod once;
pub mod plan;
pub mod render;
pub mod replay;
pub mod rerun;
pub mod run;
pub mod ssh;
pub mod ssh_config;
pub mod status;
pub mod task;

use super::setup::Runtime;
use crate::cli::{Command, GlobalArgs};

/// Runs `command`; `global` gives the files named on the command line (`-i`,
/// `-F`) that some subcommands read themselves.
pub async fn dispatch(command: &Command, global: &GlobalArgs, rt: &Runtime) -> u8 {
    if let Err(code) = access::check(command, rt).await {
        return code;
    }
    let failures = rt.engine.inventory_failures();
    if !failures.is_empty() {
        // A broken inventory must not silently shrink a run: refuse to run.
        // Commands that only read go on with the sources that loaded.
        let running = runs_something(command);
        for f in &failures {
            if running {
                eprintln!("drover: {}", f.reason);
            } else {
                eprintln!("drover: warning: {} (its nodes are missing)", f.reason);
            }
        }
        if running {
            eprintln!("drover: nothing ran: an inventory source failed (fix it or leave it out)");
            return super::exit::USAGE;
        }
    }
    match command {
        Command::Run(args) => run::run(args, rt).await,
        Command::Inventory(args) => inventory::inventory(args, rt, &global.inventory),
        Command::History(args) => history::history(args, rt).await,
        Command::Journal(args) => journal::journal(args, rt).await,
        Command::Metrics(args) => history::metrics(args, rt).await,
        Command::Events(args) => events::events(args, rt).await,
        Command::SshConfig(args) => ssh_config::ssh_config(args, global.ssh_config.as_deref()),
        Command::Task(args) => task::task(args, rt).await,
        Command::Plan(args) => plan::plan(args, rt).await,
        Command::Status(args) => status::status(args, rt).await,
        Command::Facts(args) => facts::facts(args, rt).await,
        Command::Ssh(args) => ssh::ssh(args, rt).await,
        // Printed before any set-up (main); here for completeness.
        Command::Completions { .. } | Command::Man => {
            super::docs::print_command(command).unwrap_or(super::exit::USAGE)
        }
        // Handled by main before any engine starts (`store_admin`).
        Command::Store(_) => {
            eprintln!("drover: `drover store` runs without an engine");
            super::exit::USAGE
        }
        Command::Serve(_) => {
            eprintln!("drover: `drover serve` starts its own engine");
            super::exit::USAGE
        }
    }
}

/// Commands that start work on nodes (the others only read).
fn runs_something(command: &Command) -> bool {
    use crate::cli::{PlanCommand, TaskCommand};
    match command {
        Command::Run(_) | Command::Ssh(_) => true,
        Command::Task(t) => matches!(t.command, TaskCommand::Run(_)),
        Command::Plan(p) => matches!(p.command, PlanCommand::Run { .. }),
        _ => false,
    }
}
