//! Row ids drawn ahead on PostgreSQL, a block at a time.
//!
//! A create that sends all its writes in one statement
//! ([`super::Store::begin_create`]) must know its new row's id before it
//! sends them: the event it appends carries the row. Drawing that id from
//! the table's sequence is a round trip of its own, so the store draws a
//! block of [`BLOCK`] ids in one statement and hands them out in order.
//! Ids stay unique (the sequence is the only source, for every replica and
//! for rows inserted without the store); what changes is that ids of one
//! process's rows are not interleaved in time with other replicas' rows,
//! and a process that stops leaves the rest of its block unused, as a
//! rolled-back insert leaves its id.

use std::collections::{HashMap, VecDeque};

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use tokio::sync::Mutex;

use crate::{Error, Result};

/// How many ids one round trip draws.
pub(crate) const BLOCK: i64 = 64;

/// The ids drawn and not yet handed out, by table.
#[derive(Default)]
pub(crate) struct IdBlocks {
    drawn: Mutex<HashMap<&'static str, VecDeque<i64>>>,
}

impl IdBlocks {
    /// The next id for a new row of `table` (whose `id` column has a
    /// sequence), drawing a block from `db` when none is left.
    pub async fn next(&self, db: &DatabaseConnection, table: &'static str) -> Result<i64> {
        let mut drawn = self.drawn.lock().await;
        let ids = drawn.entry(table).or_default();
        if ids.is_empty() {
            let draw = Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT nextval(pg_get_serial_sequence($1, 'id')) AS id FROM generate_series(1, $2::bigint)",
                [table.into(), BLOCK.into()],
            );
            let mut block = db
                .query_all(draw)
                .await?
                .iter()
                .map(|row| row.try_get::<i64>("", "id"))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            block.sort_unstable();
            ids.extend(block);
        }
        ids.pop_front().ok_or_else(|| Error::Internal(format!("no ids drawn for {table}")))
    }
}
