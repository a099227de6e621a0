//! Live output of one run as the console shows it: each node's lines (sanitised
//! once, when they arrive), bounded per node, and the folding of nodes whose
//! output so far is byte-identical under one node-set header. Folding uses a
//! running hash per stream, so regrouping as outputs diverge costs O(nodes).

use crate::engine::inventory::nodeset;
use crate::engine::output::StreamHash;
use crate::store::Stream;
use crate::ui::sanitize::{SanitizeOptions, sanitize};
use std::collections::{HashMap, VecDeque};

/// Lines kept for a whole run; each node gets a share (see `line_cap`).
const LINE_BUDGET: usize = 200_000;
const MIN_LINES_PER_NODE: usize = 64;
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

/// A line of the flattened view, as drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewLine<'a> {
    Header {
        label: &'a str,
        members: usize,
        rep: usize,
    },
    Gap {
        dropped: u64,
        missed: u64,
    },
    Text(&'a OutLine),
    Partial(OutLine),
}

#[derive(Debug, Clone)]
pub struct OutputView {
    /// The run shown.
    pub run: Option<RunOutput>,
    /// The live run, kept up to date while a replay from history is shown.
    parked: Option<RunOutput>,
    pub folded: bool,
    pub follow: bool,
    pub show_stderr: bool,
    /// First visible line of the flattened view.
    pub top: usize,
    pub left: usize,
    pub page: usize,
    pub search: Option<String>,
    pub sanitize: SanitizeOptions,
    /// Derived in `settle`: blocks and the total line count.
    pub blocks: Vec<Block>,
    pub total: usize,
    dirty: bool,
}

impl Default for OutputView {
    fn default() -> Self {
        OutputView {
            run: None,
            parked: None,
            folded: true,
            follow: true,
            show_stderr: true,
            top: 0,
            left: 0,
            page: 20,
            search: None,
            sanitize: SanitizeOptions {
                keep_sgr: true,
                tab_width: Some(8),
            },
            blocks: Vec::new(),
            total: 0,
            dirty: false,
        }
    }
}

impl OutputView {
    /// Shows a new live run (a replay shown before is closed).
    pub fn show(&mut self, run: RunOutput) {
        self.parked = None;
        self.show_run(run);
    }

    /// Shows a stored run; the live one keeps receiving output meanwhile.
    pub fn show_replay(&mut self, run: RunOutput) {
        if let Some(current) = self.run.take()
            && !current.replay
        {
            self.parked = Some(current);
        }
        self.show_run(run);
    }

    /// Leaves a replay for the live run; `false` when no replay is shown.
    pub fn back_to_live(&mut self) -> bool {
        if !self.run.as_ref().is_some_and(|r| r.replay) {
            return false;
        }
        self.run = self.parked.take();
        self.to_bottom();
        self.dirty = true;
        true
    }

    /// The live run, shown or parked behind a replay.
    pub fn live(&self) -> Option<&RunOutput> {
        [&self.run, &self.parked]
            .into_iter()
            .flatten()
            .find(|r| !r.replay)
    }

    fn show_run(&mut self, run: RunOutput) {
        self.run = Some(run);
        self.top = 0;
        self.left = 0;
        self.follow = true;
        self.dirty = true;
    }

    pub fn append(&mut self, id: &str, node: &str, stream: Stream, data: &[u8], missed: u64) {
        for slot in [&mut self.run, &mut self.parked] {
            if let Some(run) = slot.as_mut().filter(|r| r.id == id && !r.replay) {
                run.append(node, stream, data, missed, &self.sanitize);
                self.dirty = true;
            }
        }
    }

    pub fn mark_dirty(&mut self) {
        self.dirty = true;
    }

