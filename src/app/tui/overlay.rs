//! Popups on top of the panes, as a stack: the top one takes the keys. The
//! stack's items are `ui::view::overlay::Overlay`; these make them.

use crate::engine::transport::interaction::Question;
pub use crate::ui::view::overlay::Overlay;
use ratatui_textarea::TextArea;

impl Overlay {
    pub fn question(id: u64, question: Question) -> Overlay {
        let mut secret = TextArea::default();
        secret.set_mask_char('•');
        Overlay::Question {
            id,
            question,
            secret,
        }
    }

    pub fn message(title: &str, text: String) -> Overlay {
        Overlay::Message {
            title: title.to_string(),
            text,
            top: 0,
        }
    }

    pub fn editor(node: &str) -> Overlay {
        let mut area = TextArea::default();
        area.set_placeholder_text("Write the note; ctrl-s saves, esc discards.");
        Overlay::Editor {
            node: node.to_string(),
            area,
        }
    }
}
