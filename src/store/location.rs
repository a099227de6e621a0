//! Where a store is: a SQLite file, or a PostgreSQL database. Parsed from
//! `[store] url`, `$DROVER_STORE_URL` or `drover store copy --from/--to`;
//! shown with any password replaced.

use std::fmt;
use std::path::{Path, PathBuf};

use super::error::StoreError;
use super::postgres::connect::PgLocation;

/// A store's location.
#[derive(Debug, Clone)]
pub enum StoreLocation {
    /// The file (`sqlite:PATH`, or the state directory's `drover.db`).
    Sqlite(PathBuf),
    /// `postgres://` or `postgresql://`.
    Postgres(Box<PgLocation>),
}

impl StoreLocation {
    /// `url` as configured, or the state directory's own file when there is none.
    pub fn configured(url: Option<&str>, state_dir: &Path) -> Result<StoreLocation, StoreError> {
        match url {
            None => Ok(StoreLocation::Sqlite(state_dir.join("drover.db"))),
            Some(url) => StoreLocation::parse(url),
        }
    }

    /// `sqlite:PATH`, `postgres://...` or `postgresql://...`.
    pub fn parse(text: &str) -> Result<StoreLocation, StoreError> {
        let text = text.trim();
        if let Some(path) = text.strip_prefix("sqlite:") {
            // `sqlite:///abs/path` and `sqlite:rel/path` both name a file.
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(StoreError::BadLocation {
                    location: text.to_string(),
                    reason: "sqlite: needs a file path (sqlite:PATH)".into(),
                });
            }
            return Ok(StoreLocation::Sqlite(PathBuf::from(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return PgLocation::parse(text).map(|pg| StoreLocation::Postgres(Box::new(pg)));
        }
        // Never echo what might be a password-bearing string we failed to parse.
        let scheme = text.split_once(':').map_or("", |(s, _)| s);
        Err(StoreError::BadLocation {
            location: if scheme.is_empty() {
                "(no scheme)".into()
            } else {
                format!("{scheme}:...")
            },
            reason: "a store is sqlite:PATH or postgres://USER@HOST[:PORT]/DB".into(),
        })
    }

    /// The backend's name, as `drover status` shows it.
    pub fn backend(&self) -> &'static str {
        match self {
            StoreLocation::Sqlite(_) => "sqlite",
            StoreLocation::Postgres(_) => "postgres",
        }
    }
}

impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreLocation::Sqlite(path) => write!(f, "{}", path.display()),
            StoreLocation::Postgres(pg) => write!(f, "{pg}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_forms_name_a_file() {
        for (text, path) in [
            ("sqlite:/var/lib/drover.db", "/var/lib/drover.db"),
            ("sqlite:///var/lib/drover.db", "/var/lib/drover.db"),
            ("sqlite:rel/drover.db", "rel/drover.db"),
        ] {
            match StoreLocation::parse(text).unwrap() {
                StoreLocation::Sqlite(p) => assert_eq!(p, PathBuf::from(path)),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn unknown_schemes_are_refused_without_echoing_the_rest() {
        let e = StoreLocation::parse("mysql://root:hunter2@db/x").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("mysql:"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(StoreLocation::parse("sqlite:").is_err());
    }

    #[test]
    fn postgres_location_hides_its_password() {
        let l = StoreLocation::parse("postgres://drover:hunter2@db.example:5433/team").unwrap();
        assert_eq!(l.backend(), "postgres");
        assert!(!l.to_string().contains("hunter2"), "{l}");
        assert!(!format!("{l:?}").contains("hunter2"), "{l:?}");
    }

    #[test]
    fn no_url_is_the_state_directory_file() {
        let l = StoreLocation::configured(None, Path::new("/state")).unwrap();
        assert_eq!(l.to_string(), "/state/drover.db");
    }
}
