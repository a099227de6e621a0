//! Targets given the way pdsh takes them: `-t ^FILE` reads the target expression
//! from a file (one per line, blank lines and `#` comments skipped, as pdsh's
//! `-w ^file`), `-t -` from standard input, and with no `-t` at all, `run` and
//! `task run` read the file named by `$WCOLL`. The lines are joined with `,`,
//! the union in both target grammars. Expanded once, before anything runs.

use crate::cli::{Cli, Command, InventoryCommand, PlanCommand, TaskCommand};
use std::io::Read;
use std::path::Path;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetArgError {
    #[error("-t ^{path}: cannot read it: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("-t -: cannot read standard input: {0}")]
    Stdin(String),
    #[error("{0} names no targets (only blank lines and comments)")]
    Empty(String),
    #[error("no targets: give -t TARGETS (or -t ^FILE), or set WCOLL to a file of targets")]
    Missing,
}

/// Expands every target argument of `cli` in place.
pub fn expand(cli: &mut Cli, wcoll: Option<&str>) -> Result<(), TargetArgError> {
    let stdin = || {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| TargetArgError::Stdin(e.to_string()))
            .map(|_| text)
    };
    expand_with(cli, wcoll, &stdin)
}

fn expand_with(
    cli: &mut Cli,
    wcoll: Option<&str>,
    stdin: &dyn Fn() -> Result<String, TargetArgError>,
) -> Result<(), TargetArgError> {
    let Some(command) = &mut cli.command else {
        return Ok(());
    };
    // Commands that must have targets, unless they repeat a stored run.
    let (targets, needed) = match command {
        Command::Run(a) => (&mut a.targets, a.rerun.is_none()),
        Command::Task(t) => match &mut t.command {
            TaskCommand::Run(a) => (&mut a.targets, a.rerun.is_none()),
            _ => return Ok(()),
        },
        Command::Plan(p) => match &mut p.command {
            PlanCommand::Run { targets, .. } => (targets, false),
            _ => return Ok(()),
        },
        Command::Inventory(i) => match &mut i.command {
            InventoryCommand::List { targets, .. } => (targets, false),
            _ => return Ok(()),
        },
        Command::Events(e) => (&mut e.targets, false),
        Command::Facts(f) => {
            f.targets = expand_one(&f.targets, stdin)?;
            return Ok(());
        }
        _ => return Ok(()),
    };
    match (targets.as_deref(), wcoll.filter(|w| !w.is_empty())) {
        (Some(given), _) => *targets = Some(expand_one(given, stdin)?),
        (None, Some(file)) if needed => *targets = Some(from_file(file)?),
        (None, _) if needed => return Err(TargetArgError::Missing),
        (None, _) => {}
    }
    Ok(())
}

/// One `-t` value: `^FILE`, `-`, or an expression kept as given.
fn expand_one(
    arg: &str,
    stdin: &dyn Fn() -> Result<String, TargetArgError>,
) -> Result<String, TargetArgError> {
    if arg == "-" {
        return from_text(&stdin()?, "standard input");
    }
    match arg.strip_prefix('^') {
        Some(file) => from_file(file),
        None => Ok(arg.to_string()),
    }
}

fn from_file(path: &str) -> Result<String, TargetArgError> {
    let text =
        std::fs::read_to_string(Path::new(path)).map_err(|e| TargetArgError::Unreadable {
            path: path.to_string(),
            reason: e.to_string(),
        })?;
    from_text(&text, path)
}

/// The lines of a targets file joined by `,`; blank lines and comments skipped.
fn from_text(text: &str, origin: &str) -> Result<String, TargetArgError> {
    let parts: Vec<&str> = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .collect();
    if parts.is_empty() {
        return Err(TargetArgError::Empty(origin.to_string()));
    }
    Ok(parts.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(args).expect("parses")
    }

    fn no_stdin() -> Result<String, TargetArgError> {
        panic!("stdin is not read here")
    }

    fn run_targets(cli: &Cli) -> Option<String> {
        match &cli.command {
            Some(Command::Run(a)) => a.targets.clone(),
            _ => None,
        }
    }

    #[test]
    fn a_file_of_targets_becomes_one_union_without_comments() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hosts");
        std::fs::write(
            &file,
            "web[01-03]\n\n# the databases\ndb1  # primary\n  @edge \n",
        )
        .unwrap();
        let mut cli = parse(&[
            "drover",
            "run",
            "-t",
            &format!("^{}", file.display()),
            "true",
        ]);
        expand_with(&mut cli, None, &no_stdin).unwrap();
        assert_eq!(run_targets(&cli).as_deref(), Some("web[01-03],db1,@edge"));
    }

    #[test]
    fn a_dash_reads_standard_input() {
        let mut cli = parse(&["drover", "run", "-t", "-", "true"]);
        expand_with(&mut cli, None, &|| Ok("a\nb\n".into())).unwrap();
        assert_eq!(run_targets(&cli).as_deref(), Some("a,b"));
    }

    #[test]
    fn wcoll_fills_in_only_when_no_targets_were_given() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("wcoll");
        std::fs::write(&file, "n1\nn2\n").unwrap();
        let w = file.to_str().unwrap();
        let mut cli = parse(&["drover", "run", "true"]);
        expand_with(&mut cli, Some(w), &no_stdin).unwrap();
        assert_eq!(run_targets(&cli).as_deref(), Some("n1,n2"));
        let mut cli = parse(&["drover", "run", "-t", "n3", "true"]);
        expand_with(&mut cli, Some(w), &no_stdin).unwrap();
        assert_eq!(run_targets(&cli).as_deref(), Some("n3"));
    }

    #[test]
    fn no_targets_at_all_is_a_usage_error_unless_re_running() {
        let mut cli = parse(&["drover", "run", "true"]);
        assert_eq!(
            expand_with(&mut cli, None, &no_stdin),
            Err(TargetArgError::Missing)
        );
        let mut cli = parse(&["drover", "run", "--rerun", "failed", "1a2b"]);
        expand_with(&mut cli, None, &no_stdin).unwrap();
        assert_eq!(run_targets(&cli), None);
    }

    #[test]
    fn unreadable_and_empty_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let mut cli = parse(&[
            "drover",
            "run",
            "-t",
            &format!("^{}", missing.display()),
            "x",
        ]);
        let err = expand_with(&mut cli, None, &no_stdin).unwrap_err();
        assert!(err.to_string().contains(missing.to_str().unwrap()), "{err}");
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "# nothing\n\n").unwrap();
        let mut cli = parse(&["drover", "run", "-t", &format!("^{}", empty.display()), "x"]);
        let err = expand_with(&mut cli, None, &no_stdin).unwrap_err();
        assert_eq!(err, TargetArgError::Empty(empty.display().to_string()));
    }

    #[test]
    fn expressions_are_kept_as_given() {
        // `^` only means a file at the start: inside a node set it is ClusterShell's xor.
        let mut cli = parse(&["drover", "run", "-t", "a[1-4]^a[3-6]", "true"]);
        expand_with(&mut cli, None, &no_stdin).unwrap();
        assert_eq!(run_targets(&cli).as_deref(), Some("a[1-4]^a[3-6]"));
    }
}
