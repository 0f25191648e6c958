//! Storage on sea-orm: SQLite (embedded default) or PostgreSQL, chosen by URL.
//!
//! Every write is one transaction that also appends its event
//! ([`write::WriteTx`]); lists page by keyset with opaque tokens
//! ([`page`]); creates are idempotent by `request_id`.

mod batch;
mod challenge;
mod content;
mod direct;
mod entity;
mod event;
mod filter;
mod ids;
mod initiative;
mod live;
mod lookup;
mod membership;
mod municipality;
mod owned;
mod page;
mod project_idea;
mod recommendation;
mod scope;
mod shape;
mod slots;
mod terms;
mod working_group;
mod workshop;
mod write;
mod writer;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use peerlab_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, ExecResult, QueryResult, Statement,
};
use tokio::sync::watch;

pub use filter::{Filter, Op, Term};
pub use page::{check_page_request, page_token_after};
pub use sea_orm::DbErr;
pub use write::RequestId;

use crate::{Error, Result};

/// How durable SQLite commits are (`PRAGMA synchronous`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SqliteDurability {
    /// fsync on every commit (the default): an acknowledged write survives power loss.
    #[default]
    Full,
    /// Also fsync the directory: survives even more exotic failures.
    Extra,
    /// WAL without fsync on commit: survives a process crash, not power loss.
    Normal,
}

/// How to open the store.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// `sqlite://path?mode=rwc` or `postgres://...`.
    pub url: String,
    /// Pool size.
    pub max_connections: u32,
    /// SQLite durability (ignored on PostgreSQL).
    pub sqlite_durability: SqliteDurability,
    /// How long a PostgreSQL connection lives before the pool replaces it
    /// (`None`: for good). The connection held for the creates' shared
    /// statements goes back to the pool after as long again.
    pub max_lifetime: Option<Duration>,
}

impl StoreOptions {
    /// Options with defaults for `url`: 16 connections, SQLite's FULL
    /// durability, and PostgreSQL connections replaced after 30 minutes
    /// (sqlx's default, named here).
    pub fn new(url: impl Into<String>) -> Self {
        StoreOptions {
            url: url.into(),
            max_connections: 16,
            sqlite_durability: SqliteDurability::Full,
            max_lifetime: Some(Duration::from_secs(30 * 60)),
        }
    }
}

/// The network's data. Cheap to clone.
///
/// ```no_run
/// # async fn run() -> peerlab_core::Result<()> {
/// use peerlab_core::store::{Store, StoreOptions};
/// let store = Store::open(StoreOptions::new("sqlite://peerlab.db?mode=rwc")).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    /// SQLite allows one writer at a time: writes queue in the process that
    /// owns the file (instead of contending inside SQLite), run on its one
    /// writing connection ([`writer`]) and commit together ([`batch`]).
    /// None on PostgreSQL, where each write is a transaction on the pool (a
    /// create, one statement: [`Store::begin_create`]).
    group: Option<batch::GroupCommit>,
    /// The highest committed event id this process knows of ([`Store::committed`]).
    committed: Arc<watch::Sender<i64>>,
    /// Where the database is, for connections outside the pool (LISTEN).
    url: Arc<str>,
    /// On a SQLite file, connections for point reads on the caller's thread.
    direct: Option<Arc<direct::DirectReads>>,
    /// On PostgreSQL, the report counter slots of the writes in flight.
    slots: Option<Arc<slots::Slots>>,
    /// On PostgreSQL, the newest event id committed here, which a task
    /// announces to the other replicas ([`live::announcer`]).
    announce: Option<Arc<watch::Sender<i64>>>,
    /// On PostgreSQL, row ids drawn ahead for creates ([`ids`]).
    ids: Option<Arc<ids::IdBlocks>>,
    /// On PostgreSQL, where creates commit, together when many are in
    /// flight ([`write::Combiner`]).
    combiner: Option<Arc<write::Combiner>>,
}

