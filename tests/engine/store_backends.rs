//! One store test suite, two backends: each case is written once over a
//! [`StorePlace`] and runs against a SQLite file in a temp dir and against a fresh
//! database on this test binary's real PostgreSQL server ([`crate::pg_support`]),
//! never a mock. Without PostgreSQL the PostgreSQL half prints a loud SKIPPED line,
//! or fails under `DROVER_REQUIRE_FLEET=1`.
//!
//! [`on_both_backends!`] turns a list of cases into `on_sqlite::<case>` and
//! `on_postgres::<case>` tests. A case over a place takes a [`StorePlace`]; a property
//! takes the [`Backend`] and gets an empty place per generated input from
//! [`CasePlaces`].
//!
//! The helpers that reach past the store (a raw count, a raw statement, a held write
//! lock) speak each backend's own client; their SQL is written to mean the same on both.

use std::path::PathBuf;
use std::sync::OnceLock;

use drover::store::{Store, StoreError, StoreLocation};
use tempfile::TempDir;

use crate::pg_support;

/// Which database a test's store lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where one test's store lives (an empty database at first); open it as often as the
/// test likes.
pub struct StorePlace {
    backend: Backend,
    location: StoreLocation,
    /// The PostgreSQL url (with its password), for the raw helpers.
    url: Option<String>,
    /// Holds the SQLite file.
    _dir: Option<TempDir>,
}

impl StorePlace {
    /// An empty place on `backend`; `None` (after a SKIPPED line, or a panic under
    /// `DROVER_REQUIRE_FLEET=1`) when PostgreSQL is not installed.
    pub fn new(backend: Backend) -> Option<StorePlace> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                Some(StorePlace {
                    backend,
                    location: StoreLocation::Sqlite(dir.path().join("drover.db")),
                    url: None,
                    _dir: Some(dir),
                })
            }
            Backend::Postgres => Some(StorePlace::in_database(pg_support::fresh_database()?)),
        }
    }

    fn in_database(url: String) -> StorePlace {
        StorePlace {
            backend: Backend::Postgres,
            location: StoreLocation::parse(&url).expect("the test server's url"),
            url: Some(url),
            _dir: None,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Opens (creating and migrating at first) the store here.
    pub fn open(&self) -> Store {
        self.try_open()
            .unwrap_or_else(|e| panic!("open {}: {e}", self.location))
    }

    /// [`open`](Self::open), for a test of how it fails.
    pub fn try_open(&self) -> Result<Store, StoreError> {
        Store::open_location(&self.location, false)
    }

    /// The SQLite file, for SQLite-only checks.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match &self.location {
            StoreLocation::Sqlite(path) => Some(path.clone()),
            _ => None,
        }
    }

    /// The first column of the first row of `sql`, as text (`NULL` as `None`).
    pub fn query_text(&self, sql: &str) -> Option<String> {
        match &self.url {
            None => self
                .sqlite()
                .query_row(sql, [], |r| r.get(0))
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
            Some(url) => on_plain_thread(|| {
                pg_client(url)
                    .query_one(sql, &[])
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .get(0)
            }),
        }
    }

    /// How many rows `table` holds.
    pub fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}");
        self.query_text(&sql)
            .and_then(|n| n.parse().ok())
            .expect("a count")
    }

    /// Runs `sql` (one or more statements) in the store's database.
    pub fn execute(&self, sql: &str) {
        match &self.url {
            None => self
                .sqlite()
                .execute_batch(sql)
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
            Some(url) => on_plain_thread(|| {
                pg_client(url)
                    .batch_execute(sql)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
            }),
        }
    }

    /// The schema version the database records.
    pub fn schema_version(&self) -> i64 {
        let sql = match self.backend {
            Backend::Sqlite => "SELECT CAST(user_version AS TEXT) FROM pragma_user_version",
            Backend::Postgres => "SELECT CAST(version AS TEXT) FROM drover_schema",
        };
        self.query_text(sql)
            .and_then(|v| v.parse().ok())
            .expect("a version")
    }

    /// Records schema `version` as a drover of that version would have.
    pub fn set_schema_version(&self, version: i64) {
        match self.backend {
            Backend::Sqlite => self.execute(&format!("PRAGMA user_version = {version}")),
            Backend::Postgres => {
                self.execute(&format!("UPDATE drover_schema SET version = {version}"))
            }
        }
    }

    /// Holds the write lock on the journal (another process's open transaction) until
    /// the guard is released: the writer waits behind it with its first batch, so what
    /// is queued meanwhile goes in its next batch. From a plain thread (not a runtime).
    pub fn hold_journal_lock(&self) -> HeldLock {
        match &self.url {
            None => {
                let conn = self.sqlite();
                conn.execute_batch("BEGIN IMMEDIATE").unwrap();
                HeldLock::Sqlite(conn)
            }
            Some(url) => {
                let mut client = pg_client(url);
                client
                    .batch_execute("BEGIN; LOCK TABLE journal IN EXCLUSIVE MODE")
                    .unwrap();
                HeldLock::Postgres(client)
            }
        }
    }

    fn sqlite(&self) -> rusqlite::Connection {
        let path = self.sqlite_path().expect("a SQLite place");
        rusqlite::Connection::open(path).unwrap()
    }
}

