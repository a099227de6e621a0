//! One run's output as the console keeps it: each node's lines (rendered once,
//! as a terminal would show them, when they arrive), bounded per node, plus the running per-stream hashes that
//! let identical outputs fold together.

use crate::engine::NodeStatus;
use crate::engine::inventory::nodeset;
use crate::engine::records::Stream;
use crate::engine::report::output::StreamHash;
use crate::ui::sanitize::SanitizeOptions;
use crate::ui::terminal_text::TerminalText;
use std::collections::{HashMap, VecDeque};

const LINE_BUDGET: usize = 200_000;
pub const MIN_LINES_PER_NODE: usize = 64;
const MAX_LINES_PER_NODE: usize = 20_000;
/// A line longer than this many characters is cut into pieces, so one endless
/// line stays bounded.
pub use crate::ui::terminal_text::MAX_LINE_CHARS;

pub use crate::ui::view::output::OutLine;

#[derive(Debug)]
pub struct NodeText {
    pub name: String,
    pub lines: VecDeque<OutLine>,
    /// Lines dropped from the front to stay within the cap.
    pub dropped: u64,
    /// Bytes the engine's ring dropped before we could read them.
    pub missed: u64,
    /// Per stream: the terminal model that turns bytes into lines (made on
    /// the first byte, so silent nodes cost nothing).
    screens: [Option<Box<TerminalText>>; 2],
    /// Per stream: the unfinished last line as shown now.
    partial: [Option<String>; 2],
    /// Per stream, over every finished line as shown (also lines no longer
    /// kept): equal hashes mean equal rendered output.
    hash: [StreamHash; 2],
    /// Next ring offset to read, per stream.
    pub offsets: [u64; 2],
    stderr_lines: usize,
    /// Where the node is, as the engine last said: part of the fold key, so one
    /// block never holds nodes whose runs ended differently.
    pub status: NodeStatus,
    pub exit_code: Option<i32>,
}

impl NodeText {
    fn new(name: String) -> NodeText {
        NodeText {
            name,
            lines: VecDeque::new(),
            dropped: 0,
            missed: 0,
            screens: [None, None],
            partial: [None, None],
            hash: Default::default(),
            offsets: [0, 0],
            stderr_lines: 0,
            status: NodeStatus::Pending,
            exit_code: None,
        }
    }

    /// The unfinished last line of a stream, as a terminal shows it now.
    pub fn partial(&self, stderr: bool) -> Option<OutLine> {
        self.partial[usize::from(stderr)]
            .as_ref()
            .map(|text| OutLine {
                stderr,
                notice: false,
                text: text.clone(),
            })
    }

    /// What folding compares: everything shown (finished lines, also those no
    /// longer kept, and the unfinished ones), bytes missed and how the node
    /// ended. Two nodes whose output renders the same fold, however their
    /// bytes differed (`10%\r20%\r30%` and `30%`).
    fn fold_key(&self) -> FoldKey {
        let stream = |s: usize| {
            let mut h = self.hash[s].clone();
            if let Some(p) = &self.partial[s] {
                h.update(b"\0partial\0");
                h.update(p.as_bytes());
            }
            h.value()
        };
        FoldKey {
            output: (stream(0), stream(1), self.missed),
            status: self.status,
            exit_code: self.exit_code,
        }
    }

    /// Lines shown for this node: kept lines (stdout only when stderr is
    /// hidden), a gap marker when something was dropped, and partial lines.
    pub fn shown_len(&self, show_stderr: bool) -> usize {
        let kept = if show_stderr {
            self.lines.len()
        } else {
            self.lines.len() - self.stderr_lines
        };
        let gap = usize::from(self.dropped > 0 || self.missed > 0);
        let partials = usize::from(self.partial[0].is_some())
            + usize::from(show_stderr && self.partial[1].is_some());
        kept + gap + partials
    }

