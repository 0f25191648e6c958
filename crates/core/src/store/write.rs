//! Write transactions: one transaction per write, which also appends the
//! write's event and, for creates, claims the request id.

use std::sync::Arc;

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, QueryTrait, Statement, TransactionTrait,
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

/// A request id claimed by a write.
struct Claimed {
    request_id: String,
    method: String,
    fingerprint: String,
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
            announce: self.announce.clone(),
            guard: None,
        }
    }
}

impl WriteTx {
    /// Claim `request_id` for `method` with a request `fingerprint` (any
    /// stable description of the request). The claim row is written first so
    /// that a concurrent duplicate waits on it and then replays. In a create
    /// without a transaction ([`Store::begin_create`]) the row is written
    /// with the commit instead, and a duplicate is found there
    /// ([`Committed::Replay`]).
    pub async fn claim(&mut self, request_id: Option<&RequestId>, method: &str, fingerprint: &str) -> Result<Claim> {
        let Some(RequestId(rid)) = request_id else { return Ok(Claim::Fresh) };
        let digest = hex::encode(Sha256::digest(format!("{method}\u{0}{fingerprint}")));
        let claimed = Claimed { request_id: rid.clone(), method: method.to_owned(), fingerprint: digest };
        if self.tx.deferred_only() {
            self.claim = Some(claimed);
            return Ok(Claim::Fresh);
        }
        let insert = self.claim_row(&claimed, "", true)?;
        if self.tx.execute(insert).await?.rows_affected() == 1 {
            self.claim = Some(claimed);
            return Ok(Claim::Fresh);
        }
        self.claimed_before(&claimed).await.map(Claim::Replay)
    }

    /// The insert of `claimed`'s row, naming `resource`; with `or_wait`, a
    /// row already there (or being written) is left as it is.
    fn claim_row(&self, claimed: &Claimed, resource: &str, or_wait: bool) -> Result<Statement> {
        let backend = self.tx.get_database_backend();
        let values = vec![
            self.actor.as_str().into(),
            claimed.request_id.as_str().into(),
            claimed.method.as_str().into(),
            claimed.fingerprint.as_str().into(),
            resource.into(),
            self.now.into(),
        ];
        let name = if or_wait { "claim" } else { "claim/with-resource" };
        shape::statement(backend, (name, 0), values, || {
            let row = request_id::ActiveModel {
                scope: Set(self.actor.clone()),
                request_id: Set(claimed.request_id.clone()),
                method: Set(claimed.method.clone()),
                fingerprint: Set(claimed.fingerprint.clone()),
                resource: Set(resource.to_owned()),
                create_time: Set(self.now),
            };
            let mut insert = request_id::Entity::insert(row);
            if or_wait {
                insert = insert.on_conflict(
                    OnConflict::columns([request_id::Column::Scope, request_id::Column::RequestId])
                        .do_nothing()
                        .to_owned(),
                );
            }
            insert.build(backend)
        })
    }

    /// What the committed claim of `claimed`'s request id created, if it was
    /// for the same request; a different request is an error.
    async fn claimed_before(&self, claimed: &Claimed) -> Result<i64> {
        let rid = &claimed.request_id;
        let existing = request_id::Entity::find_by_id((self.actor.clone(), rid.clone()))
            .one(&self.tx)
            .await?
            .ok_or_else(|| Error::Internal("request id vanished after a conflict".into()))?;
        if existing.fingerprint != claimed.fingerprint {
            return Err(Error::RequestIdReused(rid.clone()));
        }
        existing.resource.parse::<i64>().map_err(|_| Error::Internal(format!("request id {rid} has no resource")))
    }

    /// In a create without a transaction whose request id is not yet
    /// written: what an earlier create of the same request created, if one
    /// did. For a create that fails its checks, so that a retry of one that
    /// succeeded before the checks changed still replays (a create with a
    /// transaction claims its id before its checks).
    pub async fn replay_of_pending_claim(&self) -> Result<Option<i64>> {
        let Some(claimed) = self.claim.as_ref().filter(|_| self.tx.deferred_only()) else { return Ok(None) };
        let found =
            request_id::Entity::find_by_id((self.actor.clone(), claimed.request_id.clone())).one(&self.tx).await?;
        match found {
            None => Ok(None),
            Some(_) => self.claimed_before(claimed).await.map(Some),
        }
    }

