//! S4: GetNetworkReport over a small and a large network, against the best
//! hand-written SQL for the same numbers (read from the aggregates the
//! schema keeps), and — for scale — against recomputing the report from the
//! base tables. Each dataset's maintained report is first checked equal to
//! the recomputed one. The API and the hand-written SQL take turns, call by
//! call, so both see the same machine.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::bail;
use hdrhistogram::Histogram;
use peerlab_client::{Client, pb};
use peerlab_core::report::Period;
use sea_orm::{ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, Statement};

use crate::data;
use crate::load;
use crate::server::{PeerlabSpec, Server};
use crate::table::{Row, Target};
use crate::{Ctx, tokens};

const S: &str = "S4";

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

/// The numbers of the network report, with as few statements as they take
/// over the schema: every all-time counter in one scan of the totals; the
/// median delays from the delay histogram the schema keeps (the buckets
/// holding each country's middle ranks, found by a window over the bucket
/// counts, then one statement of index walks, one per country, from the
/// nearer edge of the bucket, as the report does); and the workshop
/// attendance.
async fn hand_written(conn: &DatabaseConnection) -> anyhow::Result<usize> {
    let backend = conn.get_database_backend();
    let cells = conn
        .query_all(Statement::from_string(
            backend,
            "SELECT country, metric, key, CAST(SUM(n) AS BIGINT) AS n FROM report_totals \
             WHERE metric <> 'delay_bucket' GROUP BY country, metric, key",
        ))
        .await?;
    let mut read = 0;
    for row in &cells {
        let _country: String = row.try_get("", "country")?;
        let _metric: String = row.try_get("", "metric")?;
        let _key: String = row.try_get("", "key")?;
        let _n: i64 = row.try_get("", "n")?;
        read += 1;
    }
    // Per country, the bucket(s) holding ranks (n-1)/2 and n/2.
    let middles = conn
        .query_all(Statement::from_string(
            backend,
            "SELECT country, key, upto - n AS before, upto, total FROM (SELECT country, key, n, \
             CAST(SUM(n) OVER (PARTITION BY country ORDER BY key ROWS UNBOUNDED PRECEDING) AS BIGINT) AS upto, \
             CAST(SUM(n) OVER (PARTITION BY country) AS BIGINT) AS total FROM (SELECT country, key, \
             CAST(SUM(n) AS BIGINT) AS n FROM report_totals WHERE metric = 'delay_bucket' GROUP BY country, key \
             HAVING SUM(n) > 0) h) c WHERE upto - n <= total / 2 AND upto > (total - 1) / 2",
        ))
        .await?;
    let mut spans: BTreeMap<String, Vec<(i64, i64, i64, i64)>> = BTreeMap::new();
    for row in &middles {
        let key: String = row.try_get("", "key")?;
        let span = (key.parse()?, row.try_get("", "before")?, row.try_get("", "upto")?, row.try_get("", "total")?);
        spans.entry(row.try_get("", "country")?).or_default().push(span);
    }
    // One walk per country, from the nearer edge of the bucket(s).
    let mut walks = Vec::new();
    let mut values = Vec::new();
    for (country, spans) in spans {
        let total = spans[0].3;
        let (lo, hi) = ((total - 1) / 2, total / 2);
        let holding = |rank: i64| spans.iter().find(|(_, b, u, _)| *b <= rank && rank < *u).copied();
        let (Some((first, before, _, _)), Some((last, _, upto, _))) = (holding(lo), holding(hi)) else {
            bail!("the delay histogram of {country} has no middle");
        };
        let (edge, order, skip) = if lo - before <= upto - 1 - hi {
            (bucket_lower(first).map(|l| (" AND first_delay >= ?", l)), "", lo - before)
        } else {
            let above = if last >= 487 { None } else { bucket_lower(last + 1) };
            (above.map(|u| (" AND first_delay < ?", u)), " DESC", upto - 1 - hi)
        };
        walks.push(format!(
            "SELECT country, first_delay FROM (SELECT country, first_delay FROM report_challenges \
             WHERE country = ? AND first_delay IS NOT NULL{} ORDER BY first_delay{order} LIMIT ? OFFSET ?) w{}",
            edge.map_or("", |e| e.0),
            walks.len()
        ));
        values.push(country.into());
        values.extend(edge.map(|e| e.1.into()));
        values.push((hi - lo + 1).into());
        values.push(skip.into());
    }
    if !walks.is_empty() {
        let sql = numbered(backend, &walks.join(" UNION ALL "));
        for d in &conn.query_all(Statement::from_sql_and_values(backend, sql, values)).await? {
            let _: i64 = d.try_get("", "first_delay")?;
        }
    }
    let attendance = conn
        .query_all(Statement::from_string(
            backend,
            "SELECT w.working_group_id AS g, w.id AS w, a.country AS country, COUNT(*) AS n FROM workshop_attendees a \
             JOIN workshops w ON w.id = a.workshop_id WHERE w.archive_time IS NULL \
             GROUP BY w.working_group_id, w.id, a.country",
        ))
        .await?;
    for row in &attendance {
        let _: i64 = row.try_get("", "n")?;
    }
    Ok(read)
}

