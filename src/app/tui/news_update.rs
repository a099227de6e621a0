//! What the console does when other drover processes recorded something
//! ([`Msg::StoreNews`](super::msg::Msg::StoreNews)): the notices go to the
//! status line (and `:messages`); the history pane, when open, and the open
//! journal of a node concerned are read again.

use super::msg::Effect;
use super::state::{AppState, View};
use super::store_news::News;

/// Folds news into the view: notices on the status line (and in `:messages`),
/// and reads again of the history pane and of a journal they concern.
pub fn on_news(state: &mut AppState, news: Vec<News>) -> Vec<Effect> {
    let mut effects = Vec::new();
    for n in &news {
        match (n, n.notice()) {
            (News::Unreachable(_), Some(text)) => state.error(text),
            (_, Some(text)) => state.info(text),
            (_, None) => {}
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

    fn state() -> AppState {
        AppState::new(
            Arc::new(Keymap::defaults()),
            UiOptions::default(),
            Rect::new(0, 0, 80, 24),
            "bob".into(),
        )
    }

    fn ran() -> News {
        News::Ran {
            user: "alice".into(),
            action: "uptime".into(),
            nodes: vec!["web01".into(), "web02".into()],
        }
    }

    fn status(state: &AppState) -> &str {
        state.status.as_ref().map_or("", |(_, text)| text.as_str())
    }

    #[test]
    fn a_run_elsewhere_is_told_and_refreshes_an_open_history_only() {
        let mut s = state();
        assert_eq!(on_news(&mut s, vec![ran()]), []);
        assert_eq!(status(&s), "alice ran `uptime` on 2 nodes");
        s.view = View::History;
        assert_eq!(on_news(&mut s, vec![ran()]), [Effect::LoadHistory]);
        assert_eq!(on_news(&mut s, vec![News::Finished]), [Effect::LoadHistory]);
    }

    #[test]
    fn a_journal_entry_elsewhere_refreshes_that_nodes_open_journal_only() {
        let note = News::Journal {
            user: "alice".into(),
            node: "web01".into(),
            note: true,
        };
        let mut s = state();
        s.view = View::Journal;
        s.journal.open("web02");
        assert_eq!(on_news(&mut s, vec![note.clone()]), []);
        assert_eq!(status(&s), "alice wrote a note on web01");
        s.journal.open("web01");
        assert_eq!(
            on_news(&mut s, vec![note]),
            [Effect::LoadJournal("web01".into())]
        );
    }

    #[test]
    fn an_unreachable_store_is_an_error_until_it_answers_again() {
        use crate::app::tui::state::Level;
        let mut s = state();
        s.view = View::History;
        let down =
            News::Unreachable("cannot connect to store database postgres://u:***@db/x".into());
        assert_eq!(on_news(&mut s, vec![down]), []);
        assert!(
            matches!(s.status, Some((Level::Error, _))),
            "{:?}",
            s.status
        );
        assert_eq!(
            status(&s),
            "history store unreachable, writes held (:status): \
             cannot connect to store database postgres://u:***@db/x"
        );
        assert_eq!(on_news(&mut s, vec![News::Reachable]), []);
        assert_eq!(status(&s), "history store reachable again");
    }
}
