//! Plain SQL for reports: `?` placeholders (numbered for PostgreSQL) and the
//! group and period conditions every report query shares.

use sea_orm::{ConnectionTrait, DatabaseBackend, QueryResult, Statement, TryGetable, Value};

use super::model::Period;
use crate::domain::{CountryCode, WorkingGroupId};
use crate::{Error, Result};

/// A statement under construction.
pub(crate) struct Sql {
    text: String,
    values: Vec<Value>,
}

impl Sql {
    /// Start with `text` (no placeholders).
    pub fn new(text: impl Into<String>) -> Sql {
        Sql { text: text.into(), values: Vec::new() }
    }

    /// Append `text`, which has one `?` for `value`.
    pub fn bind(mut self, text: &str, value: impl Into<Value>) -> Sql {
        self.text.push_str(text);
        self.values.push(value.into());
        self
    }

    /// Append `text` without placeholders.
    pub fn push(mut self, text: &str) -> Sql {
        self.text.push_str(text);
        self
    }

    /// Append another statement's text and values (a subquery).
    pub fn append(mut self, other: Sql) -> Sql {
        self.text.push_str(&other.text);
        self.values.extend(other.values);
        self
    }

    /// ` AND {col} = group` when a group is given.
    pub fn group(self, col: &str, group: Option<WorkingGroupId>) -> Sql {
        match group {
            Some(g) => self.bind(&format!(" AND {col} = ?"), g.get()),
            None => self,
        }
    }

    /// ` AND {col}` within the period, `col` being a time in microseconds.
    pub fn created_in(self, col: &str, period: Period) -> Sql {
        let (first, end) = period.micros();
        let s = match first {
            Some(t) => self.bind(&format!(" AND {col} >= ?"), t),
            None => self,
        };
        match end {
            Some(t) => s.bind(&format!(" AND {col} < ?"), t),
            None => s,
        }
    }

    /// The statement for `backend`.
    pub fn statement(self, backend: DatabaseBackend) -> Statement {
        let text = match backend {
            DatabaseBackend::Postgres => {
                let mut out = String::with_capacity(self.text.len() + 8);
                let mut n = 0;
                for ch in self.text.chars() {
                    if ch == '?' {
                        n += 1;
                        out.push_str(&format!("${n}"));
                    } else {
                        out.push(ch);
                    }
                }
                out
            }
            _ => self.text,
        };
        Statement::from_sql_and_values(backend, text, self.values)
    }

    /// Run as a query.
    pub async fn all(self, conn: &impl ConnectionTrait) -> Result<Vec<QueryResult>> {
        Ok(conn.query_all(self.statement(conn.get_database_backend())).await?)
    }
}

/// Column `col` of `row`.
pub(crate) fn get<T: TryGetable>(row: &QueryResult, col: &str) -> Result<T> {
    Ok(row.try_get::<T>("", col)?)
}

/// A country code read back from our own tables.
pub(crate) fn country(raw: &str) -> Result<CountryCode> {
    CountryCode::parse(raw).map_err(|_| Error::Internal(format!("stored country {raw:?} is invalid")))
}
