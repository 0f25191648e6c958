//! Write transactions: one transaction per write, which also appends the
//! write's event and, for creates, claims the request id.

use std::sync::Arc;

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, QueryTrait, Statement, TransactionTrait,
};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use super::batch::Seat;
use super::entity::{event, request_id};
use super::shape;
use super::writer::Savepoint;
use super::{Either, Store};
use crate::domain::*;
use crate::model::{Snapshot, Timestamp};
use crate::report::Counters;
use crate::{Error, Result};

/// A checked idempotency key: 1 to 64 printable ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// Parse `request_id`; the empty string means "not idempotent".
    pub fn parse(s: &str) -> Result<Option<Self>> {
        if s.is_empty() {
            return Ok(None);
        }
        if s.len() > 64 || !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::invalid(
                "request_id",
                "must be 1 to 64 printable ASCII characters (a UUID is recommended)",
            ));
        }
        Ok(Some(RequestId(s.to_owned())))
    }
}

/// An event to append at the end of a write.
pub(crate) struct NewEvent {
    pub kind: &'static str,
    pub resource: String,
    pub working_group: Option<WorkingGroupId>,
    pub country: Option<CountryCode>,
    pub municipality: Option<MunicipalityId>,
    pub visibility: Option<Visibility>,
    pub snapshot: Snapshot,
}

/// The result of claiming a request id.
pub(crate) enum Claim {
    /// First use: go ahead, then call [`WriteTx::complete_claim`].
    Fresh,
    /// Already used for the same request: the id of what it created.
    Replay(i64),
}

/// Where a write's statements go: on PostgreSQL a transaction of its own on
/// a pooled connection; on SQLite a savepoint in the open group-commit
/// batch, on the writer.
pub(crate) type Tx = Either<DatabaseTransaction, Savepoint>;

impl Tx {
    /// Make the write's changes part of its transaction (PostgreSQL: commit
    /// it; SQLite: keep them in the batch, which commits later).
    async fn commit(self) -> std::result::Result<(), DbErr> {
        match self {
            Either::Sqlx(tx) => tx.commit().await,
            Either::Direct(sp) => sp.release(),
        }
    }

    /// Undo the write's changes.
    pub async fn rollback(self) -> std::result::Result<(), DbErr> {
        match self {
            Either::Sqlx(tx) => tx.rollback().await,
            Either::Direct(sp) => sp.rollback(),
        }
    }
}

/// An open write transaction.
pub(crate) struct WriteTx {
    pub tx: Tx,
    pub now: i64,
    actor: String,
    claim: Option<(String, String)>,
    committed: Arc<watch::Sender<i64>>,
    /// On SQLite, the write's seat in the open group-commit batch (`tx` is
    /// then a savepoint in it); on PostgreSQL `tx` is its own transaction.
    /// Declared after `tx` on purpose: fields drop in order, so a write cut
    /// off half-way rolls its savepoint back before giving up its seat.
    seat: Option<Seat>,
    /// Statements whose results the write does not need, sent with its
    /// event ([`WriteTx::defer`]).
    deferred: Vec<Statement>,
    /// On PostgreSQL, where its report counter changes take a slot.
    slots: Option<Arc<super::slots::Slots>>,
    /// On PostgreSQL, told of the commit, to notify the other replicas.
    announce: Option<Arc<watch::Sender<i64>>>,
}

