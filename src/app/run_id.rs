//! Run ids as people type them: any unique prefix names a run (the store
//! resolves it); an ambiguous one is answered with the runs it could mean, one
//! line each, so the next attempt can be precise. Shared by `history show` and
//! the console.

use crate::engine::records::{IdCandidate, StoreError};
use crate::ui::sanitize::sanitize;
use crate::ui::time::format_time;

/// The lines that answer an ambiguous prefix: a heading, then per candidate its
/// id, start time (UTC), status and command; `None` for any other error.
pub fn ambiguity_lines(error: &StoreError) -> Option<Vec<String>> {
    let StoreError::Ambiguous {
        prefix,
        candidates,
        more,
    } = error
    else {
        return None;
    };
    let mut lines = vec![format!(
        "run id prefix '{}' is ambiguous; it matches{}:",
        sanitize(prefix.as_bytes(), &Default::default()),
        if *more { " (first ones)" } else { "" }
    )];
    lines.extend(candidates.iter().map(candidate_line));
    if *more {
        lines.push("  … and more: type more of the id".to_string());
    }
    Some(lines)
}

fn candidate_line(c: &IdCandidate) -> String {
    let command: String = sanitize(c.action.as_bytes(), &Default::default())
        .chars()
        .map(|ch| if ch.is_control() { ' ' } else { ch })
        .collect();
    format!(
        "  {}  {} UTC  {:<11}  {}",
        c.id,
        format_time(c.started_at),
        c.status,
        command
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(id: &str, action: &str) -> IdCandidate {
        IdCandidate {
            id: id.into(),
            started_at: 1_800_000_000_000,
            action: action.into(),
            status: "partial".into(),
        }
    }

    #[test]
    fn each_candidate_is_one_line_with_id_time_status_and_command() {
        let e = StoreError::Ambiguous {
            prefix: "ab".into(),
            candidates: vec![candidate("ab1", "echo hi"), candidate("ab2", "a\nb\x1b[2J")],
            more: true,
        };
        let lines = ambiguity_lines(&e).unwrap();
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert!(lines[0].contains("'ab'"), "{lines:?}");
        assert_eq!(
            lines[1],
            "  ab1  2027-01-15 08:00:00 UTC  partial      echo hi"
        );
        assert!(lines[2].starts_with("  ab2  ") && !lines[2].chars().any(char::is_control));
        assert!(lines[3].contains("more"));
        assert!(ambiguity_lines(&StoreError::WriterPanicked).is_none());
    }
}
