//! Folding and ordering node names as ClusterShell 1.9 does (`nodeset -f`
//! and `nodeset -e`).
//!
//! ClusterShell sees a name as a *pattern* (the name with every run of
//! digits replaced by a placeholder) and one index per digit run:
//! `da2c1` is pattern `da%sc%s` with indexes `(2, 1)`. Patterns sort as
//! strings; indexes of one dimension sort by length, then as text, so
//! padded and unpadded indexes stay apart (`n[2,01,10]`). A pattern with one
//! index folds into one bracket; with several, the index vectors are merged
//! into as few cartesian products as ClusterShell's greedy merge finds
//! (`da[1-3]c[1-2]`, `r[1-2]n[1-2],r3n1`), and names are listed product by
//! product in that order.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BTreeSet};

/// One digit run; ordered by length, then text (ClusterShell's order for
/// indexes of mixed padding).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Index(String);

impl Ord for Index {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.0.len(), &self.0).cmp(&(other.0.len(), &other.0))
    }
}

impl PartialOrd for Index {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

type Axis = BTreeSet<Index>;

/// `(pattern, indexes)`: `%` is doubled in the pattern so that patterns sort
/// exactly as ClusterShell's (which escapes it the same way).
fn scan(name: &str) -> (String, Vec<Index>) {
    let mut pattern = String::with_capacity(name.len() + 2);
    let mut indexes = Vec::new();
    let mut digits = String::new();
    for c in name.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if !digits.is_empty() {
            pattern.push_str("%s");
            indexes.push(Index(std::mem::take(&mut digits)));
        }
        if c == '%' {
            pattern.push('%');
        }
        pattern.push(c);
    }
    if !digits.is_empty() {
        pattern.push_str("%s");
        indexes.push(Index(digits));
    }
    (pattern, indexes)
}

