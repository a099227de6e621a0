//! What drover prints about itself: shell completions and the manual page, both
//! generated from the command-line definition so they never drift from it.

use crate::cli::{Cli, Command};
use clap::CommandFactory;
use std::io::Write;

/// Prints completions or the man page when `cli` asks for them; the exit code then.
pub fn print(cli: &Cli) -> Option<u8> {
    print_command(cli.command.as_ref()?)
}

/// Prints completions or the man page when `command` is one of them.
pub fn print_command(command: &Command) -> Option<u8> {
    let mut out = std::io::stdout().lock();
    let written = match command {
        Command::Completions { shell } => {
            // Generated into memory first: the generator panics on a write error
            // (a closed pipe), which drover reports instead.
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "drover", &mut script);
            out.write_all(&script)
        }
        Command::Man => man(&mut out),
        _ => return None,
    };
    Some(match written.and_then(|()| out.flush()) {
        Ok(()) => super::exit::SUCCESS,
        // A closed pipe (`| head`) is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => super::exit::SUCCESS,
        Err(e) => {
            eprintln!("drover: cannot write: {e}");
            super::exit::FAILED
        }
    })
}

/// drover(1): the top page with every subcommand's page after it, so one
/// `man -l` shows everything.
fn man(out: &mut dyn Write) -> std::io::Result<()> {
    let cmd = Cli::command();
    clap_mangen::Man::new(cmd.clone()).render(out)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("drover-{}", sub.get_name());
        clap_mangen::Man::new(
            sub.clone()
                .name(name)
                .bin_name(format!("drover {}", sub.get_name())),
        )
        .render(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Arg;

    /// Every option and argument of every subcommand explains itself in `--help`.
    #[test]
    fn every_option_has_help_text() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments().filter(|a| !is_builtin(a)) {
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {}", arg.get_id()));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_about().is_none() && sub.get_name() != "help" {
                    missing.push(format!("{path} {} (no about)", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        fn is_builtin(a: &Arg) -> bool {
            matches!(a.get_id().as_str(), "help" | "version")
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "drover", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:#?}");
    }

    #[test]
    fn help_lists_every_exit_code() {
        use crate::app::exit::*;
        let help = Cli::command().render_long_help().to_string();
        for code in [
            SUCCESS, FAILED, USAGE, DENIED, NO_MATCH, QUEUE_FULL, DUPLICATE, CANCELLED, 129, 143,
            255,
        ] {
            assert!(
                help.lines()
                    .any(|l| l.trim_start().starts_with(&format!("{code} "))),
                "exit code {code} missing from --help:\n{help}"
            );
        }
    }

    #[test]
    fn completions_and_the_man_page_cover_the_subcommands() {
        let mut bash = Vec::new();
        clap_complete::generate(
            clap_complete::Shell::Bash,
            &mut Cli::command(),
            "drover",
            &mut bash,
        );
        let bash = String::from_utf8(bash).unwrap();
        for word in ["run", "history", "--targets", "--rerun", "completions"] {
            assert!(bash.contains(word), "bash completion lacks {word}");
        }
        let mut page = Vec::new();
        man(&mut page).unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(page.starts_with(".ie"), "roff expected: {}", &page[..40]);
        for title in [".TH drover 1", ".TH drover-run 1", ".TH drover-history 1"] {
            assert!(page.contains(title), "man page lacks {title}");
        }
    }
}
