//! Neutralising text that remote nodes print before it reaches a terminal.
//!
//! Output from a remote node is hostile input: a compromised or merely buggy
//! host can print escape sequences that retitle the user's window, clear the
//! screen, switch to the alternate buffer, move the cursor over our own UI,
//! remap the character set or (with some terminals) write files and answer
//! queries on the user's behalf. [`sanitize`] and [`Sanitizer`] turn arbitrary
//! bytes into text that a terminal can only *display*:
//!
//! * escape sequences are recognised by the `vte` parser (the DEC ANSI state
//!   machine terminals themselves follow) and removed whole, optionally
//!   keeping plain SGR colour/style sequences;
//! * every other control character is shown in caret notation (`^G`, `^?`)
//!   or as `<U+0085>` for C1, so the user can see that *something* was there;
//! * tabs become spaces, `\r\n` becomes `\n`, a lone `\r` becomes `^M`
//!   (or, with `cursor_controls`, both pass through for a cursor to obey).
//!
//! [`Sanitizer`] keeps the parser's state between chunks, so a sequence split
//! across two reads is still removed whole; a sequence cut off by the end of
//! the input is dropped.

/// Longest SGR parameter string that is passed through with `keep_sgr`.
///
/// Real colour sequences are short (`38;2;255;255;255;1;4` is 20 bytes);
/// anything longer is only useful to make downstream parsers work hard, so
/// it is dropped like any other sequence.
const MAX_SGR_PARAMS: usize = 64;

/// Cancels any sequence in progress (ECMA-48 CAN); fed by [`Sanitizer::finish`].
const CAN: u8 = 0x18;

/// How much of the remote's formatting survives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SanitizeOptions {
    /// Keep SGR sequences (`ESC [ … m` with only digits, `;` and `:` as
    /// parameters) so coloured output stays coloured. They can only change
    /// how following text looks, never where it goes. They are re-emitted
    /// from their parsed parameters (`ESC [ m` as `ESC [ 0 m`).
    pub keep_sgr: bool,
    /// Expand `\t` to spaces up to the next multiple of this many columns
    /// (columns are counted in chars since the last `\n`; wide characters
    /// count as one). `None` shows tabs as `^I`; `Some(0)` acts like
    /// `Some(1)`.
    pub tab_width: Option<usize>,
    /// Pass `\r` and `\t` through as they are (`tab_width` is then unused),
    /// for a caller that moves a cursor as a terminal does (the console's
    /// [`super::terminal_text`]); the `\r` of `\r\n` too, where going back to
    /// the first column just before the line ends changes nothing.
    pub cursor_controls: bool,
}

impl Default for SanitizeOptions {
    fn default() -> Self {
        Self {
            keep_sgr: false,
            tab_width: Some(8),
            cursor_controls: false,
        }
    }
}

/// Make remote output safe to print on a terminal, all of it at once.
///
/// Invalid UTF-8 is replaced by U+FFFD. The result contains no character in
/// U+0000–U+001F except `\n` (and `\x1b` only as the start of a kept SGR
/// sequence) and nothing in U+007F–U+009F.
pub fn sanitize(input: &[u8], opts: &SanitizeOptions) -> String {
    let mut s = Sanitizer::new(opts.clone());
    let mut out = s.feed(input);
    out.push_str(&s.finish());
    out
}

/// Sanitises a stream chunk by chunk, with the same result as [`sanitize`] on
/// the whole stream however it is cut.
pub struct Sanitizer {
    parser: vte::Parser,
    out: Output,
}

impl Sanitizer {
    pub fn new(opts: SanitizeOptions) -> Self {
        Sanitizer {
            parser: vte::Parser::new(),
            out: Output {
                opts,
                text: String::new(),
                column: 0,
                pending_cr: false,
                finishing: false,
            },
        }
    }

    /// The displayable text of `chunk`; a sequence or UTF-8 character left
    /// unfinished at its end is completed (or dropped) by the next chunk.
    pub fn feed(&mut self, chunk: &[u8]) -> String {
        // One byte at a time: `vte`'s fast path for plain text treats a C1
        // character after ESC differently from its byte-wise path, so handing
        // it whole chunks would make the result depend on where reads split.
        for byte in chunk {
            self.parser
                .advance(&mut self.out, std::slice::from_ref(byte));
        }
        std::mem::take(&mut self.out.text)
    }

    /// Ends the stream: an unfinished sequence is dropped, an unfinished
    /// UTF-8 character becomes U+FFFD, a last lone `\r` becomes `^M`.
    pub fn finish(mut self) -> String {
        self.out.finishing = true;
        self.parser.advance(&mut self.out, &[CAN]);
        self.out.flush_cr();
        self.out.text
    }
}

/// The `vte` performer: collects what may be shown.
struct Output {
    opts: SanitizeOptions,
    text: String,
    /// Chars since the last `\n`, for tab stops.
    column: usize,
    /// A `\r` not yet known to be part of `\r\n`.
    pending_cr: bool,
    /// The CAN that [`Sanitizer::finish`] feeds is ours, not the remote's.
    finishing: bool,
}

