//! Writes on a SQLite file without a hop to another thread.
//!
//! sqlx runs every SQLite statement on its connection's worker thread and
//! hands the result back through channels; a create sends about ten
//! statements, and those hand-offs, not SQLite, were most of its CPU
//! (`BENCHMARKS.md`, S2). SQLite has one writer at a time and peerlab's
//! writes already queue for it in [`super::batch`], so the writer here is
//! one rusqlite connection of its own, and a write's statements run on the
//! calling thread while the write holds its seat in the batch: each is an
//! in-memory B-tree change of a few microseconds inside the open
//! transaction. Only the batch's `COMMIT`, which waits for the disk, runs on
//! a blocking thread.
//!
//! The statements are still built by sea-orm and sea-query: [`Savepoint`]
//! implements sea-orm's `ConnectionTrait` (through [`super::direct`]'s
//! statement runner, rows as sea-orm's proxy rows), so every resource's
//! write code is the same on SQLite and PostgreSQL.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, Statement};

use super::SqliteDurability;
use super::direct::{execute, execute_unprepared, failed, query};

/// How long the writer waits for another connection's write lock (only
/// migrations at start-up, or another process, which the README rules out).
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The read-write connection to a SQLite file.
#[derive(Clone)]
pub(crate) struct Writer {
    conn: Arc<Mutex<Connection>>,
}

impl Writer {
    /// Open the file at `path` for writing, committing with `durability`.
    pub fn open(path: &Path, durability: SqliteDurability) -> Result<Self, DbErr> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| failed(e, DbErr::Conn))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| failed(e, DbErr::Conn))?;
        // `synchronous` and `foreign_keys` hold per connection; the journal
        // mode is the file's, set when sqlx opened it.
        let synchronous = match durability {
            SqliteDurability::Full => "FULL",
            SqliteDurability::Extra => "EXTRA",
            SqliteDurability::Normal => "NORMAL",
        };
        // A savepoint's undo log (its statement journal) stays in memory up
        // to SQLite's spill size, raised for this workspace in
        // `.cargo/config.toml` so that a write's never reaches a temp file.
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; PRAGMA foreign_keys = ON;"
        ))
        .map_err(|e| failed(e, DbErr::Conn))?;
        // Every statement shape of every write stays prepared.
        conn.set_prepared_statement_cache_capacity(256);
        Ok(Writer { conn: Arc::new(Mutex::new(conn)) })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A poisoned connection is still a valid connection: rusqlite keeps
        // no state that a panic half-way could have broken.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Run `sql` (one statement without values) here and now, prepared
    /// once per connection.
    pub fn run(&self, sql: &str) -> Result<(), DbErr> {
        let conn = self.lock();
        let mut prepared = conn.prepare_cached(sql).map_err(|e| failed(e, DbErr::Exec))?;
        prepared.execute([]).map(drop).map_err(|e| failed(e, DbErr::Exec))
    }

    /// Run `statement` in the open transaction, outside any write's
    /// savepoint (the batch's own statements).
    pub fn execute(&self, statement: Statement) -> Result<(), DbErr> {
        execute(&self.lock(), statement).map(drop)
    }

    /// Undo the open savepoint's changes and end it.
    fn roll_back_savepoint(&self) -> Result<(), DbErr> {
        self.run("ROLLBACK TO write")?;
        self.run("RELEASE write")
    }

    /// Begin a savepoint for one write inside the open transaction.
    pub fn savepoint(&self) -> Result<Savepoint, DbErr> {
        self.run("SAVEPOINT write")?;
        Ok(Savepoint { writer: self.clone(), open: true })
    }

    /// Commit the open transaction on a blocking thread (it waits for the
    /// disk); if the commit fails, roll back whatever is left of it.
    pub async fn commit(&self) -> Result<(), DbErr> {
        let writer = self.clone();
        let done = tokio::task::spawn_blocking(move || {
            let conn = writer.lock();
            let result = conn.execute_batch("COMMIT").map_err(|e| failed(e, DbErr::Exec));
            if result.is_err() && !conn.is_autocommit() {
                // Still open (a busy commit): nothing of it may stay.
                let _ = conn.execute_batch("ROLLBACK");
            }
            result
        });
        done.await.map_err(|e| DbErr::Custom(format!("commit task: {e}")))?
    }
}

