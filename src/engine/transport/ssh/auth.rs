//! Authentication in OpenSSH's order: user certificates first (files, then the
//! agent's; see `user_certs`), then keys held by ssh-agent (`SSH_AUTH_SOCK`), then the
//! IdentityFile list in order (the default key names when none is configured).
//! An encrypted key asks for its passphrase through the engine's interaction
//! path, once per connection; batch mode fails naming the key. A failure names
//! every method tried and why each was refused.

use super::ClientHandler;
use super::user_certs::{self, Agent, AgentKeySigner, KeySigner, UserCert};
use crate::engine::transport::interaction::{Answer, Interaction, Question};
use russh::client::{AuthResult, Handle};
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::{HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKey};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What to try, from the resolved ssh_config.
pub struct AuthPlan<'a> {
    pub user: &'a str,
    pub identity_files: &'a [PathBuf],
    pub certificate_files: &'a [PathBuf],
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
    let mut keys = Keys::new(plan.interaction);
    let mut agent = AgentClient::connect_env().await.ok().map(|a| a.dynamic());
    let identities = match agent.as_mut() {
        Some(a) => a.request_identities().await.unwrap_or_default(),
        None => Vec::new(),
    };
    let mut agent_keys: Vec<PublicKey> = Vec::new();
    let mut agent_certs = Vec::new();
    for id in identities {
        match id {
            AgentIdentity::PublicKey { key, .. } => agent_keys.push(key),
            AgentIdentity::Certificate { certificate, .. } => agent_certs.push(certificate),
        }
    }

    let wanted: Vec<PublicKey> = plan
        .identity_files
        .iter()
        .filter_map(|p| russh::keys::load_public_key(pub_path(p)).ok())
        .collect();
    let (mut certs, problems) = user_certs::find(plan.identity_files, plan.certificate_files);
    tried.extend(problems);
    // Then the agent's own certificates (those not read from a file already);
    // with IdentitiesOnly only those of an identity file's key, as agent keys.
    for cert in agent_certs {
        let listed = wanted.iter().any(|w| w.key_data() == cert.public_key());
        if (listed || !plan.identities_only) && !certs.iter().any(|c| c.cert == cert) {
            certs.push(UserCert { path: None, cert });
        }
    }
    for uc in &certs {
        match try_certificate(
            handle,
            plan,
            uc,
            &agent_keys,
            agent.as_mut(),
            &mut keys,
            hash,
        )
        .await
        {
            Ok(()) => return Ok(()),
            Err(why) => tried.push(format!("{} ({why})", uc.name())),
        }
    }

    if let Some(agent) = agent.as_mut() {
        let mut offered = 0;
        for key in &agent_keys {
            if plan.identities_only && !wanted.iter().any(|w| w.key_data() == key.key_data()) {
                continue;
            }
            offered += 1;
            let result = handle
                .authenticate_publickey_with(plan.user, key.clone(), hash, agent)
                .await;
            if matches!(result, Ok(AuthResult::Success)) {
                return Ok(());
            }
        }
        tried.push(format!("agent ({offered} keys refused)"));
    }
    for path in plan.identity_files {
        let key = match keys.load(path).await {
            KeyLoad::Missing => continue,
            KeyLoad::Failed(reason) => {
                tried.push(format!("{} ({reason})", path.display()));
                continue;
            }
            KeyLoad::Loaded(k) => k,
        };
        let key = PrivateKeyWithHashAlg::new(key, hash);
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

/// One certificate with the private key it certifies: the agent's if it holds
/// it, else an identity file's. `Err` says why it did not get us in.
async fn try_certificate(
    handle: &mut Handle<ClientHandler>,
    plan: &AuthPlan<'_>,
    uc: &UserCert,
    agent_keys: &[PublicKey],
    agent: Option<&mut Agent>,
    keys: &mut Keys<'_>,
    hash: Option<HashAlg>,
) -> Result<(), String> {
    let certified = uc.cert.public_key();
    let hash = uc.cert.algorithm().is_rsa().then_some(hash).flatten();
    let agent_key = agent_keys.iter().find(|k| k.key_data() == certified);
    let result = match (agent, agent_key) {
        // The agent's own certificate: it signs for it.
        (Some(agent), _) if uc.path.is_none() => handle
            .authenticate_certificate_with(plan.user, uc.cert.clone(), hash, agent)
            .await
            .map_err(|e| e.to_string()),
        (Some(agent), Some(key)) => {
            let mut signer = AgentKeySigner {
                agent,
                key: key.clone(),
            };
            handle
                .authenticate_certificate_with(plan.user, uc.cert.clone(), hash, &mut signer)
                .await
                .map_err(|e| e.to_string())
        }
        _ => {
            let Some(key) = keys.matching(plan.identity_files, &uc.cert).await else {
                return Err(format!(
                    "no identity file or agent key holds its private key {}",
                    super::known_hosts::fingerprint(&PublicKey::from(certified.clone()))
                ));
            };
            handle
                .authenticate_certificate_with(
                    plan.user,
                    uc.cert.clone(),
                    hash,
                    &mut KeySigner(key),
                )
                .await
                .map_err(|e| e.to_string())
        }
    };
    match result? {
        AuthResult::Success => Ok(()),
        AuthResult::Failure { .. } => Err(
            match user_certs::diagnose(&uc.cert, plan.user, user_certs::now()) {
                Some(why) => format!("refused by server: {why}"),
                None => "refused by server".into(),
            },
        ),
    }
}

fn pub_path(private: &Path) -> PathBuf {
    let mut s = private.as_os_str().to_owned();
    s.push(".pub");
    PathBuf::from(s)
}

enum KeyLoad {
    Missing,
    Failed(String),
    Loaded(Arc<PrivateKey>),
}

/// Private keys of identity files, each read (and its passphrase asked) at most
/// once per connection, whether for a certificate or as a plain key.
struct Keys<'a> {
    interaction: &'a dyn Interaction,
    loaded: HashMap<PathBuf, Result<Arc<PrivateKey>, String>>,
}

