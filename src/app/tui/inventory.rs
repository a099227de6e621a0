//! The inventory tree's view state: sources → groups → nodes, which rows are
//! open, what is selected, the filter, and each node's last-run sign. Only the
//! visible rows are kept flat, so a 10,000-node tree costs what the screen shows.

use super::cursor::move_cursor;
use crate::engine::Inventory;
use crate::engine::inventory::nodeset;
use crate::engine::inventory::targets::Grammar;
use crate::engine::resilience::breaker::BreakerState;
use crate::ui::sign::NodeSign;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Inventories up to this size open every group when first shown.
const OPEN_ALL_UP_TO: usize = 200;

/// Group shown for nodes that belong to no group but `all`.
pub const UNGROUPED: &str = "(ungrouped)";

/// Where a run's targets come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSource {
    Selection,
    /// Nothing is selected: the node, `@group` or `source NAME` under the cursor.
    Cursor(String),
}

#[derive(Debug, Clone)]
pub struct GroupEntry {
    pub name: String,
    /// Indexes into `InventoryView::names`, sorted.
    pub nodes: Vec<u32>,
    pub open: bool,
}

#[derive(Debug, Clone)]
pub struct SourceEntry {
    pub name: String,
    pub groups: Vec<GroupEntry>,
    pub open: bool,
}

/// One visible line of the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    Source(u32),
    Group(u32, u32),
    Node(u32, u32, u32),
}

