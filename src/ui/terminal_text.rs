//! One stream of remote output as a terminal would show it, line by line.
//!
//! Bytes go through a [`Sanitizer`] that keeps its parser state between
//! chunks (so a sequence split across reads is still removed whole) and
//! passes `\r` and `\t` through; here they move a cursor over the current
//! line as a terminal does: `\r` returns to the first column and what follows
//! overwrites (`10%\r20%\r30%` shows `30%`, `abcdef\rXY` shows `XYcdef`), a
//! tab moves to the next tab stop. Kept SGR colours stay with the characters
//! they painted, and carry over to the next line as on a terminal.
//!
//! The result depends only on the bytes, never on where reads split them.

use super::sanitize::{SanitizeOptions, Sanitizer};
use std::sync::Arc;

/// A line never holds more characters than this; a longer one (one endless
/// line) is cut into pieces so memory stays bounded.
pub const MAX_LINE_CHARS: usize = 16 * 1024;

/// Longest pen (SGR sequences in force) kept; past it only the newest
/// sequence is kept, so a stream of colour changes cannot grow it.
const MAX_PEN_BYTES: usize = 256;

/// One character cell and the SGR sequences it was written with.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cell {
    ch: char,
    pen: Option<Arc<str>>,
}

pub struct TerminalText {
    sanitizer: Sanitizer,
    tab_width: usize,
    line: Vec<Cell>,
    cursor: usize,
    pen: Option<Arc<str>>,
}

impl std::fmt::Debug for TerminalText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TerminalText")
            .field("line", &self.current())
            .field("cursor", &self.cursor)
            .finish_non_exhaustive()
    }
}

impl TerminalText {
    pub fn new(opts: &SanitizeOptions) -> TerminalText {
        TerminalText {
            sanitizer: Sanitizer::new(SanitizeOptions {
                cursor_controls: true,
                ..opts.clone()
            }),
            tab_width: opts.tab_width.unwrap_or(8).max(1),
            line: Vec::new(),
            cursor: 0,
            pen: None,
        }
    }

    /// Feeds a chunk; returns the lines it completed, rendered.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<String> {
        let text = self.sanitizer.feed(chunk);
        let mut done = Vec::new();
        let mut rest = text.as_str();
        while let Some(c) = rest.chars().next() {
            if let Some(after) = rest.strip_prefix("\x1b[") {
                // The sanitiser only emits whole `ESC [ params m` sequences.
                let end = after.find('m').unwrap_or(after.len());
                self.set_pen(&rest[..(end + 3).min(rest.len())], &after[..end]);
                rest = after.get(end + 1..).unwrap_or("");
                continue;
            }
            rest = &rest[c.len_utf8()..];
            match c {
                '\n' => done.push(self.take_line()),
                '\r' => self.cursor = 0,
                '\t' => {
                    let stop = self.cursor + self.tab_width - self.cursor % self.tab_width;
                    self.cursor = stop.min(MAX_LINE_CHARS - 1);
                }
                c => {
                    self.print(c);
                    if self.line.len() >= MAX_LINE_CHARS && self.cursor >= self.line.len() {
                        done.push(self.take_line());
                    }
                }
            }
        }
        done
    }

    /// The unfinished line as shown now, `None` when nothing is on it.
    pub fn current(&self) -> Option<String> {
        (!self.line.is_empty()).then(|| render(&self.line))
    }

    fn print(&mut self, ch: char) {
        while self.line.len() < self.cursor {
            self.line.push(Cell { ch: ' ', pen: None });
        }
        let cell = Cell {
            ch,
            pen: self.pen.clone(),
        };
        match self.line.get_mut(self.cursor) {
            Some(old) => *old = cell,
            None => self.line.push(cell),
        }
        self.cursor += 1;
    }

    fn take_line(&mut self) -> String {
        let text = render(&self.line);
        self.line.clear();
        self.cursor = 0;
        text
    }

    /// `sequence` is the whole `ESC [ params m`; a reset clears the pen.
    fn set_pen(&mut self, sequence: &str, params: &str) {
        let first = params.split([';', ':']).next().unwrap_or("");
        if first.is_empty() || first.trim_start_matches('0').is_empty() {
            self.pen = (params.len() > first.len()).then(|| Arc::from(sequence));
            return;
        }
        let joined = match &self.pen {
            Some(pen) if pen.len() + sequence.len() <= MAX_PEN_BYTES => format!("{pen}{sequence}"),
            _ => sequence.to_string(),
        };
        self.pen = Some(Arc::from(joined));
    }
}

