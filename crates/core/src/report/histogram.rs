//! The all-time median delay to a challenge's first recommendation, found
//! without walking a country's delays.
//!
//! Every write keeps, in `report_totals` under metric `delay_bucket`, how
//! many live recommended challenges of a (working group, country) have
//! their delay in each of fixed logarithmic buckets (eight per doubling, so
//! a bucket spans at most an eighth of its values; at most [`LAST`] + 1
//! buckets). The counts tell which bucket holds the middle rank; an index
//! walk on `report_challenges (country, first_delay)` from that bucket's
//! nearer edge reaches the rank in at most half a bucket's rows, so the
//! median stays exact and its cost no longer follows the network's size.
//! The counts are not kept per day: a report over a period walks the
//! delays as before ([`super::maintained`]).

use std::collections::BTreeMap;

use chrono::TimeDelta;
use sea_orm::ConnectionTrait;

use super::cells::middle;
use super::sql::{Sql, country, get};
use crate::domain::{CountryCode, WorkingGroupId};
use crate::{Error, Result};

/// The bucket of the largest delays (those from 15 × 2⁵⁹ µs).
pub(crate) const LAST: i64 = 487;

/// The bucket of a delay in microseconds: 0 for none or negative, the
/// delay itself below 16 µs, then eight buckets per doubling.
/// `m20261122_000003_delay_histogram` computes the same in SQL.
pub(crate) fn bucket(delay: i64) -> i64 {
    if delay < 16 {
        return delay.max(0);
    }
    let octave = 63 - i64::from(delay.leading_zeros());
    (octave - 2) * 8 + (delay >> (octave - 3)) - 8
}

/// The smallest delay of `bucket` (none for bucket 0, which reaches down
/// to every negative delay).
pub(crate) fn lower(bucket: i64) -> Option<i64> {
    match bucket {
        ..=0 => None,
        1..16 => Some(bucket),
        _ => Some((8 + bucket % 8) << (bucket / 8 - 1)),
    }
}

/// The smallest delay above `bucket` (none for the last).
fn upper(bucket: i64) -> Option<i64> {
    if bucket >= LAST { None } else { lower(bucket + 1) }
}

/// The stored key of a bucket: zero-padded, so that keys sort as numbers.
pub(crate) fn key(bucket: i64) -> String {
    format!("{bucket:03}")
}

/// The walk to one country's middle pair: from a bucket's edge, in the
/// direction that passes fewer rows.
struct Walk {
    country: CountryCode,
    /// Upwards from this delay, or downwards from below it.
    from: Option<i64>,
    upwards: bool,
    skip: i64,
    take: i64,
}

/// Each country's median delay (or `only`'s), all time, over `group` or
/// the whole network: two statements whatever the number of countries.
pub(crate) async fn medians(
    conn: &impl ConnectionTrait,
    group: Option<WorkingGroupId>,
    only: Option<CountryCode>,
) -> Result<BTreeMap<CountryCode, TimeDelta>> {
    // The buckets holding rank (n-1)/2 or n/2 of each country's n delays,
    // with how many delays lie below them ("before") and up to their end.
    let mut counts = Sql::new("SELECT country, key, CAST(SUM(n) AS BIGINT) AS n FROM report_totals")
        .push(" WHERE metric = 'delay_bucket'")
        .group("working_group_id", group);
    if let Some(c) = only {
        counts = counts.bind(" AND country = ?", c.as_str());
    }
    let rows = Sql::new("SELECT country, key, upto - n AS before, upto, total FROM (SELECT country, key, n,")
        .push(" CAST(SUM(n) OVER (PARTITION BY country ORDER BY key ROWS UNBOUNDED PRECEDING) AS BIGINT) AS upto,")
        .push(" CAST(SUM(n) OVER (PARTITION BY country) AS BIGINT) AS total FROM (")
        .append(counts)
        .push(" GROUP BY country, key HAVING SUM(n) > 0) h) c WHERE upto - n <= total / 2 AND upto > (total - 1) / 2")
        .all(conn)
        .await?;
    let mut spans: BTreeMap<CountryCode, Vec<(i64, i64, i64, i64)>> = BTreeMap::new();
    for r in &rows {
        let key: String = get(r, "key")?;
        let b = key.parse::<i64>().map_err(|_| Error::Internal(format!("stored delay bucket {key:?} is invalid")))?;
        let span = (b, get(r, "before")?, get(r, "upto")?, get(r, "total")?);
        spans.entry(country(&get::<String>(r, "country")?)?).or_default().push(span);
    }
    let mut walks = Vec::new();
    for (c, spans) in spans {
        let total = spans[0].3;
        let (lo, hi) = ((total - 1) / 2, total / 2);
        let holding = |rank: i64| spans.iter().find(|(_, before, upto, _)| *before <= rank && rank < *upto).copied();
        let (Some((first, before, _, _)), Some((last, _, upto, _))) = (holding(lo), holding(hi)) else {
            return Err(Error::Internal(format!("the delay histogram of {c} has no middle")));
        };
        let take = hi - lo + 1;
        walks.push(if lo - before <= upto - 1 - hi {
            Walk { country: c, from: lower(first), upwards: true, skip: lo - before, take }
        } else {
            Walk { country: c, from: upper(last), upwards: false, skip: upto - 1 - hi, take }
        });
    }
    walk(conn, group, walks).await
}

