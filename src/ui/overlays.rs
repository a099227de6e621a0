//! Popups drawn over the panes, bottom of the stack first: help (generated
//! from the keymap), run confirmation, the engine's questions, the note editor,
//! the output diff and long messages.

use super::theme::Theme;
use super::view::overlay::{HelpSection, Overlay};
use super::{centered, safe};
use crate::engine::transport::interaction::Question;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

/// `help_text`: the keymap's sections, for a help overlay.
pub fn draw(frame: &mut Frame, overlays: &[Overlay], help_text: &[HelpSection], theme: &Theme) {
    let area = frame.area();
    for overlay in overlays {
        match overlay {
            Overlay::Help { top } => help(frame, area, help_text, theme, *top),
            Overlay::Confirm {
                command,
                targets,
                count,
                reasons,
                rerun,
            } => {
                let mut lines = vec![
                    Line::from(vec![
                        Span::raw("Run "),
                        Span::styled(safe(command), Style::default().add_modifier(Modifier::BOLD)),
                    ]),
                    Line::from(format!("on {count} nodes: {}", safe(targets))),
                ];
                if let Some(r) = rerun {
                    lines.push(Line::from(format!("again: a re-run of {}", r.execution)));
                }
                lines.push(Line::raw(""));
                for r in reasons {
                    lines.push(Line::styled(format!("• {r}"), theme.fg(theme.timeout)));
                }
                lines.push(Line::raw(""));
                lines.push(keys_line(&[("y", "run"), ("n", "cancel")], theme));
                popup(frame, area, " Confirm ", lines, 64, theme);
            }
            Overlay::ConfirmQuit { running } => {
                let lines = vec![
                    Line::from(format!("{running} still in flight.")),
                    Line::from("Quit anyway? Runs of this console are cancelled."),
                    Line::raw(""),
                    keys_line(&[("y", "quit"), ("n", "stay")], theme),
                ];
                popup(frame, area, " Quit? ", lines, 56, theme);
            }
            Overlay::Question {
                question, secret, ..
            } => match question {
                Question::UnknownHostKey {
                    host,
                    port,
                    key_type,
                    fingerprint,
                } => {
                    let lines = vec![
                        Line::from(format!(
                            "The authenticity of host {}:{port} can't be established.",
                            safe(host)
                        )),
                        Line::from(format!("{} key fingerprint is", safe(key_type))),
                        Line::styled(
                            safe(fingerprint),
                            Style::default().add_modifier(Modifier::BOLD),
                        ),
                        Line::raw(""),
                        keys_line(
                            &[
                                ("a", "accept once"),
                                ("s", "accept and save"),
                                ("r", "reject"),
                            ],
                            theme,
                        ),
                    ];
                    popup(frame, area, " Unknown host key ", lines, 72, theme);
                }
                Question::Passphrase { key_path } => {
                    let r = centered(area, 64, 6);
                    frame.render_widget(Clear, r);
                    let block = bordered(" Passphrase ", theme);
                    let inner = block.inner(r);
                    frame.render_widget(block, r);
                    let [label, input, keys] = Layout::vertical([
                        Constraint::Length(1),
                        Constraint::Length(1),
                        Constraint::Length(1),
                    ])
                    .areas(inner);
                    frame.render_widget(Paragraph::new(format!("Key {}", safe(key_path))), label);
                    frame.render_widget(secret, input);
                    frame.render_widget(
                        Paragraph::new(keys_line(
                            &[("enter", "unlock"), ("esc", "skip this key")],
                            theme,
                        )),
                        keys,
                    );
                }
            },
            Overlay::Editor { node, area: text } => {
                let r = centered(area, 80, 16);
                frame.render_widget(Clear, r);
                let block = bordered(
                    &format!(" Note for {node} · ctrl-s save · esc discard "),
                    theme,
                );
                let inner = block.inner(r);
                frame.render_widget(block, r);
                frame.render_widget(text, inner);
            }
            Overlay::Diff { title, lines, top } => {
                let r = centered(
                    area,
                    area.width.saturating_sub(4),
                    area.height.saturating_sub(2),
                );
                frame.render_widget(Clear, r);
                let block = bordered(
                    &format!(" Diff {} (- largest group, + this) ", safe(title)),
                    theme,
                );
                let inner = block.inner(r);
                frame.render_widget(block, r);
                let shown: Vec<Line> = lines
                    .iter()
                    .skip(*top)
                    .take(inner.height as usize)
                    .map(|(sign, text)| {
                        let style = match sign {
                            '-' => theme.fg(theme.failed),
                            '+' => theme.fg(theme.ok),
                            _ => Style::default(),
                        };
                        Line::styled(format!("{sign} {}", super::sgr::plain(text)), style)
                    })
                    .collect();
                frame.render_widget(Paragraph::new(shown), inner);
            }
            Overlay::Message { title, text, top } => message(frame, area, title, text, *top, theme),
        }
    }
}

