//! The same report computed from scratch with plain `GROUP BY` queries over
//! the base tables: the reference the maintained aggregates are tested
//! against (and the baseline of benchmarks). Its cost grows with the items.

use std::collections::BTreeMap;

use sea_orm::ConnectionTrait;

use super::cells::{Cell, Metric, Parts, middle};
use super::maintained::{members, workshops};
use super::model::Period;
use super::sql::{Sql, country, get};
use crate::Result;
use crate::domain::*;

/// `SELECT … FROM {from} WHERE {live}` restricted to the group and period,
/// grouped by `group_by`, as cells of `metric`.
async fn count(
    conn: &impl ConnectionTrait,
    metric: Metric,
    select: &str,
    from_where: &str,
    prefix: &str,
    group_by: &str,
    scope: (Option<WorkingGroupId>, Period),
) -> Result<Vec<Cell>> {
    Sql::new(format!("SELECT {select} FROM {from_where}"))
        .group(&format!("{prefix}working_group_id"), scope.0)
        .created_in(&format!("{prefix}create_time"), scope.1)
        .push(&format!(" GROUP BY {group_by}"))
        .cells(conn, metric)
        .await
}

/// Cells, medians and attendance, recounted from the base tables.
pub(crate) async fn parts(conn: &impl ConnectionTrait, group: Option<WorkingGroupId>, period: Period) -> Result<Parts> {
    let s = (group, period);
    let n = "COUNT(*) AS n";
    let recs = "recommendations WHERE archive_time IS NULL";
    let mut cells = Vec::new();
    cells.extend(
        count(
            conn,
            Metric::ChallengeStatus,
            &format!("country, status AS key, {n}"),
            "challenges WHERE 1 = 1",
            "",
            "country, status",
            s,
        )
        .await?,
    );
    cells.extend(
        count(
            conn,
            Metric::ChallengeTheme,
            &format!("c.country AS country, t.theme AS key, {n}"),
            "challenges c JOIN challenge_themes t ON t.challenge_id = c.id WHERE c.archive_time IS NULL",
            "c.",
            "c.country, t.theme",
            s,
        )
        .await?,
    );
    let initiatives = "initiatives WHERE archive_time IS NULL";
    cells.extend(
        count(
            conn,
            Metric::InitiativeStatus,
            &format!("country, status AS key, {n}"),
            initiatives,
            "",
            "country, status",
            s,
        )
        .await?,
    );
    let ideas = "project_ideas WHERE archive_time IS NULL";
    cells.extend(
        count(conn, Metric::IdeaStage, &format!("country, stage AS key, {n}"), ideas, "", "country, stage", s).await?,
    );
    cells.extend(count(conn, Metric::RecGiven, &format!("country, '' AS key, {n}"), recs, "", "country", s).await?);
    cells.extend(
        count(
            conn,
            Metric::Flow,
            &format!("country, target_country AS key, {n}"),
            recs,
            "",
            "country, target_country",
            s,
        )
        .await?,
    );
    let to = "target_country AS country, '' AS key";
    cells.extend(count(conn, Metric::RecReceived, &format!("{to}, {n}"), recs, "", "target_country", s).await?);
    let answered = "recommendations WHERE archive_time IS NULL AND answer_state <> 'unanswered'";
    cells.extend(count(conn, Metric::RecAnswered, &format!("{to}, {n}"), answered, "", "target_country", s).await?);
    let adopted = "recommendations WHERE archive_time IS NULL AND answer_state = 'adopted'";
    cells.extend(count(conn, Metric::RecAdopted, &format!("{to}, {n}"), adopted, "", "target_country", s).await?);
    cells.extend(match group {
        Some(g) => members(conn, g).await?,
        None => Sql::new(
            "SELECT country, '' AS key, COUNT(*) AS n FROM municipalities WHERE archive_time IS NULL GROUP BY country",
        )
        .cells(conn, Metric::Municipalities)
        .await?,
    });
    // Every live challenge with the time of its first live recommendation.
    let rows = Sql::new("SELECT c.country AS country, c.create_time AS created, MIN(r.create_time) AS first")
        .push(" FROM challenges c LEFT JOIN recommendations r ON r.target_kind = 'challenge'")
        .push(" AND r.target_id = c.id AND r.archive_time IS NULL WHERE c.archive_time IS NULL")
        .group("c.working_group_id", group)
        .created_in("c.create_time", period)
        .push(" GROUP BY c.id, c.country, c.create_time")
        .all(conn)
        .await?;
    let mut delays: BTreeMap<CountryCode, Vec<i64>> = BTreeMap::new();
    let mut without: BTreeMap<CountryCode, i64> = BTreeMap::new();
    for r in &rows {
        let c = country(&get::<String>(r, "country")?)?;
        match get::<Option<i64>>(r, "first")? {
            Some(first) => delays.entry(c).or_default().push(first - get::<i64>(r, "created")?),
            None => *without.entry(c).or_default() += 1,
        }
    }
    for (c, n) in without {
        cells.push(Cell { country: c, metric: Metric::ChallengeUnrecommended, key: String::new(), n });
    }
    let mut medians = BTreeMap::new();
    for (c, mut d) in delays {
        d.sort_unstable();
        cells.push(Cell { country: c, metric: Metric::ChallengeRecommended, key: String::new(), n: d.len() as i64 });
        medians.insert(c, middle(d[(d.len() - 1) / 2], d[d.len() / 2]));
    }
    Ok(Parts { cells, medians, workshop_attendance: workshops(conn, group, period).await? })
}
