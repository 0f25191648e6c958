//! The one PostgreSQL statement a write's commit sends: its deferred
//! writes as data-modifying `WITH` clauses, the append lock with the check
//! at commit, and the event.

use std::fmt::Write as _;

use sea_orm::{DatabaseBackend, DbErr, Statement};

use super::merge::merge;
use crate::{Error, Result};

/// The text a failed [`WriteTx::check_at_commit`] raises.
pub(super) const CHECK_FAILED: &str = "peerlab: a check at commit failed";

/// One write's part of a [`chain`]: its deferred writes, its check at
/// commit and its event's append.
pub(super) struct Link<'a> {
    pub writes: &'a [Statement],
    pub guard: Option<&'a Statement>,
    pub append: &'a Statement,
}

/// One PostgreSQL statement that runs the writes of every link, then
/// `shared` (each a data-modifying `WITH` clause: they all see the same
/// snapshot, so no two may touch the same row), takes the share of the
/// log's append lock and checks every link's guard (clause `lk`), then runs
/// each link's append (the event's insert, whose row is selected from `lk`:
/// [`from_lock`]), and returns for each link its index `m` and its new
/// event's `id`.
///
/// `lk` is `MATERIALIZED`: evaluated once, as a clause of its own, before
/// an append's row, and so its id, exists. A false guard fails the whole
/// statement: plain SQL has no statement to raise an error, so `lk` casts
/// [`CHECK_FAILED`] to an integer, and the error names that text
/// ([`fails_check`]).
pub(super) fn chain(links: &[Link<'_>], shared: &[Statement]) -> Result<Statement> {
    if let Some(link) = links.iter().find(|l| !l.append.sql.ends_with(" FROM lk")) {
        return Err(Error::Internal(format!("the event append does not follow the lock: {}", link.append.sql)));
    }
    // Composed in one buffer: a shared statement carries many creates, and
    // it is composed while the database waits for it.
    let mut out = Composed::default();
    out.sql.push_str("WITH ");
    let writes: Vec<&Statement> = links.iter().flat_map(|l| l.writes).chain(shared).collect();
    if links.len() > 1 {
        for (i, w) in merge(&writes).into_iter().enumerate() {
            out.text(format_args!("w{i} AS ("));
            out.push(&w.sql, w.values.map(|v| v.0).unwrap_or_default());
            out.sql.push_str("), ");
        }
    } else {
        for (i, w) in writes.iter().enumerate() {
            out.text(format_args!("w{i} AS ("));
            out.push(&w.sql, values_of(w));
            out.sql.push_str("), ");
        }
    }
    let lock = crate::store::live::append_lock();
    out.sql.push_str("lk AS MATERIALIZED (");
    out.push(&lock.sql, values_of(&lock));
    let mut guards = links.iter().filter_map(|l| l.guard).peekable();
    if guards.peek().is_some() {
        out.sql.push_str(", CAST(CASE WHEN ");
        for (k, guard) in guards.enumerate() {
            if k > 0 {
                out.sql.push_str(" AND ");
            }
            out.sql.push('(');
            out.push(&guard.sql, values_of(guard));
            out.sql.push(')');
        }
        out.text(format_args!(" THEN '1' ELSE '{CHECK_FAILED}' END AS integer)"));
    }
    out.sql.push(')');
    for (m, link) in links.iter().enumerate() {
        out.text(format_args!(", e{m} AS ("));
        out.push(&link.append.sql, values_of(link.append));
        out.sql.push_str(" RETURNING id)");
    }
    out.sql.push(' ');
    for m in 0..links.len() {
        if m > 0 {
            out.sql.push_str(" UNION ALL ");
        }
        out.text(format_args!("SELECT {m} AS m, id FROM e{m}"));
    }
    Ok(Statement::from_sql_and_values(DatabaseBackend::Postgres, out.sql, out.values))
}

/// A statement being composed of others: each one's text goes in with its
/// placeholders shifted past the values already in ([`renumber`]).
#[derive(Default)]
pub(super) struct Composed {
    pub sql: String,
    pub values: Vec<sea_orm::Value>,
}

impl Composed {
    /// Append `sql`, whose placeholders count from `$1`, and its `values`.
    pub fn push(&mut self, sql: &str, values: impl IntoIterator<Item = sea_orm::Value>) {
        renumber(&mut self.sql, sql, self.values.len());
        self.values.extend(values);
    }

    /// Append text without placeholders.
    fn text(&mut self, text: std::fmt::Arguments<'_>) {
        // Writing to a `String` cannot fail.
        let _ = self.sql.write_fmt(text);
    }
}

/// A borrowed statement's values, copied.
pub(super) fn values_of(s: &Statement) -> impl Iterator<Item = sea_orm::Value> + '_ {
    s.values.iter().flat_map(|v| v.0.iter().cloned())
}

