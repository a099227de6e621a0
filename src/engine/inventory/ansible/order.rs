//! The order Ansible lists hosts in, recorded for Ansible patterns.

use super::AnsibleInventory;
use crate::engine::inventory::order::AnsibleOrder;
use std::collections::HashSet;

impl AnsibleInventory {
    /// Hosts in the order first seen, and each group's hosts in the order
    /// of Ansible's `Group.get_hosts()`.
    pub fn order(&self) -> AnsibleOrder {
        AnsibleOrder {
            hosts: self.hosts.iter().map(|h| h.name.clone()).collect(),
            groups: (0..self.groups.len())
                .map(|g| (self.groups[g].name.clone(), self.group_hosts(g)))
                .collect(),
        }
    }

    /// The group's own hosts, then its descendants' hosts level by level
    /// (children in the order added, then their children...), each host
    /// once. Ansible walks a level's groups in a Python set's order, which
    /// is arbitrary when several groups of one level have children; drover
    /// takes them in the order they were added.
    fn group_hosts(&self, group: usize) -> Vec<String> {
        let mut walk = vec![group];
        let mut seen_groups: HashSet<usize> = HashSet::from([group]);
        let mut level = vec![group];
        while !level.is_empty() {
            let mut next = Vec::new();
            for &g in &level {
                for &child in &self.groups[g].children {
                    if seen_groups.insert(child) {
                        walk.push(child);
                        next.push(child);
                    }
                }
            }
            level = next;
        }
        let mut seen_hosts = HashSet::new();
        walk.iter()
            .flat_map(|&g| &self.groups[g].hosts)
            .filter(|&&h| seen_hosts.insert(h))
            .map(|&h| self.hosts[h].name.clone())
            .collect()
    }
}