/// Empty places for the generated inputs of one property. On PostgreSQL they are one
/// database emptied before each input (rows deleted, numbering restarted: as a new
/// database to the store), since hundreds of databases cost their files' creation and
/// removal. Each input must close or drop its store before the next.
pub struct CasePlaces {
    backend: Backend,
    /// The PostgreSQL database, made for the first input.
    database: OnceLock<Option<String>>,
}

/// Deletes every row but the schema version and restarts every identity column.
const EMPTY_THE_DATABASE: &str = "
DO $$
DECLARE t record;
BEGIN
    FOR t IN SELECT tablename FROM pg_tables
             WHERE schemaname = current_schema() AND tablename <> 'drover_schema' LOOP
        EXECUTE format('DELETE FROM %I', t.tablename);
    END LOOP;
    FOR t IN SELECT table_name, column_name FROM information_schema.columns
             WHERE table_schema = current_schema() AND is_identity = 'YES' LOOP
        EXECUTE format('ALTER TABLE %I ALTER COLUMN %I RESTART', t.table_name, t.column_name);
    END LOOP;
END
$$";

impl CasePlaces {
    pub fn new(backend: Backend) -> CasePlaces {
        CasePlaces {
            backend,
            database: OnceLock::new(),
        }
    }

    /// An empty place for the next input; `None` as [`StorePlace::new`].
    pub fn next(&self) -> Option<StorePlace> {
        match self.backend {
            Backend::Sqlite => StorePlace::new(Backend::Sqlite),
            Backend::Postgres => {
                let url = self
                    .database
                    .get_or_init(pg_support::fresh_database)
                    .clone()?;
                let place = StorePlace::in_database(url);
                place.execute(EMPTY_THE_DATABASE);
                Some(place)
            }
        }
    }
}

/// A transaction of another client holding a write lock; [`HeldLock::release`] commits it.
pub enum HeldLock {
    Sqlite(rusqlite::Connection),
    Postgres(postgres::Client),
}

impl HeldLock {
    pub fn release(self) {
        match self {
            HeldLock::Sqlite(conn) => conn.execute_batch("COMMIT").unwrap(),
            HeldLock::Postgres(mut client) => client.batch_execute("COMMIT").unwrap(),
        }
    }
}

fn pg_client(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).unwrap_or_else(|e| panic!("connect: {e}"))
}

/// Runs `f` on a thread of its own: the blocking PostgreSQL client panics on a
/// runtime thread, and async tests call these helpers too.
fn on_plain_thread<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| match s.spawn(f).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// `on_both_backends! { places: [case, …], properties: [property, …] }` in a test
/// module: `on_sqlite::case` and `on_postgres::case` call `case(StorePlace)` with an
/// empty place; `on_sqlite::property` and `on_postgres::property` call
/// `property(Backend)`.
macro_rules! on_both_backends {
    (places: [$($case:ident),* $(,)?], properties: [$($property:ident),* $(,)?] $(,)?) => {
        on_both_backends!(@backend on_sqlite, Sqlite, [$($case),*], [$($property),*]);
        on_both_backends!(@backend on_postgres, Postgres, [$($case),*], [$($property),*]);
    };
    (@backend $module:ident, $backend:ident, [$($case:ident),*], [$($property:ident),*]) => {
        mod $module {
            $(
                #[test]
                fn $case() {
                    let backend = crate::store_backends::Backend::$backend;
                    if let Some(place) = crate::store_backends::StorePlace::new(backend) {
                        super::$case(place);
                    }
                }
            )*
            $(
                #[test]
                fn $property() {
                    super::$property(crate::store_backends::Backend::$backend);
                }
            )*
        }
    };
}