/// `insert` (sea-query's `INSERT … VALUES (…)` of one row) as an
/// `INSERT … SELECT` of the same values from the clause `lk` of [`chain`];
/// any other statement unchanged, which [`chain`] refuses.
pub(super) fn from_lock(insert: Statement) -> Statement {
    let sql = match insert.sql.split_once(" VALUES (") {
        Some((head, row)) => match row.strip_suffix(')') {
            Some(row) if !row.contains(')') => format!("{head} SELECT {row} FROM lk"),
            _ => return insert,
        },
        None => return insert,
    };
    Statement { sql, ..insert }
}

/// Whether `e` is the failure of a check at commit: the guard's own error
/// (see [`chain`]), or a foreign key of one of the write's rows naming a
/// row the check vouched for.
pub(super) fn fails_check(e: &DbErr) -> bool {
    match database_error(e).map(|db| (db.code(), db)) {
        Some((Some(code), db)) if code == "22P02" => db.message().contains(CHECK_FAILED),
        Some((Some(code), _)) => code == "23503",
        _ => false,
    }
}

/// The error PostgreSQL answered, if `e` is one.
pub(super) fn database_error(e: &DbErr) -> Option<&(dyn sea_orm::sqlx::error::DatabaseError + 'static)> {
    use sea_orm::RuntimeErr::SqlxError;
    match e {
        DbErr::Exec(SqlxError(sea_orm::sqlx::Error::Database(db)))
        | DbErr::Query(SqlxError(sea_orm::sqlx::Error::Database(db))) => Some(db.as_ref()),
        _ => None,
    }
}

