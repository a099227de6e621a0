//! Neutralising text that remote nodes print before it reaches a terminal.
//!
//! Output from a remote node is hostile input: a compromised or merely buggy
//! host can print escape sequences that retitle the user's window, clear the
//! screen, switch to the alternate buffer, move the cursor over our own UI,
//! remap the character set or (with some terminals) write files and answer
//! queries on the user's behalf. [`sanitize`] turns arbitrary bytes into a
//! `String` that a terminal can only *display*:
//!
//! * escape sequences (7-bit `ESC …` and 8-bit C1 forms) are removed whole,
//!   optionally keeping plain SGR colour/style sequences;
//! * every other control character is shown in caret notation (`^G`, `^?`)
//!   or as `<U+0085>` for C1, so the user can see that *something* was there;
//! * tabs become spaces, `\r\n` becomes `\n`, a lone `\r` becomes `^M`.
//!
//! The function is stateless: a sequence that is cut off at the end of the
//! input is dropped, and a sequence split across two calls cannot be
//! recognised as one. Callers feeding a stream should therefore sanitize
//! whole lines (or other chunks cut at `\n`); a split sequence never leaks
//! control characters, but its printable tail (e.g. `2J`) shows up as text.

/// Longest SGR parameter string that is passed through with `keep_sgr`.
///
/// Real colour sequences are short (`38;2;255;255;255;1;4` is 20 bytes);
/// anything longer is only useful to make downstream parsers work hard, so
/// it is dropped like any other sequence.
const MAX_SGR_PARAMS: usize = 64;

const ESC: char = '\x1b';
const BEL: char = '\x07';
const CAN: char = '\x18';
const SUB: char = '\x1a';
/// 8-bit introducers and terminator, as they appear after UTF-8 decoding.
const C1_DCS: char = '\u{90}';
const C1_SOS: char = '\u{98}';
const C1_CSI: char = '\u{9b}';
const C1_ST: char = '\u{9c}';
const C1_OSC: char = '\u{9d}';
const C1_PM: char = '\u{9e}';
const C1_APC: char = '\u{9f}';

/// How much of the remote's formatting survives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SanitizeOptions {
    /// Keep SGR sequences (`ESC [ … m` with only digits, `;` and `:` as
    /// parameters) so coloured output stays coloured. They can only change
    /// how following text looks, never where it goes. 8-bit CSI SGR is
    /// re-emitted in its 7-bit form.
    pub keep_sgr: bool,
    /// Expand `\t` to spaces up to the next multiple of this many columns
    /// (columns are counted in chars since the last `\n`; wide characters
    /// count as one). `None` shows tabs as `^I`; `Some(0)` acts like
    /// `Some(1)`.
    pub tab_width: Option<usize>,
}

impl Default for SanitizeOptions {
    fn default() -> Self {
        Self {
            keep_sgr: false,
            tab_width: Some(8),
        }
    }
}

/// Make remote output safe to print on a terminal.
///
/// Invalid UTF-8 is replaced by U+FFFD. The result contains no character in
/// U+0000–U+001F except `\n` (and `\x1b` only as the start of a kept SGR
/// sequence) and nothing in U+007F–U+009F. Runs in one pass over the input.
pub fn sanitize(input: &[u8], opts: &SanitizeOptions) -> String {
    let mut s = Sanitizer::new(opts, input.len());
    for chunk in input.utf8_chunks() {
        s.feed_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            s.feed_char(char::REPLACEMENT_CHARACTER);
        }
    }
    s.finish()
}

/// Which kind of control string is being swallowed; only OSC may end at BEL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StrKind {
    Osc,
    Other,
}

/// Parser state, modelled on the DEC/ECMA-48 terminal state machine so that
/// we drop exactly what a terminal would have consumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Ground,
    /// Saw `ESC`.
    Esc,
    /// Saw `ESC` and intermediate bytes (e.g. `ESC (` charset designation).
    EscIntermediate,
    /// Inside a control sequence; parameters are collected in `csi`.
    Csi,
    /// Inside OSC/DCS/SOS/PM/APC, swallowing until the terminator.
    Str(StrKind),
    /// Saw `ESC` inside a control string: `\` ends it, anything else starts
    /// a new escape sequence (as on a real terminal).
    StrEsc,
}

