//! Point reads on a SQLite file without a hop to another thread.
//!
//! sqlx runs every SQLite statement on a worker thread of its connection and
//! hands the rows back through channels: at least two thread switches per
//! statement. For a read of one row by primary key, which SQLite answers in a
//! few microseconds, those switches were most of the call: profiling
//! GetChallenge showed about half the server's CPU in the kernel's scheduler.
//! sqlx has no synchronous statement API, so these reads use rusqlite
//! connections of their own, opened read-only on the same file (WAL lets
//! them read while the writer writes), and run the statement on the calling
//! thread. Only reads bounded to one row by an indexed key come here: they
//! block the runtime thread for about as long as the hop itself would have.
//! Pages of rows and reads of several statements (reports, through
//! [`ReadConn`]) run on a blocking thread instead: one hop for the whole
//! read. The SQL is still built by sea-query, as for every other statement;
//! the statement runner here (sea-orm statements in, sea-orm rows out) also
//! serves the writer ([`super::writer`]).

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::types::{Value as Cell, ValueRef};
use rusqlite::{Connection, OpenFlags};
use sea_orm::sea_query::{SelectStatement, SqliteQueryBuilder, Value, Values};
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, ExecResult, ProxyExecResult, ProxyRow, QueryResult, RuntimeErr, Statement,
};

use crate::{Error, Result};

/// How long a direct read waits for a lock on the file (only a WAL
/// recovery or checkpoint reset takes one that blocks readers).
const BUSY_TIMEOUT: Duration = Duration::from_millis(200);

/// Read-only connections to one SQLite file, in two pools: point reads on
/// runtime threads never wait behind a page read on a blocking thread.
pub(crate) struct DirectReads {
    point: Pool,
    pages: Pool,
}

