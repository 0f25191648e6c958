//! Counter slots: each report counter cell (`report_counts`, `report_totals`)
//! may be split over several rows, one per `slot`, whose `n` add up to the
//! cell's count. Every reader already sums `n` per cell.
//!
//! Why: on PostgreSQL every write adds to the same few counter rows (the
//! creates of one country on one day all count in one cell), and a row
//! being updated stays locked until its transaction commits, so concurrent
//! writes would commit one at a time behind each other's WAL flush. Each
//! concurrent write in a process adds to a slot of its own instead, and
//! their commits share flushes. On SQLite, which has one writer, every
//! write uses slot 0; the old primary key stays there (SQLite cannot drop
//! one in place) and a unique index over the cell and slot is the upserts'
//! conflict target.
//!
//! `down` folds the slots of each cell back into one row.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

/// Adds the `slot` column to the report counters.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000004_counter_slots"
    }
}

/// The two counter tables with the columns that name a cell.
const TABLES: [(&str, &str); 2] = [
    ("report_counts", "working_group_id, country, metric, key, day"),
    ("report_totals", "working_group_id, country, metric, key"),
];

async fn run(m: &SchemaManager<'_>, statements: &[String]) -> Result<(), DbErr> {
    for sql in statements {
        m.get_connection().execute_unprepared(sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let postgres = m.get_database_backend() == DatabaseBackend::Postgres;
        let mut sql = Vec::new();
        for (table, cell) in TABLES {
            sql.push(format!("ALTER TABLE {table} ADD COLUMN slot SMALLINT NOT NULL DEFAULT 0"));
            if postgres {
                sql.push(format!("ALTER TABLE {table} DROP CONSTRAINT {table}_pkey"));
                sql.push(format!("ALTER TABLE {table} ADD PRIMARY KEY ({cell}, slot)"));
            } else {
                sql.push(format!("CREATE UNIQUE INDEX {table}_slot ON {table} ({cell}, slot)"));
            }
        }
        run(m, &sql).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let postgres = m.get_database_backend() == DatabaseBackend::Postgres;
        let mut sql = Vec::new();
        for (table, cell) in TABLES {
            if postgres {
                // Each cell's sum under slot -1 (no write uses it), then only those.
                sql.push(format!(
                    "INSERT INTO {table} ({cell}, slot, n) SELECT {cell}, -1, CAST(SUM(n) AS BIGINT) FROM {table} \
                     GROUP BY {cell}"
                ));
                sql.push(format!("DELETE FROM {table} WHERE slot <> -1"));
                sql.push(format!("ALTER TABLE {table} DROP CONSTRAINT {table}_pkey"));
                sql.push(format!("ALTER TABLE {table} ADD PRIMARY KEY ({cell})"));
            } else {
                // Every row is slot 0 here, one per cell (the old key holds).
                sql.push(format!("DROP INDEX {table}_slot"));
            }
            sql.push(format!("ALTER TABLE {table} DROP COLUMN slot"));
        }
        run(m, &sql).await
    }
}
