//! Request ids: a create claims its idempotency key in the same commit as
//! what it creates, so a retry finds what the first attempt made.

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryTrait, Statement};
use sha2::{Digest, Sha256};

use super::WriteTx;
use super::chain::database_error;
use crate::store::entity::request_id;
use crate::store::shape;
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

/// The result of claiming a request id.
pub(crate) enum Claim {
    /// First use: go ahead, then call [`WriteTx::complete_claim`].
    Fresh,
    /// Already used for the same request: the id of what it created.
    Replay(i64),
}

/// A request id claimed by a write.
pub(super) struct Claimed {
    request_id: String,
    method: String,
    fingerprint: String,
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
    pub(super) fn claim_row(&self, claimed: &Claimed, resource: &str, or_wait: bool) -> Result<Statement> {
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
    pub(super) async fn claimed_before(&self, claimed: &Claimed) -> Result<i64> {
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
}

/// Whether `e` is the failure of an insert of a request id another create
/// has claimed (PostgreSQL's unique violation on its primary key).
pub(super) fn takes_claimed_id(e: &DbErr) -> bool {
    database_error(e)
        .is_some_and(|db| db.code().as_deref() == Some("23505") && db.constraint() == Some("request_ids_pkey"))
}
