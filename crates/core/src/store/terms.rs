//! Filter fields shared by several resources.

use sea_orm::sea_query::{Alias, Expr, SimpleExpr};

use super::filter::{Op, Term};
use crate::domain::*;
use crate::{Error, Result};

/// `column op value` for a comparison operator.
pub(crate) fn compare(column: &str, op: Op, value: impl Into<sea_orm::Value>) -> SimpleExpr {
    let col = Expr::col(Alias::new(column));
    match op {
        Op::Eq => col.eq(value.into()),
        Op::Ne => col.ne(value.into()),
        Op::Gt => col.gt(value.into()),
        Op::Ge => col.gte(value.into()),
        Op::Lt => col.lt(value.into()),
        Op::Le => col.lte(value.into()),
    }
}

/// Only `=` and `!=` make sense for this field.
pub(crate) fn equality(t: &Term) -> Result<()> {
    match t.op {
        Op::Eq | Op::Ne => Ok(()),
        _ => Err(Error::invalid("filter", format!("`{}` can only be compared with = or !=", t.field))),
    }
}

/// Strip an enum's proto prefix (`CHALLENGE_STATUS_OPEN` → `open`).
pub(crate) fn enum_text(value: &str, prefix: &str) -> String {
    let v = value.trim();
    let upper = v.to_ascii_uppercase();
    upper.strip_prefix(prefix).map(str::to_ascii_lowercase).unwrap_or_else(|| v.to_ascii_lowercase())
}

/// The id in `{collection}/{id}`.
pub(crate) fn name_id(t: &Term, collection: &str) -> Result<i64> {
    t.value
        .strip_prefix(collection)
        .and_then(|r| r.strip_prefix('/'))
        .and_then(|id| id.parse::<i64>().ok())
        .ok_or_else(|| Error::invalid("filter", format!("`{}` takes a name like \"{collection}/1\"", t.field)))
}

/// A time term value (RFC 3339) as stored micros.
pub(crate) fn time_value(t: &Term) -> Result<i64> {
    chrono::DateTime::parse_from_rfc3339(&t.value).map(|d| d.timestamp_micros()).map_err(|_| {
        Error::invalid("filter", format!("`{}` takes an RFC 3339 time like \"2024-01-01T00:00:00Z\"", t.field))
    })
}

/// Terms every owned-content resource understands: `country`,
/// `working_group`, `visibility`, `update_time`, `create_time`.
/// `Ok(None)` when the field is not one of them.
pub(crate) fn common(t: &Term) -> Result<Option<SimpleExpr>> {
    Ok(Some(match t.field.as_str() {
        "country" => {
            equality(t)?;
            let c = CountryCode::parse(&t.value).map_err(|e| Error::invalid("filter", e.to_string()))?;
            compare("country", t.op, c.as_str())
        }
        "working_group" => {
            equality(t)?;
            compare("working_group_id", t.op, name_id(t, "workingGroups")?)
        }
        "visibility" => {
            equality(t)?;
            let v = Visibility::parse("filter", &enum_text(&t.value, "VISIBILITY_"))?;
            compare("visibility", t.op, v.as_str())
        }
        "update_time" => compare("update_time", t.op, time_value(t)?),
        "create_time" => compare("create_time", t.op, time_value(t)?),
        _ => return Ok(None),
    }))
}

/// The error for a field the resource does not filter on.
pub(crate) fn unknown(t: &Term, allowed: &[&str]) -> Error {
    Error::invalid("filter", format!("unknown field `{}`; filterable fields: {}", t.field, allowed.join(", ")))
}

/// Whether the filter asks for changes since a time, which includes tombstones.
pub(crate) fn wants_tombstones(terms: &[Term]) -> bool {
    terms.iter().any(|t| t.field == "update_time" && matches!(t.op, Op::Gt | Op::Ge))
}

/// The parts of an item name `municipalities/{m}/{collection}/{id}` with
/// `collection` one of `collections`: (municipality id, collection, item id).
pub(crate) fn item_name<'c>(t: &Term, collections: &[&'c str]) -> Result<(i64, &'c str, i64)> {
    let bad = || {
        let examples: Vec<String> = collections.iter().map(|c| format!("\"municipalities/1/{c}/2\"")).collect();
        Error::invalid("filter", format!("`{}` takes a name like {}", t.field, examples.join(" or ")))
    };
    let mut parts = t.value.split('/');
    let (Some("municipalities"), Some(m), Some(c), Some(id), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let collection = collections.iter().find(|k| **k == c).ok_or_else(bad)?;
    match (m.parse::<i64>(), id.parse::<i64>()) {
        (Ok(m), Ok(id)) => Ok((m, collection, id)),
        _ => Err(bad()),
    }
}
