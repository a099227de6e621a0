//! Pure drawing: functions of view state onto a frame, one file per pane, plus
//! sanitising of remote text before it can reach the terminal. Nothing here
//! mutates state or does I/O.

pub mod bar;
pub mod facts;
pub mod history;
pub mod inventory;
pub mod journal;
pub mod output;
pub mod output_text;
pub mod overlays;
pub mod plan;
pub mod progress;
pub mod sanitize;
pub mod sgr;
pub mod status;
pub mod terminal_text;
pub mod theme;
pub mod time;
pub mod wrap;

use crate::app::tui::layout;
use crate::app::tui::state::{AppState, Focus, View};
use crate::app::tui::tabs;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Row, Table};
use theme::Theme;

/// Paints the whole console.
pub fn draw(frame: &mut Frame, state: &AppState) {
    let theme = Theme::get(state.options.no_color);
    let areas = layout::areas(
        frame.area(),
        state.focus == Focus::Main,
        state.progress.has_content(),
        state.bar.is_some(),
    );
    if let Some(r) = areas.tabs {
        draw_tabs(frame, r, state, &theme);
    }
    if let Some(r) = areas.inventory {
        inventory::draw(frame, r, state, &theme);
    }
    if let Some(r) = areas.strip {
        progress::draw_strip(frame, r, state, &theme);
    }
    if let Some(r) = areas.main {
        match state.view {
            View::Output => output::draw(frame, r, state, &theme),
            View::Progress => progress::draw(frame, r, state, &theme),
            View::History => history::draw(frame, r, state, &theme),
            View::Journal => journal::draw(frame, r, state, &theme),
            View::Facts => facts::draw(frame, r, state, &theme),
        }
    }
    if let Some(r) = areas.bar {
        bar::draw(frame, r, state, &theme);
    }
    if let Some(r) = areas.status {
        status::draw(frame, r, state, &theme);
    }
    overlays::draw(frame, state, &theme);
}

/// The tab names of a narrow terminal, the one shown emphasised; the row
/// scrolls so the shown one is always on it.
fn draw_tabs(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let current = tabs::current(state);
    let mut spans: Vec<Span> = Vec::new();
    let mut before = 0;
    for tab in tabs::all() {
        let shown = tab == current;
        let text = format!(" {} ", tab.title());
        if shown {
            before = spans.iter().map(|s| s.width()).sum::<usize>();
        }
        let style = if shown {
            Style::default()
                .fg(theme.title)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED)
        } else {
            theme.fg(theme.dim)
        };
        spans.push(Span::styled(text, style));
    }
    let total: usize = spans.iter().map(|s| s.width()).sum();
    let width = area.width as usize;
    let scroll = if total > width {
        before.saturating_sub(width / 3).min(total - width)
    } else {
        0
    };
    frame.render_widget(
        ratatui::widgets::Paragraph::new(Line::from(spans)).scroll((0, scroll as u16)),
        area,
    );
}

/// The main pane's frame: view tabs in the title, `extra` after them.
pub fn main_block<'a>(state: &AppState, theme: &Theme, extra: String) -> Block<'a> {
    let focused = state.focus == Focus::Main;
    let mut title = vec![Span::raw(" ")];
    // A narrow terminal names the views in its tab row instead.
    let views = if tabs::narrow(state) {
        &[][..]
    } else {
        &View::ALL[..]
    };
    for (i, v) in views.iter().enumerate() {
        let style = if *v == state.view {
            Style::default()
                .fg(theme.title)
                .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
        } else {
            theme.fg(theme.dim)
        };
        // Under 120 columns only the shown view is named, so the pane's own
        // title (flags, the search counter) still fits.
        let label = if *v == state.view || state.size.width >= 120 {
            format!("{}:{}", i + 1, v.title())
        } else {
            (i + 1).to_string()
        };
        title.push(Span::styled(label, style));
        title.push(Span::raw(" "));
    }
    if !extra.is_empty() {
        let lead = if views.is_empty() { "" } else { "─ " };
        title.push(Span::styled(
            format!("{lead}{extra} "),
            theme.fg(theme.title),
        ));
    }
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(Line::from(title))
}

/// A list pane's table: the rows that fit in `height` lines under the titles,
/// scrolled so `cursor` stays visible, the cursor's row highlighted and the
/// column titles dimmed. `row` draws one item.
pub fn list_table<'a, T>(
    items: impl IntoIterator<Item = T>,
    (top, cursor, height): (usize, usize, usize),
    row: impl Fn(T) -> Row<'a>,
    widths: Vec<Constraint>,
    titles: Vec<&'a str>,
    theme: &Theme,
) -> Table<'a> {
    let first = visible_top(top, cursor, height);
    let rows: Vec<Row> = items
        .into_iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, item)| {
            let r = row(item);
            if i == cursor {
                r.style(theme.cursor())
            } else {
                r
            }
        })
        .collect();
    Table::new(rows, widths).header(Row::new(titles).style(theme.fg(theme.dim)))
}

/// First row shown so that `cursor` is visible in `height` rows, starting from
/// the remembered `top` (drawing cannot move it, so it adjusts here).
pub fn visible_top(top: usize, cursor: usize, height: usize) -> usize {
    let mut top = top;
    crate::app::tui::cursor::keep_visible(cursor, &mut top, height);
    top
}

/// Cuts `text` to at most `width` characters, with `…` when cut.
pub fn ellipsize(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// A centred rectangle of at most `w`×`h` inside `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// Text that may carry remote bytes (error reasons, names), made inert and
/// stripped of colour for one-line display.
pub fn safe(text: &str) -> String {
    sgr::plain(&sanitize::sanitize(
        text.as_bytes(),
        &sanitize::SanitizeOptions::default(),
    ))
    .replace('\n', " ")
}
