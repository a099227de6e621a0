//! The cursor of a scrolled list: moved by a delta, clamped to the list, and
//! the first visible row moved just enough to keep it on a page.

use super::action::Action;

/// How far a navigation key moves a cursor on a list of `page` rows per page;
/// `None` for any other key. Top and bottom are deltas past either end (they clamp).
pub fn delta(action: Action, page: usize) -> Option<isize> {
    let page = page as isize;
    Some(match action {
        Action::Up => -1,
        Action::Down => 1,
        Action::PageUp => -page,
        Action::PageDown => page,
        Action::Top => isize::MIN / 2,
        Action::Bottom => isize::MAX / 2,
        _ => return None,
    })
}

/// Moves `cursor` by `delta` within `len` rows and adjusts `top` so the cursor
/// stays among the `page` rows shown.
pub fn move_cursor(cursor: &mut usize, top: &mut usize, len: usize, delta: isize, page: usize) {
    let last = len.saturating_sub(1) as isize;
    *cursor = (*cursor as isize + delta).clamp(0, last.max(0)) as usize;
    keep_visible(*cursor, top, page);
}

pub use crate::ui::keep_visible;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_and_scrolls_the_least() {
        let (mut c, mut t) = (0, 0);
        move_cursor(&mut c, &mut t, 10, 7, 5);
        assert_eq!((c, t), (7, 3));
        move_cursor(&mut c, &mut t, 10, 100, 5);
        assert_eq!((c, t), (9, 5));
        move_cursor(&mut c, &mut t, 10, -6, 5);
        assert_eq!((c, t), (3, 3));
        move_cursor(&mut c, &mut t, 0, 1, 5);
        assert_eq!((c, t), (0, 0));
    }
}