struct Sanitizer<'o> {
    opts: &'o SanitizeOptions,
    out: String,
    state: State,
    /// A `\r` waiting to see whether a `\n` follows.
    pending_cr: bool,
    /// Parameter and intermediate bytes of the current CSI (capped).
    csi: String,
    /// Whether the current CSI can still turn out to be a plain SGR.
    csi_sgr: bool,
    /// Display column of `out[col_mark..]`'s start; columns are counted
    /// lazily, only when a tab needs them, to keep the common path cheap.
    col_at_mark: usize,
    col_mark: usize,
}

impl<'o> Sanitizer<'o> {
    fn new(opts: &'o SanitizeOptions, capacity: usize) -> Self {
        Self {
            opts,
            out: String::with_capacity(capacity),
            state: State::Ground,
            pending_cr: false,
            csi: String::new(),
            csi_sgr: true,
            col_at_mark: 0,
            col_mark: 0,
        }
    }

    /// Copy runs of harmless text in bulk, stepping char by char only
    /// around control characters and inside sequences.
    fn feed_str(&mut self, text: &str) {
        let mut rest = text;
        while !rest.is_empty() {
            if self.state == State::Ground && !self.pending_cr {
                let n = plain_prefix_len(rest.as_bytes());
                self.out.push_str(&rest[..n]);
                rest = &rest[n..];
            }
            let mut chars = rest.chars();
            if let Some(c) = chars.next() {
                self.feed_char(c);
                rest = chars.as_str();
            }
        }
    }

    fn feed_char(&mut self, c: char) {
        if self.pending_cr {
            self.pending_cr = false;
            if c == '\n' {
                self.newline();
                return;
            }
            self.caret('\r');
        }
        match self.state {
            State::Ground => self.ground(c),
            State::Esc => self.escape(c),
            State::EscIntermediate => self.escape_intermediate(c),
            State::Csi => self.csi_char(c),
            State::Str(kind) => self.string_char(kind, c),
            State::StrEsc => {
                if c == '\\' {
                    self.state = State::Ground;
                } else {
                    self.state = State::Esc;
                    self.escape(c);
                }
            }
        }
    }

    fn ground(&mut self, c: char) {
        match c {
            '\n' => self.newline(),
            '\t' => self.tab(),
            '\r' => self.pending_cr = true,
            ESC => self.state = State::Esc,
            C1_CSI => self.start_csi(),
            C1_OSC => self.state = State::Str(StrKind::Osc),
            C1_DCS | C1_SOS | C1_PM | C1_APC => self.state = State::Str(StrKind::Other),
            '\0'..='\x1f' | '\x7f' => self.caret(c),
            '\u{80}'..='\u{9f}' => self.push_c1(c),
            _ => self.out.push(c),
        }
    }

    fn escape(&mut self, c: char) {
        match c {
            '[' => self.start_csi(),
            ']' => self.state = State::Str(StrKind::Osc),
            'P' | 'X' | '^' | '_' => self.state = State::Str(StrKind::Other),
            ' '..='/' => self.state = State::EscIntermediate,
            '0'..='~' => self.state = State::Ground,
            _ => {
                // Not a sequence after all: show the stray ESC, then handle
                // the char normally (it may itself be a new ESC).
                self.state = State::Ground;
                self.caret(ESC);
                self.ground(c);
            }
        }
    }

    fn escape_intermediate(&mut self, c: char) {
        match c {
            ' '..='/' => {}
            '0'..='~' => self.state = State::Ground,
            _ => {
                self.state = State::Ground;
                self.ground(c);
            }
        }
    }

    fn start_csi(&mut self) {
        self.state = State::Csi;
        self.csi.clear();
        self.csi_sgr = true;
    }

    fn csi_char(&mut self, c: char) {
        match c {
            '0'..='?' | ' '..='/' => {
                if !matches!(c, '0'..='9' | ';' | ':') {
                    self.csi_sgr = false;
                }
                if self.csi.len() < MAX_SGR_PARAMS {
                    self.csi.push(c);
                } else {
                    self.csi_sgr = false;
                }
            }
            '@'..='~' => {
                self.state = State::Ground;
                if c == 'm' && self.csi_sgr && self.opts.keep_sgr {
                    self.push_sgr();
                }
            }
            _ => {
                // Malformed: drop what we have and treat `c` as text.
                self.state = State::Ground;
                self.ground(c);
            }
        }
    }

