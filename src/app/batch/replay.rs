//! `drover journal replay ENTRY`: a session's transcript on standard output,
//! with its timing (`--speed`, `--max-wait`) or at once (`--raw`). What the
//! transcript is (and where it was cut) goes to stderr, so standard output is
//! exactly what the session printed.

use super::history::store_error;
use crate::app::exit;
use crate::app::exit::exit_code_for;
use crate::app::replay::{self, Timing};
use crate::app::setup::Runtime;
use crate::cli::ReplayArgs;
use crate::engine::EngineError;
use crate::engine::common::duration::parse_duration;

pub async fn replay(args: &ReplayArgs, rt: &Runtime) -> u8 {
    let timing = match timing(args) {
        Ok(t) => t,
        Err(reason) => {
            eprintln!("drover: journal replay: {reason}");
            return exit::USAGE;
        }
    };
    let mut reader = match rt.engine.read_transcript(&rt.context, &args.entry).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            eprintln!(
                "drover: journal replay: no transcript {:?}: neither a transcript id nor a journal entry with one",
                args.entry
            );
            return exit::NO_MATCH;
        }
        Err(EngineError::Store(e)) => return store_error(e),
        Err(e) => {
            eprintln!("drover: journal replay: {e}");
            return exit_code_for(&e);
        }
    };
    if !args.raw {
        eprintln!("drover: {}", replay::describe(reader.record()));
    }
    let played = tokio::task::spawn_blocking(move || {
        let mut out = std::io::stdout().lock();
        let played = replay::play(&mut reader, &mut out, timing, |pause| {
            std::thread::sleep(pause);
            false
        });
        (played, reader)
    })
    .await;
    let (played, reader) = match played {
        Ok(p) => p,
        Err(e) => {
            eprintln!("drover: journal replay: {e}");
            return exit::FAILED;
        }
    };
    if let Err(e) = played {
        eprintln!("drover: journal replay: {e}");
        return exit::FAILED;
    }
    for note in replay::endings(reader.record()) {
        eprintln!("drover: {note}");
    }
    exit::SUCCESS
}

fn timing(args: &ReplayArgs) -> Result<Option<Timing>, String> {
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return Err(format!(
            "--speed {}: must be a number more than 0",
            args.speed
        ));
    }
    let max_wait = match &args.max_wait {
        Some(d) => Some(parse_duration(d).map_err(|e| format!("--max-wait {d:?}: {e}"))?),
        None => None,
    };
    Ok((!args.raw).then_some(Timing {
        speed: args.speed,
        max_wait,
    }))
}
