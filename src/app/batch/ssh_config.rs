//! `drover ssh-config [-F FILE] [-l USER] [-p PORT] HOST`: how the OpenSSH client
//! config resolves for one host, printed like `ssh -G` for the keywords drover
//! uses.

use crate::app::exit;
use crate::cli::SshConfigArgs;
use crate::engine::transport::ssh::config::{Environment, Overrides, SshConfigFile};
use std::io::Write;
use std::path::Path;

/// Resolves and prints; exit 0, or 2 with the reason on stderr.
pub fn ssh_config(args: &SshConfigArgs, file: Option<&Path>) -> u8 {
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