/// Append `sql` to `out` with each placeholder `$n` shifted to `$(n + by)`.
/// The chained statements come already rendered (sea-query's, and the
/// report's text from `report::sql`), each numbering its placeholders from
/// `$1`, so the chain is composed as text. Every value is bound, never
/// inlined, so a `$` followed by digits is always a placeholder (names are
/// quoted, never `$n`).
fn renumber(out: &mut String, sql: &str, by: usize) {
    if by == 0 {
        out.push_str(sql);
        return;
    }
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<usize>() {
            Ok(n) => {
                // Writing to a `String` cannot fail.
                let _ = write!(out, "{}", n + by);
            }
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::ArrayType;

    use super::*;

    fn pg(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
        Statement::from_sql_and_values(DatabaseBackend::Postgres, sql, values)
    }

    #[test]
    fn placeholders_shift_and_nothing_else_moves() {
        let renumbered = |sql: &str, by: usize| {
            let mut out = String::from("> ");
            renumber(&mut out, sql, by);
            out
        };
        assert_eq!(
            renumbered(r#"UPDATE "t" SET "a" = $1 WHERE "b" = $2"#, 3),
            r#"> UPDATE "t" SET "a" = $4 WHERE "b" = $5"#
        );
        assert_eq!(renumbered("SELECT $10, $9 $", 2), "> SELECT $12, $11 $");
        assert_eq!(renumbered("SELECT $1", 0), "> SELECT $1");
    }

    fn link<'a>(writes: &'a [Statement], guard: Option<&'a Statement>, append: &'a Statement) -> Link<'a> {
        Link { writes, guard, append }
    }

    #[test]
    fn a_chain_binds_every_value_once_in_order_and_appends_after_the_lock() {
        let writes = vec![
            pg(r#"INSERT INTO "a" ("x", "y") VALUES ($1, $2)"#, vec![1i64.into(), "one".into()]),
            pg(r#"UPDATE "b" SET "z" = $1"#, vec![2i64.into()]),
        ];
        let append =
            from_lock(pg(r#"INSERT INTO "events" ("kind", "n") VALUES ($1, $2)"#, vec!["k".into(), 3i64.into()]));
        let chained = chain(&[link(&writes, None, &append)], &[]).expect("chain");
        assert_eq!(
            chained.sql,
            r#"WITH w0 AS (INSERT INTO "a" ("x", "y") VALUES ($1, $2)), w1 AS (UPDATE "b" SET "z" = $3), "#.to_owned()
                + "lk AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared($4)), "
                + r#"e0 AS (INSERT INTO "events" ("kind", "n") SELECT $5, $6 FROM lk RETURNING id) "#
                + "SELECT 0 AS m, id FROM e0"
        );
        let values = chained.values.expect("values").0;
        let expected: Vec<sea_orm::Value> = vec![
            1i64.into(),
            "one".into(),
            2i64.into(),
            crate::store::live::APPEND_LOCK.into(),
            "k".into(),
            3i64.into(),
        ];
        assert_eq!(values, expected);
    }

    #[test]
    fn a_guard_is_checked_with_the_lock_before_the_append() {
        let guard = pg("EXISTS (SELECT 1 FROM t WHERE id = $1)", vec![7i64.into()]);
        let append = from_lock(pg(r#"INSERT INTO "events" ("kind") VALUES ($1)"#, vec!["k".into()]));
        let chained = chain(&[link(&[], Some(&guard), &append)], &[]).expect("chain");
        assert_eq!(
            chained.sql,
            "WITH lk AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared($1), CAST(CASE WHEN (EXISTS (SELECT 1 FROM t WHERE id = $2)) THEN '1' ELSE 'peerlab: a check at commit failed' END AS integer)), ".to_owned()
                + r#"e0 AS (INSERT INTO "events" ("kind") SELECT $3 FROM lk RETURNING id) SELECT 0 AS m, id FROM e0"#
        );
        assert_eq!(chained.values.expect("values").0.len(), 3);
    }

    #[test]
    fn several_writes_share_the_lock_and_the_shared_writes_and_each_gets_its_event() {
        let a_writes = vec![pg(r#"INSERT INTO "a" ("x") VALUES ($1)"#, vec![1i64.into()])];
        let a_guard = pg("EXISTS (SELECT 1 FROM t WHERE id = $1)", vec![7i64.into()]);
        let a_append = from_lock(pg(r#"INSERT INTO "events" ("kind") VALUES ($1)"#, vec!["a".into()]));
        let b_writes = vec![pg(r#"INSERT INTO "a" ("x") VALUES ($1)"#, vec![2i64.into()])];
        let b_guard = pg("EXISTS (SELECT 1 FROM t WHERE id = $1)", vec![8i64.into()]);
        let b_append = from_lock(pg(r#"INSERT INTO "events" ("kind") VALUES ($1)"#, vec!["b".into()]));
        let shared = vec![pg(r#"UPDATE "c" SET "n" = "n" + $1"#, vec![2i64.into()])];
        let links = [link(&a_writes, Some(&a_guard), &a_append), link(&b_writes, Some(&b_guard), &b_append)];
        let chained = chain(&links, &shared).expect("chain");
        assert_eq!(
            chained.sql,
            r#"WITH w0 AS (INSERT INTO "a" ("x") SELECT unnest($1)), "#.to_owned()
                + r#"w1 AS (UPDATE "c" SET "n" = "n" + $2), "#
                + "lk AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared($3), CAST(CASE WHEN "
                + "(EXISTS (SELECT 1 FROM t WHERE id = $4)) AND (EXISTS (SELECT 1 FROM t WHERE id = $5)) "
                + "THEN '1' ELSE 'peerlab: a check at commit failed' END AS integer)), "
                + r#"e0 AS (INSERT INTO "events" ("kind") SELECT $6 FROM lk RETURNING id), "#
                + r#"e1 AS (INSERT INTO "events" ("kind") SELECT $7 FROM lk RETURNING id) "#
                + "SELECT 0 AS m, id FROM e0 UNION ALL SELECT 1 AS m, id FROM e1"
        );
        let values = chained.values.expect("values").0;
        let expected: Vec<sea_orm::Value> = vec![
            array(ArrayType::BigInt, vec![1i64.into(), 2i64.into()]),
            2i64.into(),
            crate::store::live::APPEND_LOCK.into(),
            7i64.into(),
            8i64.into(),
            "a".into(),
            "b".into(),
        ];
        assert_eq!(values, expected);
    }

    fn array(ty: ArrayType, values: Vec<sea_orm::Value>) -> sea_orm::Value {
        sea_orm::Value::Array(ty, Some(Box::new(values)))
    }

    #[test]
    fn an_append_that_does_not_select_from_the_lock_is_refused() {
        let multi_row = pg(r#"INSERT INTO "events" ("kind") VALUES ($1), ($2)"#, vec!["a".into(), "b".into()]);
        let unchanged = from_lock(multi_row.clone());
        assert_eq!(unchanged.sql, multi_row.sql);
        assert!(matches!(chain(&[link(&[], None, &unchanged)], &[]), Err(Error::Internal(_))));
    }
}
