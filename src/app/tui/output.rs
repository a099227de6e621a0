//! The output pane's view state: which run is shown (live, or a replay with the
//! live run parked behind it), folded or per node, scrolling, search and diff,
//! over the flattened lines of the run's blocks.

pub use super::run_output::{
    Block, MAX_LINE_CHARS, MIN_LINES_PER_NODE, NodeText, OutLine, RunOutput,
};
use crate::engine::NodeStatus;
use crate::engine::records::Stream;
use crate::ui::sanitize::SanitizeOptions;

pub use crate::ui::view::output::ViewLine;

#[derive(Debug)]
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
    /// Lines of the flattened view matching `search` (see `output_search`).
    pub matches: Vec<usize>,
    /// Long lines wrap to the pane instead of scrolling sideways.
    pub wrap: bool,
    pub sanitize: SanitizeOptions,
    /// Derived in `settle`: blocks and the total line count.
    pub blocks: Vec<Block>,
    pub total: usize,
    /// The user picked this run (a plan step's): the plan's next steps do not
    /// take the pane from it.
    pub pinned: bool,
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
            matches: Vec::new(),
            wrap: false,
            sanitize: SanitizeOptions {
                keep_sgr: true,
                tab_width: Some(8),
                cursor_controls: true,
            },
            blocks: Vec::new(),
            total: 0,
            pinned: false,
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

    /// A node's status in the live run with this id (shown or parked): folding
    /// keeps nodes of different statuses apart, so blocks are recomputed.
    pub fn set_status(&mut self, id: &str, node: &str, status: NodeStatus, exit_code: Option<i32>) {
        for slot in [&mut self.run, &mut self.parked] {
            if let Some(run) = slot.as_mut().filter(|r| r.id == id && !r.replay) {
                run.set_status(node, status, exit_code);
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
        if self.search.is_some() {
            self.refresh_matches();
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
            status: block.status,
            exit_code: block.exit_code,
        });
        let gap = (node.dropped > 0 || node.missed > 0).then_some(ViewLine::Gap {
            dropped: node.dropped,
            missed: node.missed,
        });
        let show_stderr = self.show_stderr;
        let name = (!self.folded).then_some(node.name.as_str());
        let text = node
            .lines
            .iter()
            .filter(move |l| show_stderr || !l.stderr)
            .map(move |line| ViewLine::Text { line, node: name });
        let out = node.partial(false);
        let err = if show_stderr {
            node.partial(true)
        } else {
            None
        };
        header.chain(gap).chain(text).chain(
            out.into_iter()
                .chain(err)
                .map(move |line| ViewLine::Partial { line, node: name }),
        )
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
            for p in [n.partial(false), n.partial(true)].into_iter().flatten() {
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
        assert!(matches!(&lines[2], ViewLine::Partial { line, .. } if line.text == "two"));
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
        let ViewLine::Text { line: l, .. } = &lines[1] else {
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
            &vec![b'y'; MAX_LINE_CHARS * 3 + 5],
            0,
        );
        let node = v.run.as_ref().unwrap().node("a").unwrap();
        assert_eq!(node.lines.len(), 3);
        assert!(node.lines.iter().all(|l| l.text.len() == MAX_LINE_CHARS));
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
        v.set_search("NEEDLE");
        assert!(v.find(true).is_some());
        assert_eq!(
            v.window(v.top, 1),
            vec![ViewLine::Text {
                line: &OutLine {
                    stderr: false,
                    notice: false,
                    text: "needle".into()
                },
                node: Some("b"),
            }]
        );
        v.top = 0;
        v.jump_block(true);
        assert_eq!(v.top, 2);
    }
}
