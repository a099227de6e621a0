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
    /// Shows `records`. The run under the cursor stays under it, on the same
    /// row of the pane, when it is still there: a reload (another drover's run
    /// came in) does not move what the reader is looking at.
    pub fn set_records(&mut self, records: Vec<ExecutionRecord>) {
        let kept = self
            .selected()
            .map(|r| (r.id.clone(), self.cursor, self.top));
        self.haystacks = records.iter().map(haystack).collect();
        self.records = records;
        self.loading = false;
        self.error = None;
        self.refilter();
        if let Some((id, cursor, top)) = kept
            && let Some(now) = self.matches.iter().position(|i| self.records[*i].id == id)
        {
            self.cursor = now;
            self.top = (top + now).saturating_sub(cursor);
        }
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
    fn a_reload_keeps_the_run_under_the_cursor() {
        let mut h = HistoryView::default();
        h.set_records(vec![
            record("2", "b", "success"),
            record("1", "a", "success"),
        ]);
        h.move_by(1, 10);
        assert_eq!(h.selected().map(|r| r.id.as_str()), Some("1"));
        h.set_records(vec![
            record("3", "c", "success"),
            record("2", "b", "success"),
            record("1", "a", "success"),
        ]);
        assert_eq!(h.selected().map(|r| r.id.as_str()), Some("1"));
        assert_eq!((h.cursor, h.top), (2, 1));
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