    fn push_line(&mut self, stderr: bool, text: String, cap: usize) {
        let s = usize::from(stderr);
        self.hash[s].update(text.as_bytes());
        self.hash[s].update(b"\n");
        self.push_out_line(
            OutLine {
                stderr,
                notice: false,
                text,
            },
            cap,
        );
    }

    fn push_out_line(&mut self, line: OutLine, cap: usize) {
        let stderr = line.stderr;
        self.lines.push_back(line);
        if stderr {
            self.stderr_lines += 1;
        }
        while self.lines.len() > cap {
            if let Some(old) = self.lines.pop_front() {
                self.dropped += 1;
                if old.stderr {
                    self.stderr_lines -= 1;
                }
            }
        }
    }

    /// A notice line in a stream, after what it printed so far (an unfinished
    /// line ends there). It counts in the fold key: two nodes with the same
    /// head and tail but different gaps are not the same output.
    fn notice(&mut self, stream: Stream, text: &str, cap: usize) {
        let s = usize::from(stream == Stream::Stderr);
        if self.partial[s].is_some()
            && let Some(screen) = self.screens[s].as_mut()
        {
            let done = screen.feed(b"\n");
            self.partial[s] = screen.current();
            for line in done {
                self.push_line(s == 1, line, cap);
            }
        }
        self.hash[s].update(b"\0notice\0");
        self.hash[s].update(text.as_bytes());
        self.push_out_line(
            OutLine {
                stderr: s == 1,
                notice: true,
                text: text.to_string(),
            },
            cap,
        );
    }

    fn append(&mut self, stream: Stream, data: &[u8], opts: &SanitizeOptions, cap: usize) {
        if data.is_empty() {
            return;
        }
        let s = usize::from(stream == Stream::Stderr);
        let screen = self.screens[s].get_or_insert_with(|| Box::new(TerminalText::new(opts)));
        let done = screen.feed(data);
        self.partial[s] = screen.current();
        for line in done {
            self.push_line(s == 1, line, cap);
        }
    }
}

/// Nodes fold together only when all of this is equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FoldKey {
    output: (u64, u64, u64),
    status: NodeStatus,
    exit_code: Option<i32>,
}

/// Nodes shown under one header: identical output so far and the same status
/// (folded view), or one node (per-node view).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// `web[01-12,15]` (folded) or the node's name.
    pub label: String,
    pub members: usize,
    /// Every member's status and exit code (they are equal by construction).
    pub status: NodeStatus,
    pub exit_code: Option<i32>,
    /// The node whose lines the block shows.
    pub rep: usize,
    /// Lines the block takes, header included.
    pub height: usize,
}

/// The output of one run, live or replayed from history.
#[derive(Debug)]
pub struct RunOutput {
    pub id: String,
    pub command: String,
    pub replay: bool,
    pub nodes: Vec<NodeText>,
    index: HashMap<String, usize>,
    line_cap: usize,
}