impl Output {
    fn flush_cr(&mut self) {
        if std::mem::take(&mut self.pending_cr) {
            self.text.push_str("^M");
            self.column += 2;
        }
    }

    fn control(&mut self, c: char) {
        self.flush_cr();
        match c {
            '\n' => {
                self.text.push('\n');
                self.column = 0;
            }
            '\t' if self.opts.cursor_controls => self.text.push('\t'),
            '\t' if self.opts.tab_width.is_some() => {
                let width = self.opts.tab_width.unwrap_or(1).max(1);
                let spaces = width - self.column % width;
                self.text.extend(std::iter::repeat_n(' ', spaces));
                self.column += spaces;
            }
            '\0'..='\x1f' => {
                self.text.push('^');
                self.text.push(char::from(c as u8 ^ 0x40));
                self.column += 2;
            }
            '\x7f' => {
                self.text.push_str("^?");
                self.column += 2;
            }
            _ => {
                let shown = format!("<U+{:04X}>", u32::from(c));
                self.column += shown.len();
                self.text.push_str(&shown);
            }
        }
    }
}

impl vte::Perform for Output {
    fn print(&mut self, c: char) {
        if c.is_control() {
            return self.control(c);
        }
        self.flush_cr();
        self.text.push(c);
        self.column += 1;
    }

    fn execute(&mut self, byte: u8) {
        match byte {
            b'\r' if self.opts.cursor_controls => self.text.push('\r'),
            b'\r' => {
                self.flush_cr();
                self.pending_cr = true;
            }
            b'\n' if self.pending_cr => {
                self.pending_cr = false;
                self.control('\n');
            }
            CAN if self.finishing => {}
            // A raw byte 0x80..=0x9F is shown as the C1 character it names.
            _ => self.control(char::from(byte)),
        }
    }