impl Store {
    /// Connect without migrating.
    pub async fn connect(options: StoreOptions) -> Result<Self> {
        let mut opts = ConnectOptions::new(options.url.clone());
        opts.max_connections(options.max_connections.max(1))
            .min_connections(1)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(30))
            .sqlx_logging(false);
        // A local SQLite file cannot drop a connection, so the ping sqlx sends
        // before handing one out is pure cost (a round trip to the
        // connection's worker thread per query). PostgreSQL has a pool of
        // its own ([`postgres_pool`]).
        opts.test_before_acquire(false);
        let sync = match options.sqlite_durability {
            SqliteDurability::Full => SqliteSynchronous::Full,
            SqliteDurability::Extra => SqliteSynchronous::Extra,
            SqliteDurability::Normal => SqliteSynchronous::Normal,
        };
        opts.map_sqlx_sqlite_opts(move |o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(sync)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30))
        });
        let db = if options.url.starts_with("postgres") {
            postgres_pool(&options).await?
        } else {
            Database::connect(opts).await?
        };
        let committed = Arc::new(watch::channel(0).0);
        let (group, direct, slots, announce, ids, combiner) = match db.get_database_backend() {
            DatabaseBackend::Sqlite => {
                let path = sqlite_file(&options.url)?;
                let writer = writer::Writer::open(&path, options.sqlite_durability)?;
                // The runtime has a worker thread per core.
                let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
                let direct = direct::DirectReads::open(&path, threads)?;
                let group = batch::GroupCommit::start(writer, committed.clone());
                (Some(group), Some(Arc::new(direct)), None, None, None, None)
            }
            DatabaseBackend::Postgres => {
                let slots = slots::Slots::new(options.max_connections);
                let combiner = write::Combiner::new(db.clone(), Some(slots.clone()), write::COMMITS_IN_FLIGHT);
                let announce = Some(live::announcer(db.clone()));
                (None, None, Some(slots), announce, Some(Arc::default()), Some(combiner))
            }
            DatabaseBackend::MySql => return Err(Error::Internal("MySQL is not supported".into())),
        };
        Ok(Store { db, group, committed, url: options.url.into(), direct, slots, announce, ids, combiner })
    }

    /// Connect and apply pending migrations.
    pub async fn open(options: StoreOptions) -> Result<Self> {
        let store = Self::connect(options).await?;
        store.migrate().await?;
        live::bump(&store.committed, store.last_event_id().await?);
        Ok(store)
    }

    /// Apply pending migrations.
    pub async fn migrate(&self) -> Result<()> {
        Migrator::up(&self.db, None).await?;
        Ok(())
    }

    /// Which database this is.
    pub fn backend(&self) -> DatabaseBackend {
        self.db.get_database_backend()
    }

    /// The underlying connection (for health checks and benchmarks).
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Check the database answers.
    pub async fn ping(&self) -> Result<()> {
        self.db.ping().await?;
        Ok(())
    }

    /// Close the pool.
    pub async fn close(self) -> Result<()> {
        if let Some(combiner) = &self.combiner {
            combiner.release();
        }
        self.db.close().await?;
        Ok(())
    }
}

/// One of two connections: sqlx's (PostgreSQL) or peerlab's own on a SQLite
/// file, as one sea-orm connection.
pub(crate) enum Either<S, D> {
    Sqlx(S),
    Direct(D),
}

#[async_trait::async_trait]
impl<S: ConnectionTrait + Send, D: ConnectionTrait + Send> ConnectionTrait for Either<S, D> {
    fn get_database_backend(&self) -> DatabaseBackend {
        match self {
            Either::Sqlx(c) => c.get_database_backend(),
            Either::Direct(c) => c.get_database_backend(),
        }
    }

