//! Many creates' inserts into one table, as one insert: the rows of a
//! shared statement ([`super::chain`]) merged, from arrays where they can
//! be.

use std::fmt::Write as _;

use sea_orm::{DatabaseBackend, Statement};

use super::chain::{Composed, values_of};

/// `writes` with the inserts into the same table of the same columns (and
/// the same `ON CONFLICT` clause) made one insert, in the place of the
/// first of them; every other statement as it is. For a statement carrying
/// several creates: it then has a clause per table rather than per create,
/// which PostgreSQL plans and runs in much less time.
///
/// Where it can, a merged insert takes its rows from arrays, one per
/// column (`INSERT … SELECT unnest($1), unnest($2)`: [`from_arrays`]), so
/// its text is the same however many rows it carries;
/// otherwise it is one multi-row `VALUES`. The text of a shared statement
/// then depends on how many creates it carries, not on how many themes or
/// report counters each brings, and the held connection keeps every such
/// text prepared (sqlx caches 100 per connection). With `VALUES` for all,
/// creates of varying theme counts made a new text for nearly every
/// statement: S2 on PostgreSQL at 16 in flight fell from about 4,100 to
/// 1,850 creates a second (`BENCHMARKS.md`, session 16).
pub(super) fn merge(writes: &[&Statement]) -> Vec<Statement> {
    /// A statement of the merged list: for an insert that more rows may
    /// join, its head and tail and each joined statement's rows and values.
    enum Merged<'a> {
        Insert { head: &'a str, tail: &'a str, rows: Vec<(&'a str, Vec<sea_orm::Value>)> },
        Other(&'a Statement),
    }
    let mut merged: Vec<Merged<'_>> = Vec::new();
    for w in writes {
        let Some((head, rows, tail)) = insert_rows(&w.sql) else {
            merged.push(Merged::Other(w));
            continue;
        };
        let joined = merged.iter_mut().find_map(|m| match m {
            Merged::Insert { head: h, tail: t, rows } if (*h, *t) == (head, tail) => Some(rows),
            _ => None,
        });
        let values = values_of(w).collect();
        match joined {
            Some(joined) => joined.push((rows, values)),
            None => merged.push(Merged::Insert { head, tail, rows: vec![(rows, values)] }),
        }
    }
    merged
        .into_iter()
        .map(|m| match m {
            Merged::Other(w) => (*w).clone(),
            Merged::Insert { head, tail, rows } => {
                let mut out = Composed::default();
                out.sql.push_str(head);
                match from_arrays(&rows) {
                    Some((select, arrays)) => out.push(&select, arrays),
                    None => {
                        out.sql.push_str(" VALUES ");
                        for (i, (rows, values)) in rows.into_iter().enumerate() {
                            if i > 0 {
                                out.sql.push_str(", ");
                            }
                            out.push(rows, values);
                        }
                    }
                }
                out.sql.push_str(tail);
                Statement::from_sql_and_values(DatabaseBackend::Postgres, out.sql, out.values)
            }
        })
        .collect()
}

/// The rows of an insert (each part: a statement's rows, as
/// [`insert_rows`] splits them, and that statement's values) as
/// ` SELECT unnest($1), CAST(unnest($2) AS text), …` and its arrays, one
/// per column; `None` unless every row is the same list of placeholders,
/// each bare or cast (`$1`, `CAST($2 AS text)`), and every column's values
/// are of one type that PostgreSQL has arrays of, none of them NULL (sqlx
/// binds an array of non-null elements).
///
/// The arrays are unnested in the select list, where PostgreSQL walks
/// them in step (one row per index; they are all as long), not in a `FROM`
/// clause: that materialises each function's rows first, and PostgreSQL's
/// own durations (session 16) showed shared statements executing about a
/// fifth slower that way, against no slower than `VALUES` this way.
fn from_arrays(parts: &[(&str, Vec<sea_orm::Value>)]) -> Option<(String, Vec<sea_orm::Value>)> {
    let mut shape: Option<Vec<Item<'_>>> = None;
    let mut columns: Vec<Vec<sea_orm::Value>> = Vec::new();
    for (rows, values) in parts {
        for row in split_rows(rows)? {
            let (items, numbers) = row_shape(row)?;
            match &shape {
                Some(known) if *known != items => return None,
                Some(_) => {}
                None => {
                    columns = vec![Vec::new(); items.len()];
                    shape = Some(items);
                }
            }
            for (column, n) in columns.iter_mut().zip(numbers) {
                column.push(values.get(n.checked_sub(1)?)?.clone());
            }
        }
    }
    let mut select = String::from(" SELECT ");
    let mut arrays = Vec::with_capacity(columns.len());
    for (j, ((before, after), column)) in shape?.iter().zip(columns).enumerate() {
        if j > 0 {
            select.push_str(", ");
        }
        // Writing to a `String` cannot fail.
        let _ = write!(select, "{before}unnest(${}){after}", j + 1);
        arrays.push(array_of(column)?);
    }
    Some((select, arrays))
}

/// `values` as one PostgreSQL array; `None` unless they are all of one
/// type that has arrays here, and none is NULL.
fn array_of(values: Vec<sea_orm::Value>) -> Option<sea_orm::Value> {
    use sea_orm::Value as V;
    use sea_orm::sea_query::ArrayType;
    let kind = |v: &V| match v {
        V::Bool(Some(_)) => Some(ArrayType::Bool),
        V::SmallInt(Some(_)) => Some(ArrayType::SmallInt),
        V::Int(Some(_)) => Some(ArrayType::Int),
        V::BigInt(Some(_)) => Some(ArrayType::BigInt),
        V::Double(Some(_)) => Some(ArrayType::Double),
        V::String(Some(_)) => Some(ArrayType::String),
        V::ChronoDate(Some(_)) => Some(ArrayType::ChronoDate),
        V::ChronoDateTimeUtc(Some(_)) => Some(ArrayType::ChronoDateTimeUtc),
        _ => None,
    };
    let ty = kind(values.first()?)?;
    if values.iter().any(|v| kind(v).as_ref() != Some(&ty)) {
        return None;
    }
    Some(V::Array(ty, Some(Box::new(values))))
}

/// `rows` (`($1, $2), ($3, $4)`, balanced and without quotes, as
/// [`insert_rows`] returns them) split into each row's inside.
fn split_rows(rows: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let mut rest = rows;
    while !rest.is_empty() {
        let inner = rest.strip_prefix('(')?;
        let mut depth = 1usize;
        let end = inner.char_indices().find_map(|(i, c)| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            (depth == 0).then_some(i)
        })?;
        out.push(&inner[..end]);
        rest = inner[end + 1..].strip_prefix(", ").unwrap_or(&inner[end + 1..]);
    }
    Some(out)
}

/// A row's item as the text before and after its placeholder: `("", "")`
/// for a bare `$1`, `("CAST(", " AS text)")` for a cast one.
type Item<'a> = (&'a str, &'a str);

/// One row's items and their placeholders' numbers, in order; `None` for a
/// row holding anything but bare or cast placeholders.
fn row_shape(row: &str) -> Option<(Vec<Item<'_>>, Vec<usize>)> {
    let mut items = Vec::new();
    let mut numbers = Vec::new();
    for item in row.split(", ") {
        let (before, rest) = item.split_once('$')?;
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        numbers.push(rest[..digits].parse().ok()?);
        let after = &rest[digits..];
        let cast = before == "CAST("
            && after.starts_with(" AS ")
            && after.len() > " AS )".len()
            && after.ends_with(')')
            && after[4..after.len() - 1].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'"');
        let bare = before.is_empty() && after.is_empty();
        if !(bare || cast) {
            return None;
        }
        items.push((before, after));
    }
    Some((items, numbers))
}

