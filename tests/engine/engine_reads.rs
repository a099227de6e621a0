//! The engine's reads check the reader's permission before touching its store:
//! history, a run, metrics and a run's stored output need `history.read`, a
//! node's journal `journal.read` on it, facts `facts.read` on the nodes and
//! `facts.refresh` to ask them again; a refusal reads nothing and is audited.
//! Front ends hold no store: these reads are their only way to history.

use crate::common;

use common::{ctx, local_engine, names, runtime, temp_store};
use drover::config::{RbacConfig, RoleConfig};
use drover::engine::{EngineConfig, EngineError, ExecutionOptions, Submission};
use drover::store::{EntryType, HistoryFilter};
use std::collections::BTreeMap;
use std::sync::Arc;

fn role(capabilities: &[&str], targets: &str) -> RoleConfig {
    RoleConfig {
        capabilities: capabilities.iter().map(|c| c.to_string()).collect(),
        targets: Some(targets.into()),
        allow_commands: Vec::new(),
        deny_commands: Vec::new(),
    }
}

fn policy() -> RbacConfig {
    RbacConfig {
        roles: BTreeMap::from([
            (
                "reader".to_string(),
                role(&["history.read", "journal.read", "facts.read"], "n0"),
            ),
            ("runner".to_string(), role(&["command.run"], "n0,n1")),
        ]),
        users: BTreeMap::from([
            ("ann".to_string(), vec!["reader".into(), "runner".into()]),
            ("bob".to_string(), vec!["runner".into()]),
        ]),
        default_roles: Vec::new(),
    }
}

fn denied(result: Result<impl std::fmt::Debug, EngineError>, capability: &str) {
    match result {
        Err(EngineError::Authorization { capability: c, .. }) => assert_eq!(c, capability),
        other => panic!("expected {capability} refused, got {other:?}"),
    }
}

#[test]
fn reads_are_refused_without_their_capability_and_served_with_it() {
    let nodes = names("n", 2);
    let (_dir, store) = temp_store();
    let engine = local_engine(&nodes, EngineConfig::default(), Some(store.writer()))
        .with_authorizer(Arc::new(policy().policy().expect("policy")))
        .with_store(store.clone());
    runtime().block_on(async {
        let debug = ExecutionOptions {
            debug: true,
            ..ExecutionOptions::default()
        };
        let run = Submission::command("echo kept", "n0,n1")
            .options(debug)
            .as_user(ctx("ann"));
        let id = engine.submit(run).await.expect("ann may run").id;
        engine.wait(&id).await.expect("run ends");
        engine.flush().await.unwrap();

        let history = engine
            .read_history(&ctx("ann"), HistoryFilter::default())
            .await
            .expect("ann reads history");
        assert_eq!(history.len(), 1);
        let (record, results) = engine
            .read_run(&ctx("ann"), id.0.clone())
            .await
            .expect("ann reads the run")
            .expect("the run is in history");
        assert_eq!((record.id.as_str(), results.len()), (id.0.as_str(), 2));
        let metrics = engine
            .read_metrics(&ctx("ann"), None, None)
            .await
            .expect("ann reads metrics");
        assert_eq!(metrics.total_executions, 1);
        let output = engine
            .read_stored_output(&ctx("ann"), &id.0)
            .await
            .expect("ann reads the stored output");
        let chunks = tokio::task::spawn_blocking(move || output.full_output("n0"))
            .await
            .unwrap()
            .expect("n0's output");
        let bytes: Vec<u8> = chunks.into_iter().flat_map(|(_, b)| b).collect();
        assert_eq!(bytes, b"kept\n");
        let journal = engine
            .read_journal(&ctx("ann"), "n0", Vec::new(), None)
            .await
            .expect("ann reads n0's journal");
        assert!(
            journal
                .iter()
                .any(|e| e.execution_id.as_ref() == Some(&id.0))
        );
        let sets = engine
            .read_facts(&ctx("ann"), &["n0".to_string()], false, 1)
            .await
            .expect("ann reads n0's facts");
        assert_eq!(sets.len(), 1);

        denied(
            engine
                .read_history(&ctx("bob"), HistoryFilter::default())
                .await,
            "history.read",
        );
        denied(
            engine.read_run(&ctx("bob"), id.0.clone()).await,
            "history.read",
        );
        // Metrics have no capability of their own: history.read guards them.
        denied(
            engine.read_metrics(&ctx("bob"), None, None).await,
            "history.read",
        );
        denied(
            engine
                .read_stored_output(&ctx("bob"), &id.0)
                .await
                .map(|r| r.execution_id().to_string()),
            "history.read",
        );
        denied(
            engine
                .read_journal(&ctx("ann"), "n1", Vec::new(), None)
                .await,
            "journal.read",
        );
        denied(
            engine
                .read_facts(&ctx("ann"), &["n0".to_string()], true, 1)
                .await,
            "facts.refresh",
        );

        engine.flush().await.unwrap();
        let audit = store
            .journal("drover", &[EntryType::Event], None)
            .expect("audit entries");
        assert!(
            audit
                .iter()
                .any(|e| e.user == "bob" && e.status.as_deref() == Some("denied")),
            "bob's refused history read is audited: {audit:?}"
        );
    });
}

#[test]
fn an_engine_without_a_store_says_so_instead_of_reading() {
    let engine = local_engine(&names("n", 1), EngineConfig::default(), None);
    runtime().block_on(async {
        let ann = ctx("ann");
        match engine.read_history(&ann, HistoryFilter::default()).await {
            Err(EngineError::NoStore) => {}
            other => panic!("expected NoStore, got {other:?}"),
        }
    });
}
