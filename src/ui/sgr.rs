//! Turns sanitised text (whose only escapes are kept SGR sequences) into styled
//! spans, and cuts it for horizontal scrolling and width without ever splitting
//! an escape. Unknown SGR parameters are ignored.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;

/// Spans of `text` starting `skip` characters in, styled over `base`.
pub fn spans(text: &str, base: Style, skip: usize, colours: bool) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    let mut style = base;
    let mut skipped = 0;
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("\x1b[") {
            let end = after.find('m').unwrap_or(after.len());
            if colours {
                style = apply(style, base, &after[..end]);
            }
            rest = after.get(end + 1..).unwrap_or("");
            continue;
        }
        let end = rest.find('\x1b').unwrap_or(rest.len());
        let (chunk, tail) = rest.split_at(end);
        rest = tail;
        let mut chunk = chunk;
        if skipped < skip {
            let n = chunk.chars().count();
            if skipped + n <= skip {
                skipped += n;
                continue;
            }
            let cut = chunk
                .char_indices()
                .nth(skip - skipped)
                .map(|(i, _)| i)
                .unwrap_or(chunk.len());
            chunk = &chunk[cut..];
            skipped = skip;
        }
        if !chunk.is_empty() {
            out.push(Span::styled(chunk.to_string(), style));
        }
    }
    out
}

/// Text without its SGR sequences.
pub fn plain(text: &str) -> String {
    spans(text, Style::default(), 0, false)
        .into_iter()
        .map(|s| s.content.into_owned())
        .collect()
}

fn basic(n: u16) -> Color {
    [
        Color::Black,
        Color::Red,
        Color::Green,
        Color::Yellow,
        Color::Blue,
        Color::Magenta,
        Color::Cyan,
        Color::Gray,
    ][usize::from(n % 8)]
}

fn bright(n: u16) -> Color {
    [
        Color::DarkGray,
        Color::LightRed,
        Color::LightGreen,
        Color::LightYellow,
        Color::LightBlue,
        Color::LightMagenta,
        Color::LightCyan,
        Color::White,
    ][usize::from(n % 8)]
}

fn apply(mut style: Style, base: Style, params: &str) -> Style {
    let nums: Vec<u16> = params
        .split([';', ':'])
        .map(|p| p.parse().unwrap_or(0))
        .collect();
    let mut i = 0;
    while i < nums.len() {
        let n = nums[i];
        match n {
            0 => style = base,
            1 => style = style.add_modifier(Modifier::BOLD),
            2 => style = style.add_modifier(Modifier::DIM),
            3 => style = style.add_modifier(Modifier::ITALIC),
            4 => style = style.add_modifier(Modifier::UNDERLINED),
            7 => style = style.add_modifier(Modifier::REVERSED),
            22 => style = style.remove_modifier(Modifier::BOLD | Modifier::DIM),
            23 => style = style.remove_modifier(Modifier::ITALIC),
            24 => style = style.remove_modifier(Modifier::UNDERLINED),
            27 => style = style.remove_modifier(Modifier::REVERSED),
            30..=37 => style = style.fg(basic(n - 30)),
            39 => style = style.fg(base.fg.unwrap_or(Color::Reset)),
            40..=47 => style = style.bg(basic(n - 40)),
            49 => style = style.bg(base.bg.unwrap_or(Color::Reset)),
            90..=97 => style = style.fg(bright(n - 90)),
            100..=107 => style = style.bg(bright(n - 100)),
            38 | 48 => {
                let colour = match nums.get(i + 1) {
                    Some(5) => {
                        let c = nums.get(i + 2).copied().unwrap_or(0).min(255) as u8;
                        i += 2;
                        Some(Color::Indexed(c))
                    }
                    Some(2) => {
                        let c = |k: usize| nums.get(i + k).copied().unwrap_or(0).min(255) as u8;
                        let rgb = Color::Rgb(c(2), c(3), c(4));
                        i += 4;
                        Some(rgb)
                    }
                    _ => None,
                };
                if let Some(c) = colour {
                    style = if n == 38 { style.fg(c) } else { style.bg(c) };
                }
            }
            _ => {}
        }
        i += 1;
    }
    style
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_and_skipping() {
        let s = spans("a\x1b[31mred\x1b[0m b", Style::default(), 2, true);
        let text: Vec<_> = s.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, ["ed", " b"]);
        assert_eq!(s[0].style.fg, Some(Color::Red));
        assert_eq!(s[1].style.fg, None);
        assert_eq!(plain("x\x1b[1;38;5;200my"), "xy");
        let no = spans("\x1b[31mred", Style::default(), 0, false);
        assert_eq!(no[0].style.fg, None);
    }
}
