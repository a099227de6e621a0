//! Colours, from `assets/theme.toml`. With `NO_COLOR`, every colour is the
//! terminal's default and emphasis alone tells things apart.

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::str::FromStr;
use std::sync::OnceLock;

const DEFAULT_THEME: &str = include_str!("../../assets/theme.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    border: String,
    border_focused: String,
    title: String,
    cursor_bg: String,
    selected: String,
    ok: String,
    failed: String,
    unreachable: String,
    timeout: String,
    running: String,
    stderr: String,
    header: String,
    dim: String,
    info: String,
    error: String,
    key: String,
    breaker: String,
}

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub no_color: bool,
    pub border: Color,
    pub border_focused: Color,
    pub title: Color,
    pub cursor_bg: Color,
    pub selected: Color,
    pub ok: Color,
    pub failed: Color,
    pub unreachable: Color,
    pub timeout: Color,
    pub running: Color,
    pub stderr: Color,
    pub header: Color,
    pub dim: Color,
    pub info: Color,
    pub error: Color,
    pub key: Color,
    /// Nodes whose circuit breaker is open.
    pub breaker: Color,
}

fn color(name: &str) -> Color {
    Color::from_str(name).unwrap_or(Color::Reset)
}

fn load() -> Theme {
    let f: ThemeFile = toml::from_str(DEFAULT_THEME).expect("the shipped theme is valid");
    Theme {
        no_color: false,
        border: color(&f.border),
        border_focused: color(&f.border_focused),
        title: color(&f.title),
        cursor_bg: color(&f.cursor_bg),
        selected: color(&f.selected),
        ok: color(&f.ok),
        failed: color(&f.failed),
        unreachable: color(&f.unreachable),
        timeout: color(&f.timeout),
        running: color(&f.running),
        stderr: color(&f.stderr),
        header: color(&f.header),
        dim: color(&f.dim),
        info: color(&f.info),
        error: color(&f.error),
        key: color(&f.key),
        breaker: color(&f.breaker),
    }
}

impl Theme {
    pub fn get(no_color: bool) -> Theme {
        static THEME: OnceLock<Theme> = OnceLock::new();
        let t = *THEME.get_or_init(load);
        if !no_color {
            return t;
        }
        let r = Color::Reset;
        Theme {
            no_color: true,
            border: r,
            border_focused: r,
            title: r,
            cursor_bg: r,
            selected: r,
            ok: r,
            failed: r,
            unreachable: r,
            timeout: r,
            running: r,
            stderr: r,
            header: r,
            dim: r,
            info: r,
            error: r,
            key: r,
            breaker: r,
        }
    }

    pub fn fg(&self, c: Color) -> Style {
        Style::default().fg(c)
    }

    /// The cursor row: a background colour, or reverse video without colours.
    pub fn cursor(&self) -> Style {
        if self.no_color {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
                .bg(self.cursor_bg)
                .add_modifier(Modifier::BOLD)
        }
    }

    pub fn border(&self, focused: bool) -> Style {
        if focused {
            Style::default()
                .fg(self.border_focused)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().fg(self.border)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_theme_uses_only_ansi_colours() {
        let t = Theme::get(false);
        for c in [
            t.border,
            t.ok,
            t.failed,
            t.stderr,
            t.cursor_bg,
            t.key,
            t.breaker,
        ] {
            assert!(
                !matches!(c, Color::Rgb(..) | Color::Indexed(_) | Color::Reset),
                "{c:?}"
            );
        }
        assert_eq!(Theme::get(true).ok, Color::Reset);
    }
}
