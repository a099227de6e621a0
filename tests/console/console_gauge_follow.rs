//! The progress gauge follows the newest run: a run the user starts after a
//! plan takes the gauge from the plan, counts its nodes as running from
//! dispatch, and a quick run's time reads in milliseconds, never `0.0s`.

use crate::common;

use common::{local_engine, names, temp_store};
use drover::app::tui::headless::Headless;
use drover::app::tui::state::AppState;
use drover::engine::EngineConfig;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

fn plan_done(s: &AppState) -> bool {
    s.progress.plan.as_ref().is_some_and(|p| !p.running())
        && s.status
            .as_ref()
            .is_some_and(|(_, t)| t.starts_with("plan ") && t.contains(" of "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_plan_the_gauge_follows_the_users_new_run_from_dispatch() {
    let (dir, store) = temp_store();
    let engine = local_engine(
        &names("web0", 2),
        EngineConfig::default(),
        Some(store.writer()),
    )
    .with_store(store.clone());
    let mut h = Headless::new(engine, 120, 30);
    let plan = dir.path().join("plan.yaml");
    std::fs::write(
        &plan,
        "name: tiny\ntargets: web00\nsteps:\n  - name: only\n    command: echo step\n",
    )
    .unwrap();
    h.keys(&format!(":plan {}<enter>", plan.display())).unwrap();
    h.until(LIMIT, plan_done).await.unwrap();
    assert!(h.screen().contains("tiny"), "{}", h.screen());

    // Both nodes wait for a marker: they hold their slots, so they count as
    // running while the gauge shows the new run, not the finished plan.
    let marker = dir.path().join("go");
    h.keys(&format!(
        "<esc>a!while [ ! -e {} ]; do sleep 0.05; done<enter>",
        marker.display()
    ))
    .unwrap();
    h.until(LIMIT, |s| {
        s.progress
            .runs
            .front()
            .is_some_and(|r| r.command.starts_with("while") && r.progress().running == 2)
    })
    .await
    .unwrap();
    let id = h.state().progress.runs[0].id.0.clone();
    let screen = h.screen();
    assert!(
        screen.contains("0/2 done · 0 ok · 0 failed · 0 cancelled · 2 running"),
        "{screen}"
    );
    assert!(
        screen.contains(&id[..8]),
        "the gauge names the new run\n{screen}"
    );
    std::fs::write(&marker, b"").unwrap();
    h.until(LIMIT, |s| {
        s.progress.runs.front().is_some_and(|r| !r.running())
            && s.status.as_ref().is_some_and(|(_, t)| t.contains(&id[..8]))
    })
    .await
    .unwrap();
    assert!(h.screen().contains("2/2 done · 2 ok"), "{}", h.screen());

    // A quick run's time is in milliseconds.
    h.keys("!true<enter>").unwrap();
    h.until(LIMIT, |s| {
        s.progress.runs.len() == 2
            && s.progress.runs.front().is_some_and(|r| !r.running())
            && s.status.as_ref().is_some_and(|(_, t)| t.contains(" in "))
    })
    .await
    .unwrap();
    let (_, status) = h.state().status.clone().unwrap();
    assert!(!status.contains("0.0s"), "{status}");
    assert!(
        status.ends_with("ms"),
        "a run of true takes under a second: {status}"
    );
}
