//! A node's journal as the console shows it, with a type filter.

use super::cursor::move_cursor;
use crate::engine::records::{EntryType, JournalEntry};

#[derive(Debug, Clone, Default)]
pub struct JournalView {
    pub node: Option<String>,
    pub entries: Vec<JournalEntry>,
    /// `None` shows every type.
    pub filter: Option<EntryType>,
    pub cursor: usize,
    pub top: usize,
    pub loading: bool,
    pub error: Option<String>,
}

impl JournalView {
    pub fn open(&mut self, node: &str) {
        if self.node.as_deref() != Some(node) {
            self.entries.clear();
            self.cursor = 0;
            self.top = 0;
        }
        self.node = Some(node.to_string());
        self.loading = true;
        self.error = None;
    }

    /// Entries passing the type filter, newest first.
    pub fn shown(&self) -> impl Iterator<Item = &JournalEntry> {
        self.entries
            .iter()
            .filter(|e| self.filter.is_none_or(|t| e.entry_type == t))
    }

    /// `t`: all → each type in turn → all.
    pub fn cycle_filter(&mut self) {
        let all = EntryType::ALL;
        self.filter = match self.filter {
            None => Some(all[0]),
            Some(t) => all
                .iter()
                .position(|x| *x == t)
                .and_then(|i| all.get(i + 1))
                .copied(),
        };
        self.cursor = 0;
        self.top = 0;
    }

    pub fn move_by(&mut self, delta: isize, page: usize) {
        let len = self.shown().count();
        move_cursor(&mut self.cursor, &mut self.top, len, delta, page);
    }
}
