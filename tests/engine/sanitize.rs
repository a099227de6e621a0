//! Properties of `ui::sanitize`: whatever a remote prints, the terminal must
//! only ever receive displayable text (plus kept SGR when asked).

use drover::ui::sanitize::{SanitizeOptions, Sanitizer, sanitize};
use proptest::prelude::*;

fn opts(keep_sgr: bool) -> SanitizeOptions {
    SanitizeOptions {
        keep_sgr,
        ..SanitizeOptions::default()
    }
}

/// Chars a terminal could act on. `\x1b` is checked separately.
fn is_forbidden(c: char) -> bool {
    matches!(c, '\0'..='\x09' | '\x0b'..='\x1a' | '\x1c'..='\x1f' | '\x7f'..='\u{9f}')
}

/// Checks that every ESC starts `ESC [ <digits ; :>* m` and returns the text
/// with those sequences removed.
fn strip_valid_sgr(s: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('\x1b') {
        out.push_str(&rest[..i]);
        let seq = &rest[i + 1..];
        let body = seq
            .strip_prefix('[')
            .ok_or_else(|| format!("ESC not followed by '[' in {s:?}"))?;
        let end = body
            .find(|c: char| !(c.is_ascii_digit() || c == ';' || c == ':'))
            .ok_or_else(|| format!("unterminated SGR in {s:?}"))?;
        if !body[end..].starts_with('m') {
            return Err(format!("non-SGR sequence in {s:?}"));
        }
        rest = &body[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Byte soup biased towards the interesting parts: ESC, introducers,
/// terminators, C1 in UTF-8 form and invalid bytes.
fn hostile_bytes() -> impl Strategy<Value = Vec<u8>> {
    let atom = prop_oneof![
        any::<u8>().prop_map(|b| vec![b]),
        Just(b"\x1b".to_vec()),
        Just(b"\x1b[".to_vec()),
        Just(b"\x1b]".to_vec()),
        Just(b"\x1bP".to_vec()),
        Just(b"\x1b\\".to_vec()),
        Just(b"\x07".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\t".to_vec()),
        Just(b"m".to_vec()),
        Just(b";".to_vec()),
        Just(b"31".to_vec()),
        (0x80u32..=0x9f).prop_map(|c| {
            char::from_u32(c)
                .map(|c| c.to_string().into_bytes())
                .unwrap_or_default()
        }),
    ];
    prop::collection::vec(atom, 0..64).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn no_forbidden_chars_without_sgr(input in hostile_bytes()) {
        let out = sanitize(&input, &opts(false));
        prop_assert!(!out.chars().any(|c| is_forbidden(c) || c == '\x1b'), "{out:?}");
    }

    #[test]
    fn no_forbidden_chars_from_any_bytes(input in prop::collection::vec(any::<u8>(), 0..256)) {
        let out = sanitize(&input, &opts(false));
        prop_assert!(!out.chars().any(|c| is_forbidden(c) || c == '\x1b'), "{out:?}");
    }

    #[test]
    fn only_valid_sgr_with_keep_sgr(input in hostile_bytes()) {
        let out = sanitize(&input, &opts(true));
        prop_assert!(!out.chars().any(is_forbidden), "{out:?}");
        let stripped = strip_valid_sgr(&out);
        prop_assert!(stripped.is_ok(), "{:?}", stripped);
    }

    #[test]
    fn keep_sgr_only_adds_sgr(input in hostile_bytes()) {
        let with = sanitize(&input, &opts(true));
        let without = sanitize(&input, &opts(false));
        prop_assert_eq!(strip_valid_sgr(&with), Ok(without));
    }

    /// However a stream is cut into reads, the result is that of the whole
    /// stream, so no ESC or CSI slips through a split sequence.
    #[test]
    fn chunked_streams_match_the_whole(
        input in hostile_bytes(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        keep_sgr in any::<bool>(),
    ) {
        let mut at: Vec<usize> = cuts.iter().map(|i| i.index(input.len() + 1)).collect();
        at.sort_unstable();
        let mut s = Sanitizer::new(opts(keep_sgr));
        let mut out = String::new();
        let mut from = 0;
        for to in at.into_iter().chain([input.len()]) {
            let piece = s.feed(&input[from..to]);
            prop_assert!(!piece.chars().any(is_forbidden), "{piece:?}");
            prop_assert!(keep_sgr || !piece.contains('\x1b'), "{piece:?}");
            out += &piece;
            from = to;
        }
        out += &s.finish();
        prop_assert_eq!(&out, &sanitize(&input, &opts(keep_sgr)));
        prop_assert!(strip_valid_sgr(&out).is_ok(), "{out:?}");
    }

    #[test]
    fn printable_text_round_trips(text in "(\\PC|\n)*") {
        prop_assert_eq!(sanitize(text.as_bytes(), &opts(false)), text.clone());
        prop_assert_eq!(sanitize(text.as_bytes(), &opts(true)), text);
    }

    #[test]
    fn crlf_becomes_lf(lines in prop::collection::vec("[ -~]*", 0..8)) {
        let input = lines.join("\r\n");
        prop_assert_eq!(sanitize(input.as_bytes(), &opts(false)), lines.join("\n"));
    }
}

#[test]
fn hostile_samples() {
    let cases: &[(&[u8], &str)] = &[
        (b"\x1b]0;title\x07", ""),
        (b"\x1b[2J", ""),
        (b"\x1b[10;10H", ""),
        (b"\x1b[?1049h", ""),
        (b"\x1bP...\x1b\\", ""),
        ("\u{9b}2J".as_bytes(), "<U+009B>2J"),
        (b"\xff\xfe", "\u{fffd}\u{fffd}"),
        (b"ok\x1b]0;title\x07 done\n", "ok done\n"),
        (b"bell\x07", "bell^G"),
    ];
    for keep_sgr in [false, true] {
        for &(input, expected) in cases {
            assert_eq!(
                sanitize(input, &opts(keep_sgr)),
                expected,
                "input {input:?}"
            );
        }
    }
}

#[test]
fn colours_survive_only_when_asked() {
    let input = b"\x1b[1;31mERROR\x1b[0m disk full";
    assert_eq!(sanitize(input, &opts(false)), "ERROR disk full");
    assert_eq!(
        sanitize(input, &opts(true)),
        "\x1b[1;31mERROR\x1b[0m disk full"
    );
}

#[test]
fn megabytes_stay_linear() {
    let line = "x\ty\u{1b}[1mz\u{1b}[0m\r\n".repeat(200_000);
    let out = sanitize(line.as_bytes(), &opts(true));
    assert_eq!(out.lines().count(), 200_000);
}
