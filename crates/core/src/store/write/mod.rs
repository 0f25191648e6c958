//! Write transactions: one transaction per write, which also appends the
//! write's event and, for creates, claims the request id.

use std::sync::Arc;

use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    QueryTrait, Statement, TransactionTrait,
};
use tokio::sync::watch;

use super::batch::Seat;
use super::entity::event;
use super::shape;
use super::writer::Savepoint;
use super::{Either, Store};
use crate::domain::*;
use crate::model::{Snapshot, Timestamp};
use crate::report::Counters;
use crate::{Error, Result};

mod chain;
mod claim;
mod combined;
mod merge;

use chain::{chain, fails_check, from_lock};
pub(crate) use claim::Claim;
pub use claim::RequestId;
use claim::{Claimed, takes_claimed_id};
pub(crate) use combined::{COMMITS_IN_FLIGHT, Combiner};

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

/// Where a write's statements go: on PostgreSQL a transaction of its own on
/// a pooled connection, or for a create no transaction at all (its reads go
/// to the pool and its writes in one statement at commit: [`Pg`]); on SQLite
/// a savepoint in the open group-commit batch, on the writer.
pub(crate) type Tx = Either<Pg, Savepoint>;

/// A PostgreSQL write: a transaction, or (`Direct`) the pool, for a create
/// whose every write is deferred to the one statement its commit sends,
/// which is then a transaction of its own ([`Store::begin_create`]).
pub(crate) type Pg = Either<DatabaseTransaction, DatabaseConnection>;

impl Tx {
    /// Make the write's changes part of its transaction (PostgreSQL: commit
    /// it; SQLite: keep them in the batch, which commits later).
    async fn commit(self) -> std::result::Result<(), DbErr> {
        match self {
            Either::Sqlx(Either::Sqlx(tx)) => tx.commit().await,
            // The commit's one statement was its own transaction.
            Either::Sqlx(Either::Direct(_)) => Ok(()),
            Either::Direct(sp) => sp.release(),
        }
    }

    /// Undo the write's changes.
    pub async fn rollback(self) -> std::result::Result<(), DbErr> {
        match self {
            Either::Sqlx(Either::Sqlx(tx)) => tx.rollback().await,
            // Nothing was written before the commit's one statement.
            Either::Sqlx(Either::Direct(_)) => Ok(()),
            Either::Direct(sp) => sp.rollback(),
        }
    }

    /// Whether this is a PostgreSQL create without a transaction, whose
    /// writes all wait for the commit's one statement.
    fn deferred_only(&self) -> bool {
        matches!(self, Either::Sqlx(Either::Direct(_)))
    }
}

/// How a create ended.
pub(crate) enum Committed {
    /// Committed with this event.
    Event(EventId),
    /// The request id was claimed by an earlier, committed create of the
    /// same request (found at commit, on PostgreSQL): what it created.
    Replay(i64),
    /// The check sent with the commit ([`WriteTx::check_at_commit`]) did not
    /// hold, or a row it vouched for was not there: nothing was written.
    /// The caller checks again the slow way, for the precise error.
    Unchecked,
}

/// An open write transaction.
pub(crate) struct WriteTx {
    pub tx: Tx,
    pub now: i64,
    actor: String,
    claim: Option<Claimed>,
    committed: Arc<watch::Sender<i64>>,
    /// On SQLite, the write's seat in the open group-commit batch (`tx` is
    /// then a savepoint in it); on PostgreSQL `tx` is its own transaction,
    /// or, for a create, the pool ([`Store::begin_create`]).
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
    /// A condition the commit's statement checks before it appends the
    /// event ([`WriteTx::check_at_commit`]).
    guard: Option<Statement>,
    /// On PostgreSQL, where a create without a transaction commits.
    combiner: Option<Arc<combined::Combiner>>,
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
            None => (None, Either::Sqlx(Either::Sqlx(self.db.begin().await?))),
        };
        Ok(self.write_tx(actor, tx, seat))
    }

    /// Begin a create on behalf of `actor`. On PostgreSQL no transaction is
    /// opened: the create's reads go to the pool, and it must defer every
    /// write ([`WriteTx::defer`]; its request id is claimed with them), so
    /// that its commit sends them all, with its event, in one statement,
    /// which is its own transaction: one round trip where a transaction
    /// takes five or more. On SQLite it is [`Store::begin_write`].
    pub(crate) async fn begin_create(&self, actor: &str) -> Result<WriteTx> {
        if self.group.is_some() {
            return self.begin_write(actor).await;
        }
        Ok(self.write_tx(actor, Either::Sqlx(Either::Direct(self.db.clone())), None))
    }

    fn write_tx(&self, actor: &str, tx: Tx, seat: Option<Seat>) -> WriteTx {
        WriteTx {
            tx,
            now: now_micros(),
            actor: actor.to_owned(),
            claim: None,
            committed: self.committed.clone(),
            seat,
            deferred: Vec::new(),
            slots: self.slots.clone(),
            combiner: self.combiner.clone(),
            announce: self.announce.clone(),
            guard: None,
        }
    }
}