/// Cells as text, with a reset and the new pen wherever the pen changes.
fn render(cells: &[Cell]) -> String {
    let mut out = String::with_capacity(cells.len());
    let mut pen: Option<&Arc<str>> = None;
    for cell in cells {
        if cell.pen.as_ref() != pen {
            if pen.is_some() {
                out.push_str("\x1b[0m");
            }
            if let Some(p) = &cell.pen {
                out.push_str(p);
            }
            pen = cell.pen.as_ref();
        }
        out.push(cell.ch);
    }
    if pen.is_some() {
        out.push_str("\x1b[0m");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn shown(opts: &SanitizeOptions, chunks: &[&[u8]]) -> (Vec<String>, Option<String>) {
        let mut t = TerminalText::new(opts);
        let mut lines = Vec::new();
        for c in chunks {
            lines.extend(t.feed(c));
        }
        (lines, t.current())
    }

    fn plain(input: &[u8]) -> (Vec<String>, Option<String>) {
        shown(&SanitizeOptions::default(), &[input])
    }

    #[test]
    fn carriage_returns_overwrite_like_a_terminal() {
        assert_eq!(plain(b"10%\r20%\r30%"), (vec![], Some("30%".into())));
        assert_eq!(plain(b"abcdef\rXY\n"), (vec!["XYcdef".into()], None));
        assert_eq!(plain(b"a\r\nb\r\n"), (vec!["a".into(), "b".into()], None));
        assert_eq!(plain(b"abc\r"), (vec![], Some("abc".into())));
        assert_eq!(plain(b"\r\r\n"), (vec![String::new()], None));
    }

    #[test]
    fn tabs_move_to_the_next_stop_and_can_be_overwritten() {
        assert_eq!(plain(b"ab\tx\n").0, ["ab      x"]);
        assert_eq!(plain(b"12345678\tx\n").0, ["12345678        x"]);
        assert_eq!(plain(b"abcdefghij\r\tX\n").0, ["abcdefghXj"]);
        assert_eq!(plain(b"a\t\n").0, ["a"], "a tab writes nothing by itself");
    }

    #[test]
    fn controls_stay_visible_and_sequences_are_removed() {
        assert_eq!(plain(b"a\x07\x1b]0;t\x07b\x1b[2J\n").0, ["a^Gb"]);
    }

    #[test]
    fn colours_stay_with_the_characters_they_painted() {
        let sgr = SanitizeOptions {
            keep_sgr: true,
            ..SanitizeOptions::default()
        };
        let (lines, _) = shown(&sgr, &[b"\x1b[31mabc\x1b[0m\rX\n"]);
        assert_eq!(lines, ["X\x1b[31mbc\x1b[0m"]);
        let (lines, _) = shown(&sgr, &[b"\x1b[1m\x1b[32mok\nnext\x1b[m\n"]);
        assert_eq!(
            lines,
            ["\x1b[1m\x1b[32mok\x1b[0m", "\x1b[1m\x1b[32mnext\x1b[0m"]
        );
        let mut t = TerminalText::new(&sgr);
        for _ in 0..1000 {
            t.feed(b"\x1b[1;31m");
        }
        assert!(t.pen.as_ref().is_some_and(|p| p.len() <= MAX_PEN_BYTES));
    }

    #[test]
    fn an_endless_line_is_cut() {
        let (lines, rest) = plain(&vec![b'y'; MAX_LINE_CHARS * 2 + 3]);
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| l.len() == MAX_LINE_CHARS));
        assert_eq!(rest.as_deref(), Some("yyy"));
    }

    fn stream() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(b"\r".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"\t".to_vec()),
            Just(b"\x1b[31m".to_vec()),
            Just(b"\x1b[0m".to_vec()),
            Just(b"\x1b]0;x\x07".to_vec()),
            Just("é日".as_bytes().to_vec()),
            "[a-z%0-9 ]{0,12}".prop_map(String::into_bytes),
            proptest::collection::vec(any::<u8>(), 0..6),
        ];
        proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn a_chunked_stream_renders_as_the_whole(
            bytes in stream(),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
            keep_sgr in any::<bool>(),
        ) {
            let opts = SanitizeOptions { keep_sgr, ..SanitizeOptions::default() };
            let whole = shown(&opts, &[&bytes]);
            let mut at: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
            at.sort_unstable();
            let mut chunks: Vec<&[u8]> = Vec::new();
            let mut from = 0;
            for cut in at {
                chunks.push(&bytes[from..cut]);
                from = cut;
            }
            chunks.push(&bytes[from..]);
            prop_assert_eq!(shown(&opts, &chunks), whole);
        }
    }
}
