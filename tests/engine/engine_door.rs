//! The engine's one door: idempotency keys claimed in a shared store (two
//! engines, as two drover processes), a refused submission giving its key
//! back, and a task turned into a submission by the shared task pipeline.

use crate::common;

use common::scripted::{ScriptedTransport, Step};
use common::{LIMIT, ctx, local_engine, names, runtime, scripted_engine, temp_store};
use drover::engine::orchestrator::task_submit::{self, TaskSubmitError, TaskWanted};
use drover::engine::rbac::Capability;
use drover::engine::{
    EngineConfig, ExecutionOptions, ExecutionStatus, NodeStatus, Submission, Submitted,
};
use drover::store::EntryType;
use std::sync::Arc;

fn keyed(targets: &[String], key: &str) -> Submission {
    Submission::command("x", targets.join(","))
        .as_user(ctx("u"))
        .key(Some(key.to_string()))
}

#[test]
fn a_key_claimed_in_the_store_answers_for_its_run_in_another_engine() {
    let nodes = names("s", 1);
    let (_dir, store) = temp_store();
    let transport = Arc::new(ScriptedTransport::uniform(
        nodes.iter().map(|x| (x, Step::Gated { code: 0 })),
    ));
    // Two engines on one store: two drover processes.
    let engine = || {
        scripted_engine(
            &transport,
            &nodes,
            EngineConfig::default(),
            Some(store.writer()),
        )
        .with_store(store.clone())
    };
    let (first_engine, second_engine) = (engine(), engine());
    runtime().block_on(async {
        let first = first_engine.submit(keyed(&nodes, "k")).await.unwrap();
        assert_eq!(first.earlier, None, "the first submission runs");
        first_engine.flush().await.unwrap();
        let again = second_engine.submit(keyed(&nodes, "k")).await.unwrap();
        let status = again.earlier.as_ref().and_then(|e| e.status.clone());
        assert_eq!(again.id, first.id, "the key names the first run");
        assert!(
            matches!(status.as_deref(), Some("queued" | "running")),
            "{status:?}"
        );
        assert!(again.stream.is_none(), "nothing new to stream");
        transport.release(1);
        let result = tokio::time::timeout(LIMIT, first_engine.wait(&first.id))
            .await
            .expect("first run ends")
            .unwrap();
        assert_eq!(result.status, ExecutionStatus::Success);
        first_engine.flush().await.unwrap();
        let after = second_engine.submit(keyed(&nodes, "k")).await.unwrap();
        let status = after.earlier.and_then(|e| e.status);
        assert_eq!((after.id, status.as_deref()), (first.id, Some("success")));
        assert_eq!(transport.calls(), 1, "the repeats ran nothing");
    });
}

#[test]
fn a_refused_submission_gives_its_key_back() {
    let nodes = names("n", 1);
    let (_dir, store) = temp_store();
    let engine = local_engine(&nodes, EngineConfig::default(), Some(store.writer()))
        .with_store(store.clone());
    runtime().block_on(async {
        let refused = Submission::command("", nodes.join(","))
            .as_user(ctx("u"))
            .key(Some("k".into()));
        let e = engine.submit(refused).await.expect_err("empty command");
        assert!(e.to_string().contains("command"), "{e}");
        let Submitted { id, earlier, .. } = engine
            .submit(Submission::command("true", nodes.join(",")).key(Some("k".into())))
            .await
            .expect("the key is free again");
        assert_eq!(earlier, None);
        let result = tokio::time::timeout(LIMIT, engine.wait(&id))
            .await
            .expect("run ends")
            .unwrap();
        assert_eq!(result.nodes[0].status, NodeStatus::Success);
    });
}

fn task_path() -> (tempfile::TempDir, Vec<std::path::PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let tasks = dir.path().join("demo/tasks");
    std::fs::create_dir_all(&tasks).unwrap();
    std::fs::write(
        tasks.join("greet.json"),
        r#"{"input_method": "environment", "journal_type": "provisioning",
            "parameters": {"name": {"type": "String[1]"},
                           "count": {"type": "Integer", "default": 1}}}"#,
    )
    .unwrap();
    std::fs::write(
        tasks.join("greet.sh"),
        "#!/bin/sh\nprintf '{\"hello\":\"%s\",\"count\":%s}\\n' \"$PT_name\" \"$PT_count\"\n",
    )
    .unwrap();
    let path = vec![dir.path().to_path_buf()];
    (dir, path)
}

fn wanted(name: &str, pairs: &[(&str, &str)], targets: &str) -> TaskWanted {
    TaskWanted {
        name: name.into(),
        pairs: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        noop: false,
        targets: targets.into(),
        rerun: None,
    }
}

#[test]
fn the_task_pipeline_finds_checks_and_labels_a_task_that_then_runs() {
    let (_dir, path) = task_path();
    let options = ExecutionOptions::default;
    let missing = task_submit::prepare(&path, wanted("demo::nope", &[], "n1"), options());
    assert!(
        matches!(&missing, Err(TaskSubmitError::Find(e)) if e.to_string().contains("demo::nope")),
        "{missing:?}"
    );
    let bad = wanted("demo::greet", &[("count", "many"), ("extra", "1")], "n1");
    match task_submit::prepare(&path, bad, options()) {
        Err(TaskSubmitError::Invalid { task, errors }) => {
            assert_eq!(task, "demo::greet");
            let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, ["count", "extra", "name"], "every problem at once");
        }
        other => panic!("expected invalid parameters, got {other:?}"),
    }
    let nodes = names("n", 2);
    let good = wanted("demo::greet", &[("name", "ada")], &nodes.join(","));
    let submission = task_submit::prepare(&path, good, options()).expect("a valid task run");
    assert_eq!(submission.label.kind, "task");
    assert_eq!(submission.label.entry_type, EntryType::Provisioning);
    assert_eq!(
        submission.label.capability,
        Capability::TaskRun("demo::greet".into())
    );
    assert_eq!(
        submission.label.action.as_deref(),
        Some("task demo::greet name=ada count=1")
    );
    let engine = local_engine(&nodes, EngineConfig::default(), None);
    runtime().block_on(async {
        let id = engine
            .submit(submission.as_user(ctx("u")))
            .await
            .unwrap()
            .id;
        let result = tokio::time::timeout(LIMIT, engine.wait(&id))
            .await
            .expect("task run ends")
            .unwrap();
        for n in &result.nodes {
            assert_eq!(n.status, NodeStatus::Success, "{n:?}");
            let value = n.value.as_ref().expect("stdout parsed as JSON");
            assert_eq!(value["hello"], "ada");
            assert_eq!(value["count"], 1);
        }
    });
}