impl Row {
    pub fn depth(self) -> usize {
        match self {
            Row::Source(_) => 0,
            Row::Group(..) => 1,
            Row::Node(..) => 2,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct InventoryView {
    pub loaded: bool,
    pub names: Vec<String>,
    index: HashMap<String, u32>,
    pub sources: Vec<SourceEntry>,
    pub rows: Vec<Row>,
    pub cursor: usize,
    pub top: usize,
    pub selected: Vec<bool>,
    pub selected_count: usize,
    pub signs: Vec<NodeSign>,
    /// The filter expression and the nodes it matched.
    pub filter: Option<(String, Vec<bool>)>,
    /// Nodes whose circuit breaker is not closed, by name (kept across reloads).
    pub breakers: HashMap<String, BreakerState>,
    /// The grammar filters and run targets are read with (shown with the filter).
    pub grammar: Grammar,
    /// The implicit built-in `localhost`: select-all passes it over.
    implicit_localhost: Option<u32>,
    /// What the last filter warned about (parts that matched nothing).
    pub filter_warnings: Vec<String>,
}

impl InventoryView {
    /// Rebuilds the tree for a new inventory, keeping selection, signs and open
    /// groups of nodes that still exist.
    pub fn load(&mut self, inventory: &Inventory) {
        let old_names = std::mem::take(&mut self.names);
        let old_selected = std::mem::take(&mut self.selected);
        let old_signs = std::mem::take(&mut self.signs);
        let old_open: BTreeSet<(String, Option<String>)> = self
            .sources
            .iter()
            .flat_map(|s| {
                let src = s.open.then(|| (s.name.clone(), None));
                let groups = s
                    .groups
                    .iter()
                    .filter(|g| g.open)
                    .map(|g| (s.name.clone(), Some(g.name.clone())));
                src.into_iter().chain(groups).collect::<Vec<_>>()
            })
            .collect();
        let first_load = !self.loaded;

        self.names = inventory.nodes().map(|n| n.name.clone()).collect();
        self.index = self
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i as u32))
            .collect();
        self.selected = vec![false; self.names.len()];
        self.signs = vec![NodeSign::None; self.names.len()];
        self.grammar = inventory.grammar();
        self.implicit_localhost = inventory
            .implicit_localhost()
            .and_then(|n| self.index.get(&n.name).copied());
        for (i, name) in old_names.iter().enumerate() {
            if let Some(&j) = self.index.get(name) {
                self.selected[j as usize] = old_selected.get(i).copied().unwrap_or(false);
                self.signs[j as usize] = old_signs.get(i).copied().unwrap_or_default();
            }
        }
        self.selected_count = self.selected.iter().filter(|s| **s).count();

        let mut by_source: BTreeMap<&str, BTreeMap<&str, Vec<u32>>> = BTreeMap::new();
        for (i, node) in inventory.nodes().enumerate() {
            let groups = by_source.entry(node.source.as_str()).or_default();
            let mut any = false;
            for g in node.groups.iter().filter(|g| *g != "all") {
                groups.entry(g.as_str()).or_default().push(i as u32);
                any = true;
            }
            if !any {
                groups.entry(UNGROUPED).or_default().push(i as u32);
            }
        }
        // A small fleet opens fully on first sight; a big one shows its groups.
        let open_groups = first_load && self.names.len() <= OPEN_ALL_UP_TO;
        self.sources = by_source
            .into_iter()
            .map(|(source, groups)| SourceEntry {
                name: source.to_string(),
                open: first_load || old_open.contains(&(source.to_string(), None)),
                groups: groups
                    .into_iter()
                    .map(|(g, nodes)| GroupEntry {
                        open: open_groups
                            || old_open.contains(&(source.to_string(), Some(g.to_string()))),
                        name: g.to_string(),
                        nodes,
                    })
                    .collect(),
            })
            .collect();
        if let Some((expr, _)) = self.filter.take() {
            let _ = self.set_filter(inventory, &expr);
        }
        self.loaded = true;
        self.rebuild_rows();
    }

    fn visible(&self, node: u32) -> bool {
        match &self.filter {
            Some((_, keep)) => keep[node as usize],
            None => true,
        }
    }

    /// Recomputes the flat list of visible rows after opening, closing or filtering.
    pub fn rebuild_rows(&mut self) {
        let filtering = self.filter.is_some();
        let mut rows = Vec::new();
        for (s, source) in self.sources.iter().enumerate() {
            if filtering
                && !source
                    .groups
                    .iter()
                    .any(|g| g.nodes.iter().any(|n| self.visible(*n)))
            {
                continue;
            }
            rows.push(Row::Source(s as u32));
            if !source.open && !filtering {
                continue;
            }
            for (g, group) in source.groups.iter().enumerate() {
                if filtering && !group.nodes.iter().any(|n| self.visible(*n)) {
                    continue;
                }
                rows.push(Row::Group(s as u32, g as u32));
                if group.open || filtering {
                    rows.extend(
                        group
                            .nodes
                            .iter()
                            .filter(|n| self.visible(**n))
                            .map(|n| Row::Node(s as u32, g as u32, *n)),
                    );
                }
            }
        }
        self.rows = rows;
        self.cursor = self.cursor.min(self.rows.len().saturating_sub(1));
    }

    pub fn group(&self, s: u32, g: u32) -> &GroupEntry {
        &self.sources[s as usize].groups[g as usize]
    }

    pub fn current(&self) -> Option<Row> {
        self.rows.get(self.cursor).copied()
    }

    /// The node under the cursor (a node row), for journal, facts and shell.
    pub fn current_node(&self) -> Option<&str> {
        match self.current()? {
            Row::Node(_, _, n) => Some(&self.names[n as usize]),
            _ => None,
        }
    }

    pub fn move_by(&mut self, delta: isize, page: usize) {
        move_cursor(
            &mut self.cursor,
            &mut self.top,
            self.rows.len(),
            delta,
            page,
        );
    }

    /// Right: open; Left: close, or go to the parent row.
    pub fn set_open(&mut self, open: bool) {
        let Some(row) = self.current() else { return };
        match row {
            Row::Source(s) => self.sources[s as usize].open = open,
            Row::Group(s, g) => self.sources[s as usize].groups[g as usize].open = open,
            Row::Node(s, g, _) if !open => {
                if let Some(i) = self.rows.iter().position(|r| *r == Row::Group(s, g)) {
                    self.cursor = i;
                }
                return;
            }
            Row::Node(..) => return,
        }
        self.rebuild_rows();
    }

    pub fn toggle_open(&mut self) {
        let open = match self.current() {
            Some(Row::Source(s)) => self.sources[s as usize].open,
            Some(Row::Group(s, g)) => self.group(s, g).open,
            _ => return,
        };
        self.set_open(!open);
    }

    pub fn open_all(&mut self, open: bool) {
        for s in &mut self.sources {
            s.open = open || s.open;
            for g in &mut s.groups {
                g.open = open;
            }
        }
        self.rebuild_rows();
    }

    /// Space: a node flips; a group or source selects all its visible nodes
    /// unless all are selected already, in which case it clears them.
    pub fn toggle_select(&mut self) {
        let nodes = match self.current() {
            Some(row) => self.nodes_under(row),
            None => return,
        };
        let all = nodes.iter().all(|n| self.selected[*n as usize]);
        for n in nodes {
            self.set_selected(n, !all);
        }
    }

    /// Selects every node shown, except the implicit `localhost` (as
    /// `all` leaves it out; select it by name).
    pub fn select_all_visible(&mut self) {
        for n in 0..self.names.len() as u32 {
            if self.visible(n) && Some(n) != self.implicit_localhost {
                self.set_selected(n, true);
            }
        }
    }

    pub fn clear_selection(&mut self) {
        self.selected.iter_mut().for_each(|s| *s = false);
        self.selected_count = 0;
    }

    fn set_selected(&mut self, n: u32, on: bool) {
        let slot = &mut self.selected[n as usize];
        if *slot != on {
            *slot = on;
            if on {
                self.selected_count += 1;
            } else {
                self.selected_count -= 1;
            }
        }
    }

    fn nodes_under(&self, row: Row) -> Vec<u32> {
        let mut v: Vec<u32> = match row {
            Row::Node(_, _, n) => vec![n],
            Row::Group(s, g) => self.group(s, g).nodes.clone(),
            Row::Source(s) => self.sources[s as usize]
                .groups
                .iter()
                .flat_map(|g| g.nodes.iter().copied())
                .collect(),
        };
        v.retain(|n| self.visible(*n));
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The nodes a run applies to and why: the whole selection (a filter hides
    /// nodes, it never unselects them), else the shown nodes of the row under
    /// the cursor.
    pub fn target_nodes(&self) -> Option<(Vec<u32>, TargetSource)> {
        let (nodes, source) = if self.selected_count > 0 {
            let all = (0..self.names.len() as u32)
                .filter(|n| self.selected[*n as usize])
                .collect();
            (all, TargetSource::Selection)
        } else {
            let row = self.current()?;
            let name = match row {
                Row::Node(_, _, n) => self.names[n as usize].clone(),
                Row::Group(s, g) if self.group(s, g).name == UNGROUPED => UNGROUPED.to_string(),
                Row::Group(s, g) => format!("@{}", self.group(s, g).name),
                Row::Source(s) => format!("source {}", self.sources[s as usize].name),
            };
            (self.nodes_under(row), TargetSource::Cursor(name))
        };
        (!nodes.is_empty()).then_some((nodes, source))
    }

    /// Selected nodes the filter shows (all of them without a filter).
    pub fn selected_shown(&self) -> usize {
        (0..self.names.len() as u32)
            .filter(|n| self.selected[*n as usize] && self.visible(*n))
            .count()
    }

    /// What a run applies to ([`Self::target_nodes`]) as a target expression. The
    /// names are folded into a node set (`web[01-12]`), which the target grammar
    /// expands back to exactly these nodes.
    pub fn targets(&self) -> Option<(String, usize)> {
        let (nodes, _) = self.target_nodes()?;
        let names = nodes.iter().map(|n| self.names[*n as usize].as_str());
        // Ansible patterns read `web[01-12]` as a slice: list the names.
        let targets = match self.grammar {
            Grammar::Ansible => names.collect::<Vec<_>>().join(","),
            Grammar::Clush => nodeset::fold(names),
        };
        Some((targets, nodes.len()))
    }

    /// Applies a target expression as a filter; `Err` carries the engine's reason.
    pub fn set_filter(&mut self, inventory: &Inventory, expr: &str) -> Result<usize, String> {
        self.filter_warnings.clear();
        if expr.trim().is_empty() {
            self.filter = None;
            self.rebuild_rows();
            return Ok(self.names.len());
        }
        let grammar = inventory.grammar();
        let selection = inventory
            .select(expr)
            .map_err(|e| format!("filter [{grammar}]: {e}"))?;
        self.filter_warnings = selection.warnings;
        let matched = selection.nodes;
        let mut keep = vec![false; self.names.len()];
        for node in &matched {
            if let Some(&i) = self.index.get(&node.name) {
                keep[i as usize] = true;
            }
        }
        self.filter = Some((expr.to_string(), keep));
        self.cursor = 0;
        self.top = 0;
        self.rebuild_rows();
        Ok(matched.len())
    }

    pub fn set_sign(&mut self, node: &str, sign: NodeSign) {
        if let Some(&i) = self.index.get(node) {
            self.signs[i as usize] = sign;
        }
    }

    /// A node's breaker moved: shown while open or half-open, gone once closed.
    pub fn set_breaker(&mut self, node: &str, state: BreakerState) {
        if state == BreakerState::Closed {
            self.breakers.remove(node);
        } else {
            self.breakers.insert(node.to_string(), state);
        }
    }

    pub fn breaker_of(&self, node: &str) -> Option<BreakerState> {
        self.breakers.get(node).copied()
    }

    pub fn sign_of(&self, node: &str) -> NodeSign {
        self.index
            .get(node)
            .map(|i| self.signs[*i as usize])
            .unwrap_or_default()
    }
}
