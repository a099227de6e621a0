//! The three batch output formats behind one trait: `lines` (pdsh style), `grouped`
//! (dshbak -c / clush -b style) and `json` (one object per event).

use super::grouping;
use super::lines::LineAssembler;
use crate::engine::inventory::nodeset;
use crate::engine::records::Stream;
use crate::engine::report::output::RingRead;
use crate::engine::{
    Engine, EngineEvent, ExecutionId, ExecutionResult, ExecutionSnapshot, NodeStatus, StreamItem,
};
use crate::ui::sanitize::{SanitizeOptions, sanitize};
use std::borrow::Cow;
use std::io::{self, Write};

pub trait Renderer {
    fn item(&mut self, item: &StreamItem) -> io::Result<()>;
    /// Called once with the final result; `output` gives access to the node rings.
    fn finish(&mut self, result: &ExecutionResult, output: &dyn RunOutput) -> io::Result<()>;
}

/// Where a finished run's nodes and their kept output are read: the engine's
/// rings, or what a client of the service collected from the run's stream.
pub trait RunOutput {
    fn snapshot(&self, id: &ExecutionId) -> Option<ExecutionSnapshot>;
    fn read_output(
        &self,
        id: &ExecutionId,
        node: &str,
        stream: Stream,
        since: u64,
    ) -> Option<RingRead>;
}

impl RunOutput for Engine {
    fn snapshot(&self, id: &ExecutionId) -> Option<ExecutionSnapshot> {
        Engine::snapshot(self, id)
    }

    fn read_output(
        &self,
        id: &ExecutionId,
        node: &str,
        stream: Stream,
        since: u64,
    ) -> Option<RingRead> {
        Engine::read_output(self, id, node, stream, since)
    }
}

/// Terminal-bound text is sanitised (remote output is hostile); a pipe gets the
/// bytes as they came, like pdsh, so scripts see exactly what the node printed.
pub struct TextPolicy {
    pub stdout_tty: bool,
    pub stderr_tty: bool,
}

pub fn text_for(bytes: &[u8], tty: bool) -> Cow<'_, [u8]> {
    if tty {
        Cow::Owned(sanitize(bytes, &SanitizeOptions::default()).into_bytes())
    } else {
        // Borrowed: a pipe takes millions of lines a second, no copy each.
        Cow::Borrowed(bytes)
    }
}

pub struct LinesRenderer<O: Write, E: Write> {
    pub out: O,
    pub err: E,
    pub policy: TextPolicy,
    lines: LineAssembler,
}

impl<O: Write, E: Write> LinesRenderer<O, E> {
    pub fn new(out: O, err: E, policy: TextPolicy) -> Self {
        LinesRenderer {
            out,
            err,
            policy,
            lines: LineAssembler::default(),
        }
    }
}

pub fn write_line<O: Write, E: Write>(
    out: &mut O,
    err: &mut E,
    policy: &TextPolicy,
    node: &str,
    stream: Stream,
    line: &[u8],
) -> io::Result<()> {
    match stream {
        Stream::Stdout => {
            out.write_all(node.as_bytes())?;
            out.write_all(b": ")?;
            out.write_all(&text_for(line, policy.stdout_tty))?;
            out.write_all(b"\n")
        }
        Stream::Stderr => {
            err.write_all(node.as_bytes())?;
            err.write_all(b": ")?;
            err.write_all(&text_for(line, policy.stderr_tty))?;
            err.write_all(b"\n")
        }
    }
}

