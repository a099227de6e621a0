//! `drover events`: the event log of every drover process on this state dir,
//! as JSON lines (schema in `engine::report::event_record`), read through the
//! engine, which checks `history.read` once. `--follow` reads the log by `seq`
//! each time the store has news (PostgreSQL announces every commit; SQLite is
//! looked at every 150 ms), so it prints what other processes record as soon as
//! their batch commits.

use super::run::exit_code_for;
use crate::app::exit;
use crate::app::setup::Runtime;
use crate::app::stop_signals::StopSignals;
use crate::cli::EventsArgs;
use crate::engine::records::{EventFilter, EventRecord};
use crate::engine::report::event_record::{EVENT_TYPES, json_line};
use crate::engine::{EngineError, EventReader};
use crate::ui::time::parse_time;
use std::io::{self, Write};
use std::time::Duration;

/// The longest `--follow` goes without reading when no news came: a missed
/// notification costs at most this, well under what a person notices, and one
/// indexed query each time, so an idle follower costs next to nothing.
const READ_AT_LEAST_EVERY: Duration = Duration::from_millis(150);

/// Events read per query: a long backlog is printed in pages, never held whole.
const PAGE: usize = 1000;

/// Why the printing stopped.
enum Stopped {
    /// The reader went away (a closed pipe): not an error for a tail.
    Pipe,
    Failed(io::Error),
}

pub async fn events(args: &EventsArgs, rt: &Runtime) -> u8 {
    let mut filter = match build_filter(args, rt) {
        Ok(f) => f,
        Err((message, code)) => {
            eprintln!("drover: {message}");
            return code;
        }
    };
    let reader = match rt.engine.read_events(&rt.context).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("drover: {e}");
            return exit_code_for(&e);
        }
    };
    if args.follow && filter.after_seq.is_none() && filter.since.is_none() {
        // A tail starts with what comes next.
        match reader.last_seq().await {
            Ok(seq) => filter.after_seq = Some(seq),
            Err(e) => return failed(e),
        }
    }
    if args.follow {
        follow(&reader, filter).await
    } else {
        list(&reader, filter, args.limit).await
    }
}

/// The filter the flags ask for; `Err((message, exit code))` for a bad flag.
fn build_filter(args: &EventsArgs, rt: &Runtime) -> Result<EventFilter, (String, u8)> {
    let usage = |m: String| (m, exit::USAGE);
    let mut types = Vec::new();
    for t in args
        .types
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
    {
        if !EVENT_TYPES.contains(&t) {
            return Err(usage(format!(
                "--type: unknown event type {t:?} (known: {})",
                EVENT_TYPES.join(", ")
            )));
        }
        types.push(t.to_string());
    }
    let since = args
        .since
        .as_deref()
        .map(|v| parse_time(v).map_err(|e| usage(format!("--since: {e}"))))
        .transpose()?;
    let nodes = match &args.targets {
        None => None,
        Some(expr) => match rt.engine.inventory().resolve(expr) {
            Ok(nodes) => Some(nodes.iter().map(|n| n.name.clone()).collect()),
            Err(e) => return Err((e.to_string(), exit_code_for(&e))),
        },
    };
    Ok(EventFilter {
        after_seq: args.after,
        since,
        types,
        nodes,
        limit: PAGE,
    })
}

/// Prints what is in the log now, oldest first, `limit` at most.
async fn list(reader: &EventReader, mut filter: EventFilter, limit: Option<usize>) -> u8 {
    let mut left = limit.unwrap_or(usize::MAX);
    while left > 0 {
        filter.limit = PAGE.min(left);
        let page = match reader.read(filter.clone()).await {
            Ok(p) => p,
            Err(e) => return failed(e),
        };
        match print(&page) {
            Ok(()) => {}
            Err(Stopped::Pipe) => return exit::SUCCESS,
            Err(Stopped::Failed(e)) => return write_failed(e),
        }
        let Some(last) = page.last() else { break };
        filter.after_seq = Some(last.seq);
        left -= page.len();
        if page.len() < filter.limit {
            break;
        }
    }
    exit::SUCCESS
}

/// Prints new events as they are recorded until a stop signal or a closed pipe.
/// A PostgreSQL store that cannot be reached (a restart, a failover) is said once
/// on stderr and polled on: the tail resumes after the last event printed, with
/// no gap and no repeat.
async fn follow(reader: &EventReader, mut filter: EventFilter) -> u8 {
    let mut signals = StopSignals::listen();
    let mut unreachable = false;
    loop {
        let page = match reader.read(filter.clone()).await {
            Ok(p) => {
                if std::mem::take(&mut unreachable) {
                    eprintln!("drover: events: store reachable again");
                }
                p
            }
            Err(EngineError::Store(e)) if e.is_unreachable() => {
                if !unreachable {
                    eprintln!("drover: events: {e}; following on when it answers");
                    unreachable = true;
                }
                Vec::new()
            }
            Err(e) => return failed(e),
        };
        match print(&page) {
            Ok(()) => {}
            Err(Stopped::Pipe) => return exit::SUCCESS,
            Err(Stopped::Failed(e)) => return write_failed(e),
        }
        if let Some(last) = page.last() {
            filter.after_seq = Some(last.seq);
        }
        // A full page means more is waiting: read on at once.
        if page.len() == filter.limit {
            continue;
        }
        tokio::select! {
            _ = signals.recv() => return exit::SUCCESS,
            _ = reader.wait_for_news(READ_AT_LEAST_EVERY) => {}
        }
    }
}

/// One JSON line per event, flushed at the end of the page so a follower's
/// reader sees each page as soon as it is read.
fn print(page: &[EventRecord]) -> Result<(), Stopped> {
    if page.is_empty() {
        return Ok(());
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let stop = |e: io::Error| match e.kind() {
        io::ErrorKind::BrokenPipe => Stopped::Pipe,
        _ => Stopped::Failed(e),
    };
    for r in page {
        serde_json::to_writer(&mut out, &json_line(r)).map_err(|e| stop(e.into()))?;
        out.write_all(b"\n").map_err(stop)?;
    }
    out.flush().map_err(stop)
}

fn failed(e: crate::engine::EngineError) -> u8 {
    eprintln!("drover: reading events: {e}");
    exit::FAILED
}

fn write_failed(e: io::Error) -> u8 {
    eprintln!("drover: writing events: {e}");
    exit::FAILED
}
