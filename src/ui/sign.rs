//! The one sign of a node's state: its symbol, colour and word, wherever a
//! node is shown (the inventory tree today). The console sets it from the
//! node's last run; an open breaker outranks the run (work is refused).

use super::theme::Theme;
use crate::engine::resilience::breaker::BreakerState;
use crate::engine::{ErrorCategory, NodeStatus};
use ratatui::style::{Color, Modifier};
use ratatui::text::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NodeSign {
    /// Not run yet (or pending).
    #[default]
    None,
    Running,
    Ok,
    Failed,
    /// A failure to connect, told apart from a command that failed.
    Unreachable,
    TimedOut,
    Cancelled,
    Breaker(BreakerState),
}

impl NodeSign {
    /// The sign of a node's run ended (or moving) in `status`.
    pub fn from_status(status: NodeStatus, error: Option<ErrorCategory>) -> NodeSign {
        match status {
            NodeStatus::Pending => NodeSign::None,
            NodeStatus::Running => NodeSign::Running,
            NodeStatus::Success => NodeSign::Ok,
            NodeStatus::Failed if error == Some(ErrorCategory::Connection) => NodeSign::Unreachable,
            NodeStatus::Failed => NodeSign::Failed,
            NodeStatus::Timeout => NodeSign::TimedOut,
            NodeStatus::Cancelled => NodeSign::Cancelled,
        }
    }

    /// One column: `⊗` open breaker (work is refused at once), `◐` half-open
    /// (probing).
    pub fn symbol(self) -> &'static str {
        match self {
            NodeSign::None => " ",
            NodeSign::Running => "●",
            NodeSign::Ok => "✓",
            NodeSign::Failed => "✗",
            NodeSign::Unreachable => "⊘",
            NodeSign::TimedOut => "⏱",
            NodeSign::Cancelled => "-",
            NodeSign::Breaker(BreakerState::HalfOpen) => "◐",
            NodeSign::Breaker(_) => "⊗",
        }
    }

    /// A word for it, where a symbol alone would not do.
    pub fn label(self) -> &'static str {
        match self {
            NodeSign::None => "not run",
            NodeSign::Running => "running",
            NodeSign::Ok => "ok",
            NodeSign::Failed => "failed",
            NodeSign::Unreachable => "unreachable",
            NodeSign::TimedOut => "timed out",
            NodeSign::Cancelled => "cancelled",
            NodeSign::Breaker(BreakerState::HalfOpen) => "breaker half-open",
            NodeSign::Breaker(_) => "breaker open",
        }
    }

    pub fn colour(self, theme: &Theme) -> Color {
        match self {
            NodeSign::None | NodeSign::Cancelled => theme.dim,
            NodeSign::Running => theme.running,
            NodeSign::Ok => theme.ok,
            NodeSign::Failed => theme.failed,
            NodeSign::Unreachable => theme.unreachable,
            NodeSign::TimedOut => theme.timeout,
            NodeSign::Breaker(_) => theme.breaker,
        }
    }

    pub fn span(self, theme: &Theme) -> Span<'static> {
        let style = theme.fg(self.colour(theme));
        let style = match self {
            NodeSign::Breaker(_) => style.add_modifier(Modifier::BOLD),
            _ => style,
        };
        Span::styled(self.symbol(), style)
    }
}
