//! Redaction: whatever the secrets and however the output is cut into chunks,
//! no secret survives, and streaming gives the same text as redacting at once.

use crate::common;

use common::cases;
use drover::engine::secrets::{REDACTED, Secrets, StreamRedactor, redact};
use proptest::prelude::*;

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn streamed_redaction_hides_every_secret_whatever_the_chunking(
        secrets in prop::collection::vec("[a-c]{1,6}", 1..4),
        filler in prop::collection::vec(("[a-d ]{0,8}", 0usize..4), 0..8),
        cuts in prop::collection::vec(0usize..64, 0..6),
    ) {
        let s = Secrets::new(&secrets);
        let mut text = String::new();
        for (f, pick) in &filler {
            text.push_str(f);
            if let Some(secret) = secrets.get(*pick) {
                text.push_str(secret);
            }
        }
        let whole = redact(&text, &s);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(text.len())).collect();
        cuts.sort_unstable();
        let mut r = StreamRedactor::default();
        let mut out = Vec::new();
        let mut at = 0;
        for c in cuts.into_iter().chain([text.len()]) {
            out.extend(r.push(&s, &text.as_bytes()[at..c]));
            at = c;
        }
        out.extend(r.finish(&s));
        prop_assert_eq!(String::from_utf8(out).expect("utf-8"), whole.clone());
        // Whatever is left is the filler's letters around markers: no secret can be
        // read in it once the markers are removed and the pieces are looked at alone.
        for piece in whole.split(REDACTED) {
            let again = redact(piece, &s);
            prop_assert_eq!(&again, piece, "a secret survived in {:?}", whole);
        }
    }
}
