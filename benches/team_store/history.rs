//! `Store::history` latency on a filled store, with the filters people use.

use std::time::{Duration, Instant};

use drover::store::{HistoryFilter, Store};

use super::fill;

/// `drover history`'s default `--limit`.
pub const CLI_LIMIT: usize = 50;
/// What the console loads (`app::tui::history::LOAD_LIMIT`).
pub const CONSOLE_LIMIT: usize = 5_000;

/// One kind of query: its name and the filter of its `q`-th sample.
pub struct Query {
    pub name: &'static str,
    pub filter: fn(usize) -> HistoryFilter,
}

pub const QUERIES: &[Query] = &[
    Query {
        name: "history, no filter, limit 50 (drover history)",
        filter: |_| HistoryFilter {
            limit: Some(CLI_LIMIT),
            ..HistoryFilter::default()
        },
    },
    Query {
        name: "history, no filter, limit 5000 (console load)",
        filter: |_| HistoryFilter {
            limit: Some(CONSOLE_LIMIT),
            without_nodes: true,
            ..HistoryFilter::default()
        },
    },
    Query {
        name: "history --target NODE, limit 50",
        filter: |q| HistoryFilter {
            target: Some(fill::node(q * 37)),
            limit: Some(CLI_LIMIT),
            ..HistoryFilter::default()
        },
    },
    Query {
        name: "history --user USER, limit 50",
        filter: |q| HistoryFilter {
            user: Some(fill::user(q)),
            limit: Some(CLI_LIMIT),
            ..HistoryFilter::default()
        },
    },
];

/// Median and 95th percentile of `samples` runs of the query.
pub fn latency(store: &Store, query: &Query, samples: usize) -> (Duration, Duration) {
    // One unmeasured run: the first query of a kind prepares its statement.
    let expected = store
        .history(&(query.filter)(samples))
        .expect("history")
        .len();
    assert!(expected > 0, "{}: the filter must match runs", query.name);
    let mut times: Vec<Duration> = (0..samples)
        .map(|q| {
            let filter = (query.filter)(q);
            let t = Instant::now();
            store.history(&filter).expect("history");
            t.elapsed()
        })
        .collect();
    times.sort();
    let at = |p: usize| times[((times.len() - 1) * p) / 100];
    (at(50), at(95))
}