/// Run every walk in one statement; the middle pair of each country is the
/// least and greatest delay its walk returns.
async fn walk(
    conn: &impl ConnectionTrait,
    group: Option<WorkingGroupId>,
    walks: Vec<Walk>,
) -> Result<BTreeMap<CountryCode, TimeDelta>> {
    let expected: Vec<CountryCode> = walks.iter().map(|w| w.country).collect();
    if walks.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut sql = Sql::new("");
    for (i, w) in walks.into_iter().enumerate() {
        if i > 0 {
            sql = sql.push(" UNION ALL ");
        }
        sql = sql
            .push("SELECT country, first_delay FROM (SELECT country, first_delay FROM report_challenges")
            .bind(" WHERE country = ?", w.country.as_str())
            .push(" AND first_delay IS NOT NULL")
            .group("working_group_id", group);
        sql = match (w.from, w.upwards) {
            (Some(from), true) => sql.bind(" AND first_delay >= ?", from),
            (Some(from), false) => sql.bind(" AND first_delay < ?", from),
            (None, _) => sql,
        };
        sql = sql
            .push(if w.upwards { " ORDER BY first_delay" } else { " ORDER BY first_delay DESC" })
            .bind(" LIMIT ?", w.take)
            .bind(" OFFSET ?", w.skip)
            .push(&format!(") w{i}"));
    }
    let mut pairs: BTreeMap<CountryCode, (i64, i64)> = BTreeMap::new();
    for r in sql.all(conn).await? {
        let d: i64 = get(&r, "first_delay")?;
        let pair = pairs.entry(country(&get::<String>(&r, "country")?)?).or_insert((d, d));
        *pair = (pair.0.min(d), pair.1.max(d));
    }
    for c in expected {
        if !pairs.contains_key(&c) {
            return Err(Error::Internal(format!("the delay histogram of {c} counts delays that are not stored")));
        }
    }
    Ok(pairs.into_iter().map(|(c, (lower, upper))| (c, middle(lower, upper))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every delay lies within its bucket's bounds, and buckets rise with
    /// the delay — at the edges of every bucket and at the extremes.
    #[test]
    fn buckets_partition_the_delays_in_order() {
        let mut probes = vec![i64::MIN, -1, 0, i64::MAX];
        for b in 1..=LAST {
            let edge = lower(b).expect("edge");
            probes.extend([edge - 1, edge, edge + 1]);
        }
        probes.sort_unstable();
        let mut previous = 0;
        for d in probes {
            let b = bucket(d);
            assert!((0..=LAST).contains(&b), "{d} in bucket {b}");
            assert!(b >= previous, "{d}: bucket {b} after {previous}");
            assert!(lower(b).is_none_or(|l| l <= d), "{d} below bucket {b}");
            assert!(upper(b).is_none_or(|u| d < u), "{d} above bucket {b}");
            previous = b;
        }
        assert_eq!((bucket(15), bucket(16), bucket(17), bucket(18), bucket(31), bucket(32)), (15, 16, 16, 17, 23, 24));
        assert_eq!((lower(16), lower(17), lower(24), upper(LAST)), (Some(16), Some(18), Some(32), None));
        assert_eq!(key(7), "007");
    }
}
