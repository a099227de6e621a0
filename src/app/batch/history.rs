//! `drover history`, `drover history show`, `drover metrics`: reading the store.

use super::history_output::ShowError;
use crate::app::exit;
use crate::cli::{HistoryArgs, HistoryCommand, MetricsArgs, OutputFormat};
use crate::engine::ExecutionStatus;
use crate::engine::common::duration::format_duration;
use crate::store::{ExecutionRecord, HistoryFilter, NodeResultRecord, Store, StoreError};
use crate::ui::time::{format_time, parse_time};
use std::io::{self, Write};
use std::time::Duration;

fn time_flag(flag: &str, value: &Option<String>) -> Result<Option<i64>, String> {
    value
        .as_deref()
        .map(|v| parse_time(v).map_err(|e| format!("{flag}: {e}")))
        .transpose()
}

pub fn history(args: &HistoryArgs, store: &Store) -> u8 {
    if let Some(HistoryCommand::Show {
        id,
        output,
        format,
        json,
    }) = &args.show
    {
        let format = format.or(output.then_some(OutputFormat::Lines));
        return show(store, id, format, *json);
    }
    let filter = match build_filter(args) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("drover: {e}");
            return exit::USAGE;
        }
    };
    match store.history(&filter) {
        Ok(rows) if args.json => print_json(&rows),
        Ok(rows) => print_table(&rows),
        Err(e) => store_error(e),
    }
}

fn build_filter(args: &HistoryArgs) -> Result<HistoryFilter, String> {
    if let Some(s) = &args.status
        && ExecutionStatus::parse(s).is_none()
    {
        return Err(format!(
            "--status: {s:?} is not one of queued, running, success, failed, partial, timeout, cancelled, interrupted"
        ));
    }
    Ok(HistoryFilter {
        since: time_flag("--since", &args.since)?,
        until: time_flag("--until", &args.until)?,
        user: args.user.clone(),
        target: args.target.clone(),
        status: args.status.clone(),
        limit: Some(args.limit),
    })
}

fn print_json<T: serde::Serialize>(value: &T) -> u8 {
    let mut out = io::stdout().lock();
    if serde_json::to_writer_pretty(&mut out, value).is_ok() {
        let _ = writeln!(out);
    }
    exit::SUCCESS
}

fn print_table(rows: &[ExecutionRecord]) -> u8 {
    let mut out = io::stdout().lock();
    let _ = writeln!(
        out,
        "{:<16}  {:<19}  {:<11}  {:<10}  {:>5}  {:>8}  COMMAND",
        "ID", "STARTED (UTC)", "STATUS", "USER", "NODES", "TIME"
    );
    for r in rows {
        let took = r
            .duration_ms
            .map(|d| format_duration(Duration::from_millis(d.max(0) as u64)))
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "{:<16}  {:<19}  {:<11}  {:<10}  {:>5}  {:>8}  {}",
            r.id,
            format_time(r.started_at),
            r.status,
            r.user,
            r.nodes.len(),
            took,
            one_line(&r.action, 80)
        );
    }
    exit::SUCCESS
}

fn one_line(s: &str, max: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() > max {
        flat.chars().take(max - 1).chain(['…']).collect()
    } else {
        flat
    }
}

fn show(store: &Store, id: &str, output: Option<OutputFormat>, json: bool) -> u8 {
    let (exec, nodes) = match store.execution(id) {
        Ok(Some(found)) => found,
        Ok(None) => {
            eprintln!("drover: no execution {id:?} in history");
            return exit::NO_MATCH;
        }
        Err(e) => return store_error(e),
    };
    if let Some(format) = output {
        return show_output(store, &exec, &nodes, format);
    }
    if json {
        return print_json(&serde_json::json!({"execution": exec, "nodes": nodes}));
    }
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "execution {}  {}", exec.id, exec.status);
    let _ = writeln!(out, "command   {}", exec.action);
    let _ = writeln!(out, "targets   {}", exec.target_expr);
    let _ = writeln!(out, "user      {}", exec.user);
    let _ = writeln!(out, "started   {} UTC", format_time(exec.started_at));
    if let Some(of) = &exec.rerun_of {
        let _ = writeln!(out, "rerun of {of}");
    }
    for n in &nodes {
        let code = n
            .exit_code
            .map(|c| c.to_string())
            .unwrap_or_else(|| "-".into());
        let err = n
            .error
            .as_deref()
            .map(|e| format!("  {e}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:<20} {:<10} exit {:<4} {:>8}{err}",
            n.node,
            n.status,
            code,
            format_duration(Duration::from_millis(n.duration_ms.max(0) as u64))
        );
    }
    exit::SUCCESS
}

/// Everything stored of a run's output, in target order, as `run -o` prints it.
fn show_output(
    store: &Store,
    exec: &ExecutionRecord,
    records: &[NodeResultRecord],
    format: OutputFormat,
) -> u8 {
    let order: std::collections::HashMap<&str, usize> = exec
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut records = records.to_vec();
    records.sort_by_key(|r| order.get(r.node.as_str()).copied().unwrap_or(usize::MAX));
    let load = |r: &NodeResultRecord| crate::app::stored_output::load(store, &exec.id, r);
    // Buffered: stdout is line-buffered, a write per line of a big run.
    let (mut out, mut err) = (io::BufWriter::new(io::stdout().lock()), io::stderr().lock());
    let printed =
        super::history_output::print(format, &exec.status, &records, load, &mut out, &mut err);
    match printed {
        Ok(()) => exit::SUCCESS,
        Err(ShowError::Store(e)) => store_error(e),
        // A closed pipe (`| head`) is not a failure of the run shown.
        Err(ShowError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => exit::SUCCESS,
        Err(e) => {
            eprintln!("drover: {}: {e}", exec.id);
            exit::FAILED
        }
    }
}

pub fn metrics(args: &MetricsArgs, store: &Store) -> u8 {
    let range =
        time_flag("--since", &args.since).and_then(|s| Ok((s, time_flag("--until", &args.until)?)));
    let (since, until) = match range {
        Ok(r) => r,
        Err(e) => {
            eprintln!("drover: {e}");
            return exit::USAGE;
        }
    };
    match store.metrics(since, until) {
        Ok(m) if args.json => print_json(&m),
        Ok(m) => {
            println!("executions       {}", m.total_executions);
            println!("success rate     {:.1}%", m.success_rate * 100.0);
            println!(
                "average duration {}",
                format_duration(Duration::from_millis(m.average_duration_ms.max(0.0) as u64))
            );
            println!("node runs        {}", m.target_count);
            println!("error rate       {:.1}%", m.error_rate * 100.0);
            exit::SUCCESS
        }
        Err(e) => store_error(e),
    }
}

pub fn store_error(e: StoreError) -> u8 {
    match crate::app::run_id::ambiguity_lines(&e) {
        Some(lines) => eprintln!("drover: {}", lines.join("\n")),
        None => eprintln!("drover: {e}"),
    }
    match e {
        StoreError::Ambiguous { .. } => exit::USAGE,
        _ => exit::FAILED,
    }
}