/// An `INSERT INTO … VALUES (…), (…) …` split into the part before
/// ` VALUES `, the rows, and what follows them (an `ON CONFLICT` clause, or
/// nothing); `None` for any other statement, or one whose head or tail
/// binds a value or whose rows hold a quoted literal.
fn insert_rows(sql: &str) -> Option<(&str, &str, &str)> {
    let (head, rest) = sql.split_once(" VALUES ")?;
    if !head.starts_with("INSERT INTO ") || head.contains('$') || !rest.starts_with('(') {
        return None;
    }
    let bytes = rest.as_bytes();
    let (mut depth, mut end) = (0usize, 0usize);
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'(' => depth += 1,
            b')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    end = at + 1;
                    if !rest[end..].starts_with(", (") {
                        break;
                    }
                    at = end + 1;
                }
            }
            b'\'' => return None,
            _ => {}
        }
        at += 1;
    }
    let (rows, tail) = rest.split_at(end);
    if depth != 0 || end == 0 || tail.contains('$') || tail.contains('\'') {
        return None;
    }
    Some((head, rows, tail))
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::ArrayType;

    use super::*;

    fn pg(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
        Statement::from_sql_and_values(DatabaseBackend::Postgres, sql, values)
    }

    fn array(ty: ArrayType, values: Vec<sea_orm::Value>) -> sea_orm::Value {
        sea_orm::Value::Array(ty, Some(Box::new(values)))
    }

    #[test]
    fn inserts_into_the_same_columns_become_one_from_arrays_and_others_stay_as_they_are() {
        let conflict = " ON CONFLICT (k) DO UPDATE SET n = t.n + excluded.n";
        let writes = [
            pg(r#"INSERT INTO "a" ("x", "y") VALUES ($1, CAST($2 AS text))"#, vec![1i64.into(), "p".into()]),
            pg(&format!("INSERT INTO t (k, n) VALUES ($1, $2), ($3, $4){conflict}"), vec![1i64.into(); 4]),
            pg(r#"UPDATE "b" SET "z" = $1"#, vec![2i64.into()]),
            pg(r#"INSERT INTO "a" ("x", "y") VALUES ($1, CAST($2 AS text))"#, vec![3i64.into(), "q".into()]),
            pg(&format!("INSERT INTO t (k, n) VALUES ($2, $1){conflict}"), vec![6i64.into(), 5i64.into()]),
            pg(r#"INSERT INTO "a" ("x") VALUES ($1)"#, vec![7i64.into()]),
            pg(r#"INSERT INTO "q" ("x") VALUES ('('), ($1)"#, vec![8i64.into()]),
        ];
        let merged = merge(&writes.iter().collect::<Vec<_>>());
        let sql: Vec<&str> = merged.iter().map(|m| m.sql.as_str()).collect();
        let expected = [
            r#"INSERT INTO "a" ("x", "y") SELECT unnest($1), CAST(unnest($2) AS text)"#.to_owned(),
            format!("INSERT INTO t (k, n) SELECT unnest($1), unnest($2){conflict}"),
            r#"UPDATE "b" SET "z" = $1"#.to_owned(),
            r#"INSERT INTO "a" ("x") SELECT unnest($1)"#.to_owned(),
            r#"INSERT INTO "q" ("x") VALUES ('('), ($1)"#.to_owned(),
        ];
        assert_eq!(sql, expected);
        let values = |i: usize| merged[i].values.clone().expect("values").0;
        assert_eq!(
            values(0),
            vec![
                array(ArrayType::BigInt, vec![1i64.into(), 3i64.into()]),
                array(ArrayType::String, vec!["p".into(), "q".into()]),
            ]
        );
        // A row's values go by its placeholders' numbers, not their order.
        assert_eq!(
            values(1),
            vec![
                array(ArrayType::BigInt, vec![1i64.into(), 1i64.into(), 5i64.into()]),
                array(ArrayType::BigInt, vec![1i64.into(), 1i64.into(), 6i64.into()]),
            ]
        );
        assert_eq!(insert_rows("INSERT INTO t (k) VALUES ($1"), None, "unbalanced");
        assert_eq!(insert_rows("INSERT INTO t (k) SELECT $1 FROM lk"), None);
    }

    #[test]
    fn merged_rows_from_arrays_give_one_text_for_any_number_of_rows() {
        let themes = |n: i64| {
            let rows: Vec<String> = (0..n).map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2)).collect();
            let values = (0..n).flat_map(|i| [sea_orm::Value::from(i), format!("theme {i}").into()]).collect();
            pg(&format!(r#"INSERT INTO "themes" ("id", "theme") VALUES {}"#, rows.join(", ")), values)
        };
        let (one, three, four) = (themes(1), themes(3), themes(4));
        let a = merge(&[&one, &three]);
        let b = merge(&[&four, &three, &one]);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].sql, b[0].sql);
        let lengths = |s: &Statement| -> Vec<usize> {
            s.values
                .iter()
                .flat_map(|v| v.0.iter())
                .map(|v| match v {
                    sea_orm::Value::Array(_, Some(items)) => items.len(),
                    _ => 0,
                })
                .collect()
        };
        assert_eq!(lengths(&a[0]), vec![4, 4]);
        assert_eq!(lengths(&b[0]), vec![8, 8]);
    }

    #[test]
    fn rows_that_arrays_cannot_carry_stay_values() {
        let merged_sql = |a: Statement, b: Statement| merge(&[&a, &b]).remove(0).sql;
        let insert =
            |row: &str, values: Vec<sea_orm::Value>| pg(&format!(r#"INSERT INTO "a" ("x", "y") VALUES {row}"#), values);
        // A NULL (sqlx binds arrays of non-null elements).
        let null = sea_orm::Value::String(None);
        let sql =
            merged_sql(insert("($1, $2)", vec![1i64.into(), "p".into()]), insert("($1, $2)", vec![2i64.into(), null]));
        assert_eq!(sql, r#"INSERT INTO "a" ("x", "y") VALUES ($1, $2), ($3, $4)"#);
        // One column holding values of two types.
        let sql = merged_sql(
            insert("($1, $2)", vec![1i64.into(), "p".into()]),
            insert("($1, $2)", vec![2i32.into(), "q".into()]),
        );
        assert_eq!(sql, r#"INSERT INTO "a" ("x", "y") VALUES ($1, $2), ($3, $4)"#);
        // An item that is not a placeholder, bare or cast.
        let sql = merged_sql(insert("($1, now())", vec![1i64.into()]), insert("($1, now())", vec![2i64.into()]));
        assert_eq!(sql, r#"INSERT INTO "a" ("x", "y") VALUES ($1, now()), ($2, now())"#);
        // Rows of different shapes.
        let sql = merged_sql(
            insert("($1, $2)", vec![1i64.into(), "p".into()]),
            insert("($1, CAST($2 AS text))", vec![2i64.into(), "q".into()]),
        );
        assert_eq!(sql, r#"INSERT INTO "a" ("x", "y") VALUES ($1, $2), ($3, CAST($4 AS text))"#);
    }
}
