//! The one-line input at the bottom: command mode (`:`), an ad hoc command (`!`),
//! the inventory filter, output search and history search. Text editing is the
//! textarea's; this adds what each kind means and recall with up/down.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
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

/// What a key did to the bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BarOutcome {
    Editing,
    /// Text changed (live filters follow it).
    Changed,
    Submit(String),
    Cancel,
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

    /// `recall`: earlier entries, oldest first.
    pub fn key(&mut self, key: KeyEvent, recall: &[String]) -> BarOutcome {
        match key.code {
            KeyCode::Enter => return BarOutcome::Submit(self.text().to_string()),
            KeyCode::Esc => return BarOutcome::Cancel,
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                return BarOutcome::Cancel;
            }
            KeyCode::Up | KeyCode::Down if !recall.is_empty() => {
                let next = match (key.code, self.recall_at) {
                    (KeyCode::Up, None) => Some(recall.len() - 1),
                    (KeyCode::Up, Some(i)) => Some(i.saturating_sub(1)),
                    (KeyCode::Down, Some(i)) if i + 1 < recall.len() => Some(i + 1),
                    _ => None,
                };
                self.recall_at = next;
                let text = next.map(|i| recall[i].as_str()).unwrap_or("");
                self.set_text(text);
                return BarOutcome::Changed;
            }
            KeyCode::Up | KeyCode::Down => return BarOutcome::Editing,
            _ => {}
        }
        let before = self.text().to_string();
        self.area.input(key);
        // One line only: the textarea would split on ctrl-m / ctrl-j.
        if self.area.lines().len() > 1 {
            let joined = self.area.lines().join(" ");
            self.set_text(&joined);
        }
        if self.text() != before {
            BarOutcome::Changed
        } else {
            BarOutcome::Editing
        }
    }

    pub fn paste(&mut self, text: &str) {
        self.area.insert_str(text.replace(['\n', '\r'], " "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn typing_recall_and_submit() {
        let mut bar = Bar::new(BarKind::Run, "");
        for c in "uptime".chars() {
            assert_eq!(bar.key(key(KeyCode::Char(c)), &[]), BarOutcome::Changed);
        }
        let recall = vec!["first".to_string(), "second".to_string()];
        bar.key(key(KeyCode::Up), &recall);
        assert_eq!(bar.text(), "second");
        bar.key(key(KeyCode::Up), &recall);
        assert_eq!(bar.text(), "first");
        bar.key(key(KeyCode::Down), &recall);
        bar.key(key(KeyCode::Down), &recall);
        assert_eq!(bar.text(), "");
        bar.paste("a\nb");
        assert_eq!(
            bar.key(key(KeyCode::Enter), &recall),
            BarOutcome::Submit("a b".into())
        );
    }
}
