//! `drover ssh-config [-F FILE] [-l USER] [-p PORT] HOST`: how the OpenSSH client
//! config resolves for one host, printed like `ssh -G` for the keywords drover
//! uses.

use crate::app::exit;
use crate::cli::{Cli, SshConfigArgs};
use crate::engine::transport::ssh::config::{Environment, Overrides, SshConfigFile};
use clap::Parser;
use std::io::Write;
use std::path::Path;

pub fn ssh_config(args: &SshConfigArgs) -> u8 {
    // `-F` is a global flag, kept in `GlobalArgs`, which dispatch does not pass
    // on; the command line already parsed once, so parsing it again cannot fail.
    let file = Cli::try_parse().ok().and_then(|c| c.global.ssh_config);
    show(args, file.as_deref())
}

/// Resolves and prints; exit 0, or 2 with the reason on stderr.
pub fn show(args: &SshConfigArgs, file: Option<&Path>) -> u8 {
    let result = Environment::from_process().and_then(|env| {
        let path = file.map_or_else(|| env.home.join(".ssh").join("config"), Path::to_path_buf);
        let overrides = Overrides {
            user: args.user.clone(),
            port: args.port,
        };
        SshConfigFile::load(&path, &env)?.resolve(&args.host, &overrides)
    });
    match result {
        Ok(resolved) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(resolved.render_g().as_bytes());
            let _ = out.flush();
            exit::SUCCESS
        }
        Err(e) => {
            eprintln!("drover: {e}");
            exit::USAGE
        }
    }
}