    fn string_char(&mut self, kind: StrKind, c: char) {
        match c {
            BEL if kind == StrKind::Osc => self.state = State::Ground,
            C1_ST => self.state = State::Ground,
            ESC => self.state = State::StrEsc,
            CAN | SUB => {
                // Terminals abort any sequence on CAN/SUB.
                self.state = State::Ground;
                self.ground(c);
            }
            _ => {}
        }
    }

    fn push_sgr(&mut self) {
        self.sync_column();
        self.out.push_str("\x1b[");
        self.out.push_str(&self.csi);
        self.out.push('m');
        self.col_mark = self.out.len();
    }

    fn newline(&mut self) {
        self.out.push('\n');
        self.col_at_mark = 0;
        self.col_mark = self.out.len();
    }

    fn tab(&mut self) {
        let Some(width) = self.opts.tab_width else {
            self.caret('\t');
            return;
        };
        let width = width.max(1);
        self.sync_column();
        let spaces = width - self.col_at_mark % width;
        self.out.extend(std::iter::repeat_n(' ', spaces));
        self.col_at_mark += spaces;
        self.col_mark = self.out.len();
    }

    /// Bring `col_at_mark` up to the end of the output.
    fn sync_column(&mut self) {
        self.col_at_mark += self.out[self.col_mark..].chars().count();
        self.col_mark = self.out.len();
    }

    /// `^X` for C0 controls and `^?` for DEL.
    fn caret(&mut self, c: char) {
        self.out.push('^');
        self.out.push(char::from((c as u8) ^ 0x40));
    }

    fn push_c1(&mut self, c: char) {
        use std::fmt::Write as _;
        // Writing to a String cannot fail.
        let _ = write!(self.out, "<U+{:04X}>", u32::from(c));
    }

    fn finish(mut self) -> String {
        if self.pending_cr {
            self.caret('\r');
        }
        // Anything still inside a sequence is dropped, never half-emitted.
        self.out
    }
}

/// Length of the leading run that needs no attention: no C0 control, no
/// DEL, and no `0xC2` lead byte (which starts every C1 char U+0080–U+009F).
/// The returned index is always a char boundary.
fn plain_prefix_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|&b| b < 0x20 || b == 0x7f || b == 0xc2)
        .unwrap_or(bytes.len())
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
        assert_eq!(sgr(b"\x1b[m"), "\x1b[m");
        assert_eq!(sgr("\u{9b}1m".as_bytes()), "\x1b[1m");
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
    fn stray_esc_is_visible() {
        assert_eq!(plain(b"a\x1b\nb"), "a^[\nb");
        assert_eq!(plain("a\x1bé".as_bytes()), "a^[é");
        assert_eq!(plain(b"a\x1b\x1b[2Jb"), "a^[b");
    }

    #[test]
    fn c1_forms_are_removed() {
        assert_eq!(plain("a\u{9b}2Jb".as_bytes()), "ab");
        assert_eq!(plain("a\u{9d}0;t\u{9c}b".as_bytes()), "ab");
        assert_eq!(plain("a\u{9d}0;t\x07b".as_bytes()), "ab");
        assert_eq!(plain("a\u{90}x\u{9c}b".as_bytes()), "ab");
        assert_eq!(plain("a\u{85}b\u{9c}".as_bytes()), "a<U+0085>b<U+009C>");
    }

    #[test]
    fn raw_c1_bytes_are_invalid_utf8() {
        assert_eq!(plain(b"\x9b2J"), "\u{fffd}2J");
        assert_eq!(plain(b"a\xff\xfeb"), "a\u{fffd}\u{fffd}b");
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
        };
        assert_eq!(sanitize(b"\x1b[1ma\tb\tc", &opts), "\x1b[1ma   b   c");
    }

    #[test]
    fn tab_width_variants() {
        let none = SanitizeOptions {
            keep_sgr: false,
            tab_width: None,
        };
        assert_eq!(sanitize(b"a\tb", &none), "a^Ib");
        let zero = SanitizeOptions {
            keep_sgr: false,
            tab_width: Some(0),
        };
        assert_eq!(sanitize(b"a\tb", &zero), "a b");
    }
}
