//! Report aggregates, kept up to date by every write's transaction.
//!
//! - `report_counts`: one counter per (working group, country, metric, key,
//!   UTC day of the item's creation); a period sums whole days.
//! - `report_totals`: the same counters without the day, so a report over
//!   all time reads one row per cell whatever the network's age.
//! - `report_challenges`: one row per live challenge with the delay to its
//!   first live recommendation, for the median and "without any".
//! - `events(resource, id)`: the previous snapshot of a resource, from which
//!   a write's counter changes are derived.
//!
//! Working group 0 holds counters that belong to no group (municipalities).
//! `up` backfills everything from the base tables, so an existing database
//! gets correct reports; the SQL is plain enough for SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;

/// Creates the report tables and fills them from the base tables.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000002_reports"
    }
}

const DAY_MICROS: i64 = 86_400_000_000;

/// The UTC day (days since the epoch, floored) of a micros column.
fn day(col: &str) -> String {
    format!("(({col}) - ((({col}) % {DAY_MICROS}) + {DAY_MICROS}) % {DAY_MICROS}) / {DAY_MICROS}")
}

fn big(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

/// `INSERT INTO report_counts` of `select` (working_group_id, country, metric, key, day, n).
fn counts(select: &str) -> String {
    format!("INSERT INTO report_counts (working_group_id, country, metric, key, day, n) {select}")
}

/// The statements that derive every counter from the base tables.
fn backfill() -> Vec<String> {
    let c = day("create_time");
    let live = "archive_time IS NULL";
    let mut out = vec![
        counts(&format!(
            "SELECT 0, country, 'municipalities', '', {c}, COUNT(*) FROM municipalities WHERE {live} GROUP BY country, {c}"
        )),
        counts(&format!(
            "SELECT working_group_id, country, 'challenge_status', status, {c}, COUNT(*) FROM challenges \
             GROUP BY working_group_id, country, status, {c}"
        )),
        counts(&format!(
            "SELECT c.working_group_id, c.country, 'challenge_theme', t.theme, {d}, COUNT(*) \
             FROM challenges c JOIN challenge_themes t ON t.challenge_id = c.id WHERE c.{live} \
             GROUP BY c.working_group_id, c.country, t.theme, {d}",
            d = day("c.create_time")
        )),
        counts(&format!(
            "SELECT working_group_id, country, 'initiative_status', status, {c}, COUNT(*) FROM initiatives \
             WHERE {live} GROUP BY working_group_id, country, status, {c}"
        )),
        counts(&format!(
            "SELECT working_group_id, country, 'idea_stage', stage, {c}, COUNT(*) FROM project_ideas \
             WHERE {live} GROUP BY working_group_id, country, stage, {c}"
        )),
        counts(&format!(
            "SELECT working_group_id, country, 'flow', target_country, {c}, COUNT(*) FROM recommendations \
             WHERE {live} GROUP BY working_group_id, country, target_country, {c}"
        )),
    ];
    for (metric, country, extra) in [
        ("rec_given", "country", ""),
        ("rec_received", "target_country", ""),
        ("rec_answered", "target_country", " AND answer_state <> 'unanswered'"),
        ("rec_adopted", "target_country", " AND answer_state = 'adopted'"),
    ] {
        out.push(counts(&format!(
            "SELECT working_group_id, {country}, '{metric}', '', {c}, COUNT(*) FROM recommendations \
             WHERE {live}{extra} GROUP BY working_group_id, {country}, {c}"
        )));
    }
    out.push(format!(
        "INSERT INTO report_challenges (challenge_id, working_group_id, country, create_time, first_recommendation_time) \
         SELECT c.id, c.working_group_id, c.country, c.create_time, \
         (SELECT MIN(r.create_time) FROM recommendations r \
          WHERE r.target_kind = 'challenge' AND r.target_id = c.id AND r.{live}) \
         FROM challenges c WHERE c.{live}"
    ));
    out.push(
        "UPDATE report_challenges SET first_delay = first_recommendation_time - create_time \
         WHERE first_recommendation_time IS NOT NULL"
            .into(),
    );
    for (metric, test) in [("challenge_recommended", "IS NOT NULL"), ("challenge_unrecommended", "IS NULL")] {
        out.push(counts(&format!(
            "SELECT working_group_id, country, '{metric}', '', {c}, COUNT(*) FROM report_challenges \
             WHERE first_recommendation_time {test} GROUP BY working_group_id, country, {c}"
        )));
    }
    out.push(
        "INSERT INTO report_totals (working_group_id, country, metric, key, n) \
         SELECT working_group_id, country, metric, key, CAST(SUM(n) AS BIGINT) FROM report_counts \
         GROUP BY working_group_id, country, metric, key"
            .into(),
    );
    out
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let cell = || {
            Index::create()
                .col(Report::WorkingGroupId)
                .col(Report::Country)
                .col(Report::Metric)
                .col(Report::Key)
                .to_owned()
        };
        m.create_table(
            Table::create()
                .table(Report::Counts)
                .col(big(Report::WorkingGroupId))
                .col(text(Report::Country))
                .col(text(Report::Metric))
                .col(text(Report::Key))
                .col(big(Report::Day))
                .col(big(Report::N))
                .primary_key(cell().col(Report::Day))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("report_counts_day").table(Report::Counts).col(Report::Day).to_owned())
            .await?;
        m.create_table(
            Table::create()
                .table(Report::Totals)
                .col(big(Report::WorkingGroupId))
                .col(text(Report::Country))
                .col(text(Report::Metric))
                .col(text(Report::Key))
                .col(big(Report::N))
                .primary_key(&mut cell())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Report::Challenges)
                .col(ColumnDef::new(Report::ChallengeId).big_integer().not_null().primary_key())
                .col(big(Report::WorkingGroupId))
                .col(text(Report::Country))
                .col(big(Report::CreateTime))
                .col(ColumnDef::new(Report::FirstRecommendationTime).big_integer().null())
                .col(ColumnDef::new(Report::FirstDelay).big_integer().null())
                .to_owned(),
        )
        .await?;
        // The median walks one country's delays in order; the create time is
        // in the index so a period filter is checked without the table.
        for (name, group) in [("report_challenges_delay", false), ("report_challenges_group_delay", true)] {
            let mut i = Index::create();
            i.name(name).table(Report::Challenges);
            if group {
                i.col(Report::WorkingGroupId);
            }
            m.create_index(i.col(Report::Country).col(Report::FirstDelay).col(Report::CreateTime).to_owned()).await?;
        }
        m.create_index(
            Index::create()
                .name("events_resource")
                .table(Events::Table)
                .col(Events::Resource)
                .col(Events::Id)
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        for sql in backfill() {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("events_resource").table(Events::Table).to_owned()).await?;
        for t in [Report::Challenges, Report::Totals, Report::Counts] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Report {
    #[sea_orm(iden = "report_counts")]
    Counts,
    #[sea_orm(iden = "report_totals")]
    Totals,
    #[sea_orm(iden = "report_challenges")]
    Challenges,
    WorkingGroupId,
    Country,
    Metric,
    Key,
    Day,
    N,
    ChallengeId,
    CreateTime,
    FirstRecommendationTime,
    FirstDelay,
}

#[derive(DeriveIden, Clone, Copy)]
enum Events {
    Table,
    Id,
    Resource,
}
