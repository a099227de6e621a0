//! Authentication in OpenSSH's order: keys held by ssh-agent (`SSH_AUTH_SOCK`),
//! then the IdentityFile list in order (the default key names when none is
//! configured). An encrypted key asks for its passphrase through the engine's
//! interaction path; batch mode fails naming the key. A failure names every method
//! tried and why each was refused.

use super::ClientHandler;
use crate::engine::transport::interaction::{Answer, Interaction, Question};
use russh::client::{AuthResult, Handle};
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::{PrivateKeyWithHashAlg, PublicKey};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What to try, from the resolved ssh_config.
pub struct AuthPlan<'a> {
    pub user: &'a str,
    pub identity_files: &'a [PathBuf],
    pub identities_only: bool,
    pub interaction: &'a dyn Interaction,
}

/// Tries each method in turn; the error lists what was tried.
pub async fn authenticate(
    handle: &mut Handle<ClientHandler>,
    plan: &AuthPlan<'_>,
) -> Result<(), String> {
    let mut tried: Vec<String> = Vec::new();
    let hash = handle
        .best_supported_rsa_hash()
        .await
        .ok()
        .flatten()
        .flatten();
    let wanted: Vec<PublicKey> = plan
        .identity_files
        .iter()
        .filter_map(|p| russh::keys::load_public_key(pub_path(p)).ok())
        .collect();
    if let Ok(mut agent) = AgentClient::connect_env().await {
        let identities = agent.request_identities().await.unwrap_or_default();
        let mut offered = 0;
        for id in identities {
            let AgentIdentity::PublicKey { key, .. } = id else {
                continue;
            };
            if plan.identities_only && !wanted.iter().any(|w| w.key_data() == key.key_data()) {
                continue;
            }
            offered += 1;
            let result = handle
                .authenticate_publickey_with(plan.user, key.clone(), hash, &mut agent)
                .await;
            if matches!(result, Ok(AuthResult::Success)) {
                return Ok(());
            }
        }
        tried.push(format!("agent ({offered} keys refused)"));
    }
    for path in plan.identity_files {
        let key = match load_key(path, plan.interaction).await {
            KeyLoad::Missing => continue,
            KeyLoad::Failed(reason) => {
                tried.push(format!("{} ({reason})", path.display()));
                continue;
            }
            KeyLoad::Loaded(k) => k,
        };
        let key = PrivateKeyWithHashAlg::new(Arc::new(*key), hash);
        match handle.authenticate_publickey(plan.user, key).await {
            Ok(AuthResult::Success) => return Ok(()),
            Ok(AuthResult::Failure { .. }) => {
                tried.push(format!("{} (refused by server)", path.display()))
            }
            Err(e) => tried.push(format!("{} ({e})", path.display())),
        }
    }
    if tried.is_empty() {
        tried.push("no agent and no identity file found".into());
    }
    Err(format!(
        "authentication as {} failed; tried: {}",
        plan.user,
        tried.join(", ")
    ))
}

fn pub_path(private: &Path) -> PathBuf {
    let mut s = private.as_os_str().to_owned();
    s.push(".pub");
    PathBuf::from(s)
}

enum KeyLoad {
    Missing,
    Failed(String),
    Loaded(Box<russh::keys::PrivateKey>),
}

async fn load_key(path: &Path, interaction: &dyn Interaction) -> KeyLoad {
    if !path.is_file() {
        return KeyLoad::Missing;
    }
    match russh::keys::load_secret_key(path, None) {
        Ok(k) => KeyLoad::Loaded(Box::new(k)),
        Err(russh::keys::Error::KeyIsEncrypted) => {
            let question = Question::Passphrase {
                key_path: path.display().to_string(),
            };
            match interaction.ask(question).await {
                Some(Answer::Passphrase(p)) => match russh::keys::load_secret_key(path, Some(&p)) {
                    Ok(k) => KeyLoad::Loaded(Box::new(k)),
                    Err(e) => KeyLoad::Failed(format!("cannot decrypt: {e}")),
                },
                _ => KeyLoad::Failed(
                    "encrypted and no passphrase could be asked for (batch mode: load it into ssh-agent)"
                        .into(),
                ),
            }
        }
        Err(e) => KeyLoad::Failed(format!("unreadable: {e}")),
    }
}
