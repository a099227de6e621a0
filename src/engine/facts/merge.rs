//! Per-key priority merge (seeds properties 27 and 28): every provider's keys
//! are kept; a key several providers give takes the value of the one with the
//! highest priority (between equals, the one registered first), and the fact
//! remembers which provider that was.

use super::{Fact, FactMap, FactSet, ProviderFailure};
use std::collections::BTreeMap;

/// One provider's answer: its name, its priority, and its facts or failure.
pub type Answer = (String, i64, Result<FactMap, String>);

/// Merges answers given in registration order.
pub fn merge(node: &str, answers: Vec<Answer>, collected_at: i64) -> FactSet {
    let mut ranked: Vec<(usize, Answer)> = answers.into_iter().enumerate().collect();
    ranked.sort_by(|(ia, a), (ib, b)| b.1.cmp(&a.1).then(ia.cmp(ib)));
    let mut facts = BTreeMap::new();
    let mut failures = Vec::new();
    for (_, (provider, _, result)) in ranked {
        match result {
            Ok(map) => {
                for (key, value) in map {
                    facts.entry(key).or_insert_with(|| Fact {
                        value,
                        source: provider.clone(),
                    });
                }
            }
            Err(reason) => failures.push(ProviderFailure { provider, reason }),
        }
    }
    failures.sort_by(|a, b| a.provider.cmp(&b.provider));
    FactSet {
        node: node.to_string(),
        facts,
        failures,
        collected_at,
        cached: false,
    }
}
