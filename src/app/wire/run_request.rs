//! The body of `POST /v1/runs` and its answers. Options a client leaves out
//! come from the service's config (`[execution]`), never from the client's.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::engine::{Backoff, ExecutionOptions, ExecutionRequest, FieldError, Mode, Priority};

/// `POST /v1/runs`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// A target expression, as `-t` takes it (`web[1-3],@db`).
    pub targets: String,
    /// The shell command run on each node.
    pub command: String,
    #[serde(default)]
    pub options: RunOptions,
    /// A run under a key the engine still answers for is not started again
    /// (`409`, naming the earlier run).
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// Answer with the run's server-sent event stream instead of `{"id"}`:
    /// lossless from the first event, as the run is tapped when it starts.
    #[serde(default)]
    pub stream: bool,
}

/// What a request may set; each one left out is the service's default.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunOptions {
    /// Per node attempt, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fanout: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// `linear` or `exponential`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<String>,
    /// One node at a time.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sequential: bool,
    /// Keep every byte of output (history and the result).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub debug: bool,
    /// 0 (lowest) to 9, or `low`/`normal`/`high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
}

/// `201` to `POST /v1/runs`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Created {
    pub id: String,
}

/// `409` to `POST /v1/runs`: the key names an earlier run, which is not
/// started again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Duplicate {
    pub error: String,
    /// The earlier run, when this service knows it (empty while another
    /// process is still starting it).
    pub id: String,
    /// Its status as recorded (`queued`, `running`, `success`, ...).
    pub status: Option<String>,
}

impl RunRequest {
    /// The engine's request: `defaults` with this request's options laid over.
    pub fn into_request(
        self,
        defaults: &ExecutionOptions,
    ) -> Result<ExecutionRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut options = defaults.clone();
        let o = self.options;
        if let Some(t) = o.timeout_s {
            if t.is_finite() && t >= 0.0 {
                options.timeout = Some(Duration::from_secs_f64(t));
            } else {
                errors.push(FieldError {
                    field: "options.timeout_s".into(),
                    reason: format!("{t} is not a number of seconds (0 or more)"),
                });
            }
        }
        if let Some(f) = o.fanout {
            options.fanout = f;
        }
        if let Some(r) = o.retries {
            options.retries = r;
        }
        match o.backoff.as_deref() {
            None => {}
            Some("linear") => options.backoff = Backoff::Linear,
            Some("exponential") => options.backoff = Backoff::Exponential,
            Some(other) => errors.push(FieldError {
                field: "options.backoff".into(),
                reason: format!("{other:?} is not linear or exponential"),
            }),
        }
        if o.sequential {
            options.mode = Mode::Sequential;
        }
        options.debug = o.debug;
        if let Some(p) = o.priority {
            options.priority = p;
        }
        options.env.extend(o.env);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ExecutionRequest {
            command: self.command,
            targets: self.targets,
            options,
        })
    }
}
