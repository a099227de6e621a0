//! `drover journal NODE` and `drover journal add NODE -m TEXT` (and `journal
//! replay`, in `replay`).

use super::history::store_error;
use crate::app::exit;
use crate::app::exit::exit_code_for;
use crate::app::setup::Runtime;
use crate::cli::{JournalArgs, JournalCommand};
use crate::engine::common::ids::now_millis;
use crate::engine::records::{EntryType, JournalEntry};
use crate::engine::{Engine, EngineError};
use crate::ui::time::format_time;
use std::io::{self, Write};

pub async fn journal(args: &JournalArgs, rt: &Runtime) -> u8 {
    match &args.add {
        Some(JournalCommand::Add { node, message }) => {
            return add(&rt.engine, &rt.context.user, node, message).await;
        }
        Some(JournalCommand::Replay(replay)) => return super::replay::replay(replay, rt).await,
        None => {}
    }
    let Some(node) = &args.node else {
        eprintln!("drover: journal: name a node (drover journal NODE) or use `journal add`");
        return exit::USAGE;
    };
    let mut types = Vec::new();
    for t in &args.types {
        match EntryType::parse(t) {
            Some(t) => types.push(t),
            None => {
                eprintln!(
                    "drover: --type: {t:?} is not one of execution, task, package, provisioning, event, manual"
                );
                return exit::USAGE;
            }
        }
    }
    let read = rt
        .engine
        .read_journal(&rt.context, node, types, Some(args.limit));
    let entries = match read.await {
        Ok(e) => e,
        Err(EngineError::Store(e)) => return store_error(e),
        Err(e) => {
            eprintln!("drover: {e}");
            return exit_code_for(&e);
        }
    };
    let mut out = io::stdout().lock();
    if args.json {
        let _ = serde_json::to_writer_pretty(&mut out, &entries);
        let _ = writeln!(out);
        return exit::SUCCESS;
    }
    for e in &entries {
        let status = e.status.as_deref().unwrap_or("-");
        let exec = e.execution_id.as_deref().unwrap_or("");
        // A recorded session names its transcript, for `journal replay`.
        let transcript = e
            .details
            .get(crate::engine::transcript::DETAIL_KEY)
            .and_then(|t| t.as_str())
            .map(|t| format!("  [transcript {t}]"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{}  {:<12} {:<10} {:<10} {}  {}{transcript}",
            format_time(e.timestamp),
            e.entry_type.as_str(),
            status,
            e.user,
            exec,
            crate::ui::sanitize::sanitize(e.action.as_bytes(), &Default::default())
        );
    }
    exit::SUCCESS
}

async fn add(engine: &Engine, user: &str, node: &str, message: &str) -> u8 {
    if message.trim().is_empty() {
        eprintln!("drover: journal add: -m: the note is empty");
        return exit::USAGE;
    }
    if engine.inventory().node(node).is_none() {
        eprintln!("drover: journal add: note recorded for {node:?}, which is not in the inventory");
    }
    let entry = JournalEntry {
        id: 0,
        node: node.to_string(),
        entry_type: EntryType::Manual,
        timestamp: now_millis(),
        user: user.to_string(),
        action: message.to_string(),
        status: None,
        execution_id: None,
        details: serde_json::json!({}),
    };
    match engine.append_journal(entry).await {
        Ok(()) => match engine.flush().await {
            Ok(()) => exit::SUCCESS,
            Err(e) => {
                eprintln!("drover: journal add: {e}");
                exit::FAILED
            }
        },
        Err(e) => {
            eprintln!("drover: journal add: {e}");
            exit::FAILED
        }
    }
}
