//! How `-o grouped` gathers nodes (dshbak -c / clush -b style), for a live run
//! and for one read back from history alike: byte-identical output *and* the
//! same outcome share a block, outputs printed by more nodes come first, and
//! the blocks of one output follow each other, worst outcome first.

use crate::engine::NodeStatus;
use crate::engine::inventory::nodeset;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// How a node ended, as a block header names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Outcome {
    severity: u8,
    exit_code: Option<i32>,
    /// Empty for success: `exit code 3`, `timeout`, `interrupted`...
    label: String,
}

impl Outcome {
    pub fn new(status: NodeStatus, exit_code: Option<i32>, name: &str) -> Outcome {
        let label = match (status, exit_code) {
            (NodeStatus::Success, _) => String::new(),
            (_, Some(code)) => format!("exit code {code}"),
            (_, None) => name.to_string(),
        };
        Outcome {
            severity: status.severity(),
            exit_code,
            label,
        }
    }

    pub fn of(status: NodeStatus, exit_code: Option<i32>) -> Outcome {
        Outcome::new(status, exit_code, status.as_str())
    }
}

/// Nodes (indices into the caller's list) that share one block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub members: Vec<usize>,
    pub outcome: Outcome,
}

/// Gathers nodes by `(output key, outcome)` and orders the groups.
pub fn gather<K: Ord + Clone>(nodes: impl IntoIterator<Item = (K, Outcome)>) -> Vec<Group> {
    let mut groups: BTreeMap<(K, Outcome), Vec<usize>> = BTreeMap::new();
    for (i, key) in nodes.into_iter().enumerate() {
        groups.entry(key).or_default().push(i);
    }
    let mut per_output: BTreeMap<K, (usize, usize)> = BTreeMap::new();
    for ((output, _), members) in &groups {
        let (count, first) = per_output.entry(output.clone()).or_insert((0, usize::MAX));
        *count += members.len();
        *first = (*first).min(members[0]);
    }
    let mut ordered: Vec<_> = groups.into_iter().collect();
    ordered.sort_by_key(|((output, outcome), _)| {
        let (count, first) = per_output[output];
        (
            std::cmp::Reverse(count),
            first,
            outcome.severity,
            outcome.exit_code,
        )
    });
    ordered
        .into_iter()
        .map(|((_, outcome), members)| Group { members, outcome })
        .collect()
}

/// `-----\nweb[01-03] (3) exit code 1\n-----`.
pub fn write_header<'a>(
    out: &mut impl Write,
    nodes: impl IntoIterator<Item = &'a str>,
    outcome: &Outcome,
) -> io::Result<()> {
    let nodes: Vec<&str> = nodes.into_iter().collect();
    let mut header = format!("{} ({})", nodeset::fold(nodes.iter().copied()), nodes.len());
    if !outcome.label.is_empty() {
        header.push_str(&format!(" {}", outcome.label));
    }
    let rule = "-".repeat(header.chars().count().clamp(15, 79));
    writeln!(out, "{rule}\n{header}\n{rule}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_larger_output_comes_first_and_a_failure_before_its_twin_success() {
        let ok = Outcome::of(NodeStatus::Success, Some(0));
        let failed = Outcome::of(NodeStatus::Failed, Some(1));
        let groups = gather([
            ("b", ok.clone()),
            ("a", ok.clone()),
            ("a", failed.clone()),
            ("a", ok.clone()),
        ]);
        let shape: Vec<(Vec<usize>, String)> = groups
            .into_iter()
            .map(|g| (g.members, g.outcome.label))
            .collect();
        assert_eq!(
            shape,
            [
                (vec![2], "exit code 1".to_string()),
                (vec![1, 3], String::new()),
                (vec![0], String::new()),
            ]
        );
    }
}
