//! Pure drawing: functions of view state onto a frame, one file per pane, plus
//! sanitising of remote text before it can reach the terminal. Nothing here
//! mutates state or does I/O.

pub mod bar;
pub mod facts;
pub mod history;
pub mod inventory;
pub mod journal;
pub mod layout;
pub mod output;
pub mod output_text;
pub mod overlays;
pub mod plan;
pub mod progress;
pub mod sanitize;
pub mod sgr;
pub mod sign;
pub mod status;
pub mod terminal_text;
pub mod theme;
pub mod time;
pub mod view;
pub mod wrap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Row, Table};
use theme::Theme;
use view::{ConsoleView, MainPane, MainTitle};

/// Paints the whole console.
pub fn draw(frame: &mut Frame, view: &ConsoleView) {
    let theme = Theme::get(view.no_color);
    let title = &view.title;
    let areas = view.areas;
    if let Some(r) = areas.tabs {
        draw_tabs(frame, r, &view.tabs, &theme);
    }
    if let Some(r) = areas.inventory {
        inventory::draw(frame, r, &view.inventory, &theme);
    }
    if let Some(r) = areas.strip {
        progress::draw_strip(frame, r, &view.strip, &theme);
    }
    if let Some(r) = areas.main {
        match &view.main {
            MainPane::Output(pane) => output::draw(frame, r, title, pane, &theme),
            MainPane::Progress(pane) => progress::draw(frame, r, title, pane, &theme),
            MainPane::History(pane) => history::draw(frame, r, title, pane, &theme),
            MainPane::Journal(pane) => journal::draw(frame, r, title, pane, &theme),
            MainPane::Facts(pane) => facts::draw(frame, r, title, pane, &theme),
        }
    }
    if let Some(r) = areas.bar {
        bar::draw(frame, r, &view.bar, &theme);
    }
    if let Some(r) = areas.status {
        status::draw(frame, r, &view.status, &theme);
    }
    overlays::draw(frame, view.overlays, &view.help, &theme);
}

/// The tab names of a narrow terminal, the one shown emphasised; the row
/// scrolls so the shown one is always on it.
fn draw_tabs(frame: &mut Frame, area: Rect, tabs: &[(&str, bool)], theme: &Theme) {
    let mut spans: Vec<Span> = Vec::new();
    let mut before = 0;
    for (name, shown) in tabs {
        let text = format!(" {name} ");
        if *shown {
            before = spans.iter().map(|s| s.width()).sum::<usize>();
        }
        let style = if *shown {
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
pub fn main_block<'a>(main: &MainTitle, theme: &Theme, extra: String) -> Block<'a> {
    let mut title = vec![Span::raw(" ")];
    for (i, name) in main.views.iter().enumerate() {
        let shown = i == main.shown;
        let style = if shown {
            Style::default()
                .fg(theme.title)
                .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
        } else {
            theme.fg(theme.dim)
        };
        // Under 120 columns only the shown view is named, so the pane's own
        // title (flags, the search counter) still fits.
        let label = if shown || main.wide {
            format!("{}:{name}", i + 1)
        } else {
            (i + 1).to_string()
        };
        title.push(Span::styled(label, style));
        title.push(Span::raw(" "));
    }
    if !extra.is_empty() {
        let lead = if main.views.is_empty() { "" } else { "─ " };
        title.push(Span::styled(
            format!("{lead}{extra} "),
            theme.fg(theme.title),
        ));
    }
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(main.focused))
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
    keep_visible(cursor, &mut top, height);
    top
}

/// Moves `top` the least so that `cursor` is among the `page` rows from it.
pub fn keep_visible(cursor: usize, top: &mut usize, page: usize) {
    let page = page.max(1);
    if cursor < *top {
        *top = cursor;
    } else if cursor >= *top + page {
        *top = cursor + 1 - page;
    }
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