impl RunOutput {
    pub fn new(id: String, command: String, nodes: &[String], replay: bool) -> RunOutput {
        let line_cap =
            (LINE_BUDGET / nodes.len().max(1)).clamp(MIN_LINES_PER_NODE, MAX_LINES_PER_NODE);
        RunOutput {
            id,
            command,
            replay,
            index: nodes
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i))
                .collect(),
            nodes: nodes.iter().cloned().map(NodeText::new).collect(),
            line_cap,
        }
    }

    pub fn node(&self, name: &str) -> Option<&NodeText> {
        self.index.get(name).map(|i| &self.nodes[*i])
    }

    /// Where the loop should read this node's ring from next.
    pub fn offset(&self, name: &str, stream: Stream) -> u64 {
        self.node(name)
            .map(|n| n.offsets[usize::from(stream == Stream::Stderr)])
            .unwrap_or(0)
    }

    pub fn append(
        &mut self,
        name: &str,
        stream: Stream,
        data: &[u8],
        missed: u64,
        opts: &SanitizeOptions,
    ) {
        let Some(&i) = self.index.get(name) else {
            return;
        };
        let cap = self.line_cap;
        let node = &mut self.nodes[i];
        let s = usize::from(stream == Stream::Stderr);
        node.offsets[s] += missed + data.len() as u64;
        node.missed += missed;
        node.append(stream, data, opts, cap);
    }

    /// A line of drover's own in a node's stream (see [`NodeText::notice`]).
    pub fn notice(&mut self, name: &str, stream: Stream, text: &str) {
        if let Some(&i) = self.index.get(name) {
            let cap = self.line_cap;
            self.nodes[i].notice(stream, text, cap);
        }
    }

    /// The engine's word on a node: pending, running, or how it ended.
    pub fn set_status(&mut self, name: &str, status: NodeStatus, exit_code: Option<i32>) {
        if let Some(&i) = self.index.get(name) {
            self.nodes[i].status = status;
            self.nodes[i].exit_code = exit_code;
        }
    }

    /// Blocks in display order. Folded: nodes with the same output and the same
    /// status share a block; outputs printed by more nodes come first (ties by
    /// first member), and the blocks of one output stay together, worst status
    /// first. Per node: one block per node in target order.
    pub fn blocks(&self, folded: bool, show_stderr: bool) -> Vec<Block> {
        let block = |members: &[usize]| {
            let rep = &self.nodes[members[0]];
            Block {
                label: nodeset::fold(members.iter().map(|i| self.nodes[*i].name.as_str())),
                members: members.len(),
                status: rep.status,
                exit_code: rep.exit_code,
                rep: members[0],
                height: 1 + rep.shown_len(show_stderr),
            }
        };
        if !folded {
            return (0..self.nodes.len()).map(|i| block(&[i])).collect();
        }
        let mut groups: HashMap<FoldKey, Vec<usize>> = HashMap::new();
        for (i, n) in self.nodes.iter().enumerate() {
            groups.entry(n.fold_key()).or_default().push(i);
        }
        let mut per_output: HashMap<(u64, u64, u64), (usize, usize)> = HashMap::new();
        for (key, members) in &groups {
            let (count, first) = per_output.entry(key.output).or_insert((0, usize::MAX));
            *count += members.len();
            *first = (*first).min(members[0]);
        }
        let mut groups: Vec<(FoldKey, Vec<usize>)> = groups.into_iter().collect();
        groups.sort_by_key(|(key, members)| {
            let (count, first) = per_output[&key.output];
            (
                std::cmp::Reverse(count),
                first,
                key.status.severity(),
                key.exit_code,
                members[0],
            )
        });
        groups.iter().map(|(_, members)| block(members)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(nodes: &[&str]) -> RunOutput {
        let names: Vec<String> = nodes.iter().map(|s| s.to_string()).collect();
        RunOutput::new("x".into(), "cmd".into(), &names, false)
    }

    fn print(r: &mut RunOutput, node: &str, text: &[u8]) {
        r.append(node, Stream::Stdout, text, 0, &SanitizeOptions::default());
    }

    fn summary(r: &RunOutput) -> Vec<(String, NodeStatus, Option<i32>)> {
        r.blocks(true, true)
            .into_iter()
            .map(|b| (b.label, b.status, b.exit_code))
            .collect()
    }

    #[test]
    fn same_output_different_status_never_shares_a_block_and_the_failure_comes_first() {
        let mut r = run(&["web01", "web02", "web03"]);
        for n in ["web01", "web02", "web03"] {
            print(&mut r, n, b"same\n");
        }
        r.set_status("web01", NodeStatus::Success, Some(0));
        r.set_status("web02", NodeStatus::Failed, Some(1));
        r.set_status("web03", NodeStatus::Success, Some(0));
        assert_eq!(
            summary(&r),
            [
                ("web02".to_string(), NodeStatus::Failed, Some(1)),
                ("web[01,03]".to_string(), NodeStatus::Success, Some(0)),
            ]
        );
    }

    #[test]
    fn exit_codes_split_failures_and_every_status_is_ranked_worst_first() {
        let names = ["a1", "a2", "a3", "a4", "a5", "a6", "a7"];
        let mut r = run(&names);
        for n in names {
            print(&mut r, n, b"x\n");
        }
        let ends = [
            (NodeStatus::Success, Some(0)),
            (NodeStatus::Pending, None),
            (NodeStatus::Running, None),
            (NodeStatus::Cancelled, None),
            (NodeStatus::Timeout, None),
            (NodeStatus::Failed, Some(2)),
            (NodeStatus::Failed, Some(1)),
        ];
        for (n, (status, code)) in names.iter().zip(ends) {
            r.set_status(n, status, code);
        }
        let order = summary(&r);
        assert_eq!(
            order,
            [
                ("a7".to_string(), NodeStatus::Failed, Some(1)),
                ("a6".to_string(), NodeStatus::Failed, Some(2)),
                ("a5".to_string(), NodeStatus::Timeout, None),
                ("a4".to_string(), NodeStatus::Cancelled, None),
                ("a3".to_string(), NodeStatus::Running, None),
                ("a2".to_string(), NodeStatus::Pending, None),
                ("a1".to_string(), NodeStatus::Success, Some(0)),
            ]
        );
    }

    #[test]
    fn every_block_holds_one_status_whatever_the_mix() {
        // Every combination of three outputs and four ends over twelve nodes.
        let names: Vec<String> = (0..12).map(|i| format!("n{i:02}")).collect();
        let mut r = RunOutput::new("x".into(), "c".into(), &names, false);
        let ends = [
            (NodeStatus::Success, Some(0)),
            (NodeStatus::Failed, Some(1)),
            (NodeStatus::Cancelled, None),
            (NodeStatus::Timeout, None),
        ];
        for (i, n) in names.iter().enumerate() {
            print(&mut r, n, format!("out{}\n", i % 3).as_bytes());
            let (status, code) = ends[i % 4];
            r.set_status(n, status, code);
        }
        let blocks = r.blocks(true, true);
        assert_eq!(blocks.iter().map(|b| b.members).sum::<usize>(), 12);
        for b in &blocks {
            let members = nodeset::expand(&b.label).unwrap();
            for m in members {
                let node = r.node(&m).unwrap();
                assert_eq!(
                    (node.status, node.exit_code),
                    (b.status, b.exit_code),
                    "{m}"
                );
            }
        }
    }

    #[test]
    fn output_still_decides_first_and_a_lost_byte_count_splits_blocks() {
        let mut r = run(&["a", "b", "c"]);
        print(&mut r, "a", b"one\n");
        print(&mut r, "b", b"one\n");
        print(&mut r, "c", b"one\n");
        r.append("c", Stream::Stdout, b"", 5, &SanitizeOptions::default());
        let labels: Vec<_> = summary(&r).into_iter().map(|(l, ..)| l).collect();
        assert_eq!(labels, ["a,b", "c"]);
    }

    #[test]
    fn nodes_whose_output_renders_the_same_fold_together() {
        let mut r = run(&["a", "b", "c", "d"]);
        print(&mut r, "a", b"10%\r20%\r30%\n");
        print(&mut r, "b", b"30%\r\n");
        print(&mut r, "c", b"30%\n");
        print(&mut r, "d", b"31%\n");
        let labels: Vec<_> = summary(&r).into_iter().map(|(l, ..)| l).collect();
        assert_eq!(labels, ["a,b,c", "d"]);
        // The unfinished line counts too, as shown.
        print(&mut r, "a", b"x\ry");
        print(&mut r, "b", b"y");
        let labels: Vec<_> = summary(&r).into_iter().map(|(l, ..)| l).collect();
        assert_eq!(labels, ["a,b", "c", "d"]);
    }
}
