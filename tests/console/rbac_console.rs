//! RBAC through the console, driven headless: a refused run is reported on screen,
//! nothing runs, and the refusal is audited in the refused nodes' journals.

use crate::common;

use common::{local_engine, names, temp_store};
use drover::app::tui::headless::Headless;
use drover::config::{RbacConfig, RoleConfig};
use drover::engine::EngineConfig;
use drover::engine::common::request::local_user_name;
use drover::store::EntryType;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_run_is_shown_audited_and_never_started() {
    let (_dir, store) = temp_store();
    let rbac = RbacConfig {
        roles: BTreeMap::from([(
            "one-node".to_string(),
            RoleConfig {
                capabilities: vec!["command.run".into()],
                targets: Some("web00".into()),
                ..RoleConfig::default()
            },
        )]),
        // The console asks as the local user.
        users: BTreeMap::from([(local_user_name(), vec!["one-node".into()])]),
        default_roles: Vec::new(),
    };
    let engine = local_engine(
        &names("web0", 3),
        EngineConfig::default(),
        Some(store.writer()),
    )
    .with_authorizer(Arc::new(rbac.policy().expect("policy")))
    .with_store(store.clone());
    let mut h = Headless::new(engine.clone(), 120, 30);
    h.keys("<space>").unwrap();
    assert_eq!(h.state().inventory.selected_count, 3);
    h.keys("!echo ran<enter>").unwrap();
    let refused = |s: &drover::app::tui::state::AppState| {
        s.status
            .as_ref()
            .is_some_and(|(_, text)| text.contains("permission denied"))
    };
    h.until(LIMIT, refused).await.unwrap();
    let status = h.state().status.clone().expect("status").1;
    assert!(
        status.contains("command.run") && status.contains("web[01-02]"),
        "{status}"
    );
    // The refusal was audited (committed before the error reached the console).
    let audited = store
        .journal("web01", &[EntryType::Event], None)
        .expect("journal");
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert_eq!(audited[0].status.as_deref(), Some("denied"));
    assert!(engine.executions().is_empty(), "a refused run never starts");
    assert!(
        store
            .journal("web00", &[EntryType::Event], None)
            .unwrap()
            .is_empty()
    );
}

/// The console holds no store: history and a run's stored output are read
/// through the engine, which refuses a user without `history.read` and
/// audits each refusal, though the user may run commands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_reads_go_through_the_engines_permission_check() {
    let (_dir, store) = temp_store();
    let rbac = RbacConfig {
        roles: BTreeMap::from([(
            "runner".to_string(),
            RoleConfig {
                capabilities: vec!["command.run".into()],
                ..RoleConfig::default()
            },
        )]),
        users: BTreeMap::from([(local_user_name(), vec!["runner".into()])]),
        default_roles: Vec::new(),
    };
    let engine = local_engine(
        &names("web0", 1),
        EngineConfig::default(),
        Some(store.writer()),
    )
    .with_authorizer(Arc::new(rbac.policy().expect("policy")))
    .with_store(store.clone());
    let mut h = Headless::new(engine.clone(), 120, 30);
    h.keys("<space>!echo ran<enter>").unwrap();
    let ended = |s: &drover::app::tui::state::AppState| {
        s.progress
            .runs
            .front()
            .is_some_and(|r| !r.running() && r.status != drover::engine::ExecutionStatus::Queued)
    };
    h.until(LIMIT, ended).await.unwrap();
    let id = h.state().progress.runs[0].id.0.clone();

    h.keys(&format!(":history {id}<enter>")).unwrap();
    let refused = |s: &drover::app::tui::state::AppState| {
        s.status
            .as_ref()
            .is_some_and(|(_, text)| text.contains("permission denied"))
    };
    h.until(LIMIT, refused).await.unwrap();
    let status = h.state().status.clone().expect("status").1;
    assert!(status.contains("history.read"), "{status}");
    assert!(
        h.state().output.run.as_ref().is_none_or(|r| !r.replay),
        "nothing was replayed"
    );

    h.keys(":history<enter>").unwrap();
    h.until(LIMIT, |s| s.history.error.is_some()).await.unwrap();
    let error = h.state().history.error.clone().unwrap();
    assert!(error.contains("history.read"), "{error}");
    assert!(h.state().history.records.is_empty(), "no record was read");

    let audited = store
        .journal("drover", &[EntryType::Event], None)
        .expect("journal");
    let refusals = audited
        .iter()
        .filter(|e| e.status.as_deref() == Some("denied") && e.action.contains("history.read"))
        .count();
    assert_eq!(refusals, 2, "{audited:?}");
}
