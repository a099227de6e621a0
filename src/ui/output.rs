//! Live (or replayed) output: folded groups or per-node blocks, stdout and
//! stderr told apart, scrolled both ways. Remote text was sanitised when it
//! arrived; here only kept SGR colours become styles, and the text is clipped
//! to the pane, so nothing a node prints can draw outside it.

use super::main_block;
use super::output_text;
use super::sgr;
use super::theme::Theme;
use super::view::MainTitle;
use super::view::output::{OutLine, OutputPane, ViewLine};
use crate::engine::NodeStatus;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn draw(frame: &mut Frame, area: Rect, title: &MainTitle, pane: &OutputPane, theme: &Theme) {
    let OutputPane::Run(out) = pane else {
        let block = main_block(title, theme, String::new());
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
    if out.replay {
        flags.push("replay");
    }
    if !out.counter.is_empty() {
        flags.push(&out.counter);
    }
    let command = super::ellipsize(&super::safe(out.command), 40);
    let block = main_block(title, theme, format!("{command} [{}]", flags.join(", ")));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = inner.height as usize;
    let left = out.left;
    let colours = !theme.no_color;
    let search = out.search;
    let lines: Vec<Line> = out
        .lines
        .iter()
        .map(|l| match l {
            ViewLine::Header {
                label,
                members,
                status,
                exit_code,
                ..
            } => Line::from(vec![
                Span::styled(
                    output_text::header(label, *members),
                    Style::default()
                        .fg(theme.header)
                        .add_modifier(Modifier::BOLD),
                ),
                status_span(*status, *exit_code, theme),
            ]),
            ViewLine::Gap { dropped, missed } => Line::from(Span::styled(
                output_text::gap(*dropped, *missed),
                theme.fg(theme.dim),
            )),
            ViewLine::Text { line, node } => text_line(line, *node, left, colours, theme, search),
            ViewLine::Partial { line, node } => {
                text_line(line, *node, left, colours, theme, search)
            }
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
    line: &OutLine,
    node: Option<&str>,
    left: usize,
    colours: bool,
    theme: &Theme,
    search: Option<&str>,
) -> Line<'static> {
    let base = if line.notice {
        theme.fg(theme.dim)
    } else if line.stderr {
        theme.fg(theme.stderr)
    } else {
        Style::default()
    };
    let mut spans = vec![Span::styled(
        output_text::marker(line.stderr),
        theme.fg(theme.stderr),
    )];
    if node.is_some() {
        spans.push(Span::styled(
            output_text::node_prefix(node),
            theme.fg(theme.dim),
        ));
    }
    let body = sgr::spans(&line.text, base, left, colours);
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
    let color = match status {
        NodeStatus::Pending | NodeStatus::Cancelled => theme.dim,
        NodeStatus::Running => theme.running,
        NodeStatus::Success => theme.ok,
        NodeStatus::Failed => theme.failed,
        NodeStatus::Timeout => theme.timeout,
    };
    Span::styled(output_text::status(status, exit), theme.fg(color))
}
