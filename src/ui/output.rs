//! Live (or replayed) output: folded groups or per-node blocks, stdout and
//! stderr told apart, scrolled both ways. Remote text was sanitised when it
//! arrived; here only kept SGR colours become styles, and the text is clipped
//! to the pane, so nothing a node prints can draw outside it.

use super::main_block;
use super::sgr;
use super::theme::Theme;
use crate::app::tui::output::ViewLine;
use crate::app::tui::state::AppState;
use crate::engine::NodeStatus;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let out = &state.output;
    let Some(run) = &out.run else {
        let block = main_block(state, theme, String::new());
        let hint =
            "No run yet. Select nodes in the inventory (space), then press ! and type a command.";
        frame.render_widget(
            Paragraph::new(hint)
                .style(theme.fg(theme.dim))
                .wrap(ratatui::widgets::Wrap { trim: true })
                .block(block),
            area,
        );
        return;
    };
    let mut flags = vec![if out.folded { "folded" } else { "per node" }];
    if out.follow {
        flags.push("follow");
    }
    if !out.show_stderr {
        flags.push("stdout only");
    }
    if out.wrap {
        flags.push("wrap");
    }
    if run.replay {
        flags.push("replay");
    }
    let counter = crate::app::tui::output_search::match_counter(out);
    if !counter.is_empty() {
        flags.push(&counter);
    }
    let command = super::ellipsize(&super::safe(&run.command), 40);
    let block = main_block(state, theme, format!("{command} [{}]", flags.join(", ")));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = inner.height as usize;
    let top = out.top.min(out.total.saturating_sub(1));
    let left = if out.wrap { 0 } else { out.left };
    let colours = !theme.no_color;
    let search = out.search.as_deref().filter(|s| !s.is_empty());
    let lines: Vec<Line> = out
        .window(top, height)
        .into_iter()
        .map(|l| match l {
            ViewLine::Header {
                label,
                members,
                status,
                exit_code,
                ..
            } => Line::from(vec![
                Span::styled(
                    format!("── {label} ({members}) "),
                    Style::default()
                        .fg(theme.header)
                        .add_modifier(Modifier::BOLD),
                ),
                status_span(status, exit_code, theme),
            ]),
            ViewLine::Gap { dropped, missed } => {
                let mut what = Vec::new();
                if dropped > 0 {
                    what.push(format!("{dropped} earlier lines not kept"));
                }
                if missed > 0 {
                    what.push(format!("{missed} bytes skipped while the pane was behind"));
                }
                Line::from(Span::styled(
                    format!("  … {} …", what.join(", ")),
                    theme.fg(theme.dim),
                ))
            }
            ViewLine::Text(t) => text_line(&t.text, t.stderr, left, colours, theme, search),
            ViewLine::Partial(t) => text_line(&t.text, t.stderr, left, colours, theme, search),
        })
        .collect();
    let lines = if out.wrap {
        let rows: Vec<Line> = lines
            .into_iter()
            .flat_map(|l| super::wrap::wrap_line(l, inner.width as usize))
            .collect();
        // Following, the newest rows are the ones that must show.
        let skip = if out.follow {
            rows.len().saturating_sub(height)
        } else {
            0
        };
        rows.into_iter().skip(skip).take(height).collect()
    } else {
        lines
    };
    frame.render_widget(Paragraph::new(lines), inner);
}

fn text_line(
    text: &str,
    stderr: bool,
    left: usize,
    colours: bool,
    theme: &Theme,
    search: Option<&str>,
) -> Line<'static> {
    let base = if stderr {
        theme.fg(theme.stderr)
    } else {
        Style::default()
    };
    let mut spans = vec![Span::styled(
        if stderr { "! " } else { "  " },
        theme.fg(theme.stderr),
    )];
    let body = sgr::spans(text, base, left, colours);
    match search {
        Some(needle) => spans.extend(highlight(body, needle)),
        None => spans.extend(body),
    }
    Line::from(spans)
}

/// Splits spans so that case-insensitive matches of `needle` show reversed.
fn highlight(spans: Vec<Span<'static>>, needle: &str) -> Vec<Span<'static>> {
    let needle = needle.to_lowercase();
    let mut out = Vec::new();
    for span in spans {
        let text = span.content.into_owned();
        let lower = text.to_lowercase();
        // Lowercasing can change byte lengths outside ASCII; then no highlight.
        if lower.len() != text.len() {
            out.push(Span::styled(text, span.style));
            continue;
        }
        let mut at = 0;
        while let Some(found) = lower[at..].find(&needle) {
            let start = at + found;
            let end = start + needle.len();
            if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
                break;
            }
            if start > at {
                out.push(Span::styled(text[at..start].to_string(), span.style));
            }
            out.push(Span::styled(
                text[start..end].to_string(),
                span.style.add_modifier(Modifier::REVERSED),
            ));
            at = end;
        }
        if at < text.len() {
            out.push(Span::styled(text[at..].to_string(), span.style));
        }
    }
    out
}

pub fn status_span(status: NodeStatus, exit: Option<i32>, theme: &Theme) -> Span<'static> {
    let (text, color) = match status {
        NodeStatus::Pending => ("pending".to_string(), theme.dim),
        NodeStatus::Running => ("running".to_string(), theme.running),
        NodeStatus::Success => ("ok".to_string(), theme.ok),
        NodeStatus::Failed => (
            match exit {
                Some(c) => format!("exit {c}"),
                None => "failed".to_string(),
            },
            theme.failed,
        ),
        NodeStatus::Timeout => ("timed out".to_string(), theme.timeout),
        NodeStatus::Cancelled => ("cancelled".to_string(), theme.dim),
    };
    Span::styled(text, theme.fg(color))
}
