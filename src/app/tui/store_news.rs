//! What other drover processes on the same store recorded, as the console
//! hears of it ([`super::store_watch`]): a run started, a run ended, a journal
//! entry written; and what the status line says of it. What the view does with
//! it is [`super::news_update`]'s.

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
    /// The store could not be read (a team database away): what the read said.
    /// This process's writes are held meanwhile (`:status` says how many).
    Unreachable(String),
    /// The store answers again after [`News::Unreachable`].
    Reachable,
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
    pub fn notice(&self) -> Option<String> {
        let clean = |text: &str| sanitize(text.as_bytes(), &Default::default());
        match self {
            News::Unreachable(reason) => Some(format!(
                "history store unreachable, writes held (:status): {}",
                clean(reason)
            )),
            News::Reachable => Some("history store reachable again".to_string()),
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

#[cfg(test)]
mod tests {
    use super::*;

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

    fn notice(kind: &str, node: Option<&str>, body: serde_json::Value) -> Option<String> {
        News::of(&event(kind, node, body)).and_then(|n| n.notice())
    }

    #[test]
    fn runs_name_their_operator_and_nodes() {
        let many = serde_json::json!({"action": "uptime", "nodes": ["web01", "web02"]});
        assert_eq!(
            notice("execution_queued", None, many).as_deref(),
            Some("alice ran `uptime` on 2 nodes")
        );
        let one = serde_json::json!({"action": "uptime", "nodes": ["db1"]});
        assert_eq!(
            notice("execution_queued", None, one).as_deref(),
            Some("alice ran `uptime` on db1")
        );
        let finished = serde_json::json!({"status": "success"});
        assert_eq!(notice("execution_finished", None, finished), None);
    }

    #[test]
    fn notes_are_told_and_run_results_are_not() {
        let note = serde_json::json!({"entry_type": "manual"});
        assert_eq!(
            notice("journal_appended", Some("web01"), note).as_deref(),
            Some("alice wrote a note on web01")
        );
        let result = serde_json::json!({"entry_type": "execution"});
        assert_eq!(notice("journal_appended", Some("web01"), result), None);
        assert!(News::of(&event("node_started", Some("web01"), serde_json::json!({}))).is_none());
    }

    #[test]
    fn control_bytes_are_not_shown() {
        let body = serde_json::json!({"action": "echo \u{1b}[2Jhi", "nodes": ["db1"]});
        let text = notice("execution_queued", None, body).unwrap();
        assert!(!text.contains('\u{1b}'), "{text:?}");
    }
}
