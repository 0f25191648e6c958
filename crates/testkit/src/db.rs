//! One database per test: a temporary SQLite file, or a uniquely named
//! PostgreSQL database that is dropped when the test ends.

use std::sync::atomic::{AtomicU64, Ordering};

use peerlab_core::store::{Store, StoreOptions};
use sea_orm::{ConnectionTrait, Database, Statement};

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A temporary SQLite file (WAL, synchronous FULL).
    Sqlite,
    /// A fresh database on the server at `PEERLAB_TEST_POSTGRES_URL`.
    Postgres,
}

const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn admin_url() -> String {
    std::env::var("PEERLAB_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_PG.to_owned())
}

impl Backend {
    /// Whether this backend's tests run. PostgreSQL is skipped only when
    /// `PEERLAB_TEST_BACKENDS=sqlite` is set outside CI; under `CI=true` it
    /// always runs, so a missing server fails the suite.
    pub fn enabled(self) -> bool {
        if self == Backend::Sqlite || std::env::var("CI").is_ok_and(|v| v == "true") {
            return true;
        }
        let only = std::env::var("PEERLAB_TEST_BACKENDS").unwrap_or_default();
        let on = only.is_empty() || only.split(',').any(|b| b.trim() == "postgres");
        if !on {
            eprintln!("SKIPPED on PostgreSQL: PEERLAB_TEST_BACKENDS={only}");
        }
        on
    }
}

/// A fresh, migrated database for one test.
pub struct TestDb {
    /// Its URL.
    pub url: String,
    /// The open store.
    pub store: Store,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

static SEQ: AtomicU64 = AtomicU64::new(0);

impl TestDb {
    /// Create and migrate a database; panics with a clear message when the
    /// backend is unreachable.
    pub async fn new(backend: Backend) -> TestDb {
        let (url, dir, pg_name) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("peerlab.db").display());
                (url, Some(dir), None)
            }
            Backend::Postgres => {
                let name = format!(
                    "peerlab_test_{}_{}_{}",
                    std::process::id(),
                    SEQ.fetch_add(1, Ordering::Relaxed),
                    chrono::Utc::now().timestamp_micros() % 1_000_000_000
                );
                let admin = admin_url();
                let conn = Database::connect(&admin).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL is not reachable at {admin} ({e}). Start it, set PEERLAB_TEST_POSTGRES_URL, or run with PEERLAB_TEST_BACKENDS=sqlite outside CI.")
                });
                conn.execute(Statement::from_string(conn.get_database_backend(), format!("CREATE DATABASE {name}")))
                    .await
                    .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
                let _ = conn.close().await;
                (database_url(&admin, &name), None, Some(name))
            }
        };
        let mut options = StoreOptions::new(url.clone());
        options.max_connections = 8;
        let store = Store::open(options).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
        TestDb { url, store, _dir: dir, pg_name }
    }
}

/// `admin` with its database path replaced by `name`.
pub fn database_url(admin: &str, name: &str) -> String {
    let (base, query) = admin.split_once('?').map_or((admin, None), |(b, q)| (b, Some(q)));
    let root = base.rsplit_once('/').map_or(base, |(r, _)| r);
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else { return };
        let store = self.store.clone();
        // Drop runs inside the test's runtime; a separate thread with its own
        // runtime can block on the async DROP without stalling that runtime.
        let joined = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async move {
                let _ = store.close().await;
                let conn = Database::connect(&admin_url()).await.ok()?;
                conn.execute(Statement::from_string(
                    conn.get_database_backend(),
                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                ))
                .await
                .ok()
            })
        })
        .join();
        if !matches!(joined, Ok(Some(_))) {
            eprintln!("warning: could not drop test database");
        }
    }
}
