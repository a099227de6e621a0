//! `drover store`: the store itself, without an engine. `copy` moves an
//! operator's history into another store (their SQLite file into the team's
//! PostgreSQL database); see `store::transfer` for why it is idempotent and
//! resumable.

use std::io::{IsTerminal, Write};
use std::path::Path;

use crate::app::exit;
use crate::cli::{StoreArgs, StoreCommand};
use crate::config::Config;
use crate::store::{Store, StoreLocation};

pub fn store(args: &StoreArgs, config: &Config, state_dir: &Path) -> u8 {
    match &args.command {
        StoreCommand::Copy { from, to } => copy(from.as_deref(), to.as_deref(), config, state_dir),
    }
}

fn copy(from: Option<&str>, to: Option<&str>, config: &Config, state_dir: &Path) -> u8 {
    let source = match from {
        Some(text) => StoreLocation::parse(text),
        None => StoreLocation::configured(None, state_dir),
    };
    let target = match to.map(str::to_string).or_else(|| config.store.url()) {
        Some(text) => StoreLocation::parse(&text),
        None => {
            eprintln!(
                "drover: store copy: no target: pass --to postgres://... or set [store] url / $DROVER_STORE_URL"
            );
            return exit::USAGE;
        }
    };
    let (source, target) = match (source, target) {
        (Ok(s), Ok(t)) => (s, t),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("drover: store copy: {e}");
            return exit::USAGE;
        }
    };
    if let StoreLocation::Sqlite(path) = &source
        && !path.exists()
    {
        // Opening would create an empty file; say what is missing instead.
        eprintln!("drover: store copy: {}: no such store file", path.display());
        return exit::USAGE;
    }
    let opened = Store::open_location(&source, false)
        .and_then(|s| Store::open_location(&target, false).map(|t| (s, t)));
    let (from_store, to_store) = match opened {
        Ok(pair) => pair,
        Err(e) => {
            eprintln!("drover: store copy: {e}");
            return exit::FAILED;
        }
    };
    let live = std::io::stderr().is_terminal();
    let result = from_store.copy_into(&to_store, |r| {
        if live {
            eprint!(
                "\r{} runs copied, {} already there, {} journal entries",
                r.runs_copied, r.runs_present, r.journal_copied
            );
        }
    });
    if live {
        eprintln!();
    }
    let closed = from_store.close().and(to_store.close());
    let report = match result.and_then(|r| closed.map(|()| r)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("drover: store copy from {source} to {target}: {e}");
            return exit::FAILED;
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{} run(s) copied, {} already in {target}, {} journal entr(ies) copied",
        report.runs_copied, report.runs_present, report.journal_copied
    );
    exit::SUCCESS
}
