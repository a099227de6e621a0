//! `[store]`: where history and journals are kept. Without a `url`, in the
//! SQLite file `drover.db` in the state directory (one operator's own record);
//! with a `postgres://` url, in a PostgreSQL database a team shares.
//! `$DROVER_STORE_URL` overrides the file, so one drover can be pointed at a
//! store for one command.

use serde::Deserialize;

/// The environment variable that overrides `[store] url`.
pub const STORE_URL_ENV: &str = "DROVER_STORE_URL";

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `postgres://user:password@host:port/db?sslmode=...`, `sqlite:PATH`, or
    /// unset for the state directory's `drover.db`.
    pub url: Option<String>,
}

impl StoreConfig {
    /// The store's URL: `$DROVER_STORE_URL` when set and not empty, else the
    /// file's; `None` means the state directory's SQLite file.
    pub fn url(&self) -> Option<String> {
        std::env::var(STORE_URL_ENV)
            .ok()
            .filter(|u| !u.trim().is_empty())
            .or_else(|| self.url.clone())
    }
}
