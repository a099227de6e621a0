//! Playing a session transcript back on a terminal, for both front ends
//! (`drover journal replay`, the console's enter on a session entry): the
//! recorded output, in order, with the recorded pauses (faster with `speed`,
//! none longer than `max_wait`), or all at once.

use crate::engine::records::{StoreError, TranscriptRecord};
use crate::engine::transcript::{TranscriptReader, cut_note};
use crate::ui::time::format_time;
use std::io::Write;
use std::time::Duration;

/// How to space the output out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// 2.0 plays twice as fast; must be more than 0.
    pub speed: f64,
    /// No pause longer than this.
    pub max_wait: Option<Duration>,
}

impl Timing {
    /// The pause between outputs `gap_ms` apart when they were recorded.
    pub fn pause(&self, gap_ms: u64) -> Duration {
        let scaled = Duration::from_secs_f64(gap_ms as f64 / 1000.0 / self.speed);
        match self.max_wait {
            Some(max) => scaled.min(max),
            None => scaled,
        }
    }
}

/// How a playback ended.
#[derive(Debug)]
pub enum Played {
    /// Every recorded byte was written.
    Whole,
    /// `wait` asked to stop.
    Stopped,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("cannot write: {0}")]
    Write(#[from] std::io::Error),
}

/// Writes the transcript's output to `out`, pausing between outputs through
/// `wait` (given the pause; returns true to stop playing) unless `timing` is
/// `None`. Blocks: call it where blocking is allowed.
pub fn play(
    reader: &mut TranscriptReader,
    out: &mut impl Write,
    timing: Option<Timing>,
    mut wait: impl FnMut(Duration) -> bool,
) -> Result<Played, ReplayError> {
    let mut last_ms = 0;
    while let Some(frames) = reader.next_frames()? {
        for frame in frames {
            if let Some(timing) = timing {
                let pause = timing.pause(frame.offset_ms.saturating_sub(last_ms));
                if !pause.is_zero() && wait(pause) {
                    return Ok(Played::Stopped);
                }
            }
            last_ms = frame.offset_ms;
            out.write_all(&frame.data)?;
            if timing.is_some() {
                out.flush()?;
            }
        }
    }
    out.flush()?;
    Ok(Played::Whole)
}

/// One line about the transcript: whose session, where, when, which terminal.
pub fn describe(t: &TranscriptRecord) -> String {
    let terminal = match (t.width, t.height, &t.term) {
        (Some(w), Some(h), Some(term)) => format!("{w}x{h} {term}"),
        _ => "no pty".to_string(),
    };
    format!(
        "transcript {} of {} on {} by {}, started {}, {}, {} bytes",
        t.id,
        t.action,
        t.node,
        t.user,
        format_time(t.started_at),
        terminal,
        t.bytes
    )
}

/// What to say after playing, when the transcript is not the whole session.
pub fn endings(t: &TranscriptRecord) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(cut) = t.cut_at {
        notes.push(format!("{}: the rest was not recorded", cut_note(cut)));
    }
    if t.ended_at.is_none() {
        notes.push("the session's end was never recorded (drover stopped during it, or it is still running); the transcript may miss its last second".to_string());
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_follow_the_speed_and_the_cap() {
        let t = Timing {
            speed: 2.0,
            max_wait: None,
        };
        assert_eq!(t.pause(3000), Duration::from_millis(1500));
        let t = Timing {
            speed: 1.0,
            max_wait: Some(Duration::from_millis(200)),
        };
        assert_eq!(t.pause(3000), Duration::from_millis(200));
        assert_eq!(t.pause(50), Duration::from_millis(50));
    }
}
