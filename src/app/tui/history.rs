//! History search: past executions loaded from the store, narrowed as you type
//! by a fuzzy match over command, targets, user, status and time.

use super::cursor::move_cursor;
use crate::engine::records::ExecutionRecord;
use crate::ui::time::format_time;
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

/// Executions loaded for searching (newest first).
pub const LOAD_LIMIT: usize = 5_000;

#[derive(Debug, Clone, Default)]
pub struct HistoryView {
    pub records: Vec<ExecutionRecord>,
    /// What is searched, one string per record.
    haystacks: Vec<String>,
    pub query: String,
    /// Indexes into `records`, best match first (all, newest first, when no query).
    pub matches: Vec<usize>,
    pub cursor: usize,
    pub top: usize,
    pub loading: bool,
    pub error: Option<String>,
}

impl HistoryView {
    pub fn set_records(&mut self, records: Vec<ExecutionRecord>) {
        self.haystacks = records.iter().map(haystack).collect();
        self.records = records;
        self.loading = false;
        self.error = None;
        self.refilter();
    }

    pub fn set_query(&mut self, query: &str) {
        if self.query != query {
            self.query = query.to_string();
            self.refilter();
        }
    }

    fn refilter(&mut self) {
        self.cursor = 0;
        self.top = 0;
        if self.query.trim().is_empty() {
            self.matches = (0..self.records.len()).collect();
            return;
        }
        let pattern = Pattern::parse(&self.query, CaseMatching::Smart, Normalization::Smart);
        let mut matcher = Matcher::new(Config::DEFAULT);
        let mut buf = Vec::new();
        let mut scored: Vec<(u32, usize)> = self
            .haystacks
            .iter()
            .enumerate()
            .filter_map(|(i, h)| {
                pattern
                    .score(Utf32Str::new(h, &mut buf), &mut matcher)
                    .map(|s| (s, i))
            })
            .collect();
        // Best score first; among equals, newest (lower index) first.
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        self.matches = scored.into_iter().map(|(_, i)| i).collect();
    }

    pub fn selected(&self) -> Option<&ExecutionRecord> {
        self.matches.get(self.cursor).map(|i| &self.records[*i])
    }

    pub fn move_by(&mut self, delta: isize, page: usize) {
        let len = self.matches.len();
        move_cursor(&mut self.cursor, &mut self.top, len, delta, page);
    }
}

fn haystack(r: &ExecutionRecord) -> String {
    format!(
        "{} {} {} {} {}",
        r.action,
        r.target_expr,
        r.user,
        r.status,
        format_time(r.started_at)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, action: &str, status: &str) -> ExecutionRecord {
        ExecutionRecord {
            action: action.into(),
            target_expr: "web[01-03]".into(),
            correlation_id: id.into(),
            status: status.into(),
            ..ExecutionRecord::sample(id)
        }
    }

    #[test]
    fn fuzzy_query_narrows_and_ranks() {
        let mut h = HistoryView::default();
        h.set_records(vec![
            record("1", "uptime", "success"),
            record("2", "systemctl restart nginx", "failed"),
            record("3", "df -h", "success"),
        ]);
        assert_eq!(h.matches, [0, 1, 2]);
        h.set_query("nginx");
        assert_eq!(h.matches, [1]);
        h.set_query("sysrst");
        assert_eq!(h.selected().map(|r| r.id.as_str()), Some("2"));
        h.set_query("zzzz");
        assert!(h.matches.is_empty());
        assert!(h.selected().is_none());
    }
}