impl<O: Write, E: Write> Renderer for LinesRenderer<O, E> {
    fn item(&mut self, item: &StreamItem) -> io::Result<()> {
        let (out, err, policy) = (&mut self.out, &mut self.err, &self.policy);
        let mut result = Ok(());
        match item {
            StreamItem::Output { node, stream, data } => {
                self.lines.push(node, *stream, data, |n, s, l| {
                    if result.is_ok() {
                        result = write_line(out, err, policy, n, s, l);
                    }
                });
            }
            StreamItem::Event(EngineEvent::NodeFinished {
                node,
                status,
                error,
                ..
            }) => {
                self.lines.finish_node(node, |n, s, l| {
                    if result.is_ok() {
                        result = write_line(out, err, policy, n, s, l);
                    }
                });
                std::mem::replace(&mut result, Ok(()))?;
                if *status != NodeStatus::Success
                    && let Some(e) = error
                {
                    writeln!(self.err, "drover: {node}: {}: {}", e.category, e.reason)?;
                }
            }
            StreamItem::Event(EngineEvent::RetryAttempt {
                node,
                attempt,
                max_attempts,
                reason,
                ..
            }) => {
                writeln!(
                    self.err,
                    "drover: {node}: attempt {attempt}/{max_attempts} after {}: {}",
                    reason.category, reason.reason
                )?;
            }
            StreamItem::Event(_) => {}
        }
        result?;
        self.out.flush()?;
        self.err.flush()
    }

    fn finish(&mut self, result: &ExecutionResult, _output: &dyn RunOutput) -> io::Result<()> {
        summary_line(&mut self.err, result)
    }
}

/// One stderr line when something did not succeed, naming the nodes: failed,
/// timed out and cancelled each counted apart (a cancelled node did not fail).
fn summary_line(err: &mut impl Write, result: &ExecutionResult) -> io::Result<()> {
    if let Some(line) = summary_text(result) {
        writeln!(err, "{line}")?;
    }
    err.flush()
}

fn summary_text(result: &ExecutionResult) -> Option<String> {
    let nodes: Vec<(&str, NodeStatus)> = result
        .nodes
        .iter()
        .map(|n| (n.node.as_str(), n.status))
        .collect();
    outcome_summary(result.status.as_str(), &nodes)
}

/// `drover: partial: 1 of 3 nodes succeeded; 2 failed (n[02-03])`, or `None`
/// when every node succeeded.
pub fn outcome_summary(status: &str, nodes: &[(&str, NodeStatus)]) -> Option<String> {
    let named = |wanted: NodeStatus, label: &str| {
        let names: Vec<&str> = nodes
            .iter()
            .filter(|(_, s)| *s == wanted)
            .map(|(n, _)| *n)
            .collect();
        (!names.is_empty()).then(|| format!("{} {label} ({})", names.len(), nodeset::fold(names)))
    };
    let parts: Vec<String> = [
        named(NodeStatus::Failed, "failed"),
        named(NodeStatus::Timeout, "timed out"),
        named(NodeStatus::Cancelled, "cancelled"),
        named(NodeStatus::Pending, "not run"),
        named(NodeStatus::Running, "still running"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        return None;
    }
    let ok = nodes
        .iter()
        .filter(|(_, s)| *s == NodeStatus::Success)
        .count();
    Some(format!(
        "drover: {status}: {ok} of {} nodes succeeded; {}",
        nodes.len(),
        parts.join(", ")
    ))
}

pub struct GroupedRenderer<O: Write, E: Write> {
    pub out: O,
    pub err: E,
    pub policy: TextPolicy,
}

impl<O: Write, E: Write> Renderer for GroupedRenderer<O, E> {
    fn item(&mut self, _item: &StreamItem) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self, result: &ExecutionResult, engine: &dyn RunOutput) -> io::Result<()> {
        let Some(snap) = engine.snapshot(&result.id) else {
            // No output to show, but the outcome is still told.
            return summary_line(&mut self.err, result);
        };
        // Group by everything each node printed (hashes cover every byte, also what
        // the ring no longer holds) and how it ended: a group holds one outcome.
        let groups = grouping::gather(snap.nodes.iter().map(|n| {
            let output = (n.stdout_hash, n.stdout_bytes, n.stderr_hash, n.stderr_bytes);
            (output, grouping::Outcome::of(n.status, n.exit_code))
        }));
        for group in groups {
            let nodes: Vec<&str> = group
                .members
                .iter()
                .map(|i| snap.nodes[*i].name.as_str())
                .collect();
            grouping::write_header(&mut self.out, nodes.iter().copied(), &group.outcome)?;
            for stream in [Stream::Stdout, Stream::Stderr] {
                let Some(read) = engine.read_output(&result.id, nodes[0], stream, 0) else {
                    continue;
                };
                if read.data.is_empty() {
                    continue;
                }
                if stream == Stream::Stderr {
                    writeln!(self.out, "[stderr]")?;
                }
                if read.missed > 0 {
                    writeln!(self.out, "[... first {} bytes not kept ...]", read.missed)?;
                }
                self.out
                    .write_all(&text_for(&read.data, self.policy.stdout_tty))?;
                if !read.data.ends_with(b"\n") {
                    writeln!(self.out)?;
                }
            }
        }
        self.out.flush()?;
        summary_line(&mut self.err, result)
    }
}