impl<'a> Keys<'a> {
    fn new(interaction: &'a dyn Interaction) -> Self {
        Keys {
            interaction,
            loaded: HashMap::new(),
        }
    }

    async fn load(&mut self, path: &Path) -> KeyLoad {
        if !path.is_file() {
            return KeyLoad::Missing;
        }
        if !self.loaded.contains_key(path) {
            let result = load_key(path, self.interaction).await;
            self.loaded.insert(path.to_path_buf(), result);
        }
        match &self.loaded[path] {
            Ok(k) => KeyLoad::Loaded(k.clone()),
            Err(why) => KeyLoad::Failed(why.clone()),
        }
    }

    /// The identity file holding the private key of `cert`; its `.pub` decides
    /// when there is one, so no other key's passphrase is asked for.
    async fn matching(
        &mut self,
        identity_files: &[PathBuf],
        cert: &russh::keys::Certificate,
    ) -> Option<Arc<PrivateKey>> {
        let certified = cert.public_key();
        for path in identity_files {
            if let Ok(public) = russh::keys::load_public_key(pub_path(path))
                && public.key_data() != certified
            {
                continue;
            }
            if let KeyLoad::Loaded(k) = self.load(path).await
                && k.public_key().key_data() == certified
            {
                return Some(k);
            }
        }
        None
    }
}

async fn load_key(path: &Path, interaction: &dyn Interaction) -> Result<Arc<PrivateKey>, String> {
    match russh::keys::load_secret_key(path, None) {
        Ok(k) => Ok(Arc::new(k)),
        Err(russh::keys::Error::KeyIsEncrypted) => {
            let question = Question::Passphrase {
                key_path: path.display().to_string(),
            };
            match interaction.ask(question).await {
                Some(Answer::Passphrase(p)) => russh::keys::load_secret_key(path, Some(&p))
                    .map(Arc::new)
                    .map_err(|e| format!("cannot decrypt: {e}")),
                _ => Err(
                    "encrypted and no passphrase could be asked for (batch mode: load it into ssh-agent)"
                        .into(),
                ),
            }
        }
        Err(e) => Err(format!("unreadable: {e}")),
    }
}
