//! Cutting styled lines into rows of a pane's width, character by character
//! (output is not prose: a path or a hash must not move to the next row
//! whole), so the number of rows a line takes is known before drawing.

use ratatui::text::{Line, Span};

/// `line` as rows of at most `width` columns; an empty line is one empty row.
pub fn wrap_line(line: Line<'static>, width: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    let mut rows = vec![Vec::new()];
    let mut used = 0;
    for span in line.spans {
        let mut piece = String::new();
        for c in span.content.chars() {
            let mut buf = [0u8; 4];
            let w = Span::raw(&*c.encode_utf8(&mut buf)).width();
            if used + w > width && used > 0 {
                if !piece.is_empty() {
                    rows.last_mut()
                        .unwrap_or_else(|| unreachable!("rows starts non-empty"))
                        .push(Span::styled(std::mem::take(&mut piece), span.style));
                }
                rows.push(Vec::new());
                used = 0;
            }
            piece.push(c);
            used += w;
        }
        if !piece.is_empty()
            && let Some(row) = rows.last_mut()
        {
            row.push(Span::styled(piece, span.style));
        }
    }
    rows.into_iter().map(Line::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::{Color, Style};

    fn text(rows: &[Line]) -> Vec<String> {
        rows.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn long_lines_are_cut_at_the_width_and_keep_their_styles() {
        let red = Style::default().fg(Color::Red);
        let line = Line::from(vec![Span::raw("abcd"), Span::styled("efghij", red)]);
        let rows = wrap_line(line, 4);
        assert_eq!(text(&rows), ["abcd", "efgh", "ij"]);
        assert_eq!(rows[1].spans[0].style, red);
        assert_eq!(text(&wrap_line(Line::from(""), 4)), [""]);
        assert_eq!(text(&wrap_line(Line::from("日本語"), 4)), ["日本", "語"]);
        assert_eq!(text(&wrap_line(Line::from("ab"), 0)), ["a", "b"]);
    }
}
