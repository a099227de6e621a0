//! Seeds properties of real process behaviour on the local transport (`sh -c`, the
//! node's name in `$DROVER_NODE`): 4 (stdout/stderr apart), 5 (exit codes), 6
//! (timeouts terminate), 7 (environment) and 8 (error details).

use crate::common;

use common::{cases, ctx, drain, local_engine, names, request, runtime, within};
use drover::engine::{
    EngineConfig, EngineEvent, ErrorCategory, ExecutionOptions, ExecutionStatus, NodeStatus,
    StreamItem,
};
use drover::store::Stream;
use proptest::prelude::*;
use std::time::{Duration, Instant};

/// `case "$DROVER_NODE" in n0) <arm 0>;; ... esac`
fn per_node(nodes: &[String], arms: impl Fn(usize) -> String) -> String {
    let mut s = String::from("case \"$DROVER_NODE\" in\n");
    for (i, n) in nodes.iter().enumerate() {
        s.push_str(&format!("{n}) {} ;;\n", arms(i)));
    }
    s.push_str("esac");
    s
}

/// Bytes of one node's stream on a lossless stream, concatenated.
fn streamed(items: &[StreamItem], node: &str, stream: Stream) -> String {
    let bytes: Vec<u8> = items
        .iter()
        .filter_map(|i| match i {
            StreamItem::Output {
                node: n,
                stream: s,
                data,
            } if n == node && *s == stream => Some(data.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// How a node fails in property 8.
#[derive(Debug, Clone)]
enum Failure {
    Exit(i32),
    Signal(i32),
    NotFound,
    NoTransport,
}

proptest! {
    #![proptest_config(cases(12))]

    #[test]
    fn property_04_stdout_and_stderr_are_separate(
        outputs in prop::collection::vec(
            ("[a-zA-Z0-9 ,.:_\n-]{0,40}", "[a-zA-Z0-9 ,.:_\n-]{0,40}", "[a-z0-9\n]{0,10}"), 1..5),
    ) {
        let nodes = names("n", outputs.len());
        let command = per_node(&nodes, |i| {
            let (o1, e, o2) = &outputs[i];
            format!("printf '%s' '{o1}'; printf '%s' '{e}' >&2; printf '%s' '{o2}'")
        });
        let engine = local_engine(&nodes, EngineConfig::default(), None);
        let options = ExecutionOptions { debug: true, ..Default::default() };
        runtime().block_on(async {
            let (id, mut rx) = within("submit", common::streamed(&engine, request(&command, &nodes, options), ctx("u"), 1024)).await?.expect("submit");
            let items = drain(&mut rx).await?;
            let result = within("wait", engine.wait(&id)).await?.expect("wait");
            for (name, (o1, e, o2)) in nodes.iter().zip(&outputs) {
                let r = result.node(name).expect("result");
                let out = format!("{o1}{o2}");
                prop_assert_eq!(&r.stdout, &out);
                prop_assert_eq!(&r.stderr, e);
                prop_assert_eq!(r.stdout_bytes, out.len() as u64);
                prop_assert_eq!(r.stderr_bytes, e.len() as u64);
                prop_assert_eq!(streamed(&items, name, Stream::Stdout), out);
                prop_assert_eq!(&streamed(&items, name, Stream::Stderr), e);
            }
            Ok(())
        })?;
    }

    #[test]
    fn property_05_every_node_reports_its_exit_code(
        codes in prop::collection::vec(prop_oneof![Just(0i32), 0i32..=255], 1..8),
    ) {
        let nodes = names("n", codes.len());
        let command = per_node(&nodes, |i| format!("exit {}", codes[i]));
        let engine = local_engine(&nodes, EngineConfig::default(), None);
        runtime().block_on(async {
            let (id, mut rx) = within("submit", common::streamed(&engine, request(&command, &nodes, ExecutionOptions::default()), ctx("u"), 256))
                .await?.expect("submit");
            let items = drain(&mut rx).await?;
            let result = within("wait", engine.wait(&id)).await?.expect("wait");
            for (name, code) in nodes.iter().zip(&codes) {
                let r = result.node(name).expect("result");
                prop_assert_eq!(r.exit_code, Some(*code), "{}", name);
                let want = if *code == 0 { NodeStatus::Success } else { NodeStatus::Failed };
                prop_assert_eq!(r.status, want);
                let event_code = items.iter().find_map(|i| match i {
                    StreamItem::Event(EngineEvent::NodeFinished { node, exit_code, .. })
                        if node == name => Some(*exit_code),
                    _ => None,
                });
                prop_assert_eq!(event_code, Some(Some(*code)));
            }
            prop_assert_eq!(result.max_exit_code(), *codes.iter().max().expect("codes"));
            Ok(())
        })?;
    }

    #[test]
    fn property_06_timeout_terminates_with_timeout_status(
        sleeps in prop::collection::vec(any::<bool>(), 1..6),
        timeout_ms in 200u64..600,
    ) {
        let mut sleeps = sleeps;
        sleeps[0] = true;
        let nodes = names("n", sleeps.len());
        // A sleeper prints its pid, then becomes `sleep 30` in the same process.
        let command = per_node(&nodes, |i| {
            if sleeps[i] { "echo $$; exec sleep 30".to_string() } else { "exit 0".to_string() }
        });
        let engine = local_engine(&nodes, EngineConfig::default(), None);
        let timeout = Duration::from_millis(timeout_ms);
        let options = ExecutionOptions { timeout: Some(timeout), debug: true, ..Default::default() };
        let began = Instant::now();
        let result = runtime().block_on(within("run",
            common::run(&engine, request(&command, &nodes, options), ctx("u"))))?.expect("run");
        let took = began.elapsed();
        prop_assert!(took >= timeout, "ended after {took:?}, before the {timeout:?} timeout");
        prop_assert!(took < Duration::from_secs(10), "took {took:?}: the sleep was not cut short");
        for (name, sleeper) in nodes.iter().zip(&sleeps) {
            let r = result.node(name).expect("result");
            if !*sleeper {
                prop_assert_eq!(r.status, NodeStatus::Success);
                continue;
            }
            prop_assert_eq!(r.status, NodeStatus::Timeout, "{}", name);
            let e = r.error.as_ref().expect("timeout error");
            prop_assert_eq!(e.category, ErrorCategory::Timeout);
            prop_assert_eq!(r.exit_code, None);
            let pid: i32 = r.stdout.trim().parse().expect("sleeper printed its pid");
            let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None);
            prop_assert_eq!(alive, Err(nix::errno::Errno::ESRCH), "pid {} still exists", pid);
        }
        let want = if sleeps.iter().all(|s| *s) {
            ExecutionStatus::Timeout
        } else {
            ExecutionStatus::Partial
        };
        prop_assert_eq!(result.status, want);
    }

    #[test]
    fn property_07_environment_reaches_the_command(
        env in prop::collection::btree_map("DRV_[A-Z0-9_]{0,8}", "[^\\p{Cc}]{0,16}", 1..5),
        n in 1usize..4,
    ) {
        let nodes = names("n", n);
        let vars: String = env.keys().map(|k| format!(" \"${k}\"")).collect();
        let command = format!("printf '%s\\036'{vars}; printf '%s' \"$DROVER_NODE\"");
        let engine = local_engine(&nodes, EngineConfig::default(), None);
        let options = ExecutionOptions { env: env.clone(), debug: true, ..Default::default() };
        let result = runtime().block_on(within("run",
            common::run(&engine, request(&command, &nodes, options), ctx("u"))))?.expect("run");
        let values: String = env.values().map(|v| format!("{v}\u{1e}")).collect();
        for name in &nodes {
            let r = result.node(name).expect("result");
            prop_assert_eq!(r.status, NodeStatus::Success);
            prop_assert_eq!(&r.stdout, &format!("{values}{name}"));
        }
        // Not leaked into the next request.
        let check = format!("printf '%s'{vars}");
        let result = runtime().block_on(within("run",
            common::run(&engine, request(&check, &nodes, ExecutionOptions { debug: true,
                ..Default::default() }), ctx("u"))))?.expect("run");
        prop_assert!(result.nodes.iter().all(|r| r.stdout.is_empty()));
    }

    #[test]
    fn property_08_failures_carry_node_category_and_reason(
        failures in prop::collection::vec(prop_oneof![
            (1i32..=255).prop_map(Failure::Exit),
            prop::sample::select(vec![9, 15]).prop_map(Failure::Signal),
            Just(Failure::NotFound),
            Just(Failure::NoTransport),
        ], 1..6),
    ) {
        let nodes = names("n", failures.len());
        let command = per_node(&nodes, |i| match &failures[i] {
            Failure::Exit(c) => format!("echo failing >&2; exit {c}"),
            Failure::Signal(s) => format!("kill -{s} $$"),
            Failure::NotFound | Failure::NoTransport => "drover_no_such_command_x".into(),
        });
        let mut registry = drover::engine::transport::TransportRegistry::default();
        registry.register(common::local_transport());
        let mut inv = common::inventory(&nodes, "local");
        for (n, f) in nodes.iter().zip(&failures) {
            if matches!(f, Failure::NoTransport) {
                let mut node = drover::engine::Node::local(n, "test");
                node.transport = "carrier-pigeon".into();
                inv.add(node);
            }
        }
        let engine = drover::engine::Engine::new(EngineConfig::default(), inv, registry, None);
        let result = runtime().block_on(within("run",
            common::run(&engine, request(&command, &nodes, ExecutionOptions::default()), ctx("u"))))?
            .expect("run");
        prop_assert_eq!(result.status, ExecutionStatus::Failed);
        for (name, f) in nodes.iter().zip(&failures) {
            let r = result.node(name).expect("result");
            prop_assert_eq!(r.status, NodeStatus::Failed, "{}", name);
            let e = r.error.as_ref().expect("error details");
            prop_assert_eq!(&e.node, name);
            let (category, needle) = match f {
                Failure::Exit(c) => (ErrorCategory::Execution, c.to_string()),
                Failure::Signal(s) => (ErrorCategory::Execution, format!("signal {s}")),
                Failure::NotFound => (ErrorCategory::Execution, "127".to_string()),
                Failure::NoTransport => (ErrorCategory::Plugin, "carrier-pigeon".to_string()),
            };
            prop_assert_eq!(e.category, category, "{}", name);
            prop_assert!(e.reason.contains(&needle), "{name}: {:?} lacks {needle:?}", e.reason);
            match f {
                Failure::Exit(_) => prop_assert_eq!(r.stderr.as_str(), "failing\n"),
                Failure::Signal(s) => prop_assert_eq!(r.signal, Some(*s)),
                Failure::NotFound => prop_assert!(r.stderr.contains("not found"), "{}", r.stderr),
                Failure::NoTransport => prop_assert_eq!(r.exit_code, None),
            }
        }
    }
}
