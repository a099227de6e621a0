//! `update(state, message) -> effects`: the only place view state changes. No
//! I/O here: anything slow or outside (engine, store) is an `Effect` that the
//! runner carries out, and its result comes back as a message. Keys go to
//! whatever has them (`panes`).

use super::clock::Stamp;
use super::engine_events::{on_engine, resync};
use super::loaded::on_loaded;
use super::msg::{Effect, Msg};
use super::overlay::Overlay;
use super::state::AppState;
/// `at`: when the message came (see `clock`); the only time `update` knows.
pub fn update(state: &mut AppState, msg: Msg, at: Stamp) -> Vec<Effect> {
    state.clock = at;
    match msg {
        Msg::Key(key) => super::panes::on_key(state, key),
        Msg::Paste(text) => {
            if let Some(bar) = &mut state.bar {
                bar.paste(&text);
            } else if let Some(Overlay::Editor { area, .. }) = state.overlays.last_mut() {
                area.insert_str(text);
            }
            Vec::new()
        }
        Msg::Resize | Msg::Tick => Vec::new(),
        Msg::Engine(event) => on_engine(state, event),
        Msg::EngineLagged(snapshots) => {
            resync(state, snapshots);
            Vec::new()
        }
        Msg::Output {
            execution,
            node,
            stream,
            data,
            missed,
        } => {
            state
                .output
                .append(&execution.0, &node, stream, &data, missed);
            Vec::new()
        }
        Msg::Loaded(loaded) => on_loaded(state, loaded),
        Msg::StoreNews(news) => super::news_update::on_news(state, news),
        Msg::Question { id, question } => {
            state.overlays.push(Overlay::question(id, question));
            Vec::new()
        }
    }
}
