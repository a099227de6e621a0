//! Listens for what other drover processes record in the same store: the event
//! log is read through the engine (under the console user's `history.read`)
//! each time the store has news, and the runs and journal entries of other
//! processes come to `update` as [`Msg::StoreNews`]. This process's own records
//! reach the console as engine events already.

use super::msg::Msg;
use super::store_news::{NEWS_TYPES, News};
use crate::engine::records::EventFilter;
use crate::engine::{Engine, EventReader, ExecutionContext};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// The longest the watcher goes without reading when no news came (a lost
/// notification costs at most this), and how long quitting may wait for a
/// wait in progress.
const READ_AT_LEAST_EVERY: Duration = Duration::from_millis(150);

/// Log entries read at once; more waiting are read at once after.
const PAGE: usize = 500;

/// Starts the watcher; it ends when the console's message channel closes. A
/// console without a store, or whose user may not read history, hears nothing.
pub fn spawn(engine: Engine, context: ExecutionContext, tx: UnboundedSender<Msg>) {
    tokio::spawn(async move {
        let reader = match engine.read_events(&context).await {
            Ok(reader) => reader,
            Err(e) => {
                tracing::debug!("no news of other drover processes: {e}");
                return;
            }
        };
        // Dropped before waiting: the engine's shutdown does not wait on it.
        drop(engine);
        watch(reader, tx).await;
    });
}

async fn watch(reader: EventReader, tx: UnboundedSender<Msg>) {
    let own_pid = i64::from(std::process::id());
    let mut after = match reader.last_seq().await {
        Ok(seq) => seq,
        Err(e) => {
            tracing::warn!("no news of other drover processes: {e}");
            return;
        }
    };
    let mut full_page = false;
    // Said once when reads start failing, and once when they work again.
    let mut unreachable = false;
    while !tx.is_closed() {
        if !full_page {
            reader.wait_for_news(READ_AT_LEAST_EVERY).await;
        }
        let filter = EventFilter {
            after_seq: Some(after),
            types: NEWS_TYPES.map(str::to_string).to_vec(),
            limit: PAGE,
            ..EventFilter::default()
        };
        let page = match reader.read(filter).await {
            Ok(page) => page,
            Err(e) => {
                tracing::debug!("reading store news: {e}");
                full_page = false;
                if !unreachable {
                    unreachable = true;
                    if tx
                        .send(Msg::StoreNews(vec![News::Unreachable(e.to_string())]))
                        .is_err()
                    {
                        return;
                    }
                }
                continue;
            }
        };
        if unreachable {
            unreachable = false;
            if tx.send(Msg::StoreNews(vec![News::Reachable])).is_err() {
                return;
            }
        }
        full_page = page.len() == PAGE;
        let Some(last) = page.last() else { continue };
        after = last.seq;
        let news: Vec<News> = page
            .iter()
            .filter(|e| e.pid != own_pid)
            .filter_map(News::of)
            .collect();
        if !news.is_empty() && tx.send(Msg::StoreNews(news)).is_err() {
            return;
        }
    }
}
