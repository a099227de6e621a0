//! The one-line input at the bottom: command mode (`:`), an ad hoc command (`!`),
//! the inventory filter, output search and history search. Text editing is the
//! textarea's; this adds the kinds and recall with up/down (the keys are
//! `panes::prompt`'s).

use crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarKind {
    Command,
    Run,
    Filter,
    Search,
    HistoryQuery,
    /// `w` in the output pane: the file to write the view to.
    Write,
}

impl BarKind {
    pub fn prompt(self) -> &'static str {
        match self {
            BarKind::Command => ":",
            BarKind::Run => "run> ",
            BarKind::Filter => "filter> ",
            BarKind::Search => "/",
            BarKind::HistoryQuery => "search history> ",
            BarKind::Write => "write to> ",
        }
    }
}

pub struct Bar {
    pub kind: BarKind,
    pub area: TextArea<'static>,
    /// Position in the recall list while browsing it with up/down.
    recall_at: Option<usize>,
}

impl Bar {
    pub fn new(kind: BarKind, initial: &str) -> Bar {
        let mut area = TextArea::new(vec![initial.to_string()]);
        area.move_cursor(ratatui_textarea::CursorMove::End);
        Bar {
            kind,
            area,
            recall_at: None,
        }
    }

    pub fn text(&self) -> &str {
        self.area.lines().first().map(String::as_str).unwrap_or("")
    }

    fn set_text(&mut self, text: &str) {
        self.area = TextArea::new(vec![text.to_string()]);
        self.area.move_cursor(ratatui_textarea::CursorMove::End);
    }

    /// Up (`older`) or down the recall list (`recall`: earlier entries,
    /// oldest first); past the newest, the text is empty again. False when
    /// there is nothing to recall.
    pub fn recall(&mut self, older: bool, recall: &[String]) -> bool {
        if recall.is_empty() {
            return false;
        }
        let next = match (older, self.recall_at) {
            (true, None) => Some(recall.len() - 1),
            (true, Some(i)) => Some(i.saturating_sub(1)),
            (false, Some(i)) if i + 1 < recall.len() => Some(i + 1),
            _ => None,
        };
        self.recall_at = next;
        let text = next.map(|i| recall[i].as_str()).unwrap_or("");
        self.set_text(text);
        true
    }

    /// A key as text; true when the text changed (live filters follow it).
    pub fn input(&mut self, key: KeyEvent) -> bool {
        let before = self.text().to_string();
        self.area.input(key);
        // One line only: the textarea would split on ctrl-m / ctrl-j.
        if self.area.lines().len() > 1 {
            let joined = self.area.lines().join(" ");
            self.set_text(&joined);
        }
        self.text() != before
    }

    pub fn paste(&mut self, text: &str) {
        self.area.insert_str(text.replace(['\n', '\r'], " "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn typing_recall_and_paste() {
        let mut bar = Bar::new(BarKind::Run, "");
        for c in "uptime".chars() {
            assert!(bar.input(key(KeyCode::Char(c))));
        }
        let recall = vec!["first".to_string(), "second".to_string()];
        assert!(!bar.recall(true, &[]));
        bar.recall(true, &recall);
        assert_eq!(bar.text(), "second");
        bar.recall(true, &recall);
        assert_eq!(bar.text(), "first");
        bar.recall(false, &recall);
        bar.recall(false, &recall);
        assert_eq!(bar.text(), "");
        bar.paste("a\nb");
        assert_eq!(bar.text(), "a b");
    }
}
