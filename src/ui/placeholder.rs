//! The console's first frame: the inventory it found and how to leave. The full
//! console replaces this view; the terminal handling around it stays.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, List, Paragraph};

/// What the first frame shows.
pub struct WelcomeView {
    pub nodes: Vec<String>,
    pub state_dir: String,
}

pub fn draw(frame: &mut Frame, view: &WelcomeView) {
    let [main, status] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(frame.area());
    let items: Vec<Line> = view.nodes.iter().map(|n| Line::from(n.as_str())).collect();
    let list = List::new(items).block(
        Block::default()
            .borders(Borders::ALL)
            .title(format!(" drover · inventory ({}) ", view.nodes.len())),
    );
    frame.render_widget(list, main);
    let hint = Paragraph::new(format!(
        "q quit · headless: drover --batch run -t TARGETS -- CMD · state {}",
        view.state_dir
    ))
    .style(Style::default().add_modifier(Modifier::REVERSED));
    frame.render_widget(hint, status);
}