impl WriteTx {
    /// In a create without a transaction, have the commit's statement check
    /// `condition` (a boolean SQL expression) before it appends the event,
    /// instead of a read before: if it is false, the statement fails and
    /// writes nothing, and the commit answers [`Committed::Unchecked`]. For
    /// checks whose failures are rare and whose rows the write's own
    /// inserts reference (a foreign key failing is answered the same way).
    pub fn check_at_commit(&mut self, condition: Statement) {
        self.guard = Some(condition);
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
    /// report aggregates, the lock and the event) go in one round trip: one
    /// statement whose writes are data-modifying `WITH` clauses.
    pub async fn commit(self, ev: NewEvent) -> Result<EventId> {
        match self.commit_or_replay(ev).await? {
            Committed::Event(id) => Ok(id),
            Committed::Replay(_) => Err(Error::Internal("a request id claimed up front was taken at commit".into())),
            Committed::Unchecked => Err(Error::Internal("a write with no check at commit failed its check".into())),
        }
    }

    /// [`WriteTx::commit`] for a create: in a create without a transaction
    /// ([`Store::begin_create`]) the request id is claimed here, and a
    /// create of the same request committed first makes this one a replay
    /// of it (nothing of this one is written).
    pub async fn commit_or_replay(mut self, ev: NewEvent) -> Result<Committed> {
        let backend = self.tx.get_database_backend();
        let postgres = backend == DatabaseBackend::Postgres;
        let mut writes = std::mem::take(&mut self.deferred);
        let counters = crate::report::record(&self.tx, &ev.resource, &ev.snapshot, &mut writes).await?;
        let append = self.append(&ev, backend)?;
        if let (true, Some(combiner)) = (self.tx.deferred_only(), self.combiner.clone()) {
            // A create without a transaction: its statement, perhaps shared
            // with concurrent creates ([`combined`]), is its commit.
            let guard = self.guard.take();
            let checked = guard.is_some();
            let id = match combiner.commit(combined::Parts { writes, guard, append, counters }).await {
                Ok(id) => id,
                Err(e) if takes_claimed_id(&e) => {
                    // A create of the same request id committed first: the
                    // statement wrote nothing.
                    let claimed = self.claim.as_ref().ok_or_else(|| Error::Database(e))?;
                    return self.claimed_before(claimed).await.map(Committed::Replay);
                }
                Err(e) if checked && fails_check(&e) => return Ok(Committed::Unchecked),
                Err(e) => return Err(e.into()),
            };
            super::live::bump(&self.committed, id);
            if let Some(announce) = &self.announce {
                super::live::bump(announce, id);
            }
            return Ok(Committed::Event(EventId::from_db(id)));
        }
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
        let id = if postgres {
            let link = chain::Link { writes: &writes, guard: self.guard.as_ref(), append: &append };
            let appended = match self.tx.query_one(chain(&[link], &[])?).await {
                Err(e) if self.guard.is_some() && fails_check(&e) => return Ok(Committed::Unchecked),
                appended => appended?,
            };
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
        Ok(Committed::Event(EventId::from_db(id)))
    }

    /// The insert of `ev`'s row into the log. On PostgreSQL the row comes
    /// from the append lock's clause ([`chain`]), so the lock is taken
    /// before the row's id is drawn.
    fn append(&self, ev: &NewEvent, backend: DatabaseBackend) -> Result<Statement> {
        let postgres = backend == DatabaseBackend::Postgres;
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
        let shape = if postgres { "event/locked" } else { "event" };
        shape::statement(backend, (shape, 0), values, || {
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
            let insert = event::Entity::insert(row).build(backend);
            if postgres { from_lock(insert) } else { insert }
        })
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
