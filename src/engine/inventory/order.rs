//! Ansible's own order of hosts and of each group's members.
//!
//! [`Inventory`](super::Inventory) keeps nodes by name, but Ansible patterns
//! select hosts in the order Ansible lists them (`ansible --list-hosts`), so
//! `--sequential` runs and `inventory list` follow the inventory file, and
//! `web[0]` is the first host Ansible would pick. That order is not one list:
//! a group lists its own hosts first, then its child groups' hosts level by
//! level, so two groups may order the same hosts differently. The Ansible
//! reader records it here; other sources have no order of their own.

/// Hosts and group members in Ansible's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnsibleOrder {
    /// Every host, in the order the inventory first named it.
    pub hosts: Vec<String>,
    /// Every group in creation order (`all` and `ungrouped` first), with its
    /// hosts as Ansible's `Group.get_hosts()` lists them: descendants included.
    pub groups: Vec<(String, Vec<String>)>,
}

impl AnsibleOrder {
    /// Adds a source read after this one (a later `-i`): its new hosts and
    /// groups come after, and a group both define lists these members first,
    /// as Ansible does when several sources fill one inventory.
    pub fn extend(&mut self, later: &AnsibleOrder) {
        append_new(&mut self.hosts, &later.hosts);
        for (name, members) in &later.groups {
            match self.groups.iter_mut().find(|(g, _)| g == name) {
                Some((_, have)) => append_new(have, members),
                None => self.groups.push((name.clone(), members.clone())),
            }
        }
    }
}

fn append_new(have: &mut Vec<String>, more: &[String]) {
    let known: std::collections::HashSet<String> = have.iter().cloned().collect();
    have.extend(more.iter().filter(|m| !known.contains(*m)).cloned());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(hosts: &[&str], groups: &[(&str, &[&str])]) -> AnsibleOrder {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        AnsibleOrder {
            hosts: s(hosts),
            groups: groups.iter().map(|(g, m)| (g.to_string(), s(m))).collect(),
        }
    }

    #[test]
    fn a_later_source_appends_after_the_earlier_one() {
        let mut first = order(&["b", "a"], &[("all", &["b", "a"]), ("web", &["b"])]);
        first.extend(&order(
            &["c", "a"],
            &[("all", &["c", "a"]), ("web", &["c", "b"]), ("db", &["a"])],
        ));
        assert_eq!(
            first,
            order(
                &["b", "a", "c"],
                &[
                    ("all", &["b", "a", "c"]),
                    ("web", &["b", "c"]),
                    ("db", &["a"])
                ]
            )
        );
    }
}
