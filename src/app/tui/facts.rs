//! Facts of the node under the cursor.

use super::msg::FactRow;

#[derive(Debug, Clone, Default)]
pub struct FactsView {
    pub node: Option<String>,
    pub rows: Vec<FactRow>,
    pub loading: bool,
    pub error: Option<String>,
    pub top: usize,
}

impl FactsView {
    pub fn open(&mut self, node: &str) {
        if self.node.as_deref() != Some(node) {
            self.rows.clear();
            self.top = 0;
        }
        self.node = Some(node.to_string());
        self.loading = true;
        self.error = None;
    }

    pub fn scroll(&mut self, delta: isize) {
        let last = self.rows.len().saturating_sub(1) as isize;
        self.top = (self.top as isize + delta).clamp(0, last.max(0)) as usize;
    }
}