    fn csi_dispatch(
        &mut self,
        params: &vte::Params,
        intermediates: &[u8],
        ignore: bool,
        action: char,
    ) {
        if !self.opts.keep_sgr || action != 'm' || ignore || !intermediates.is_empty() {
            return;
        }
        let params: Vec<String> = params
            .iter()
            .map(|sub| sub.iter().map(u16::to_string).collect::<Vec<_>>().join(":"))
            .collect();
        let params = params.join(";");
        // A pending `\r` stays pending: whether it shows must not depend on
        // whether colours are kept.
        if params.len() <= MAX_SGR_PARAMS {
            self.text.push_str(&format!("\x1b[{params}m"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(input: &[u8]) -> String {
        sanitize(input, &SanitizeOptions::default())
    }

    fn sgr(input: &[u8]) -> String {
        let opts = SanitizeOptions {
            keep_sgr: true,
            ..SanitizeOptions::default()
        };
        sanitize(input, &opts)
    }

    #[test]
    fn plain_text_is_untouched() {
        assert_eq!(plain(b"hello world\n"), "hello world\n");
        assert_eq!(plain("naïve ©° ☃ 日本\n".as_bytes()), "naïve ©° ☃ 日本\n");
        assert_eq!(plain(b""), "");
    }

    #[test]
    fn csi_is_removed() {
        assert_eq!(plain(b"a\x1b[2Jb"), "ab");
        assert_eq!(plain(b"a\x1b[10;10Hb"), "ab");
        assert_eq!(plain(b"a\x1b[?1049hb"), "ab");
        assert_eq!(plain(b"a\x1b[31mred\x1b[0m"), "ared");
    }

    #[test]
    fn sgr_is_kept_on_request() {
        assert_eq!(sgr(b"\x1b[31mred\x1b[0m"), "\x1b[31mred\x1b[0m");
        assert_eq!(sgr(b"\x1b[38:2:1:2:3m"), "\x1b[38:2:1:2:3m");
        assert_eq!(sgr(b"\x1b[m"), "\x1b[0m", "the same reset, spelled out");
        // Not SGR: private marker, intermediate, other final.
        assert_eq!(sgr(b"\x1b[?1m\x1b[1 m\x1b[2J"), "");
    }

    #[test]
    fn oversized_sgr_is_dropped() {
        let long = format!("\x1b[{}mX", "1;".repeat(100));
        assert_eq!(sgr(long.as_bytes()), "X");
    }

    #[test]
    fn osc_and_strings_are_removed() {
        assert_eq!(plain(b"a\x1b]0;title\x07b"), "ab");
        assert_eq!(plain(b"a\x1b]0;title\x1b\\b"), "ab");
        assert_eq!(plain(b"a\x1bPq#0;2;0;0;0\x1b\\b"), "ab");
        assert_eq!(
            plain(b"a\x1b_apc\x1b\\b\x1b^pm\x1b\\c\x1bXsos\x1b\\d"),
            "abcd"
        );
        // BEL does not end a DCS.
        assert_eq!(plain(b"a\x1bPx\x07y\x1b\\b"), "ab");
    }

    #[test]
    fn esc_inside_string_starts_new_sequence() {
        assert_eq!(plain(b"a\x1b]0;t\x1b[2Jb"), "ab");
        assert_eq!(plain(b"a\x1b]0;t\x1bcb"), "ab");
    }

    #[test]
    fn can_aborts_sequences() {
        assert_eq!(plain(b"a\x1b]0;t\x18b"), "a^Xb");
        assert_eq!(plain(b"a\x1b[1\x1ab"), "a^Zb");
    }

    #[test]
    fn two_and_three_byte_escapes_are_removed() {
        assert_eq!(plain(b"a\x1bcb"), "ab");
        assert_eq!(plain(b"a\x1b7b\x1b8"), "ab");
        assert_eq!(plain(b"a\x1b(0b"), "ab");
        assert_eq!(plain(b"a\x1b#8b"), "ab");
    }

    #[test]
    fn esc_takes_the_next_final_byte_like_a_terminal() {
        assert_eq!(plain(b"a\x1b\nb"), "a\n");
        assert_eq!(plain(b"a\x1b\x1b[2Jb"), "ab");
    }

    #[test]
    fn c1_characters_are_shown_not_obeyed() {
        // The UTF-8 form of a C1 control is never passed on, so what follows
        // it is inert text, and visible.
        assert_eq!(plain("a\u{9b}2Jb".as_bytes()), "a<U+009B>2Jb");
        assert_eq!(plain("a\u{85}b\u{9c}".as_bytes()), "a<U+0085>b<U+009C>");
        assert_eq!(plain(b"\x9b2J"), "<U+009B>2J");
        assert_eq!(plain(b"a\xff\xfeb"), "a\u{fffd}\u{fffd}b");
        assert_eq!(plain(b"a\xe6\x97"), "a\u{fffd}", "cut-off UTF-8 at the end");
    }

    #[test]
    fn a_sequence_split_at_every_offset_is_still_removed() {
        let hostile: &[u8] = b"ok\x1b]0;pwned\x07 \x1b[2J\x1bP1$r\x1b\\\x1b[?1049h\xe6\x97\xa5\r\n";
        let whole = plain(hostile);
        assert_eq!(whole, "ok \u{65e5}\n");
        for cut in 0..=hostile.len() {
            for (a, b) in [(cut, cut), (cut / 2, cut)] {
                let mut s = Sanitizer::new(SanitizeOptions::default());
                let mut out = s.feed(&hostile[..a]);
                out += &s.feed(&hostile[a..b]);
                out += &s.feed(&hostile[b..]);
                out += &s.finish();
                assert_eq!(out, whole, "cut at {a} and {b}");
            }
        }
    }

    #[test]
    fn unterminated_sequences_are_dropped() {
        assert_eq!(plain(b"a\x1b"), "a");
        assert_eq!(plain(b"a\x1b["), "a");
        assert_eq!(plain(b"a\x1b[31"), "a");
        assert_eq!(sgr(b"a\x1b[31"), "a");
        assert_eq!(plain(b"a\x1b]0;title"), "a");
        assert_eq!(plain(b"a\x1bPdata\x1b"), "a");
        assert_eq!(plain(b"a\x1b("), "a");
    }

    #[test]
    fn controls_use_caret_notation() {
        assert_eq!(plain(b"\x00\x07\x08\x7f"), "^@^G^H^?");
        assert_eq!(plain(b"\x0b\x0c\x1c\x1f"), "^K^L^\\^_");
    }

    #[test]
    fn carriage_returns() {
        assert_eq!(plain(b"a\r\nb\r\n"), "a\nb\n");
        assert_eq!(plain(b"50%\r60%\r"), "50%^M60%^M");
        assert_eq!(plain(b"a\r\r\n"), "a^M\n");
        assert_eq!(plain(b"a\r\x1b[2Jb"), "a^Mb");
    }

    #[test]
    fn tabs_expand_to_tab_stops() {
        assert_eq!(plain(b"\tx"), "        x");
        assert_eq!(plain(b"ab\tx"), "ab      x");
        assert_eq!(plain(b"12345678\tx"), "12345678        x");
        assert_eq!(plain(b"ab\n\tx"), "ab\n        x");
        assert_eq!(plain("é\tx".as_bytes()), "é       x");
        let opts = SanitizeOptions {
            keep_sgr: true,
            tab_width: Some(4),
            ..SanitizeOptions::default()
        };
        assert_eq!(sanitize(b"\x1b[1ma\tb\tc", &opts), "\x1b[1ma   b   c");
    }

    #[test]
    fn cursor_controls_pass_through_for_a_cursor_to_obey() {
        let opts = SanitizeOptions {
            cursor_controls: true,
            ..SanitizeOptions::default()
        };
        assert_eq!(
            sanitize(b"10%\r20%\ta\r\nb\x07", &opts),
            "10%\r20%\ta\r\nb^G"
        );
    }

    #[test]
    fn tab_width_variants() {
        let none = SanitizeOptions {
            keep_sgr: false,
            tab_width: None,
            ..SanitizeOptions::default()
        };
        assert_eq!(sanitize(b"a\tb", &none), "a^Ib");
        let zero = SanitizeOptions {
            keep_sgr: false,
            tab_width: Some(0),
            ..SanitizeOptions::default()
        };
        assert_eq!(sanitize(b"a\tb", &zero), "a b");
    }
}