/// Microseconds since the Unix epoch, now.
pub(crate) fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// A stored time back as a timestamp.
pub(crate) fn ts(micros: i64) -> Timestamp {
    chrono::DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

impl Store {
    /// Begin a write on behalf of `actor`.
    pub(crate) async fn begin_write(&self, actor: &str) -> Result<WriteTx> {
        let (seat, tx) = match &self.group {
            Some(group) => {
                let (seat, savepoint) = group.begin().await?;
                (Some(seat), Either::Direct(savepoint))
            }
            None => (None, Either::Sqlx(self.db.begin().await?)),
        };
        Ok(WriteTx {
            tx,
            now: now_micros(),
            actor: actor.to_owned(),
            claim: None,
            committed: self.committed.clone(),
            seat,
            deferred: Vec::new(),
            slots: self.slots.clone(),
            announce: self.announce.clone(),
        })
    }
}

impl WriteTx {
    /// Claim `request_id` for `method` with a request `fingerprint` (any
    /// stable description of the request). The claim row is written first so
    /// that a concurrent duplicate waits on it and then replays.
    pub async fn claim(&mut self, request_id: Option<&RequestId>, method: &str, fingerprint: &str) -> Result<Claim> {
        let Some(RequestId(rid)) = request_id else { return Ok(Claim::Fresh) };
        let digest = hex::encode(Sha256::digest(format!("{method}\u{0}{fingerprint}")));
        let backend = self.tx.get_database_backend();
        let values = vec![
            self.actor.as_str().into(),
            rid.as_str().into(),
            method.into(),
            digest.as_str().into(),
            "".into(),
            self.now.into(),
        ];
        let insert = shape::statement(backend, ("claim", 0), values, || {
            let row = request_id::ActiveModel {
                scope: Set(self.actor.clone()),
                request_id: Set(rid.clone()),
                method: Set(method.to_owned()),
                fingerprint: Set(digest.clone()),
                resource: Set(String::new()),
                create_time: Set(self.now),
            };
            request_id::Entity::insert(row)
                .on_conflict(
                    OnConflict::columns([request_id::Column::Scope, request_id::Column::RequestId])
                        .do_nothing()
                        .to_owned(),
                )
                .build(backend)
        })?;
        if self.tx.execute(insert).await?.rows_affected() == 1 {
            self.claim = Some((rid.clone(), String::new()));
            return Ok(Claim::Fresh);
        }
        let existing = request_id::Entity::find_by_id((self.actor.clone(), rid.clone()))
            .one(&self.tx)
            .await?
            .ok_or_else(|| Error::Internal("request id vanished after a conflict".into()))?;
        if existing.fingerprint != digest {
            return Err(Error::RequestIdReused(rid.clone()));
        }
        existing
            .resource
            .parse::<i64>()
            .map(Claim::Replay)
            .map_err(|_| Error::Internal(format!("request id {rid} has no resource")))
    }

    /// Record what the claimed request created (with the event: the claim
    /// row was written by this transaction, so nothing can have removed it).
    pub fn complete_claim(&mut self, resource_id: i64) -> Result<()> {
        let Some((rid, _)) = self.claim.take() else { return Ok(()) };
        let backend = self.tx.get_database_backend();
        let values = vec![resource_id.to_string().into(), self.actor.as_str().into(), rid.as_str().into()];
        let update = shape::statement(backend, ("claim/complete", 0), values, || {
            request_id::Entity::update_many()
                .col_expr(request_id::Column::Resource, Expr::value(resource_id.to_string()))
                .filter(request_id::Column::Scope.eq(self.actor.as_str()))
                .filter(request_id::Column::RequestId.eq(rid.as_str()))
                .build(backend)
        })?;
        self.defer(update);
        Ok(())
    }

    /// Send `statement` with the event, at commit, after the statements
    /// deferred before it. For writes whose result nothing in the write
    /// reads; a failure still fails the write. On PostgreSQL the deferred
    /// statements run as clauses of one statement (see [`WriteTx::commit`]),
    /// which all see the same snapshot: no two may touch the same row.
    pub fn defer(&mut self, statement: Statement) {
        self.deferred.push(statement);
    }

    /// Append the event and commit. On PostgreSQL the write takes its share
    /// of the log's append lock just before the append, so that readers of
    /// the log never see an id before every smaller one is final (see
    /// [`super::live`]). Once committed, [`Store::committed`] moves to the
    /// new id (and, on PostgreSQL, the other replicas are told of it after
    /// the commit: [`super::live::announcer`]).
    ///
    /// On PostgreSQL the write's remaining statements (deferred ones, the
    /// report aggregates and the event) go in one round trip: one statement
    /// whose writes are data-modifying `WITH` clauses.
    pub async fn commit(mut self, ev: NewEvent) -> Result<EventId> {
        let backend = self.tx.get_database_backend();
        let postgres = backend == DatabaseBackend::Postgres;
        if postgres {
            self.tx.execute(super::live::append_lock()).await?;
        }
        let mut writes = std::mem::take(&mut self.deferred);
        let counters = crate::report::record(&self.tx, &ev.resource, &ev.snapshot, &mut writes).await?;
        // On SQLite the counters go with the batch: its writes' changes to
        // the same few rows are summed and sent once, before its commit.
        // On PostgreSQL they go in a slot of the write's own, held until
        // its transaction ends, so that concurrent writes do not wait for
        // each other's commit on the same counter rows.
        let slot = self.slots.as_ref().and_then(|s| s.take());
        let counters = match self.seat {
            Some(_) => counters,
            None => {
                writes.extend(counters.statements(backend, slot.as_ref().map_or(0, |s| s.get())));
                Counters::default()
            }
        };
        let payload =
            serde_json::to_string(&ev.snapshot).map_err(|e| Error::Internal(format!("event payload: {e}")))?;
        let (group, municipality) =
            (ev.working_group.map(WorkingGroupId::get), ev.municipality.map(MunicipalityId::get));
        let country = ev.country.map(|c| c.as_str().to_owned());
        let visibility = ev.visibility.map(|v| v.as_str().to_owned());
        let values = vec![
            ev.kind.into(),
            ev.resource.as_str().into(),
            group.into(),
            country.clone().into(),
            municipality.into(),
            visibility.clone().into(),
            self.actor.as_str().into(),
            self.now.into(),
            payload.as_str().into(),
        ];
        let append = shape::statement(backend, ("event", 0), values, || {
            let row = event::ActiveModel {
                kind: Set(ev.kind.to_owned()),
                resource: Set(ev.resource.clone()),
                working_group_id: Set(group),
                country: Set(country),
                municipality_id: Set(municipality),
                visibility: Set(visibility),
                actor: Set(self.actor.clone()),
                create_time: Set(self.now),
                payload: Set(payload.clone()),
                ..Default::default()
            };
            event::Entity::insert(row).build(backend)
        })?;
        let id = if postgres {
            let appended = self.tx.query_one(chain(writes, append)).await?;
            appended.ok_or_else(|| Error::Internal("the event append returned no id".into()))?.try_get("", "id")?
        } else {
            for statement in writes {
                self.tx.execute(statement).await?;
            }
            let id = self.tx.execute(append).await?.last_insert_id();
            i64::try_from(id).map_err(|_| Error::Internal(format!("event id {id} out of range")))?
        };
        self.tx.commit().await?;
        drop(slot);
        match self.seat {
            Some(seat) => seat.join(id, counters).await?,
            None => super::live::bump(&self.committed, id),
        }
        if let Some(announce) = &self.announce {
            super::live::bump(announce, id);
        }
        Ok(EventId::from_db(id))
    }

    /// End a write that changed nothing (a replayed create, a second
    /// archive), answering `item` once nothing it may have read can still be
    /// rolled back.
    pub async fn unchanged<T>(self, item: T) -> Result<T> {
        self.tx.rollback().await?;
        if let Some(seat) = self.seat {
            seat.leave().await?;
        }
        Ok(item)
    }
}

/// One PostgreSQL statement that runs `writes` (each a data-modifying
/// `WITH` clause: they all see the same snapshot, so no two may touch the
/// same row), then `append` (the event's insert), and returns the new
/// event's `id`.
fn chain(writes: Vec<Statement>, append: Statement) -> Statement {
    let mut sql = String::from("WITH ");
    let mut values = Vec::new();
    let mut take = |s: Statement| {
        let shifted = renumber(&s.sql, values.len());
        values.extend(s.values.map(|v| v.0).unwrap_or_default());
        shifted
    };
    for (i, w) in writes.into_iter().enumerate() {
        sql.push_str(&format!("w{i} AS ({}), ", take(w)));
    }
    let append = take(append);
    sql.push_str(&format!("e AS ({append} RETURNING id) SELECT id FROM e"));
    Statement::from_sql_and_values(DatabaseBackend::Postgres, sql, values)
}

/// `sql` with each placeholder `$n` shifted to `$(n + by)`. The chained
/// statements come already rendered (sea-query's, and the report's text from
/// `report::sql`), each numbering its placeholders from `$1`, so the chain
/// is composed as text. Every value is bound, never inlined, so a `$`
/// followed by digits is always a placeholder (names are quoted, never `$n`).
fn renumber(sql: &str, by: usize) -> String {
    if by == 0 {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + by).to_string()),
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
        Statement::from_sql_and_values(DatabaseBackend::Postgres, sql, values)
    }

    #[test]
    fn placeholders_shift_and_nothing_else_moves() {
        assert_eq!(
            renumber(r#"UPDATE "t" SET "a" = $1 WHERE "b" = $2"#, 3),
            r#"UPDATE "t" SET "a" = $4 WHERE "b" = $5"#
        );
        assert_eq!(renumber("SELECT $10, $9 $", 2), "SELECT $12, $11 $");
        assert_eq!(renumber("SELECT $1", 0), "SELECT $1");
    }

    #[test]
    fn a_chain_binds_every_value_once_in_order() {
        let writes = vec![
            pg(r#"INSERT INTO "a" ("x", "y") VALUES ($1, $2)"#, vec![1i64.into(), "one".into()]),
            pg(r#"UPDATE "b" SET "z" = $1"#, vec![2i64.into()]),
        ];
        let append = pg(r#"INSERT INTO "events" ("kind") VALUES ($1)"#, vec!["k".into()]);
        let chained = chain(writes, append);
        assert_eq!(
            chained.sql,
            r#"WITH w0 AS (INSERT INTO "a" ("x", "y") VALUES ($1, $2)), w1 AS (UPDATE "b" SET "z" = $3), "#.to_owned()
                + r#"e AS (INSERT INTO "events" ("kind") VALUES ($4) RETURNING id) SELECT id FROM e"#
        );
        let values = chained.values.expect("values").0;
        let expected: Vec<sea_orm::Value> = vec![1i64.into(), "one".into(), 2i64.into(), "k".into()];
        assert_eq!(values, expected);
    }
}