pub struct JsonRenderer<O: Write> {
    pub out: O,
    lines: LineAssembler,
}

impl<O: Write> JsonRenderer<O> {
    pub fn new(out: O) -> Self {
        JsonRenderer {
            out,
            lines: LineAssembler::default(),
        }
    }
}

impl<O: Write> Renderer for JsonRenderer<O> {
    fn item(&mut self, item: &StreamItem) -> io::Result<()> {
        let out = &mut self.out;
        let mut result = Ok(());
        let mut write = |n: &str, s: Stream, l: &[u8]| {
            if result.is_ok() {
                result = super::json::write_output_line(out, n, s, l);
            }
        };
        match item {
            StreamItem::Output { node, stream, data } => {
                self.lines.push(node, *stream, data, &mut write);
            }
            StreamItem::Event(ev) => {
                if let EngineEvent::NodeFinished { node, .. } = ev {
                    self.lines.finish_node(node, &mut write);
                }
                std::mem::replace(&mut result, Ok(()))?;
                if let Some(v) = super::json::event(ev) {
                    serde_json::to_writer(&mut self.out, &v)?;
                    self.out.write_all(b"\n")?;
                }
            }
        }
        result?;
        self.out.flush()
    }

    fn finish(&mut self, _result: &ExecutionResult, _output: &dyn RunOutput) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{ExecutionId, ExecutionStatus, NodeResult};
    use std::time::Duration;

    fn node(name: &str, status: NodeStatus) -> NodeResult {
        NodeResult {
            node: name.into(),
            status,
            exit_code: None,
            signal: None,
            duration: Duration::ZERO,
            attempts: 1,
            error: None,
            stdout: String::new(),
            stderr: String::new(),
            stdout_bytes: 0,
            stderr_bytes: 0,
            output_complete: true,
            value: None,
        }
    }

    fn result(status: ExecutionStatus, nodes: Vec<NodeResult>) -> ExecutionResult {
        ExecutionResult {
            id: ExecutionId("x".into()),
            status,
            started_at: 0,
            finished_at: 0,
            duration: Duration::ZERO,
            nodes,
        }
    }

    #[test]
    fn the_summary_counts_cancelled_apart_from_failed() {
        use NodeStatus::*;
        let r = result(
            ExecutionStatus::Cancelled,
            vec![
                node("n01", Success),
                node("n02", Failed),
                node("n03", Cancelled),
                node("n04", Cancelled),
                node("n05", Timeout),
            ],
        );
        assert_eq!(
            summary_text(&r).unwrap(),
            "drover: cancelled: 1 of 5 nodes succeeded; 1 failed (n02), 1 timed out (n05), 2 cancelled (n[03-04])"
        );
        let ok = result(ExecutionStatus::Success, vec![node("n01", Success)]);
        assert_eq!(summary_text(&ok), None);
    }
}
