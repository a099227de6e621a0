//! What a caller asks the engine to do, and who is asking. Validation lists every
//! bad field before anything runs (seeds properties 55–56).

use crate::engine::common::error::FieldError;
use crate::engine::common::priority::Priority;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Parallel runs nodes concurrently up to the fanout; sequential runs them one at a
/// time in target order (seeds properties 13–14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Parallel,
    Sequential,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Backoff {
    Linear,
    #[default]
    Exponential,
}

/// Per-request knobs. Defaults come from the config; every field is validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionOptions {
    /// Per node attempt; `None` waits forever (clush's default, but not ours: see config).
    pub timeout: Option<Duration>,
    pub env: BTreeMap<String, String>,
    /// Most nodes of this request running at once.
    pub fanout: usize,
    pub mode: Mode,
    /// Extra attempts after the first, for retryable failures only.
    pub retries: u32,
    pub backoff: Backoff,
    /// First retry delay; later ones grow by the backoff rule.
    pub retry_delay: Duration,
    /// Keep and return full output instead of a head/tail summary.
    pub debug: bool,
    /// Names in `env` whose values are secret (redacted wherever drover writes).
    #[serde(default)]
    pub secret_env: BTreeSet<String>,
    /// Further secret values (a task's sensitive parameters); never serialised.
    #[serde(skip)]
    pub secret_values: Vec<String>,
    /// Place in the engine's slot queue when slots are short.
    #[serde(default)]
    pub priority: Priority,
}

impl Default for ExecutionOptions {
    fn default() -> Self {
        ExecutionOptions {
            timeout: None,
            env: BTreeMap::new(),
            fanout: 64,
            mode: Mode::Parallel,
            retries: 0,
            backoff: Backoff::Exponential,
            retry_delay: Duration::from_millis(500),
            debug: false,
            secret_env: BTreeSet::new(),
            secret_values: Vec::new(),
            priority: Priority::default(),
        }
    }
}

/// One command over many nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionRequest {
    pub command: String,
    /// A target expression: comma-separated node names and `@group`s.
    pub targets: String,
    pub options: ExecutionOptions,
}

/// Who asks, carried through everything the request causes (events, history,
/// journal, logs) so one correlation id ties them together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionContext {
    pub user: String,
    pub roles: Vec<String>,
    pub correlation_id: String,
}

impl ExecutionContext {
    /// The local OS user, as drover's default identity.
    pub fn local() -> ExecutionContext {
        ExecutionContext {
            user: local_user_name(),
            roles: Vec::new(),
            correlation_id: crate::engine::common::ids::ExecutionId::new().0,
        }
    }
}

/// Set when an RBAC policy is loaded: from then on the local identity is the OS
/// account, whatever `$USER` says, in every front end.
static OS_ACCOUNT_ONLY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Makes [`local_user_name`] ignore `$USER` for the rest of the process.
pub fn trust_os_account_only() {
    OS_ACCOUNT_ONLY.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// `$USER`, falling back to the passwd entry of the real uid; only the latter once
/// [`trust_os_account_only`] was called.
pub fn local_user_name() -> String {
    if OS_ACCOUNT_ONLY.load(std::sync::atomic::Ordering::SeqCst) {
        return os_user_name();
    }
    if let Ok(u) = std::env::var("USER")
        && !u.is_empty()
    {
        return u;
    }
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| "unknown".to_string())
}

/// The account of the process's real uid: the identity RBAC trusts, because
/// unlike `$USER` it cannot be changed by the caller.
pub fn os_user_name() -> String {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| format!("uid{}", nix::unistd::getuid()))
}

/// Upper bounds that keep a typo from becoming a fork bomb or a year-long wait.
pub const MAX_FANOUT: usize = 65_536;
pub const MAX_RETRIES: u32 = 100;
const MAX_TIMEOUT: Duration = Duration::from_secs(30 * 24 * 3600);

impl ExecutionRequest {
    /// Every problem with the request, or `Ok` when it may run.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut bad = |field: &str, reason: String| {
            errors.push(FieldError {
                field: field.to_string(),
                reason,
            })
        };
        if self.command.trim().is_empty() {
            bad("command", "is empty".into());
        }
        if self.command.contains('\0') {
            bad("command", "contains a NUL byte".into());
        }
        if self.targets.trim().is_empty() {
            bad(
                "targets",
                "is empty: name at least one node or @group".into(),
            );
        }
        let o = &self.options;
        if o.fanout == 0 || o.fanout > MAX_FANOUT {
            bad(
                "fanout",
                format!("{} is out of range 1..={MAX_FANOUT}", o.fanout),
            );
        }
        if let Some(t) = o.timeout
            && (t.is_zero() || t > MAX_TIMEOUT)
        {
            bad(
                "timeout",
                format!("{t:?} is out of range (more than 0, at most 30 days)"),
            );
        }
        if o.retries > MAX_RETRIES {
            bad(
                "retries",
                format!("{} is more than {MAX_RETRIES}", o.retries),
            );
        }
        if o.retry_delay > Duration::from_secs(3600) {
            bad("retry_delay", "is more than an hour".into());
        }
        for k in &o.secret_env {
            if !o.env.contains_key(k) {
                bad(&format!("secret env {k:?}"), "has no value in env".into());
            }
        }
        for (k, v) in &o.env {
            if let Some(reason) = env_name_problem(k) {
                bad(&format!("env {k:?}"), reason);
            }
            if v.contains('\0') {
                bad(&format!("env {k:?}"), "value contains a NUL byte".into());
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// POSIX shells only accept `[A-Za-z_][A-Za-z0-9_]*` as variable names.
fn env_name_problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    match chars.next() {
        None => Some("name is empty".into()),
        Some(c) if !(c.is_ascii_alphabetic() || c == '_') => {
            Some("name must start with a letter or '_'".into())
        }
        _ if !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            Some("name may contain only letters, digits and '_'".into())
        }
        _ => None,
    }
}