    /// Record what the claimed request created (with the event: the claim
    /// row was written by this transaction, so nothing can have removed it;
    /// in a create without a transaction, the claim row itself is written
    /// with the event).
    pub fn complete_claim(&mut self, resource_id: i64) -> Result<()> {
        let Some(claimed) = &self.claim else { return Ok(()) };
        let resource = resource_id.to_string();
        if self.tx.deferred_only() {
            let insert = self.claim_row(claimed, &resource, false)?;
            self.defer(insert);
            return Ok(());
        }
        let Some(claimed) = self.claim.take() else { return Ok(()) };
        let rid = claimed.request_id;
        let backend = self.tx.get_database_backend();
        let values = vec![resource.as_str().into(), self.actor.as_str().into(), rid.as_str().into()];
        let update = shape::statement(backend, ("claim/complete", 0), values, || {
            request_id::Entity::update_many()
                .col_expr(request_id::Column::Resource, Expr::value(resource.clone()))
                .filter(request_id::Column::Scope.eq(self.actor.as_str()))
                .filter(request_id::Column::RequestId.eq(rid.as_str()))
                .build(backend)
        })?;
        self.defer(update);
        Ok(())
    }

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
        // On PostgreSQL the row comes from the append lock's clause
        // ([`chain`]), so the lock is taken before the row's id is drawn.
        let shape = if postgres { "event/locked" } else { "event" };
        let append = shape::statement(backend, (shape, 0), values, || {
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
        })?;
        let id = if postgres {
            let guarded = self.guard.take();
            let checked = guarded.is_some();
            let appended = match self.tx.query_one(chain(writes, guarded, append)?).await {
                Err(e) if self.tx.deferred_only() && takes_claimed_id(&e) => {
                    // A create of the same request id committed first: the
                    // statement wrote nothing.
                    let claimed = self.claim.as_ref().ok_or_else(|| Error::Database(e))?;
                    return self.claimed_before(claimed).await.map(Committed::Replay);
                }
                Err(e) if checked && fails_check(&e) => return Ok(Committed::Unchecked),
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

/// The text a failed [`WriteTx::check_at_commit`] raises.
const CHECK_FAILED: &str = "peerlab: a check at commit failed";

/// One PostgreSQL statement that runs `writes` (each a data-modifying
/// `WITH` clause: they all see the same snapshot, so no two may touch the
/// same row), takes the write's share of the log's append lock and checks
/// `guard` (clause `lk`), then runs `append` (the event's insert, whose row
/// is selected from `lk`: [`from_lock`]), and returns the new event's `id`.
///
/// `lk` is `MATERIALIZED`: evaluated once, as a clause of its own, before
/// the append's row, and so its id, exists. A false `guard` fails the whole
/// statement: plain SQL has no statement to raise an error, so `lk` casts
/// [`CHECK_FAILED`] to an integer, and the error names that text
/// ([`fails_check`]).
fn chain(writes: Vec<Statement>, guard: Option<Statement>, append: Statement) -> Result<Statement> {
    if !append.sql.ends_with(" FROM lk") {
        return Err(Error::Internal(format!("the event append does not follow the lock: {}", append.sql)));
    }
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
    let mut lock = take(super::live::append_lock());
    if let Some(guard) = guard {
        let guard = take(guard);
        lock.push_str(&format!(", CAST(CASE WHEN {guard} THEN '1' ELSE '{CHECK_FAILED}' END AS integer)"));
    }
    let append = take(append);
    sql.push_str(&format!("lk AS MATERIALIZED ({lock}), e AS ({append} RETURNING id) SELECT id FROM e"));
    Ok(Statement::from_sql_and_values(DatabaseBackend::Postgres, sql, values))
}

/// `insert` (sea-query's `INSERT … VALUES (…)` of one row) as an
/// `INSERT … SELECT` of the same values from the clause `lk` of [`chain`];
/// any other statement unchanged, which [`chain`] refuses.
fn from_lock(insert: Statement) -> Statement {
    let sql = match insert.sql.split_once(" VALUES (") {
        Some((head, row)) => match row.strip_suffix(')') {
            Some(row) if !row.contains(')') => format!("{head} SELECT {row} FROM lk"),
            _ => return insert,
        },
        None => return insert,
    };
    Statement { sql, ..insert }
}

/// Whether `e` is the failure of a check at commit: the guard's own error
/// (see [`chain`]), or a foreign key of one of the write's rows naming a
/// row the check vouched for.
fn fails_check(e: &DbErr) -> bool {
    match database_error(e).map(|db| (db.code(), db)) {
        Some((Some(code), db)) if code == "22P02" => db.message().contains(CHECK_FAILED),
        Some((Some(code), _)) => code == "23503",
        _ => false,
    }
}

/// The error PostgreSQL answered, if `e` is one.
fn database_error(e: &DbErr) -> Option<&(dyn sea_orm::sqlx::error::DatabaseError + 'static)> {
    use sea_orm::RuntimeErr::SqlxError;
    match e {
        DbErr::Exec(SqlxError(sea_orm::sqlx::Error::Database(db)))
        | DbErr::Query(SqlxError(sea_orm::sqlx::Error::Database(db))) => Some(db.as_ref()),
        _ => None,
    }
}

/// Whether `e` is the failure of an insert of a request id another create
/// has claimed (PostgreSQL's unique violation on its primary key).
fn takes_claimed_id(e: &DbErr) -> bool {
    database_error(e)
        .is_some_and(|db| db.code().as_deref() == Some("23505") && db.constraint() == Some("request_ids_pkey"))
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
    fn a_chain_binds_every_value_once_in_order_and_appends_after_the_lock() {
        let writes = vec![
            pg(r#"INSERT INTO "a" ("x", "y") VALUES ($1, $2)"#, vec![1i64.into(), "one".into()]),
            pg(r#"UPDATE "b" SET "z" = $1"#, vec![2i64.into()]),
        ];
        let append =
            from_lock(pg(r#"INSERT INTO "events" ("kind", "n") VALUES ($1, $2)"#, vec!["k".into(), 3i64.into()]));
        let chained = chain(writes, None, append).expect("chain");
        assert_eq!(
            chained.sql,
            r#"WITH w0 AS (INSERT INTO "a" ("x", "y") VALUES ($1, $2)), w1 AS (UPDATE "b" SET "z" = $3), "#.to_owned()
                + "lk AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared($4)), "
                + r#"e AS (INSERT INTO "events" ("kind", "n") SELECT $5, $6 FROM lk RETURNING id) SELECT id FROM e"#
        );
        let values = chained.values.expect("values").0;
        let expected: Vec<sea_orm::Value> = vec![
            1i64.into(),
            "one".into(),
            2i64.into(),
            super::super::live::APPEND_LOCK.into(),
            "k".into(),
            3i64.into(),
        ];
        assert_eq!(values, expected);
    }

    #[test]
    fn a_guard_is_checked_with_the_lock_before_the_append() {
        let guard = pg("EXISTS (SELECT 1 FROM t WHERE id = $1)", vec![7i64.into()]);
        let append = from_lock(pg(r#"INSERT INTO "events" ("kind") VALUES ($1)"#, vec!["k".into()]));
        let chained = chain(vec![], Some(guard), append).expect("chain");
        assert_eq!(
            chained.sql,
            "WITH lk AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared($1), CAST(CASE WHEN EXISTS (SELECT 1 FROM t WHERE id = $2) THEN '1' ELSE 'peerlab: a check at commit failed' END AS integer)), ".to_owned()
                + r#"e AS (INSERT INTO "events" ("kind") SELECT $3 FROM lk RETURNING id) SELECT id FROM e"#
        );
        assert_eq!(chained.values.expect("values").0.len(), 3);
    }

    #[test]
    fn an_append_that_does_not_select_from_the_lock_is_refused() {
        let multi_row = pg(r#"INSERT INTO "events" ("kind") VALUES ($1), ($2)"#, vec!["a".into(), "b".into()]);
        let unchanged = from_lock(multi_row.clone());
        assert_eq!(unchanged.sql, multi_row.sql);
        assert!(matches!(chain(vec![], None, unchanged), Err(Error::Internal(_))));
    }
}
