//! RBAC checks of the read and write subcommands, before they touch anything:
//! `history`, `metrics` and `events` need `history.read`; `journal NODE` needs
//! `journal.read` on the node, `journal add NODE` `journal.write` (`journal
//! replay` is checked by the engine, on the transcript's node); `inventory`
//! and `ssh-config` need `inventory.read`; `facts` needs `facts.read` on its nodes
//! (and `facts.refresh` with `--refresh`); `ssh NODE` needs `command.run` on the
//! node. `run`, `task run` and `plan run` are checked by the engine itself, as each
//! execution starts. The engine's reads check again as they read (a check that
//! passes records nothing); this one comes first so a refused user gets the
//! refusal before any inventory warning.

use super::run::exit_code_for;
use crate::app::setup::Runtime;
use crate::cli::{Command, InventoryCommand, JournalCommand};
use crate::engine::inventory::ALL_GROUP;
use crate::engine::rbac::Capability;

/// `Err(exit code)` after printing the refusal.
pub async fn check(command: &Command, rt: &Runtime) -> Result<(), u8> {
    let inventory = rt.engine.inventory();
    let (capability, nodes): (Capability, Vec<String>) = match command {
        // Run, task and plan are checked by the engine; the rest read nothing guarded.
        Command::Run(_)
        | Command::Status(_)
        | Command::Task(_)
        | Command::Plan(_)
        | Command::Completions { .. }
        | Command::Man
        // Reads and writes the stores it is pointed at, with the file's and the
        // database's own permissions; no engine starts.
        | Command::Store(_)
        // Its own engine; its routes check each caller under its own config.
        | Command::Serve(_) => {
            return Ok(());
        }
        Command::History(_) | Command::Metrics(_) | Command::Events(_) => {
            (Capability::HistoryRead, Vec::new())
        }
        Command::Journal(args) => match (&args.add, &args.node) {
            (Some(JournalCommand::Add { node, .. }), _) => {
                (Capability::JournalWrite, vec![node.clone()])
            }
            // Whose journal a transcript belongs to is known once it is found:
            // the engine checks `journal.read` on its node as it reads.
            (Some(JournalCommand::Replay(_)), _) => return Ok(()),
            (None, Some(node)) => (Capability::JournalRead, vec![node.clone()]),
            // A usage error, reported by the subcommand.
            (None, None) => return Ok(()),
        },
        Command::Inventory(args) => {
            let names = match &args.command {
                // Without -t the listing shows only what the user may read.
                InventoryCommand::List { targets: None, .. } => Vec::new(),
                InventoryCommand::List {
                    targets: Some(t), ..
                } => match inventory.resolve(t) {
                    Ok(nodes) => nodes.iter().map(|n| n.name.clone()).collect(),
                    // The subcommand reports the bad expression.
                    Err(_) => return Ok(()),
                },
                InventoryCommand::Graph => match inventory.resolve(ALL_GROUP) {
                    Ok(nodes) => nodes.iter().map(|n| n.name.clone()).collect(),
                    Err(_) => Vec::new(),
                },
            };
            (Capability::InventoryRead, names)
        }
        Command::SshConfig(_) => (Capability::InventoryRead, Vec::new()),
        Command::Facts(args) => {
            let names: Vec<String> = match inventory.resolve(&args.targets) {
                Ok(nodes) => nodes.iter().map(|n| n.name.clone()).collect(),
                Err(_) => return Ok(()),
            };
            if args.refresh {
                // Asking the nodes again needs facts.refresh besides facts.read.
                let nodes: Vec<&str> = names.iter().map(String::as_str).collect();
                rt.engine
                    .authorize(&rt.context, &Capability::FactsRefresh, &nodes)
                    .await
                    .map_err(|e| {
                        eprintln!("drover: {e}");
                        exit_code_for(&e)
                    })?;
            }
            (Capability::FactsRead, names)
        }
        // A shell runs anything: it needs what a command run needs.
        Command::Ssh(args) => (Capability::CommandRun, vec![args.node.clone()]),
    };
    let nodes: Vec<&str> = nodes.iter().map(String::as_str).collect();
    rt.engine
        .authorize(&rt.context, &capability, &nodes)
        .await
        .map_err(|e| {
            eprintln!("drover: {e}");
            exit_code_for(&e)
        })
}
