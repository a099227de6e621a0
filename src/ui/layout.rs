//! Where each pane goes for a terminal size. Pure geometry, shared by drawing
//! and by `update` (which needs page heights for scrolling). Narrow terminals
//! show one pane at a time instead of squeezing two; tiny ones keep only the
//! status line, and nothing ever panics on size. Below 80 columns two panes
//! would each be too thin to read, so the panes become tabs (a row of their
//! names on top).

use ratatui::layout::Rect;

/// Below this width the inventory and the main pane take turns, as tabs.
pub const SIDE_BY_SIDE_MIN_WIDTH: u16 = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub inventory: Option<Rect>,
    /// The row of tab names on a narrow terminal.
    pub tabs: Option<Rect>,
    /// Progress gauge above the main pane.
    pub strip: Option<Rect>,
    pub main: Option<Rect>,
    pub bar: Option<Rect>,
    pub status: Option<Rect>,
}

/// `main_focused`: which pane a narrow terminal shows.
pub fn areas(size: Rect, main_focused: bool, has_run: bool, bar_open: bool) -> Areas {
    let mut a = Areas {
        inventory: None,
        tabs: None,
        strip: None,
        main: None,
        bar: None,
        status: None,
    };
    if size.width == 0 || size.height == 0 {
        return a;
    }
    let mut body = size;
    let take_bottom = |body: &mut Rect| {
        body.height -= 1;
        Rect::new(body.x, body.y + body.height, body.width, 1)
    };
    a.status = Some(take_bottom(&mut body));
    if body.height >= 5 || (bar_open && body.height >= 1) {
        a.bar = Some(take_bottom(&mut body));
    }
    if body.height < 3 {
        return a;
    }
    let main = if size.width >= SIDE_BY_SIDE_MIN_WIDTH {
        let left = (size.width * 3 / 10).clamp(18, 40);
        a.inventory = Some(Rect::new(body.x, body.y, left, body.height));
        Rect::new(body.x + left, body.y, body.width - left, body.height)
    } else {
        if body.height >= 8 {
            a.tabs = Some(Rect::new(body.x, body.y, body.width, 1));
            body.y += 1;
            body.height -= 1;
        }
        if !main_focused {
            a.inventory = Some(body);
            return a;
        }
        body
    };
    if has_run && main.height >= 10 {
        a.strip = Some(Rect::new(main.x, main.y, main.width, 3));
        a.main = Some(Rect::new(main.x, main.y + 3, main.width, main.height - 3));
    } else {
        a.main = Some(main);
    }
    a
}

/// Rows inside a bordered pane.
pub fn inner_height(r: Option<Rect>) -> usize {
    r.map(|r| r.height.saturating_sub(2) as usize)
        .unwrap_or(1)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_size_gives_areas_inside_the_screen() {
        for w in 0..120u16 {
            for h in 0..40u16 {
                for flags in 0..8 {
                    let size = Rect::new(0, 0, w, h);
                    let a = areas(size, flags & 1 == 1, flags & 2 == 2, flags & 4 == 4);
                    for r in [a.inventory, a.tabs, a.strip, a.main, a.bar, a.status]
                        .into_iter()
                        .flatten()
                    {
                        assert!(
                            size.contains(r.as_position()) || r.area() == 0,
                            "{w}x{h} {r:?}"
                        );
                        assert!(
                            r.right() <= size.right() && r.bottom() <= size.bottom(),
                            "{w}x{h} {r:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn narrow_terminals_show_one_pane() {
        for width in [40, 60, 79] {
            let a = areas(Rect::new(0, 0, width, 24), true, true, false);
            assert!(a.inventory.is_none(), "{width}");
            assert_eq!(a.main.map(|m| m.width), Some(width));
            assert_eq!(a.tabs, Some(Rect::new(0, 0, width, 1)));
            let a = areas(Rect::new(0, 0, width, 24), false, true, false);
            assert_eq!(a.inventory.map(|m| m.width), Some(width));
            assert!(a.main.is_none());
        }
        let a = areas(Rect::new(0, 0, 80, 24), true, true, false);
        assert!(a.inventory.is_some() && a.main.is_some() && a.strip.is_some());
        assert!(a.tabs.is_none());
    }
}
