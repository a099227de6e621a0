//! `drover history`, `drover history show`, `drover metrics`: reading history
//! through the engine, which checks `history.read` first.

use super::history_output::ShowError;
use crate::app::exit::{self, exit_code_for};
use crate::app::setup::Runtime;
use crate::cli::{HistoryArgs, HistoryCommand, MetricsArgs, OutputFormat};
use crate::engine::common::duration::format_duration;
use crate::engine::records::{ExecutionRecord, HistoryFilter, NodeResultRecord, StoreError};
use crate::engine::{EngineError, ExecutionStatus, OutputReader};
use crate::ui::time::{format_time, parse_time};
use std::io::{self, Write};
use std::time::Duration;

fn time_flag(flag: &str, value: &Option<String>) -> Result<Option<i64>, String> {
    value
        .as_deref()
        .map(|v| parse_time(v).map_err(|e| format!("{flag}: {e}")))
        .transpose()
}

pub async fn history(args: &HistoryArgs, rt: &Runtime) -> u8 {
    if let Some(HistoryCommand::Show {
        id,
        output,
        format,
        json,
    }) = &args.show
    {
        let format = format.or(output.then_some(OutputFormat::Lines));
        return show(rt, id, format, *json).await;
    }
    let filter = match build_filter(args) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("drover: {e}");
            return exit::USAGE;
        }
    };
    match rt.engine.read_history(&rt.context, filter).await {
        Ok(rows) if args.json => print_json(&rows),
        Ok(rows) => print_table(&rows),
        Err(e) => engine_error(e),
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
        without_nodes: false,
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

async fn show(rt: &Runtime, id: &str, output: Option<OutputFormat>, json: bool) -> u8 {
    let (exec, nodes) = match rt.engine.read_run(&rt.context, id.to_string()).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            eprintln!("drover: no execution {id:?} in history");
            return exit::NO_MATCH;
        }
        Err(e) => return engine_error(e),
    };
    if let Some(format) = output {
        let reader = match rt.engine.read_stored_output(&rt.context, &exec.id).await {
            Ok(r) => r,
            Err(e) => return engine_error(e),
        };
        return show_output(&reader, &exec, &nodes, format);
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
    reader: &OutputReader,
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
    let load = |r: &NodeResultRecord| crate::app::stored_output::load(reader, r);
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

pub async fn metrics(args: &MetricsArgs, rt: &Runtime) -> u8 {
    let range =
        time_flag("--since", &args.since).and_then(|s| Ok((s, time_flag("--until", &args.until)?)));
    let (since, until) = match range {
        Ok(r) => r,
        Err(e) => {
            eprintln!("drover: {e}");
            return exit::USAGE;
        }
    };
    match rt.engine.read_metrics(&rt.context, since, until).await {
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
        Err(e) => engine_error(e),
    }
}

/// A failed read: the store's own words (an ambiguous run id lists its
/// candidates), or the engine's refusal.
pub fn engine_error(e: EngineError) -> u8 {
    match e {
        EngineError::Store(e) => store_error(e),
        other => {
            eprintln!("drover: {other}");
            exit_code_for(&other)
        }
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