fn bordered<'a>(title: &str, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(Span::styled(title.to_string(), theme.fg(theme.title)))
}

fn keys_line(keys: &[(&str, &str)], theme: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    for (k, what) in keys {
        spans.push(Span::styled(
            k.to_string(),
            theme.fg(theme.key).add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::raw(format!(" {what}   ")));
    }
    Line::from(spans)
}

fn popup(frame: &mut Frame, area: Rect, title: &str, lines: Vec<Line>, width: u16, theme: &Theme) {
    let height = lines.len() as u16 + 2;
    let r = centered(area, width, height);
    frame.render_widget(Clear, r);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(bordered(title, theme)),
        r,
    );
}

/// A long text wrapped to the popup, scrolled by whole lines of the text.
fn message(frame: &mut Frame, area: Rect, title: &str, text: &str, top: usize, theme: &Theme) {
    let lines: Vec<Line> = text.lines().map(|l| Line::from(safe(l))).collect();
    let top = top.min(lines.len().saturating_sub(1));
    let width = area.width.min(100);
    let inner_width = width.saturating_sub(2).max(1) as usize;
    let wrapped: usize = lines
        .iter()
        .map(|l| l.width().div_ceil(inner_width).max(1))
        .sum();
    let height = (wrapped as u16).saturating_add(2).min(area.height);
    let r = centered(area, width, height);
    frame.render_widget(Clear, r);
    let shown: Vec<Line> = lines.into_iter().skip(top).collect();
    frame.render_widget(
        Paragraph::new(shown)
            .wrap(Wrap { trim: false })
            .block(bordered(title, theme)),
        r,
    );
}

fn help(frame: &mut Frame, area: Rect, sections: &[HelpSection], theme: &Theme, top: usize) {
    let mut lines = Vec::new();
    for section in sections {
        lines.push(Line::styled(
            section.title.clone(),
            Style::default()
                .fg(theme.header)
                .add_modifier(Modifier::BOLD),
        ));
        for (keys, what) in &section.actions {
            lines.push(Line::from(vec![
                Span::styled(format!("  {keys:<18}"), theme.fg(theme.key)),
                Span::raw(*what),
            ]));
        }
        lines.push(Line::raw(""));
    }
    lines.push(Line::styled(
        "Commands (after :)",
        Style::default()
            .fg(theme.header)
            .add_modifier(Modifier::BOLD),
    ));
    for (usage, what) in COMMANDS {
        lines.push(Line::from(vec![
            Span::styled(format!("  {usage:<18}"), theme.fg(theme.key)),
            Span::raw(*what),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Text fields: enter submits, esc leaves, up/down recall earlier commands.",
        theme.fg(theme.dim),
    ));
    let r = centered(area, 76, area.height.saturating_sub(2));
    frame.render_widget(Clear, r);
    let block = bordered(" Help · j/k scroll · any other key closes ", theme);
    let inner = block.inner(r);
    frame.render_widget(block, r);
    let shown: Vec<Line> = lines
        .into_iter()
        .skip(top)
        .take(inner.height as usize)
        .collect();
    frame.render_widget(Paragraph::new(shown), inner);
}

/// Every `:` command with its use, for the help overlay (the help text is
/// the UI's; `app::tui::commands` carries them out).
pub const COMMANDS: &[(&str, &str)] = &[
    (":run CMD", "run CMD on the selection (also !)"),
    (":task NAME k=v...", "run a task on the selection"),
    (
        ":plan FILE",
        "run a plan (selection for steps without targets)",
    ),
    (":plan cancel", "cancel the running plan"),
    (":cancel", "cancel the newest running execution"),
    (":history", "show history"),
    (":history ID", "replay a run (any unique prefix of its id)"),
    (":journal [NODE]", "show a node's journal"),
    (":facts [NODE]", "show a node's facts"),
    (":output / :progress", "show output / progress"),
    (":filter EXPR", "filter the inventory"),
    (
        ":write [--json] FILE",
        "write the output as shown (also w); :write! replaces",
    ),
    (":status", "engine health (j/k scroll)"),
    (":messages", "this session's notices and errors, with times"),
    (":help", "this help"),
    (":q", "quit"),
];