/// Connections handed out in turn.
struct Pool {
    conns: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl Pool {
    fn open(path: &Path, n: usize) -> Result<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conns = (0..n.max(1))
            .map(|_| {
                let conn = Connection::open_with_flags(path, flags).map_err(internal)?;
                conn.busy_timeout(BUSY_TIMEOUT).map_err(internal)?;
                // Every read shape (gets, pages, a report's statements) stays
                // prepared; rusqlite keeps 16 by default.
                conn.set_prepared_statement_cache_capacity(256);
                Ok(Mutex::new(conn))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Pool { conns, next: AtomicUsize::new(0) })
    }

    /// A free connection if there is one, else the next in turn once free.
    fn conn(&self) -> MutexGuard<'_, Connection> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let n = self.conns.len();
        for i in 0..n {
            if let Ok(guard) = self.conns[(start + i) % n].try_lock() {
                return guard;
            }
        }
        // A poisoned connection is still a valid connection: rusqlite keeps
        // no state that a panic half-way could have broken.
        self.conns[start % n].lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl DirectReads {
    /// Open the connections to the database file at `path`: for point reads
    /// more than the runtime has threads (`threads`), so that one is always
    /// free (none is held across an await); for pages as many.
    pub fn open(path: &Path, threads: usize) -> Result<Self> {
        Ok(DirectReads { point: Pool::open(path, threads + 1)?, pages: Pool::open(path, threads + 1)? })
    }

    /// Run the statement of shape `shape` with `values` and read its first
    /// row with `read`, if there is one. `build` makes the statement, with
    /// these values, the first time the shape is used (see [`super::shape`]:
    /// writing the SQL out was a sixth of GetChallenge's CPU).
    pub fn query_one<R>(
        &self,
        shape: &'static str,
        values: Vec<Value>,
        build: impl FnOnce() -> SelectStatement,
        read: impl FnOnce(&rusqlite::Row<'_>) -> Result<R>,
    ) -> Result<Option<R>> {
        let sql = super::shape::sql(DbBackend::Sqlite, (shape, 0), &values, || {
            let (sql, built) = build().build(SqliteQueryBuilder);
            (sql, built.0)
        })?;
        let params = values.into_iter().map(bind).collect::<Result<Vec<_>>>()?;
        let conn = self.point.conn();
        let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params)).map_err(internal)?;
        match rows.next().map_err(internal)? {
            Some(row) => read(row).map(Some),
            None => Ok(None),
        }
    }

    /// Run `read` on a blocking thread with these connections as a sea-orm
    /// connection: one hop for a read of several statements instead of one
    /// per statement. `read`'s statements never wait on anything but SQLite,
    /// so its future completes on that thread.
    pub async fn read<R, F, Fut>(self: &Arc<Self>, read: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(ReadConn) -> Fut + Send + 'static,
        Fut: Future<Output = Result<R>> + Send + 'static,
    {
        let conn = ReadConn(self.clone());
        let runtime = tokio::runtime::Handle::current();
        let done = tokio::task::spawn_blocking(move || runtime.block_on(read(conn)));
        done.await.map_err(|e| Error::Internal(format!("direct read task: {e}")))?
    }

    /// Run `q` on a blocking thread and read every row with `read`: for
    /// pages of many rows, which take too long for a runtime thread but pay
    /// one hop per page instead of one per statement and need no row to be
    /// copied through sqlx's channel.
    pub async fn query_all<R: Send + 'static>(
        self: &Arc<Self>,
        q: SelectStatement,
        read: fn(&rusqlite::Row<'_>) -> Result<R>,
    ) -> Result<Vec<R>> {
        let this = self.clone();
        let (sql, values) = q.build(SqliteQueryBuilder);
        let params = values.into_iter().map(bind).collect::<Result<Vec<_>>>()?;
        let rows = tokio::task::spawn_blocking(move || {
            let conn = this.pages.conn();
            let mut stmt = conn.prepare_cached(&sql).map_err(internal)?;
            let mut rows = stmt.query(rusqlite::params_from_iter(params)).map_err(internal)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(internal)? {
                out.push(read(row)?);
            }
            Ok(out)
        });
        rows.await.map_err(|e| Error::Internal(format!("direct read task: {e}")))?
    }
}

/// Run one statement on `conn` and report its row count and last row id.
pub(super) fn execute(conn: &Connection, stmt: Statement) -> std::result::Result<ExecResult, DbErr> {
    let mut prepared = conn.prepare_cached(&stmt.sql).map_err(|e| failed(e, DbErr::Exec))?;
    let rows_affected = prepared.execute(params(stmt.values)?).map_err(|e| failed(e, DbErr::Exec))?;
    let last_insert_id = u64::try_from(conn.last_insert_rowid()).unwrap_or_default();
    Ok(ProxyExecResult { last_insert_id, rows_affected: rows_affected as u64 }.into())
}

/// Run statements without values on `conn`.
pub(super) fn execute_unprepared(conn: &Connection, sql: &str) -> std::result::Result<ExecResult, DbErr> {
    conn.execute_batch(sql).map_err(|e| failed(e, DbErr::Exec))?;
    let last_insert_id = u64::try_from(conn.last_insert_rowid()).unwrap_or_default();
    Ok(ProxyExecResult { last_insert_id, rows_affected: conn.changes() }.into())
}

/// Run one query on `conn` and read at most `limit` rows, as sea-orm rows.
pub(super) fn query(conn: &Connection, stmt: Statement, limit: usize) -> std::result::Result<Vec<QueryResult>, DbErr> {
    let mut prepared = conn.prepare_cached(&stmt.sql).map_err(|e| failed(e, DbErr::Query))?;
    let names: Vec<String> = prepared.column_names().into_iter().map(str::to_owned).collect();
    let mut rows = prepared.query(params(stmt.values)?).map_err(|e| failed(e, DbErr::Query))?;
    let mut out = Vec::new();
    while out.len() < limit {
        let Some(row) = rows.next().map_err(|e| failed(e, DbErr::Query))? else { break };
        out.push(proxy_row(row, &names)?.into());
    }
    Ok(out)
}

/// The direct-read connections as a sea-orm connection, for reads of
/// several statements written against `ConnectionTrait` (reports): each
/// statement runs on a page connection on the calling thread, so the whole
/// read belongs on a blocking thread ([`DirectReads::read`]).
pub(crate) struct ReadConn(Arc<DirectReads>);

#[async_trait::async_trait]
impl ConnectionTrait for ReadConn {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Sqlite
    }

    async fn execute(&self, stmt: Statement) -> std::result::Result<ExecResult, DbErr> {
        execute(&self.0.pages.conn(), stmt)
    }

    async fn execute_unprepared(&self, sql: &str) -> std::result::Result<ExecResult, DbErr> {
        execute_unprepared(&self.0.pages.conn(), sql)
    }

    async fn query_one(&self, stmt: Statement) -> std::result::Result<Option<QueryResult>, DbErr> {
        Ok(query(&self.0.pages.conn(), stmt, 1)?.pop())
    }

    async fn query_all(&self, stmt: Statement) -> std::result::Result<Vec<QueryResult>, DbErr> {
        query(&self.0.pages.conn(), stmt, usize::MAX)
    }

    fn support_returning(&self) -> bool {
        false
    }
}

/// A statement's values, bound as SQLite values.
fn params(values: Option<Values>) -> Result<rusqlite::ParamsFromIter<Vec<rusqlite::types::Value>>, DbErr> {
    let values = values.map(|v| v.0).unwrap_or_default();
    let cells = values.into_iter().map(bind).collect::<crate::Result<Vec<_>>>();
    Ok(rusqlite::params_from_iter(cells.map_err(|e| DbErr::Custom(e.to_string()))?))
}

/// A row as sea-orm reads a proxy row: by column name, and by position
/// through a second set of keys that sort before any name, in column order
/// (a proxy row is a sorted map, so position `i` is its `i`-th key).
/// SQLite's storage classes map to the value kinds peerlab's rows hold:
/// INTEGER to a 64-bit integer, TEXT to a string, REAL to a double.
fn proxy_row(row: &rusqlite::Row<'_>, names: &[String]) -> Result<ProxyRow, DbErr> {
    let mut values = BTreeMap::new();
    for (i, name) in names.iter().enumerate() {
        let value = match row.get_ref(i).map_err(|e| failed(e, DbErr::Query))? {
            ValueRef::Null => Value::BigInt(None),
            ValueRef::Integer(n) => Value::BigInt(Some(n)),
            ValueRef::Real(x) => Value::Double(Some(x)),
            ValueRef::Text(t) => Value::String(Some(Box::new(String::from_utf8_lossy(t).into_owned()))),
            ValueRef::Blob(b) => Value::Bytes(Some(Box::new(b.to_vec()))),
        };
        values.insert(format!("\u{1}{i:05}"), value.clone());
        values.insert(name.clone(), value);
    }
    Ok(ProxyRow::new(values))
}

/// A rusqlite error as sea-orm's: busy or locked (another writer outlasting
/// the busy timeout) means "database unreachable, retry"; anything else is
/// the statement's failure, of the kind `kind`.
pub(super) fn failed(e: rusqlite::Error, kind: fn(RuntimeErr) -> DbErr) -> DbErr {
    use rusqlite::ErrorCode::{DatabaseBusy, DatabaseLocked};
    let message = RuntimeErr::Internal(format!("SQLite: {e}"));
    match e.sqlite_error_code() {
        Some(DatabaseBusy | DatabaseLocked) => DbErr::Conn(message),
        _ => kind(message),
    }
}

/// A failed direct read: busy or locked (a WAL recovery outlasting the busy
/// timeout) is "database unreachable, retry"; anything else is internal.
fn internal(e: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode::{DatabaseBusy, DatabaseLocked};
    match e.sqlite_error_code() {
        Some(DatabaseBusy | DatabaseLocked) => {
            Error::Database(DbErr::Conn(RuntimeErr::Internal(format!("direct read: {e}"))))
        }
        _ => Error::Internal(format!("direct read: {e}")),
    }
}

/// A sea-query value as a SQLite value (the kinds peerlab's reads bind).
pub(super) fn bind(v: Value) -> Result<Cell> {
    Ok(match v {
        Value::Bool(b) => b.map_or(Cell::Null, |b| Cell::Integer(b.into())),
        Value::TinyInt(i) => i.map_or(Cell::Null, |i| Cell::Integer(i.into())),
        Value::SmallInt(i) => i.map_or(Cell::Null, |i| Cell::Integer(i.into())),
        Value::Int(i) => i.map_or(Cell::Null, |i| Cell::Integer(i.into())),
        Value::BigInt(i) => i.map_or(Cell::Null, Cell::Integer),
        Value::TinyUnsigned(i) => i.map_or(Cell::Null, |i| Cell::Integer(i.into())),
        Value::SmallUnsigned(i) => i.map_or(Cell::Null, |i| Cell::Integer(i.into())),
        Value::Unsigned(i) => i.map_or(Cell::Null, |i| Cell::Integer(i.into())),
        // A LIMIT: SQLite integers are 64-bit signed, as sqlx would bind it.
        Value::BigUnsigned(Some(i)) => Cell::Integer(i64::try_from(i).unwrap_or(i64::MAX)),
        Value::BigUnsigned(None) => Cell::Null,
        Value::Double(f) => f.map_or(Cell::Null, Cell::Real),
        Value::String(s) => s.map_or(Cell::Null, |s| Cell::Text(*s)),
        other => return Err(Error::Internal(format!("direct read cannot bind {other:?}"))),
    })
}

/// A result row read by column position, whichever driver produced it.
pub(crate) trait Cells {
    /// The value of column `i`.
    fn cell<T: FromCell>(&self, i: usize) -> Result<T>;
}

/// A column type both drivers decode.
pub(crate) trait FromCell: Sized + sea_orm::TryGetable + rusqlite::types::FromSql {}

impl<T: sea_orm::TryGetable + rusqlite::types::FromSql> FromCell for T {}

impl Cells for sea_orm::QueryResult {
    fn cell<T: FromCell>(&self, i: usize) -> Result<T> {
        Ok(self.try_get_by_index(i)?)
    }
}

impl Cells for rusqlite::Row<'_> {
    fn cell<T: FromCell>(&self, i: usize) -> Result<T> {
        rusqlite::Row::get(self, i).map_err(internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sea_query::{Alias, Expr, Query};

    #[test]
    fn reads_committed_rows_and_binds_every_value_kind() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("t.db");
        let writer = Connection::open(&path).expect("open");
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, flag INTEGER);
                 INSERT INTO t VALUES (1, 'one', 1), (2, NULL, 0);",
            )
            .expect("schema");
        let reads = DirectReads::open(&path, 2).expect("direct");
        let q = |id: i64, name: &'static str| {
            let values = vec![id.into(), name.into(), name.is_empty().into()];
            let build = move || {
                Query::select()
                    .columns(["id", "name", "flag"].map(Alias::new))
                    .from(Alias::new("t"))
                    .and_where(Expr::col(Alias::new("id")).eq(id))
                    .and_where(Expr::col(Alias::new("name")).eq(name).or(Expr::val(name.is_empty()).into()))
                    .to_owned()
            };
            (values, build)
        };
        let run = |(values, build)| {
            let read =
                |r: &rusqlite::Row<'_>| Ok((r.cell::<i64>(0)?, r.cell::<Option<String>>(1)?, r.cell::<bool>(2)?));
            reads.query_one("t", values, build, read).expect("read")
        };
        assert_eq!(run(q(1, "one")), Some((1, Some("one".to_owned()), true)));
        // The second use of the shape runs the cached SQL with new values.
        assert_eq!(run(q(2, "")), Some((2, None, false)));
        assert_eq!(run(q(3, "")), None);
        // A row committed after the connections were opened is seen.
        writer.execute("INSERT INTO t VALUES (3, 'three', 1)", []).expect("insert");
        assert_eq!(run(q(3, "")), Some((3, Some("three".to_owned()), true)));
        // Many rows, on a blocking thread.
        let all = Query::select().column(Alias::new("id")).from(Alias::new("t")).limit(10).to_owned();
        let reads = Arc::new(reads);
        let ids = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(reads.query_all(all, |r| r.cell::<i64>(0)))
            .expect("all");
        assert_eq!(ids, vec![1, 2, 3]);
        // A shape whose values come in another order than its statement binds is refused.
        let (mut values, build) = q(4, "x");
        values.swap(0, 1);
        assert!(matches!(reads.query_one("u", values, build, |r| r.cell::<i64>(0)), Err(Error::Internal(_))));
        // A connection cannot write.
        let conn = reads.point.conn();
        assert!(conn.execute("DELETE FROM t", []).is_err());
    }
}
