//! The inventory as Ansible patterns see it: hosts and groups in Ansible's
//! order, without the implicit `localhost`.

use crate::engine::inventory::{ALL_GROUP, Inventory, LOCALHOST};
use std::collections::{HashMap, HashSet};

pub(super) struct View<'a> {
    /// Every host in Ansible's order (`InventoryData.hosts`).
    pub hosts: Vec<&'a str>,
    host_set: HashSet<&'a str>,
    /// Every group in creation order, `all` first, with its hosts as
    /// `Group.get_hosts()` lists them.
    pub groups: Vec<(&'a str, Vec<&'a str>)>,
    /// The built-in `localhost`, which the names in Ansible's
    /// `C.LOCALHOST` select when nothing else matches them.
    pub localhost: Option<&'a str>,
}

impl<'a> View<'a> {
    /// Ansible's recorded order first; nodes and groups it does not cover
    /// (other sources, a node a later source replaced) follow by name.
    pub fn of(inv: &'a Inventory) -> View<'a> {
        let implicit = inv.implicit_localhost().map(|n| n.name.as_str());
        let order = inv.ansible_order();
        let mut view = View {
            hosts: Vec::new(),
            host_set: HashSet::new(),
            groups: Vec::new(),
            localhost: inv
                .node(LOCALHOST)
                .filter(|n| n.source == crate::engine::inventory::BUILTIN_SOURCE)
                .map(|n| n.name.as_str()),
        };
        let recorded = order
            .iter()
            .flat_map(|o| o.hosts.iter().map(String::as_str));
        for name in recorded.chain(inv.nodes().map(|n| n.name.as_str())) {
            if Some(name) != implicit && inv.node(name).is_some() && view.host_set.insert(name) {
                view.hosts.push(name);
            }
        }
        let mut index: HashMap<&str, usize> = HashMap::new();
        let in_group = |host: &str, group: &str| {
            group == ALL_GROUP
                || inv
                    .node(host)
                    .is_some_and(|n| n.groups.iter().any(|g| g == group))
        };
        for (group, members) in order.iter().flat_map(|o| &o.groups) {
            let members = members
                .iter()
                .map(String::as_str)
                .filter(|m| view.host_set.contains(m) && in_group(m, group))
                .collect();
            index.insert(group, view.groups.len());
            view.groups.push((group, members));
        }
        if !index.contains_key(ALL_GROUP) {
            index.values_mut().for_each(|i| *i += 1);
            index.insert(ALL_GROUP, 0);
            view.groups.insert(0, (ALL_GROUP, Vec::new()));
            let ungrouped = inv
                .nodes()
                .filter(|n| n.groups.is_empty())
                .map(|n| n.name.as_str());
            let ungrouped = ungrouped.filter(|n| Some(*n) != implicit).collect();
            index.insert("ungrouped", view.groups.len());
            view.groups.push(("ungrouped", ungrouped));
        }
        let all = &mut view.groups[index[ALL_GROUP]].1;
        complete(all, view.hosts.iter().copied());
        for (group, members) in inv.groups() {
            let at = *index.entry(group).or_insert_with(|| {
                view.groups.push((group, Vec::new()));
                view.groups.len() - 1
            });
            let members = members
                .iter()
                .map(String::as_str)
                .filter(|m| Some(*m) != implicit);
            complete(&mut view.groups[at].1, members);
        }
        view
    }

    /// The host of that name, as stored in the view.
    pub fn host(&self, name: &str) -> Option<&'a str> {
        self.host_set.get(name).copied()
    }
}

/// Appends the names `list` lacks, in the order given.
fn complete<'a>(list: &mut Vec<&'a str>, names: impl Iterator<Item = &'a str>) {
    let mut have: HashSet<&str> = list.iter().copied().collect();
    for name in names {
        if have.insert(name) {
            list.push(name);
        }
    }
}