/// One write's savepoint in the writer's open transaction. Dropped without
/// [`Savepoint::release`] (a failed or cancelled write), it rolls back.
pub(crate) struct Savepoint {
    writer: Writer,
    open: bool,
}

impl Savepoint {
    /// Keep the write's changes in the transaction.
    pub fn release(mut self) -> Result<(), DbErr> {
        self.open = false;
        self.writer.run("RELEASE write")
    }

    /// Undo the write's changes.
    pub fn rollback(mut self) -> Result<(), DbErr> {
        self.open = false;
        self.writer.roll_back_savepoint()
    }
}

impl Drop for Savepoint {
    fn drop(&mut self) {
        if self.open {
            // A write cut off mid-way: undo it before its seat in the batch
            // is given up (`WriteTx` drops this before the seat).
            if let Err(e) = self.writer.roll_back_savepoint() {
                tracing::error!(error = %e, "rolling back a cut-off write");
            }
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Savepoint {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Sqlite
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        execute(&self.writer.lock(), stmt)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        execute_unprepared(&self.writer.lock(), sql)
    }

    async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        Ok(query(&self.writer.lock(), stmt, 1)?.pop())
    }

    async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        query(&self.writer.lock(), stmt, usize::MAX)
    }

    fn support_returning(&self) -> bool {
        // As sea-orm's own SQLite driver: the new row id comes from the
        // connection (`last_insert_rowid`), not a `RETURNING` clause.
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{DbBackend, Statement, Value};

    fn stmt(sql: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
    }

    #[tokio::test]
    async fn writes_roll_back_alone_and_rows_read_by_name_and_position() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("w.db");
        Connection::open(&path)
            .and_then(|c| c.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, note TEXT)"))
            .expect("schema");
        let writer = Writer::open(&path, SqliteDurability::Full).expect("writer");
        writer.run("BEGIN IMMEDIATE").expect("begin");

        // A write that is dropped half-way leaves nothing behind.
        let cut = writer.savepoint().expect("savepoint");
        cut.execute(stmt("INSERT INTO t (name) VALUES (?)", vec!["lost".into()])).await.expect("insert");
        drop(cut);

        // A kept write reports its row id and row count.
        let kept = writer.savepoint().expect("savepoint");
        let done = kept.execute(stmt("INSERT INTO t (name) VALUES (?)", vec!["kept".into()])).await.expect("insert");
        assert_eq!((done.last_insert_id(), done.rows_affected()), (1, 1));
        let row = kept
            .query_one(stmt("SELECT id, name, note, id > 0 AS positive FROM t WHERE name = ?", vec!["kept".into()]))
            .await
            .expect("query")
            .expect("row");
        assert_eq!(row.try_get::<i64>("", "id").expect("id"), 1);
        assert_eq!(row.try_get::<String>("", "name").expect("name"), "kept");
        assert_eq!(row.try_get_by_index::<String>(1).expect("name by position"), "kept");
        assert_eq!(row.try_get_by_index::<Option<String>>(2).expect("null note"), None);
        assert_eq!(row.try_get_by_index::<i64>(3).expect("computed"), 1);
        kept.release().expect("release");

        // A write that fails rolls back to its savepoint; the batch goes on.
        let failing = writer.savepoint().expect("savepoint");
        failing.execute(stmt("INSERT INTO t (name) VALUES (?)", vec!["doomed".into()])).await.expect("insert");
        let err = failing.execute(stmt("INSERT INTO nowhere VALUES (1)", vec![])).await.expect_err("no table");
        assert!(matches!(err, DbErr::Exec(_)), "{err:?}");
        failing.rollback().expect("rollback");

        writer.commit().await.expect("commit");
        let names: Vec<String> = Connection::open(&path)
            .expect("reader")
            .prepare("SELECT name FROM t ORDER BY id")
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<std::result::Result<_, _>>()
            .expect("rows");
        assert_eq!(names, ["kept"]);
    }

    #[tokio::test]
    async fn a_locked_file_is_a_retryable_error() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("w.db");
        let other = Connection::open(&path).expect("other");
        other.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY)").expect("schema");
        let writer = Writer::open(&path, SqliteDurability::Full).expect("writer");
        writer.lock().busy_timeout(Duration::from_millis(10)).expect("timeout");
        other.execute_batch("BEGIN IMMEDIATE").expect("lock");
        let err = writer.run("BEGIN IMMEDIATE").expect_err("busy");
        assert!(super::super::is_connection_error(&err), "{err:?}");
    }
}
