//! Automatic reload: when an inventory file (or the ssh_config) changes, the
//! sources that read it are loaded again, the engine's inventory is swapped,
//! and `EngineEvent::InventoryReloaded` says so. When the inventory TTL
//! passes, every source is read again the same way (dynamic scripts too).
//!
//! Editors save in bursts (write a temporary file, rename, touch), so changes
//! are debounced: the reload happens once the files have been quiet for the
//! debounce time. Directories are watched rather than files, because a
//! rename-on-save replaces the file the watch was on.

use super::service::InventoryService;
use crate::engine::Engine;
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

#[derive(Debug, thiserror::Error)]
#[error("cannot watch {}: {reason}", path.display())]
pub struct WatchError {
    pub path: PathBuf,
    pub reason: String,
}

/// Keeps the watch running; dropping it stops the watch.
pub struct InventoryWatch {
    _watcher: RecommendedWatcher,
    task: JoinHandle<()>,
}

impl Drop for InventoryWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts watching every path the service's sources read. Must be called
/// inside a tokio runtime. Once this returns, any later change is seen.
pub fn watch(
    engine: Engine,
    service: Arc<InventoryService>,
    debounce: Duration,
) -> Result<InventoryWatch, WatchError> {
    let watched: Vec<PathBuf> = service
        .watched_paths()
        .iter()
        .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
        .collect();
    let (tx, rx) = mpsc::unbounded_channel::<Vec<PathBuf>>();
    let relevant = watched.clone();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(event) = res else { return };
        if matches!(event.kind, EventKind::Access(_)) {
            return;
        }
        let hits: Vec<PathBuf> = event
            .paths
            .into_iter()
            .filter(|p| is_under_any(p, &relevant))
            .collect();
        if !hits.is_empty() {
            let _ = tx.send(hits);
        }
    })
    .map_err(|e| WatchError {
        path: PathBuf::new(),
        reason: e.to_string(),
    })?;
    for (dir, mode) in watch_points(&watched) {
        watcher.watch(&dir, mode).map_err(|e| WatchError {
            path: dir.clone(),
            reason: e.to_string(),
        })?;
    }
    let task = tokio::spawn(reload_loop(engine, service, rx, debounce));
    Ok(InventoryWatch {
        _watcher: watcher,
        task,
    })
}

fn is_under_any(path: &Path, watched: &[PathBuf]) -> bool {
    watched.iter().any(|w| path == w || path.starts_with(w))
}

/// Directories to watch: a directory source itself (recursively), else the
/// directory holding the file.
fn watch_points(watched: &[PathBuf]) -> Vec<(PathBuf, RecursiveMode)> {
    let mut recursive = BTreeSet::new();
    let mut flat = BTreeSet::new();
    for p in watched {
        if p.is_dir() {
            recursive.insert(p.clone());
        } else if let Some(parent) = p.parent().filter(|d| d.is_dir()) {
            flat.insert(parent.to_path_buf());
        }
    }
    // A recursive watch covers the same directory watched flat.
    let flat = flat.into_iter().filter(|p| !recursive.contains(p));
    recursive
        .iter()
        .cloned()
        .map(|p| (p, RecursiveMode::Recursive))
        .chain(flat.map(|p| (p, RecursiveMode::NonRecursive)))
        .collect()
}

async fn reload_loop(
    engine: Engine,
    service: Arc<InventoryService>,
    mut rx: mpsc::UnboundedReceiver<Vec<PathBuf>>,
    debounce: Duration,
) {
    let ttl = service.ttl();
    loop {
        let expiry = async {
            match ttl {
                Some(t) => tokio::time::sleep(t).await,
                None => std::future::pending().await,
            }
        };
        let changed = tokio::select! {
            first = rx.recv() => match first {
                Some(paths) => Some(settle(&mut rx, paths, debounce).await),
                None => return,
            },
            _ = expiry => None,
        };
        let svc = service.clone();
        let loaded = tokio::task::spawn_blocking(move || match changed {
            Some(paths) => svc.refresh_changed(&paths),
            None => svc.refresh(),
        })
        .await;
        match loaded {
            Ok(loaded) => {
                tracing::info!(
                    nodes = loaded.inventory.len(),
                    failed = loaded.failures.len(),
                    "inventory reloaded"
                );
                engine.apply_inventory(&loaded);
            }
            Err(e) => tracing::error!("inventory reload failed: {e}"),
        }
    }
}

/// Gathers changes until none came for `debounce`.
async fn settle(
    rx: &mut mpsc::UnboundedReceiver<Vec<PathBuf>>,
    first: Vec<PathBuf>,
    debounce: Duration,
) -> Vec<PathBuf> {
    let mut all: BTreeSet<PathBuf> = first.into_iter().collect();
    while let Ok(Some(more)) = tokio::time::timeout(debounce, rx.recv()).await {
        all.extend(more);
    }
    all.into_iter().collect()
}
