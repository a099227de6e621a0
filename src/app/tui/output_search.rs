//! Search in the output pane: which lines of the flattened view match (as
//! shown, colours aside, case-insensitively), where the next one is, and
//! "match 3/17" for the title.

use super::output::{OutputView, ViewLine};
use crate::ui::sgr::plain;

/// Where `n` / `N` went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub line: usize,
    /// The search went past the end (or the start) and came round.
    pub wrapped: bool,
}

impl OutputView {
    /// Sets the search text (empty clears it) and finds its matches.
    pub fn set_search(&mut self, text: &str) {
        self.search = (!text.is_empty()).then(|| text.to_string());
        self.refresh_matches();
    }

    /// Recomputes the matching lines; output keeps arriving, so `settle`
    /// calls this while a search is set.
    pub fn refresh_matches(&mut self) {
        let needle = self.search.as_ref().map(|s| s.to_lowercase());
        self.matches = match needle {
            Some(needle) if !needle.is_empty() => self
                .window(0, self.total)
                .iter()
                .enumerate()
                .filter(|(_, l)| line_matches(l, &needle))
                .map(|(i, _)| i)
                .collect(),
            _ => Vec::new(),
        };
    }

    /// Moves the view to the next (or previous) matching line, coming round
    /// at the end; `None` when nothing matches.
    pub fn find(&mut self, forward: bool) -> Option<Found> {
        self.refresh_matches();
        let (first, last) = (*self.matches.first()?, *self.matches.last()?);
        let top = self.top;
        let next = if forward {
            self.matches.iter().copied().find(|m| *m > top)
        } else {
            self.matches.iter().rev().copied().find(|m| *m < top)
        };
        let found = match next {
            Some(line) => Found {
                line,
                wrapped: false,
            },
            None => Found {
                line: if forward { first } else { last },
                wrapped: true,
            },
        };
        self.top = found.line;
        self.follow = false;
        Some(found)
    }

    /// `(n, count)` for "match n/count" while a search is set: `n` is the
    /// match at the top of the pane, 0 when the top is not on one.
    pub fn match_position(&self) -> Option<(usize, usize)> {
        self.search.as_ref()?;
        let n = self
            .matches
            .binary_search(&self.top)
            .map(|i| i + 1)
            .unwrap_or(0);
        Some((n, self.matches.len()))
    }
}

/// `match 3/17` (`match –/17` when the top of the pane is not on a match).
pub fn match_counter(view: &OutputView) -> String {
    match view.match_position() {
        Some((0, count)) => format!("match –/{count}"),
        Some((n, count)) => format!("match {n}/{count}"),
        None => String::new(),
    }
}

fn line_matches(line: &ViewLine, needle: &str) -> bool {
    match line {
        ViewLine::Text { line, .. } => plain(&line.text).to_lowercase().contains(needle),
        ViewLine::Partial { line, .. } => plain(&line.text).to_lowercase().contains(needle),
        ViewLine::Header { label, .. } => label.to_lowercase().contains(needle),
        ViewLine::Gap { .. } => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::tui::output::RunOutput;
    use crate::engine::records::Stream;

    #[test]
    fn the_counter_follows_n_and_n_comes_round() {
        let names: Vec<String> = ["a", "b"].iter().map(|s| s.to_string()).collect();
        let mut v = OutputView::default();
        v.show(RunOutput::new("x".into(), "c".into(), &names, false));
        v.folded = false;
        v.append("x", "a", Stream::Stdout, b"one hit\ntwo\nHIT three\n", 0);
        v.append("x", "b", Stream::Stdout, b"\x1b[31mh\x1b[0mit four\n", 0);
        v.page = 2;
        v.settle();
        v.top = 0;
        v.set_search("hit");
        assert_eq!(v.match_position(), Some((0, 3)));
        let lines: Vec<usize> = (0..4).map(|_| v.find(true).unwrap().line).collect();
        // Lines: 0 a-header, 1 "one hit", 2 two, 3 "HIT three", 4 b-header, 5 "hit four".
        assert_eq!(lines, [1, 3, 5, 1]);
        assert_eq!(v.match_position(), Some((1, 3)));
        let back = v.find(false).unwrap();
        assert_eq!((back.line, back.wrapped), (5, true));
        assert_eq!(v.match_position(), Some((3, 3)));
        v.set_search("absent");
        assert_eq!(v.find(true), None);
        assert_eq!(v.match_position(), Some((0, 0)));
        v.set_search("");
        assert_eq!(v.match_position(), None);
    }
}
