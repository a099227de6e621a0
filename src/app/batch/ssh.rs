//! `drover ssh NODE [-- COMMAND]`: an interactive session (or one command) on a
//! node, with a pty when standard input is a terminal. Exits with the remote exit
//! status; 4 for an unknown node; 255 when the session could not run or broke
//! off (as `ssh` does).

use crate::app::exit;
use crate::app::session::{self, Open, SessionError};
use crate::app::setup::Runtime;
use crate::cli::SshArgs;

/// `ssh`'s code for "the connection failed", so scripts can tell it apart from
/// the remote command's own failures.
pub const SESSION_FAILED: u8 = 255;

pub async fn ssh(args: &SshArgs, rt: &Runtime) -> u8 {
    let command = (!args.command.is_empty()).then(|| args.command.join(" "));
    let sessions = &rt.config.sessions;
    let record = (args.record || sessions.record && !args.no_record)
        .then_some(sessions.max_transcript_bytes);
    let open = Open {
        node: &args.node,
        command,
        interaction: None,
        context: rt.context.clone(),
        record,
    };
    let result = session::run(&rt.engine, open).await;
    // The journal entries are committed before drover exits.
    if let Err(e) = rt.engine.flush().await {
        eprintln!("drover: ssh {}: journal: {e}", args.node);
    }
    match result {
        Ok(outcome) => outcome.code(),
        Err(e @ SessionError::UnknownNode(_)) => {
            eprintln!("drover: ssh: {e}");
            exit::NO_MATCH
        }
        Err(e @ SessionError::Denied(_)) => {
            eprintln!("drover: ssh: {e}");
            exit::DENIED
        }
        Err(e) => {
            eprintln!("drover: ssh: {e}");
            SESSION_FAILED
        }
    }
}