    /// Recomputes blocks after a batch of messages (not per message: with a
    /// thousand nodes printing, per-message regrouping would be quadratic).
    pub fn settle(&mut self) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        self.blocks = match &self.run {
            Some(run) => run.blocks(self.folded, self.show_stderr),
            None => Vec::new(),
        };
        self.total = self.blocks.iter().map(|b| b.height).sum();
        if self.follow {
            self.top = self.total.saturating_sub(self.page);
        } else {
            self.top = self.top.min(self.total.saturating_sub(1));
        }
    }

    /// Lines `from..from+count` of the flattened view.
    pub fn window(&self, from: usize, count: usize) -> Vec<ViewLine<'_>> {
        let Some(run) = &self.run else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(count);
        let mut start = 0;
        for block in &self.blocks {
            if out.len() >= count {
                break;
            }
            if start + block.height <= from {
                start += block.height;
                continue;
            }
            let node = &run.nodes[block.rep];
            let skip = from.saturating_sub(start);
            let lines = self.block_lines(block, node);
            out.extend(lines.skip(skip).take(count - out.len()));
            start += block.height;
        }
        out
    }

    fn block_lines<'a>(
        &'a self,
        block: &'a Block,
        node: &'a NodeText,
    ) -> impl Iterator<Item = ViewLine<'a>> + 'a {
        let header = std::iter::once(ViewLine::Header {
            label: &block.label,
            members: block.members,
            rep: block.rep,
        });
        let gap = (node.dropped > 0 || node.missed > 0).then_some(ViewLine::Gap {
            dropped: node.dropped,
            missed: node.missed,
        });
        let show_stderr = self.show_stderr;
        let text = node
            .lines
            .iter()
            .filter(move |l| show_stderr || !l.stderr)
            .map(ViewLine::Text);
        let out = node.partial(false, &self.sanitize);
        let err = if show_stderr {
            node.partial(true, &self.sanitize)
        } else {
            None
        };
        header
            .chain(gap)
            .chain(text)
            .chain(out.into_iter().chain(err).map(ViewLine::Partial))
    }

    pub fn scroll(&mut self, delta: isize) {
        let max = self.total.saturating_sub(self.page.max(1));
        let top = (self.top as isize + delta).clamp(0, max as isize) as usize;
        self.top = top;
        self.follow = top >= max;
    }

    pub fn to_bottom(&mut self) {
        self.follow = true;
        self.top = self.total.saturating_sub(self.page);
    }

    /// Index of the block whose lines include `line`.
    pub fn block_at(&self, line: usize) -> Option<usize> {
        let mut start = 0;
        for (i, b) in self.blocks.iter().enumerate() {
            if line < start + b.height {
                return Some(i);
            }
            start += b.height;
        }
        None
    }

    fn block_start(&self, index: usize) -> usize {
        self.blocks[..index].iter().map(|b| b.height).sum()
    }

    /// `]` / `[`: the next or previous header to the top of the pane.
    pub fn jump_block(&mut self, forward: bool) {
        let Some(current) = self.block_at(self.top) else {
            return;
        };
        let at_start = self.block_start(current) == self.top;
        let target = if forward {
            (current + 1).min(self.blocks.len() - 1)
        } else if at_start {
            current.saturating_sub(1)
        } else {
            current
        };
        self.top = self.block_start(target);
        self.follow = false;
    }

    /// Moves the view to the next (or previous) line containing the search text,
    /// case-insensitively; `false` when there is none.
    pub fn find(&mut self, forward: bool) -> bool {
        let Some(needle) = self.search.as_ref().map(|s| s.to_lowercase()) else {
            return false;
        };
        if needle.is_empty() || self.total == 0 {
            return false;
        }
        let lines = self.window(0, self.total);
        let hit = |l: &ViewLine| match l {
            ViewLine::Text(t) => t.text.to_lowercase().contains(&needle),
            ViewLine::Partial(t) => t.text.to_lowercase().contains(&needle),
            ViewLine::Header { label, .. } => label.to_lowercase().contains(&needle),
            ViewLine::Gap { .. } => false,
        };
        let n = lines.len();
        let found = (1..=n)
            .map(|k| {
                if forward {
                    (self.top + k) % n
                } else {
                    (self.top + n - k) % n
                }
            })
            .find(|i| hit(&lines[*i]));
        if let Some(i) = found {
            self.top = i;
            self.follow = false;
            true
        } else {
            false
        }
    }

    /// The block at the top of the pane against the largest block, line by line.
    pub fn diff(&self) -> Option<(String, Vec<(char, String)>)> {
        let run = self.run.as_ref()?;
        let current = &self.blocks[self.block_at(self.top)?];
        let largest = self.blocks.iter().max_by_key(|b| b.members)?;
        let text = |i: usize| -> String {
            let n = &run.nodes[i];
            let mut s: String = n
                .lines
                .iter()
                .map(|l| format!("{}{}\n", if l.stderr { "E " } else { "" }, l.text))
                .collect();
            for p in [
                n.partial(false, &self.sanitize),
                n.partial(true, &self.sanitize),
            ]
            .into_iter()
            .flatten()
            {
                s.push_str(&p.text);
                s.push('\n');
            }
            s
        };
        let (old, new) = (text(largest.rep), text(current.rep));
        let diff = similar::TextDiff::from_lines(&old, &new);
        let lines = diff
            .iter_all_changes()
            .map(|c| {
                let sign = match c.tag() {
                    similar::ChangeTag::Delete => '-',
                    similar::ChangeTag::Insert => '+',
                    similar::ChangeTag::Equal => ' ',
                };
                (sign, c.value().trim_end_matches('\n').to_string())
            })
            .collect();
        Some((format!("{} vs {}", current.label, largest.label), lines))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(nodes: &[&str]) -> OutputView {
        let names: Vec<String> = nodes.iter().map(|s| s.to_string()).collect();
        let mut v = OutputView::default();
        v.show(RunOutput::new("x".into(), "cmd".into(), &names, false));
        v
    }

    #[test]
    fn identical_outputs_fold_and_regroup_as_they_diverge() {
        let mut v = run(&["web01", "web02", "web03"]);
        for n in ["web01", "web02", "web03"] {
            v.append("x", n, Stream::Stdout, b"hello\n", 0);
        }
        v.settle();
        assert_eq!(v.blocks.len(), 1);
        assert_eq!(v.blocks[0].label, "web[01-03]");
        v.append("x", "web02", Stream::Stdout, b"extra\n", 0);
        v.settle();
        let labels: Vec<_> = v.blocks.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["web[01,03]", "web02"]);
    }

    #[test]
    fn chunking_does_not_change_folding_and_partials_show() {
        let mut v = run(&["a", "b"]);
        v.append("x", "a", Stream::Stdout, b"one\ntw", 0);
        v.append("x", "a", Stream::Stdout, b"o", 0);
        v.append("x", "b", Stream::Stdout, b"one\ntwo", 0);
        v.settle();
        assert_eq!(v.blocks.len(), 1);
        let lines = v.window(0, 10);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(matches!(&lines[2], ViewLine::Partial(l) if l.text == "two"));
    }

    #[test]
    fn hostile_bytes_are_neutralised_when_stored() {
        let mut v = run(&["a"]);
        v.append(
            "x",
            "a",
            Stream::Stderr,
            b"\x1b]0;pwned\x07\x1b[2Jok\xff\n",
            0,
        );
        v.settle();
        let lines = v.window(0, 10);
        let ViewLine::Text(l) = &lines[1] else {
            panic!("{lines:?}")
        };
        assert!(l.stderr);
        assert!(!l.text.chars().any(|c| c.is_control()), "{:?}", l.text);
        assert!(l.text.contains("ok"));
    }

    #[test]
    fn lines_per_node_are_capped_and_the_gap_is_shown() {
        let names: Vec<String> = (0..10_000).map(|i| format!("n{i}")).collect();
        let mut v = OutputView::default();
        v.show(RunOutput::new("x".into(), "c".into(), &names, false));
        let many = "x\n".repeat(500);
        v.append("x", "n1", Stream::Stdout, many.as_bytes(), 0);
        let node = v.run.as_ref().unwrap().node("n1").unwrap();
        assert_eq!(node.lines.len(), MIN_LINES_PER_NODE);
        assert_eq!(node.dropped, 500 - MIN_LINES_PER_NODE as u64);
    }

    #[test]
    fn an_endless_line_is_cut_into_bounded_pieces() {
        let mut v = run(&["a"]);
        v.append(
            "x",
            "a",
            Stream::Stdout,
            &vec![b'y'; MAX_LINE_BYTES * 3 + 5],
            0,
        );
        let node = v.run.as_ref().unwrap().node("a").unwrap();
        assert_eq!(node.lines.len(), 3);
        assert!(node.lines.iter().all(|l| l.text.len() == MAX_LINE_BYTES));
    }

    #[test]
    fn search_and_jumps_move_the_view() {
        let mut v = run(&["a", "b"]);
        v.folded = false;
        v.append("x", "a", Stream::Stdout, b"alpha\n", 0);
        v.append("x", "b", Stream::Stdout, b"beta\nneedle\n", 0);
        v.page = 1;
        v.settle();
        v.top = 0;
        v.search = Some("NEEDLE".into());
        assert!(v.find(true));
        assert_eq!(
            v.window(v.top, 1),
            vec![ViewLine::Text(&OutLine {
                stderr: false,
                text: "needle".into()
            })]
        );
        v.top = 0;
        v.jump_block(true);
        assert_eq!(v.top, 2);
    }
}
