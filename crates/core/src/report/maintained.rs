//! Reports read from the maintained aggregates. Each query reads one row per
//! (country, metric, key) cell — per day within a period — so its cost
//! follows the number of countries, themes and days, not of items. The
//! all-time median reads the delay histogram ([`super::histogram`]); over a
//! period, where the histogram does not apply, the median walks the
//! period's half of one country's recommended challenges on an index.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta};
use sea_orm::ConnectionTrait;

use super::cells::{Cell, Metric, Parts, middle};
use super::histogram;
use super::model::{Period, WorkshopAttendance};
use super::sql::{Sql, country, get};
use crate::Result;
use crate::domain::*;

/// Which medians to compute: every country's, or one's (a country report).
#[derive(Clone, Copy)]
pub(crate) enum Medians {
    All,
    Of(CountryCode),
}

/// Cells, medians and (if asked) workshop attendance from the aggregates.
pub(crate) async fn parts(
    conn: &impl ConnectionTrait,
    group: Option<WorkingGroupId>,
    period: Period,
    medians: Medians,
    attendance: bool,
) -> Result<Parts> {
    let select = "SELECT country, metric, key, CAST(SUM(n) AS BIGINT) AS n FROM ";
    // The whole network's all-time municipality counts sit in the same
    // table (under group 0), so they come with the other counters: one
    // statement fewer. A group counts its members instead; a period report
    // still counts the municipalities of today.
    let municipalities_with_cells = period.is_all() && group.is_none();
    let sql = if municipalities_with_cells {
        Sql::new(format!("{select}report_totals WHERE metric <> 'delay_bucket'"))
    } else if period.is_all() {
        Sql::new(format!("{select}report_totals WHERE metric NOT IN ('municipalities', 'delay_bucket')"))
            .group("working_group_id", group)
    } else {
        let (first, end) = period.days();
        let mut s = Sql::new(format!("{select}report_counts WHERE metric <> 'municipalities'"))
            .group("working_group_id", group);
        if let Some(d) = first {
            s = s.bind(" AND day >= ?", d);
        }
        if let Some(d) = end {
            s = s.bind(" AND day < ?", d);
        }
        s
    };
    let mut cells = Vec::new();
    for row in sql.push(" GROUP BY country, metric, key").all(conn).await? {
        cells.push(Cell::from_row(
            &get::<String>(&row, "country")?,
            &get::<String>(&row, "metric")?,
            get(&row, "key")?,
            get(&row, "n")?,
        )?);
    }
    let municipalities = match group {
        _ if municipalities_with_cells => Vec::new(),
        Some(g) => members(conn, g).await?,
        None => {
            Sql::new("SELECT country, '' AS key, CAST(SUM(n) AS BIGINT) AS n FROM report_totals")
                .push(" WHERE working_group_id = 0 AND metric = 'municipalities' GROUP BY country")
                .cells(conn, Metric::Municipalities)
                .await?
        }
    };
    let out = if period.is_all() {
        let only = match medians {
            Medians::All => None,
            Medians::Of(c) => Some(c),
        };
        histogram::medians(conn, group, only).await?
    } else {
        period_medians(conn, group, period, medians, &cells).await?
    };
    cells.extend(municipalities);
    let workshop_attendance = if attendance { workshops(conn, group, period).await? } else { Vec::new() };
    Ok(Parts { cells, medians: out, workshop_attendance })
}

/// The medians over a period: per country, an index walk to the middle of
/// the period's recommended challenges.
async fn period_medians(
    conn: &impl ConnectionTrait,
    group: Option<WorkingGroupId>,
    period: Period,
    medians: Medians,
    cells: &[Cell],
) -> Result<BTreeMap<CountryCode, TimeDelta>> {
    let mut out = BTreeMap::new();
    for c in cells.iter().filter(|c| c.metric == Metric::ChallengeRecommended && c.n > 0) {
        if matches!(medians, Medians::Of(only) if only != c.country) {
            continue;
        }
        let delays = Sql::new("SELECT first_delay FROM report_challenges WHERE country = ")
            .bind("?", c.country.as_str())
            .push(" AND first_delay IS NOT NULL")
            .group("working_group_id", group)
            .created_in("create_time", period)
            .bind(" ORDER BY first_delay LIMIT ?", if c.n % 2 == 1 { 1_i64 } else { 2 })
            .bind(" OFFSET ?", (c.n - 1) / 2)
            .all(conn)
            .await?;
        let delays: Vec<i64> = delays.iter().map(|r| get(r, "first_delay")).collect::<Result<_>>()?;
        if let (Some(lower), Some(upper)) = (delays.first(), delays.last()) {
            out.insert(c.country, middle(*lower, *upper));
        }
    }
    Ok(out)
}

impl Sql {
    /// Run a query of `(country, key, n)` rows as cells of `metric`.
    pub(crate) async fn cells(self, conn: &impl ConnectionTrait, metric: Metric) -> Result<Vec<Cell>> {
        let rows = self.all(conn).await?;
        rows.iter()
            .map(|r| {
                Ok(Cell {
                    country: country(&get::<String>(r, "country")?)?,
                    metric,
                    key: get(r, "key")?,
                    n: get(r, "n")?,
                })
            })
            .collect()
    }
}

/// Active member municipalities of `group`, per country. Memberships are
/// few (a group's size), so they are counted, not maintained.
pub(crate) async fn members(conn: &impl ConnectionTrait, group: WorkingGroupId) -> Result<Vec<Cell>> {
    Sql::new("SELECT m.country AS country, '' AS key, COUNT(*) AS n FROM memberships m")
        .push(" JOIN municipalities u ON u.id = m.municipality_id WHERE u.archive_time IS NULL")
        .bind(" AND m.working_group_id = ?", group.get())
        .push(" GROUP BY m.country")
        .cells(conn, Metric::Municipalities)
        .await
}

/// `YYYY-MM-DD` of a day since the epoch.
fn date_text(day: i64) -> String {
    DateTime::UNIX_EPOCH
        .checked_add_signed(TimeDelta::days(day))
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// Attendance of live workshops (whose date is in the period) per country,
/// straight from the attendance lists: workshops are few.
pub(crate) async fn workshops(
    conn: &impl ConnectionTrait,
    group: Option<WorkingGroupId>,
    period: Period,
) -> Result<Vec<WorkshopAttendance>> {
    let mut sql = Sql::new("SELECT w.working_group_id AS g, w.id AS w, a.country AS country, COUNT(*) AS n")
        .push(" FROM workshop_attendees a JOIN workshops w ON w.id = a.workshop_id WHERE w.archive_time IS NULL")
        .group("w.working_group_id", group);
    let (first, end) = period.days();
    if let Some(d) = first {
        sql = sql.bind(" AND w.date >= ?", date_text(d));
    }
    if let Some(d) = end {
        sql = sql.bind(" AND w.date < ?", date_text(d));
    }
    let rows = sql
        .push(" GROUP BY w.working_group_id, w.id, a.country ORDER BY w.working_group_id, w.id, a.country")
        .all(conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(WorkshopAttendance {
                working_group: WorkingGroupId::from_db(get(r, "g")?),
                workshop: WorkshopId::from_db(get(r, "w")?),
                country: country(&get::<String>(r, "country")?)?,
                municipalities: get(r, "n")?,
            })
        })
        .collect()
}