/// Fills the pattern's placeholders and undoes the `%` escaping.
fn render(pattern: &str, parts: &[String]) -> String {
    let mut out = String::with_capacity(pattern.len() + parts.len() * 4);
    let mut parts = parts.iter();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('s') => out.push_str(parts.next().map_or("", String::as_str)),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Names grouped by pattern, each pattern's index vectors folded.
fn model<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, Vec<Vec<Axis>>> {
    let mut vectors: BTreeMap<String, BTreeSet<Vec<Index>>> = BTreeMap::new();
    for name in names.into_iter().filter(|n| !n.is_empty()) {
        let (pattern, indexes) = scan(name);
        vectors.entry(pattern).or_default().insert(indexes);
    }
    vectors
        .into_iter()
        .map(|(pattern, vecs)| (pattern, merge(vecs)))
        .collect()
}

/// ClusterShell's greedy merge of index vectors into products: repeatedly
/// sort (largest products first), then join two vectors that differ on one
/// axis only (disjoint there, or one containing the other); quick passes
/// first, then full pairwise passes until nothing changes.
fn merge(vectors: BTreeSet<Vec<Index>>) -> Vec<Vec<Axis>> {
    let mut list: Vec<Vec<Axis>> = vectors
        .into_iter()
        .map(|v| v.into_iter().map(|i| BTreeSet::from([i])).collect())
        .collect();
    if list.first().is_none_or(|v| v.len() <= 1) {
        // One axis (or none): everything is one range set.
        let mut axis = Axis::new();
        let dims = list.first().map_or(0, Vec::len);
        for v in list {
            axis.extend(v.into_iter().flatten());
        }
        return if dims == 0 {
            vec![vec![]]
        } else {
            vec![vec![axis]]
        };
    }
    let (mut full, mut changed) = (false, true);
    while changed {
        changed = false;
        list.sort_by_cached_key(|v| sort_key(v));
        let mut i = 0;
        while i + 1 < list.len() {
            let mut j = i + 1;
            while j < list.len() {
                if let Some(joined) = join(&list[i], &list[j]) {
                    changed = true;
                    list[i] = joined;
                    list.remove(j);
                } else if !full {
                    break;
                } else {
                    j += 1;
                }
            }
            i += 1;
        }
        if !changed && !full {
            changed = true;
            full = true;
        }
    }
    list
}

/// Where a vector goes in the merge order: its size, then per axis its
/// size, first and last index.
type MergeKey = (Reverse<usize>, Vec<(Reverse<usize>, String, String)>);

/// Larger products first, then per axis: larger first, lower first and
/// last index (compared as text, as ClusterShell does).
fn sort_key(v: &[Axis]) -> MergeKey {
    let size = v.iter().map(BTreeSet::len).product();
    let axes = v
        .iter()
        .map(|a| {
            let first = a.first().map(|i| i.0.clone()).unwrap_or_default();
            let last = a.last().map(|i| i.0.clone()).unwrap_or_default();
            (Reverse(a.len()), first, last)
        })
        .collect();
    (Reverse(size), axes)
}

/// The product of `a` and `b` joined on their one differing axis, if any.
fn join(a: &[Axis], b: &[Axis]) -> Option<Vec<Axis>> {
    let mut out = Vec::with_capacity(a.len());
    let mut differing = 0;
    for (x, y) in a.iter().zip(b) {
        if x == y {
            out.push(x.clone());
            continue;
        }
        differing += 1;
        if differing > 1 {
            return None;
        }
        if x.is_disjoint(y) {
            out.push(x.union(y).cloned().collect());
        } else if x.is_superset(y) {
            out.push(x.clone());
        } else if y.is_superset(x) {
            out.push(y.clone());
        } else {
            return None;
        }
    }
    Some(out)
}

/// `1-3,5,01-02`: consecutive indexes of one padding class become ranges.
fn fold_axis(axis: &Axis) -> String {
    let mut runs: Vec<(&str, &str, u128, Option<usize>)> = Vec::new();
    for Index(digits) in axis {
        let value = digits.parse::<u128>().ok();
        let padded = (digits.len() > 1 && digits.starts_with('0')).then_some(digits.len());
        if let (Some(run), Some(v)) = (runs.last_mut(), value) {
            let fits = match run.3 {
                Some(width) => digits.len() == width,
                None => padded.is_none(),
            };
            if fits && run.2.checked_add(1) == Some(v) {
                run.1 = digits;
                run.2 = v;
                continue;
            }
        }
        runs.push((digits, digits, value.unwrap_or(u128::MAX), padded));
    }
    let parts: Vec<String> = runs
        .iter()
        .map(|(first, last, _, _)| {
            if first == last {
                (*first).to_owned()
            } else {
                format!("{first}-{last}")
            }
        })
        .collect();
    parts.join(",")
}

/// Fold node names into the compact form `nodeset -f` prints, every digit
/// run of a name taken as an axis (`da[1-3]c[1-2]`). Duplicates and empty
/// names are dropped.
pub fn fold<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let mut parts = Vec::new();
    for (pattern, vectors) in model(names) {
        for axes in vectors {
            let shown: Vec<String> = axes
                .iter()
                .map(|axis| match axis.len() {
                    1 => fold_axis(axis),
                    _ => format!("[{}]", fold_axis(axis)),
                })
                .collect();
            parts.push(render(&pattern, &shown));
        }
    }
    parts.join(",")
}

/// The names in the order `nodeset -e` lists them, duplicates and empty
/// names dropped.
pub fn sorted<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out = Vec::new();
    for (pattern, vectors) in model(names) {
        for axes in vectors {
            let mut combos: Vec<Vec<String>> = vec![Vec::new()];
            for axis in &axes {
                combos = combos
                    .into_iter()
                    .flat_map(|prefix| {
                        axis.iter().map(move |Index(d)| {
                            let mut next = prefix.clone();
                            next.push(d.clone());
                            next
                        })
                    })
                    .collect();
            }
            out.extend(combos.iter().map(|parts| render(&pattern, parts)));
        }
    }
    out
}