    async fn execute(&self, stmt: Statement) -> std::result::Result<ExecResult, DbErr> {
        match self {
            Either::Sqlx(c) => c.execute(stmt).await,
            Either::Direct(c) => c.execute(stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> std::result::Result<ExecResult, DbErr> {
        match self {
            Either::Sqlx(c) => c.execute_unprepared(sql).await,
            Either::Direct(c) => c.execute_unprepared(sql).await,
        }
    }

    async fn query_one(&self, stmt: Statement) -> std::result::Result<Option<QueryResult>, DbErr> {
        match self {
            Either::Sqlx(c) => c.query_one(stmt).await,
            Either::Direct(c) => c.query_one(stmt).await,
        }
    }

    async fn query_all(&self, stmt: Statement) -> std::result::Result<Vec<QueryResult>, DbErr> {
        match self {
            Either::Sqlx(c) => c.query_all(stmt).await,
            Either::Direct(c) => c.query_all(stmt).await,
        }
    }

    fn support_returning(&self) -> bool {
        match self {
            Either::Sqlx(c) => c.support_returning(),
            Either::Direct(c) => c.support_returning(),
        }
    }
}

/// A connection for a read of several statements: the pool on PostgreSQL,
/// the direct-read connections on SQLite.
pub(crate) type Reader = Either<DatabaseConnection, direct::ReadConn>;

impl Store {
    /// Run `read` with a [`Reader`]. On SQLite the whole read runs on a
    /// blocking thread (one hop, not one per statement through sqlx's worker).
    pub(crate) async fn read_with<R, F, Fut>(&self, read: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(Reader) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<R>> + Send + 'static,
    {
        match &self.direct {
            Some(direct) => direct.read(move |conn| read(Either::Direct(conn))).await,
            None => read(Either::Sqlx(self.db.clone())).await,
        }
    }
}

/// How long a PostgreSQL connection may sit in the pool and still be handed
/// out without a ping.
pub(crate) const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// The pool of PostgreSQL connections, as sea-orm's would be but for one
/// setting sea-orm does not expose. sqlx pings every connection as it goes
/// back to the pool, and by default again before handing it out: two round
/// trips around every statement outside a transaction (a create's read and
/// its one write statement, [`Store::begin_create`]), which on loopback cost
/// more server and database CPU than the statements. A connection is
/// pinged before it is handed out only if it sat idle for longer than
/// [`PING_AFTER_IDLE`]: a database restart or fail-over while the service is
/// quiet is still caught before a call fails, and under load, when every
/// connection was seen alive by its release ping a moment ago, no round trip
/// is added. A connection that breaks in between fails one call, as
/// retryable (`UNAVAILABLE`), and is closed at its release.
async fn postgres_pool(options: &StoreOptions) -> Result<DatabaseConnection> {
    use sea_orm::sqlx::ConnectOptions as _;
    use sea_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    let connect = PgConnectOptions::from_str(&options.url)
        .map_err(|e| Error::invalid("database.url", format!("is not a PostgreSQL URL: {e}")))?
        .disable_statement_logging();
    let pool = PgPoolOptions::new()
        .max_connections(options.max_connections.max(1))
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(30))
        .max_lifetime(options.max_lifetime)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > PING_AFTER_IDLE {
                    sea_orm::sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .connect_with(connect)
        .await
        .map_err(|e| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e)))?;
    Ok(DatabaseConnection::from(pool))
}

/// The file of the SQLite database at `url` (sqlx has created it by now).
/// peerlab's readers and its writer open the file beside sqlx's pool, so an
/// in-memory database, which only one pool can see, is refused.
fn sqlite_file(url: &str) -> Result<std::path::PathBuf> {
    let options = SqliteConnectOptions::from_str(url).map_err(|e| Error::Internal(format!("SQLite URL: {e}")))?;
    let path = options.get_filename();
    if !path.is_file() {
        return Err(Error::invalid(
            "database.url",
            "must name a SQLite file (sqlite://PATH?mode=rwc); in-memory databases are not supported",
        ));
    }
    Ok(path.to_owned())
}

/// Whether a database error means the database could not be reached (a
/// dropped connection, a server restarting or failing over, an exhausted
/// pool) rather than a fault in the request or in peerlab: the caller may
/// retry later.
pub fn is_connection_error(e: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as Sqlx;
    let sqlx = match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => s,
        _ => return false,
    };
    match sqlx {
        Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
        // SQLSTATE class 08 (connection exception) and 57P (operator
        // intervention: admin shutdown, crash shutdown, cannot connect now).
        Sqlx::Database(db) => db.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}
