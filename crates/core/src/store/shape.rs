//! Statements whose SQL is written out once per shape.
//!
//! sea-query writes a statement's SQL anew on every call, through
//! `core::fmt`, which costs far more than SQLite takes to run a prepared
//! insert or a read by key: in an in-process profile of creates it was an
//! eighth of all CPU, all of it spent while the write held SQLite's only
//! writer (and a sixth of a direct GetChallenge). A *shape* is one statement
//! of the code with only its values changing (a `&'static str` name, and a
//! count for statements with a variable number of rows); its SQL is built the
//! first time by the usual builder and reused after, with the caller's
//! values.
//!
//! The caller passes the values in the order the builder binds them. The
//! first use of each shape (in every process, so in every test run) checks
//! that against what the builder bound and fails the statement if they
//! differ; the values' order cannot change later, because the code that
//! builds the statement does not.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, PoisonError, RwLock};

use sea_orm::sea_query::Value;
use sea_orm::{DbBackend, Statement};

use crate::{Error, Result};

/// A statement of the code: its name, and how many rows or items it has for
/// statements whose length varies.
pub(crate) type Shape = (&'static str, usize);

/// The SQL of each shape seen, by database kind and shape.
type Cache = HashMap<(u8, Shape), Arc<str>>;

static SQL: LazyLock<RwLock<Cache>> = LazyLock::new(RwLock::default);

fn kind(backend: DbBackend) -> u8 {
    match backend {
        DbBackend::Sqlite => 0,
        DbBackend::Postgres => 1,
        DbBackend::MySql => 2,
    }
}

/// The SQL of `shape` on `backend`: as cached, or as `build` writes it, once
/// its values are checked to be `values`.
pub(crate) fn sql(
    backend: DbBackend,
    shape: Shape,
    values: &[Value],
    build: impl FnOnce() -> (String, Vec<Value>),
) -> Result<Arc<str>> {
    let key = (kind(backend), shape);
    if let Some(sql) = SQL.read().unwrap_or_else(PoisonError::into_inner).get(&key) {
        return Ok(sql.clone());
    }
    let (sql, built) = build();
    if built != values {
        return Err(Error::Internal(format!("statement {shape:?} binds {built:?}, not {values:?}")));
    }
    let sql: Arc<str> = sql.into();
    SQL.write().unwrap_or_else(PoisonError::into_inner).insert(key, sql.clone());
    Ok(sql)
}

/// The statement of `shape` on `backend` with `values` (see [`sql`]).
pub(crate) fn statement(
    backend: DbBackend,
    shape: Shape,
    values: Vec<Value>,
    build: impl FnOnce() -> Statement,
) -> Result<Statement> {
    let sql = sql(backend, shape, &values, || {
        let built = build();
        (built.sql, built.values.map(|v| v.0).unwrap_or_default())
    })?;
    Ok(Statement::from_sql_and_values(backend, sql.as_ref(), values))
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Expr, Query, SqliteQueryBuilder};

    use super::*;

    fn select(a: i64, b: &str) -> Statement {
        let q =
            Query::select().expr(Expr::val(a)).and_where(Expr::cust_with_values("x = ?", [b.to_owned()])).to_owned();
        let (sql, values) = q.build(SqliteQueryBuilder);
        Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
    }

    #[test]
    fn a_shape_is_built_once_and_takes_new_values() {
        let shape = ("shape::tests::once", 0);
        let first =
            statement(DbBackend::Sqlite, shape, vec![1_i64.into(), "a".into()], || select(1, "a")).expect("first");
        let again = statement(DbBackend::Sqlite, shape, vec![2_i64.into(), "b".into()], || panic!("built twice"))
            .expect("again");
        assert_eq!(again.sql, first.sql);
        assert_eq!(again.values.expect("values").0, vec![Value::from(2_i64), Value::from("b")]);
    }

    #[test]
    fn values_in_another_order_than_the_builder_binds_are_refused() {
        let shape = ("shape::tests::order", 0);
        let wrong = statement(DbBackend::Sqlite, shape, vec!["a".into(), 1_i64.into()], || select(1, "a"));
        assert!(matches!(wrong, Err(Error::Internal(_))), "{wrong:?}");
        // Nothing was cached: a right first use still checks and succeeds.
        let right = statement(DbBackend::Sqlite, shape, vec![1_i64.into(), "a".into()], || select(1, "a"));
        assert!(right.is_ok(), "{right:?}");
    }

    #[test]
    fn shapes_differ_by_count_and_by_database() {
        let built = |n: usize| move || Statement::from_string(DbBackend::Sqlite, format!("SELECT {n}"));
        let one = statement(DbBackend::Sqlite, ("shape::tests::count", 1), vec![], built(1)).expect("one");
        let two = statement(DbBackend::Sqlite, ("shape::tests::count", 2), vec![], built(2)).expect("two");
        let pg = statement(DbBackend::Postgres, ("shape::tests::count", 1), vec![], built(3)).expect("pg");
        assert_eq!((one.sql.as_str(), two.sql.as_str(), pg.sql.as_str()), ("SELECT 1", "SELECT 2", "SELECT 3"));
    }
}
