//! Seeds properties of output capture on the local transport: 36 (debug keeps all
//! of it), 37 (normal mode summarises) and 38 (the choice is per execution). A real
//! store checks what is persisted alongside what is returned.

use crate::common;

use common::{cases, ctx, local_engine, names, request, runtime, temp_store, within};
use drover::engine::report::output::split_summary;
use drover::engine::{EngineConfig, ExecutionOptions, NodeStatus};
use drover::store::{OutputMode, Store, Stream};
use proptest::prelude::*;

/// Prints `out` numbered lines to stdout and `err` to stderr, tagged with the node.
fn lines_command(out: usize, err: usize) -> String {
    format!(
        "i=0; while [ $i -lt {out} ]; do echo \"o-$i-$DROVER_NODE\"; i=$((i+1)); done; \
         i=0; while [ $i -lt {err} ]; do echo \"e-$i-$DROVER_NODE\" >&2; i=$((i+1)); done"
    )
}

fn lines(tag: char, node: &str, range: std::ops::Range<usize>) -> String {
    range.map(|i| format!("{tag}-{i}-{node}\n")).collect()
}

/// Debug-mode chunks of one stream, as the store kept them.
fn stored(store: &Store, id: &str, node: &str, stream: Stream) -> String {
    let chunks = store.full_output(id, node).expect("full_output");
    let bytes: Vec<u8> = chunks
        .into_iter()
        .filter(|(s, _)| *s == stream)
        .flat_map(|(_, d)| d)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(cases(10))]

    #[test]
    fn property_36_debug_mode_captures_everything(
        n in 1usize..4,
        (out, err) in (0usize..300, 0usize..300),
        small_ring in prop::option::of(64usize..1024),
        summary_lines in 1usize..5,
    ) {
        let nodes = names("n", n);
        let (_dir, store) = temp_store();
        let config = EngineConfig {
            ring_capacity: small_ring.unwrap_or(1 << 20),
            summary_lines,
            ..EngineConfig::default()
        };
        let cap = config.ring_capacity;
        let engine = local_engine(&nodes, config, Some(store.writer()));
        let options = ExecutionOptions { debug: true, ..Default::default() };
        let result = runtime().block_on(async {
            let r = within("run", common::run(&engine, request(&lines_command(out, err), &nodes, options), ctx("u"))).await?.expect("run");
            within("flush", engine.flush()).await?.expect("flush");
            Ok::<_, TestCaseError>(r)
        })?;
        let (_, records) = store.execution(&result.id.0).expect("query").expect("stored");
        for name in &nodes {
            let r = result.node(name).expect("result");
            prop_assert_eq!(r.status, NodeStatus::Success);
            let (full_out, full_err) = (lines('o', name, 0..out), lines('e', name, 0..err));
            prop_assert_eq!(r.stdout_bytes, full_out.len() as u64);
            prop_assert_eq!(r.stderr_bytes, full_err.len() as u64);
            if full_out.len() <= cap && full_err.len() <= cap {
                prop_assert!(r.output_complete);
                prop_assert_eq!(&r.stdout, &full_out);
                prop_assert_eq!(&r.stderr, &full_err);
            } else {
                // Memory stays bounded: a stream the ring could not hold is
                // summarised (the store has every byte), and says so.
                prop_assert!(!r.output_complete);
                for (text, full) in [(&r.stdout, &full_out), (&r.stderr, &full_err)] {
                    if full.len() <= cap {
                        prop_assert_eq!(text, full);
                        continue;
                    }
                    let (head, omitted, tail) = split_summary(text).expect("a summary");
                    prop_assert!(full.starts_with(head) && full.ends_with(tail), "{text:?}");
                    prop_assert!(!head.is_empty() && !tail.is_empty(), "{text:?}");
                    prop_assert_eq!(head.len() + omitted as usize + tail.len(), full.len());
                }
            }
            // Whatever memory kept, every byte reached the store.
            prop_assert_eq!(stored(&store, &result.id.0, name, Stream::Stdout), full_out);
            prop_assert_eq!(stored(&store, &result.id.0, name, Stream::Stderr), full_err);
            let rec = records.iter().find(|x| &x.node == name).expect("node record");
            prop_assert_eq!(rec.output_mode, OutputMode::Full);
        }
        store.close().expect("close");
    }

    #[test]
    fn property_37_normal_mode_summarises_output(
        n in 1usize..4,
        out in 0usize..60,
        summary_lines in 1usize..6,
        ring in prop::option::of(256usize..2048),
    ) {
        let nodes = names("n", n);
        let (_dir, store) = temp_store();
        let config = EngineConfig {
            ring_capacity: ring.unwrap_or(1 << 20),
            summary_lines,
            ..EngineConfig::default()
        };
        let engine = local_engine(&nodes, config, Some(store.writer()));
        let result = runtime().block_on(async {
            let r = within("run", common::run(&engine, request(&lines_command(out, 0), &nodes,
                ExecutionOptions::default()), ctx("u"))).await?.expect("run");
            within("flush", engine.flush()).await?.expect("flush");
            Ok::<_, TestCaseError>(r)
        })?;
        let (_, records) = store.execution(&result.id.0).expect("query").expect("stored");
        let s = summary_lines;
        for name in &nodes {
            let r = result.node(name).expect("result");
            let full = lines('o', name, 0..out);
            prop_assert_eq!(r.stdout_bytes, full.len() as u64);
            if out <= 2 * s {
                prop_assert_eq!(&r.stdout, &full);
            } else {
                prop_assert!(!r.output_complete);
                let head = lines('o', name, 0..s);
                let tail = lines('o', name, out - s..out);
                let omitted = full.len() - head.len() - tail.len();
                prop_assert!(r.stdout.starts_with(&head), "{:?}", r.stdout);
                prop_assert!(r.stdout.ends_with(&tail), "{:?}", r.stdout);
                let marker = &r.stdout[head.len()..r.stdout.len() - tail.len()];
                prop_assert!(marker.contains("omitted") && marker.contains(&omitted.to_string()),
                    "marker {marker:?} for {omitted} bytes");
                let first_omitted = format!("o-{s}-{name}\n");
                prop_assert!(!marker.contains(&first_omitted), "{marker:?}");
            }
            let rec = records.iter().find(|x| &x.node == name).expect("node record");
            prop_assert_eq!(rec.output_mode, OutputMode::Summary);
            prop_assert_eq!(&rec.stdout, &r.stdout);
            prop_assert!(store.full_output(&result.id.0, name).expect("chunks").is_empty());
        }
        store.close().expect("close");
    }

    #[test]
    fn property_38_debug_is_chosen_per_execution(
        debug in prop::collection::vec(any::<bool>(), 2..5),
        extra in 1usize..30,
    ) {
        let nodes = names("n", 2);
        let (_dir, store) = temp_store();
        let config = EngineConfig { summary_lines: 3, ..EngineConfig::default() };
        let out = 2 * 3 + extra;
        let engine = local_engine(&nodes, config, Some(store.writer()));
        let command = lines_command(out, 0);
        let results = runtime().block_on(async {
            // All submitted before any is awaited, so they run side by side.
            let mut ids = Vec::new();
            for d in &debug {
                let options = ExecutionOptions { debug: *d, ..Default::default() };
                ids.push(within("submit", common::submit(&engine, request(&command, &nodes, options), ctx("u"))).await?.expect("submit"));
            }
            let mut results = Vec::new();
            for id in &ids {
                results.push(within("wait", engine.wait(id)).await?.expect("wait"));
            }
            within("flush", engine.flush()).await?.expect("flush");
            Ok::<_, TestCaseError>(results)
        })?;
        for (result, d) in results.iter().zip(&debug) {
            let (_, records) = store.execution(&result.id.0).expect("query").expect("stored");
            for name in &nodes {
                let r = result.node(name).expect("result");
                let full = lines('o', name, 0..out);
                let rec = records.iter().find(|x| &x.node == name).expect("record");
                let chunks = stored(&store, &result.id.0, name, Stream::Stdout);
                if *d {
                    prop_assert_eq!(&r.stdout, &full);
                    prop_assert!(r.output_complete);
                    prop_assert_eq!(rec.output_mode, OutputMode::Full);
                    prop_assert_eq!(chunks, full);
                } else {
                    prop_assert!(r.stdout != full && r.stdout.contains("omitted"));
                    prop_assert!(!r.output_complete);
                    prop_assert_eq!(rec.output_mode, OutputMode::Summary);
                    prop_assert!(chunks.is_empty());
                }
            }
        }
        store.close().expect("close");
    }
}
