//! One run's output as the console keeps it: each node's lines (sanitised once,
//! when they arrive), bounded per node, plus the running per-stream hashes that
//! let identical outputs fold together.

use crate::engine::inventory::nodeset;
use crate::engine::output::StreamHash;
use crate::store::Stream;
use crate::ui::sanitize::{SanitizeOptions, sanitize};
use std::collections::{HashMap, VecDeque};

const LINE_BUDGET: usize = 200_000;
pub const MIN_LINES_PER_NODE: usize = 64;
const MAX_LINES_PER_NODE: usize = 20_000;
/// A line longer than this is cut into pieces, so one endless line stays bounded.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutLine {
    pub stderr: bool,
    /// Sanitised: no control characters, only SGR sequences when kept.
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct NodeText {
    pub name: String,
    pub lines: VecDeque<OutLine>,
    /// Lines dropped from the front to stay within the cap.
    pub dropped: u64,
    /// Bytes the engine's ring dropped before we could read them.
    pub missed: u64,
    partial: [Vec<u8>; 2],
    hash: [StreamHash; 2],
    /// Next ring offset to read, per stream.
    pub offsets: [u64; 2],
    stderr_lines: usize,
}

impl NodeText {
    fn new(name: String) -> NodeText {
        NodeText {
            name,
            lines: VecDeque::new(),
            dropped: 0,
            missed: 0,
            partial: [Vec::new(), Vec::new()],
            hash: [StreamHash::default(); 2],
            offsets: [0, 0],
            stderr_lines: 0,
        }
    }

    /// The unfinished last line of a stream, sanitised for display.
    pub fn partial(&self, stderr: bool, opts: &SanitizeOptions) -> Option<OutLine> {
        let raw = &self.partial[usize::from(stderr)];
        (!raw.is_empty()).then(|| OutLine {
            stderr,
            text: sanitize(raw, opts),
        })
    }

    fn key(&self) -> (u64, u64) {
        (self.hash[0].value(), self.hash[1].value())
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
        let partials = usize::from(!self.partial[0].is_empty())
            + usize::from(show_stderr && !self.partial[1].is_empty());
        kept + gap + partials
    }

    fn push_line(&mut self, stderr: bool, raw: &[u8], opts: &SanitizeOptions, cap: usize) {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        self.lines.push_back(OutLine {
            stderr,
            text: sanitize(raw, opts),
        });
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

    fn append(&mut self, stream: Stream, data: &[u8], opts: &SanitizeOptions, cap: usize) {
        let s = usize::from(stream == Stream::Stderr);
        self.hash[s].update(data);
        let mut rest = data;
        while let Some(nl) = rest.iter().position(|b| *b == b'\n') {
            let mut line = std::mem::take(&mut self.partial[s]);
            line.extend_from_slice(&rest[..nl]);
            self.push_line(s == 1, &line, opts, cap);
            rest = &rest[nl + 1..];
        }
        self.partial[s].extend_from_slice(rest);
        while self.partial[s].len() > MAX_LINE_BYTES {
            // Cut at a char boundary when one is near, so a piece never splits UTF-8.
            let mut cut = MAX_LINE_BYTES;
            while cut > MAX_LINE_BYTES - 4 && (self.partial[s][cut] & 0xC0) == 0x80 {
                cut -= 1;
            }
            let piece: Vec<u8> = self.partial[s].drain(..cut).collect();
            self.push_line(s == 1, &piece, opts, cap);
        }
    }
}

/// Nodes shown under one header: identical output so far (folded view), or one
/// node (per-node view).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// `web[01-12,15]` (folded) or the node's name.
    pub label: String,
    pub members: usize,
    /// The node whose lines the block shows.
    pub rep: usize,
    /// Lines the block takes, header included.
    pub height: usize,
}

/// The output of one run, live or replayed from history.
#[derive(Debug, Clone)]
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

    /// Blocks in display order: folded groups biggest first (ties by first
    /// member), or one block per node in target order.
    pub fn blocks(&self, folded: bool, show_stderr: bool) -> Vec<Block> {
        let mut blocks = Vec::new();
        if !folded {
            for (i, n) in self.nodes.iter().enumerate() {
                blocks.push(Block {
                    label: n.name.clone(),
                    members: 1,
                    rep: i,
                    height: 1 + n.shown_len(show_stderr),
                });
            }
            return blocks;
        }
        let mut groups: HashMap<(u64, u64, u64), Vec<usize>> = HashMap::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let (a, b) = n.key();
            groups.entry((a, b, n.missed)).or_default().push(i);
        }
        let mut groups: Vec<Vec<usize>> = groups.into_values().collect();
        groups.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
        for members in groups {
            let rep = members[0];
            let label = nodeset::fold(members.iter().map(|i| self.nodes[*i].name.as_str()));
            blocks.push(Block {
                label,
                members: members.len(),
                rep,
                height: 1 + self.nodes[rep].shown_len(show_stderr),
            });
        }
        blocks
    }
}