/// The smallest delay of a bucket of the delay histogram (see
/// `m20261122_000003_delay_histogram`); none for bucket 0.
fn bucket_lower(bucket: i64) -> Option<i64> {
    match bucket {
        ..=0 => None,
        1..16 => Some(bucket),
        _ => Some((8 + bucket % 8) << (bucket / 8 - 1)),
    }
}

/// `?` placeholders numbered for PostgreSQL.
fn numbered(backend: DatabaseBackend, sql: &str) -> String {
    if backend != DatabaseBackend::Postgres {
        return sql.to_owned();
    }
    let mut n = 0;
    sql.chars()
        .map(|c| {
            if c == '?' {
                n += 1;
                format!("${n}")
            } else {
                c.to_string()
            }
        })
        .collect()
}

pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let sizes: [u64; 2] = if ctx.quick { [10_000, 100_000] } else { [10_000, 1_000_000] };
    let calls = if ctx.quick { 20 } else { 50 };
    let recomputes = 3;
    let co = data::coordinator()?;
    let mut api_p50 = Vec::new();
    for n in sizes {
        let db = ctx.dataset(n).await?;
        let dir = ctx.subdir(&format!("s4-{n}"))?;

        let store = db.store().await?;
        let t = Instant::now();
        let recomputed = store.recompute_network_report(&co, None, Period::all()).await?;
        let first_recompute = t.elapsed();
        let mut maintained = store.network_report(&co, None, Period::all()).await?;
        maintained.generate_time = recomputed.generate_time;
        if maintained != recomputed {
            bail!("{n} items: the maintained report differs from the recomputed one");
        }
        // Recomputing a million items takes seconds: the first run is one of the samples.
        let mut recompute = load::sequential(0, recomputes - 1, || async {
            store.recompute_network_report(&co, None, Period::all()).await.map(drop).map_err(anyhow::Error::from)
        })
        .await?;
        load::record(&mut recompute, first_recompute);
        store.close().await?;

        let server = Server::peerlab(&ctx.bins, &dir, &PeerlabSpec::new(db.url()))?;
        let client = Client::builder(server.endpoint()).bearer(tokens::coordinator()?).connect().await?;
        let report = client.get_network_report(pb::GetNetworkReportRequest::default()).await?;
        if report.countries.is_empty() {
            bail!("{n} items: the report has no countries");
        }
        // The API and the hand-written SQL take turns, call by call.
        let conn = Database::connect(db.url()).await?;
        let (api, sql) = load::in_turns(
            3,
            calls,
            || {
                let client = client.clone();
                async move {
                    client
                        .get_network_report(pb::GetNetworkReportRequest::default())
                        .await
                        .map(drop)
                        .map_err(anyhow::Error::from)
                }
            },
            || async { hand_written(&conn).await.map(drop) },
        )
        .await?;
        conn.close().await?;
        server.stop()?;

        let items = if n >= 1_000_000 { format!("{}M", n / 1_000_000) } else { format!("{}k", n / 1000) };
        ctx.push(
            Row::against(S, format!("GetNetworkReport, {items} items (p50)"), ms(&api, 0.5), "ms", ms(&sql, 0.5))
                .target(Target::RatioAtMost(1.1)),
        );
        ctx.push(Row::against(
            S,
            format!("GetNetworkReport, {items} items (p99)"),
            ms(&api, 0.99),
            "ms",
            ms(&sql, 0.99),
        ));
        ctx.push(Row::against(
            S,
            format!("report recomputed from base tables, {items} items (p50)"),
            ms(&recompute, 0.5),
            "ms",
            ms(&sql, 0.5),
        ));
        ctx.note(
            S,
            format!(
                "{items}: maintained report = recomputed report (checked); first recompute took {:.0} ms",
                first_recompute.as_secs_f64() * 1000.0
            ),
        );
        api_p50.push((items, ms(&api, 0.5)));
    }
    if let [(small, s), (large, l)] = api_p50.as_slice() {
        ctx.push(
            Row::against(S, format!("GetNetworkReport, {large} vs {small} items (p50)"), *l, "ms", *s)
                .target(Target::RatioAtMost(2.0))
                .stretch(),
        );
    }
    ctx.note(
        S,
        format!(
            "items = challenges (2 themes each, 10% archived) plus 1.33 recommendations, 0.25 initiatives and 0.1 project \
             ideas per challenge, 49 municipalities in 7 countries, 4 workshops; SQLite; coordinator, whole network, all \
             time; {calls} sequential calls each, the API and the hand-written SQL in turns; hand-written SQL and recompute \
             run in the bench process"
        ),
    );
    Ok(())
}
