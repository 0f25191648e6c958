//! The delay histogram: how many live recommended challenges of a (working
//! group, country) have their delay to the first live recommendation in
//! each of fixed logarithmic buckets, kept in `report_totals` under metric
//! `delay_bucket` with the zero-padded bucket as key. Reports over all time
//! find the median from these counts and a short walk on the existing
//! `report_challenges_delay` index instead of walking half a country's delays.
//!
//! Buckets: 0 for delays of 0 µs or less, the delay itself below 16 µs,
//! then eight per doubling: a delay `d` with `2^e <= d < 2^(e+1)` (e ≥ 4)
//! is in bucket `(e - 2) * 8 + d / 2^(e-3) - 8`; 487 is the last.
//!
//! `up` counts them from `report_challenges`; `down` removes them.

use sea_orm_migration::prelude::*;

/// Fills the delay histogram.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000003_delay_histogram"
    }
}

/// The bucket of `d` (a non-null integer expression) in plain SQL that
/// SQLite and PostgreSQL evaluate alike (integer division truncates; every
/// operand here is non-negative).
fn bucket(d: &str) -> String {
    let mut sql = format!("CASE WHEN {d} <= 0 THEN 0 WHEN {d} < 16 THEN {d}");
    for e in 4..62 {
        sql.push_str(&format!(
            " WHEN {d} < {} THEN {} + {d} / {}",
            1_i64 << (e + 1),
            (e - 2) * 8 - 8,
            1_i64 << (e - 3)
        ));
    }
    sql.push_str(&format!(" ELSE {} + {d} / {} END", 60 * 8 - 8, 1_i64 << 59));
    sql
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let key = format!("SUBSTR(CAST(1000 + ({}) AS TEXT), 2)", bucket("first_delay"));
        let sql = format!(
            "INSERT INTO report_totals (working_group_id, country, metric, key, n) \
             SELECT g, c, 'delay_bucket', k, COUNT(*) FROM \
             (SELECT working_group_id AS g, country AS c, {key} AS k FROM report_challenges \
              WHERE first_delay IS NOT NULL) b \
             GROUP BY g, c, k"
        );
        m.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("DELETE FROM report_totals WHERE metric = 'delay_bucket'").await?;
        Ok(())
    }
}
