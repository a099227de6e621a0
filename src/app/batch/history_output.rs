//! `drover history show ID --output -o lines|grouped|json`: a stored run's
//! output in the formats `drover run` prints, from the same pieces (line
//! assembly, `node: line`, grouping, JSON objects). Stored text is always
//! sanitised: it is read back for a person or a script, never replayed raw.
//! Where history left bytes out, a notice line says how many. Nodes are read
//! from the store one at a time, so a big `--debug` run is never held whole.

use super::grouping::{self, Outcome};
use super::lines::LineAssembler;
use super::render::{outcome_summary, text_for, write_line};
use crate::app::stored_output::{StoredNode, StoredStream, node_status, not_stored_notice};
use crate::cli::OutputFormat;
use crate::engine::records::{NodeResultRecord, StoreError, Stream};
use std::io::{self, Write};

#[derive(Debug, thiserror::Error)]
pub enum ShowError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the output: {0}")]
    Io(#[from] io::Error),
}

const STREAMS: [Stream; 2] = [Stream::Stdout, Stream::Stderr];

/// Prints the output of the nodes of `records` (in target order) of a run
/// that ended `status`; `load` reads one node's stored output.
pub fn print(
    format: OutputFormat,
    status: &str,
    records: &[NodeResultRecord],
    load: impl Fn(&NodeResultRecord) -> Result<StoredNode, StoreError>,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<(), ShowError> {
    match format {
        OutputFormat::Lines => {
            for r in records {
                lines(&load(r)?, out, err)?;
            }
        }
        OutputFormat::Grouped => grouped(records, load, out)?,
        OutputFormat::Json => {
            for r in records {
                json(&load(r)?, out)?;
            }
            return Ok(out.flush()?);
        }
    }
    out.flush()?;
    let outcomes: Vec<(&str, _)> = records
        .iter()
        .map(|r| (r.node.as_str(), node_status(&r.status)))
        .collect();
    if let Some(line) = outcome_summary(status, &outcomes) {
        writeln!(err, "{line}")?;
    }
    Ok(err.flush()?)
}

/// Calls `emit` for every line of a stored stream: the head's, the notice
/// where bytes were left out, the tail's.
fn each_line(node: &str, stream: Stream, stored: &StoredStream, mut emit: impl FnMut(Line)) {
    let mut assembler = LineAssembler::default();
    let mut feed = |bytes: &[u8], emit: &mut dyn FnMut(Line)| {
        assembler.push(node, stream, bytes, |_, _, l| emit(Line::Text(l)));
        assembler.finish_node(node, |_, _, l| emit(Line::Text(l)));
    };
    feed(&stored.head, &mut emit);
    if stored.not_stored > 0 {
        emit(Line::NotStored(stored.not_stored));
    }
    feed(&stored.tail, &mut emit);
}

enum Line<'a> {
    Text(&'a [u8]),
    NotStored(u64),
}

/// pdsh style: `node: line`, stdout lines to `out`, stderr lines to `err`, and
/// a failed node's reason on `err` as `drover run` gives it.
fn lines(n: &StoredNode, out: &mut impl Write, err: &mut impl Write) -> io::Result<()> {
    let policy = super::render::TextPolicy {
        stdout_tty: true,
        stderr_tty: true,
    };
    let name = n.record.node.as_str();
    for stream in STREAMS {
        let mut result = Ok(());
        each_line(name, stream, n.stream(stream), |line| {
            if result.is_err() {
                return;
            }
            result = match line {
                Line::Text(l) => write_line(out, err, &policy, name, stream, l),
                Line::NotStored(bytes) => {
                    let notice = not_stored_notice(bytes);
                    write_line(out, err, &policy, name, stream, notice.as_bytes())
                }
            };
        });
        result?;
    }
    if n.record.status != "success"
        && let Some(reason) = &n.record.error
    {
        let category = n.record.error_category.as_deref().unwrap_or("error");
        writeln!(err, "drover: {name}: {category}: {reason}")?;
    }
    Ok(())
}

/// clush -b style: nodes whose stored output and outcome are equal share a
/// block under their node set. Nodes are compared by fingerprint (a pass
/// over each), then each block's first node is read again to print it.
fn grouped(
    records: &[NodeResultRecord],
    load: impl Fn(&NodeResultRecord) -> Result<StoredNode, StoreError>,
    out: &mut impl Write,
) -> Result<(), ShowError> {
    let mut keys = Vec::with_capacity(records.len());
    for r in records {
        let n = load(r)?;
        let outcome = Outcome::new(node_status(&r.status), r.exit_code, &r.status);
        keys.push((n.streams.each_ref().map(StoredStream::fingerprint), outcome));
    }
    for group in grouping::gather(keys) {
        let names = group.members.iter().map(|i| records[*i].node.as_str());
        grouping::write_header(out, names, &group.outcome)?;
        let rep = &load(&records[group.members[0]])?;
        for stream in STREAMS {
            let stored = rep.stream(stream);
            if stored.head.is_empty() && stored.not_stored == 0 && stored.tail.is_empty() {
                continue;
            }
            if stream == Stream::Stderr {
                writeln!(out, "[stderr]")?;
            }
            write_text(out, &stored.head)?;
            if stored.not_stored > 0 {
                writeln!(out, "{}", not_stored_notice(stored.not_stored))?;
            }
            write_text(out, &stored.tail)?;
        }
    }
    Ok(())
}

fn write_text(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    out.write_all(&text_for(bytes, true))?;
    if !bytes.ends_with(b"\n") {
        writeln!(out)?;
    }
    Ok(())
}

/// One object per line: `output` lines as `drover run -o json` has them, an
/// `output_not_stored` object where bytes were left out, and a `node_result`.
fn json(n: &StoredNode, out: &mut impl Write) -> io::Result<()> {
    let name = n.record.node.as_str();
    let mut put = |v: serde_json::Value| -> io::Result<()> {
        serde_json::to_writer(&mut *out, &v)?;
        out.write_all(b"\n")
    };
    for stream in STREAMS {
        // Each object is written as it comes: a node's lines are never all held.
        let mut result = Ok(());
        each_line(name, stream, n.stream(stream), |line| {
            if result.is_ok() {
                result = put(match line {
                    Line::Text(l) => {
                        let clean = text_for(l, true);
                        super::json::output_line(name, stream, &clean)
                    }
                    Line::NotStored(bytes) => super::json::not_stored(name, stream, bytes),
                });
            }
        });
        result?;
    }
    put(super::json::stored_node(&n.record))
}
