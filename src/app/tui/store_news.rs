//! What other drover processes on the same store recorded, as the console
//! hears of it ([`super::store_watch`]): a run started, a run ended, a journal
//! entry written. The history pane and the open journal are read again when
//! they are concerned, and the status line names who ran what.

use super::msg::Effect;
use super::state::{AppState, View};
use crate::engine::records::EventRecord;
use crate::ui::sanitize::sanitize;

/// The log entries that carry news (`drover events` type names).
pub const NEWS_TYPES: [&str; 3] = ["execution_queued", "execution_finished", "journal_appended"];

/// One record of another process.
#[derive(Debug, Clone, PartialEq)]
pub enum News {
    /// `user` started `action` on `nodes`.
    Ran {
        user: String,
        action: String,
        nodes: Vec<String>,
    },
    /// A run ended: its history row changed.
    Finished,
    /// `user` wrote in `node`'s journal (a note when `note`).
    Journal {
        user: String,
        node: String,
        note: bool,
    },
}

impl News {
    /// The news in a log entry, if it is one of [`NEWS_TYPES`].
    pub fn of(event: &EventRecord) -> Option<News> {
        let user = event.user.clone().unwrap_or_else(|| "someone".into());
        match event.kind.as_str() {
            "execution_queued" => Some(News::Ran {
                user,
                action: event.body["action"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                nodes: event.body["nodes"]
                    .as_array()
                    .map(|nodes| {
                        nodes
                            .iter()
                            .filter_map(|n| n.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            }),
            "execution_finished" => Some(News::Finished),
            "journal_appended" => Some(News::Journal {
                user,
                node: event.node.clone()?,
                note: event.body["entry_type"] == "manual",
            }),
            _ => None,
        }
    }

    /// The status-line notice, for news a person wants to hear of.
    fn notice(&self) -> Option<String> {
        let clean = |text: &str| sanitize(text.as_bytes(), &Default::default());
        match self {
            News::Ran {
                user,
                action,
                nodes,
            } => {
                let on = match nodes.as_slice() {
                    [one] => clean(one),
                    many => format!("{} nodes", many.len()),
                };
                Some(format!("{} ran `{}` on {on}", clean(user), clean(action)))
            }
            News::Journal {
                user,
                node,
                note: true,
            } => Some(format!("{} wrote a note on {}", clean(user), clean(node))),
            News::Finished | News::Journal { .. } => None,
        }
    }
}

/// Folds news into the view: notices on the status line (and in `:messages`),
/// and reads again of the history pane and of a journal they concern.
pub fn on_news(state: &mut AppState, news: Vec<News>) -> Vec<Effect> {
    let mut effects = Vec::new();
    for n in &news {
        if let Some(text) = n.notice() {
            state.info(text);
        }
    }
    let runs = news
        .iter()
        .any(|n| matches!(n, News::Ran { .. } | News::Finished));
    if runs && state.view == View::History {
        effects.push(Effect::LoadHistory);
    }
    if state.view == View::Journal
        && let Some(open) = state.journal.node.clone()
        && news
            .iter()
            .any(|n| matches!(n, News::Journal { node, .. } if *node == open))
    {
        effects.push(Effect::LoadJournal(open));
    }
    effects
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::tui::keymap::Keymap;
    use crate::app::tui::state::UiOptions;
    use ratatui::layout::Rect;
    use std::sync::Arc;

    fn event(kind: &str, node: Option<&str>, body: serde_json::Value) -> EventRecord {
        EventRecord {
            seq: 1,
            ts: 1,
            kind: kind.into(),
            execution: Some("e1".into()),
            node: node.map(str::to_string),
            user: Some("alice".into()),
            pid: 1,
            body,
        }
    }

    fn state() -> AppState {
        AppState::new(
            Arc::new(Keymap::defaults()),
            UiOptions::default(),
            Rect::new(0, 0, 80, 24),
            "bob".into(),
        )
    }

    fn status(state: &AppState) -> &str {
        state.status.as_ref().map_or("", |(_, text)| text.as_str())
    }

    #[test]
    fn a_run_elsewhere_names_its_operator_and_refreshes_an_open_history() {
        let queued = event(
            "execution_queued",
            None,
            serde_json::json!({"action": "uptime", "nodes": ["web01", "web02"]}),
        );
        let news = News::of(&queued).unwrap();
        let mut s = state();
        assert_eq!(on_news(&mut s, vec![news.clone()]), []);
        assert_eq!(status(&s), "alice ran `uptime` on 2 nodes");
        s.view = View::History;
        assert_eq!(on_news(&mut s, vec![news]), [Effect::LoadHistory]);
        let finished = event("execution_finished", None, serde_json::json!({}));
        assert_eq!(
            on_news(&mut s, vec![News::of(&finished).unwrap()]),
            [Effect::LoadHistory]
        );
    }

    #[test]
    fn a_journal_entry_elsewhere_refreshes_that_nodes_open_journal_only() {
        let note = event(
            "journal_appended",
            Some("web01"),
            serde_json::json!({"entry_type": "manual"}),
        );
        let news = News::of(&note).unwrap();
        let mut s = state();
        s.view = View::Journal;
        s.journal.open("web02");
        assert_eq!(on_news(&mut s, vec![news.clone()]), []);
        assert_eq!(status(&s), "alice wrote a note on web01");
        s.journal.open("web01");
        assert_eq!(
            on_news(&mut s, vec![news]),
            [Effect::LoadJournal("web01".into())]
        );
    }

    #[test]
    fn one_node_is_named_and_control_bytes_are_not_shown() {
        let queued = event(
            "execution_queued",
            None,
            serde_json::json!({"action": "echo \u{1b}[2Jhi", "nodes": ["db1"]}),
        );
        let mut s = state();
        on_news(&mut s, vec![News::of(&queued).unwrap()]);
        assert!(!status(&s).contains('\u{1b}'), "{:?}", status(&s));
        assert!(status(&s).ends_with("on db1"), "{:?}", status(&s));
    }
}
