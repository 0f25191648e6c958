//! Memberships: which municipalities belong to a working group. Everyone
//! reads them; only coordinators change them. A membership is not user
//! content, so leaving a group deletes it for good (the content the member
//! posted stays).

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entity::{membership, municipality};
use super::filter::{Filter, Term};
use super::page::PageSpec;
use super::working_group::{count_members, group_row, open_group};
use super::write::{Claim, NewEvent, RequestId, ts};
use super::{Store, lookup, terms};
use crate::auth::Principal;
use crate::domain::*;
use crate::model::*;
use crate::{Error, Result};

const FIELDS: &[&str] = &["country", "create_time"];

fn term(t: &Term) -> Result<Condition> {
    match t.field.as_str() {
        "country" | "create_time" => {
            Ok(Condition::all().add(terms::common(t)?.ok_or_else(|| terms::unknown(t, FIELDS))?))
        }
        _ => Err(terms::unknown(t, FIELDS)),
    }
}

fn record(row: membership::Model) -> Result<Membership> {
    Ok(Membership {
        working_group: WorkingGroupId::from_db(row.working_group_id),
        municipality: MunicipalityId::from_db(row.municipality_id),
        country: lookup::country_of(&row.country)?,
        create_time: ts(row.create_time),
    })
}

async fn find(conn: &impl ConnectionTrait, g: WorkingGroupId, m: MunicipalityId) -> Result<Option<Membership>> {
    membership::Entity::find_by_id((g.get(), m.get())).one(conn).await?.map(record).transpose()
}

fn event(kind: &'static str, m: &Membership) -> NewEvent {
    NewEvent {
        kind,
        resource: names::membership(m.working_group, m.municipality),
        working_group: Some(m.working_group),
        country: Some(m.country),
        municipality: Some(m.municipality),
        visibility: None,
        snapshot: Snapshot::Membership(m.clone()),
    }
}

/// A municipality that may join a group, as an input error otherwise.
async fn joinable(conn: &impl ConnectionTrait, id: MunicipalityId) -> Result<municipality::Model> {
    const FIELD: &str = "membership.municipality";
    match municipality::Entity::find_by_id(id.get()).one(conn).await? {
        Some(m) if m.archive_time.is_none() => Ok(m),
        Some(_) => Err(Error::invalid(FIELD, format!("{} is archived", names::municipality(id)))),
        None => Err(Error::invalid(FIELD, format!("{} does not exist", names::municipality(id)))),
    }
}

impl Store {
    /// Add `municipality` to `group` (coordinators only), counting it in the
    /// group's `member_count` in the same transaction. The group must exist
    /// and not be archived; the municipality must exist and be active; a
    /// second membership is [`Error::AlreadyExists`]. Idempotent by `request_id`.
    ///
    /// ```no_run
    /// # async fn run(store: peerlab_core::store::Store, coordinator: peerlab_core::auth::Principal) -> peerlab_core::Result<()> {
    /// use peerlab_core::domain::{MunicipalityId, WorkingGroupId};
    /// let group = WorkingGroupId::parse("working_group", 1)?;
    /// let mostar = MunicipalityId::parse("municipality", 7)?;
    /// let m = store.create_membership(&coordinator, group, mostar, None).await?;
    /// assert_eq!(m.municipality, mostar);
    /// # Ok(()) }
    /// ```
    pub async fn create_membership(
        &self,
        p: &Principal,
        group: WorkingGroupId,
        municipality: MunicipalityId,
        request_id: Option<&RequestId>,
    ) -> Result<Membership> {
        p.coordinate()?;
        let name = names::membership(group, municipality);
        let mut w = self.begin_write(&p.actor()).await?;
        // The group is part of the fingerprint, so a replay names the same group.
        if let Claim::Replay(m) = w.claim(request_id, "CreateMembership", &name).await? {
            let replayed = find(&w.tx, group, MunicipalityId::from_db(m)).await?.ok_or(Error::NotFound(name))?;
            return w.unchanged(replayed).await;
        }
        open_group(&w.tx, group).await?;
        let member = joinable(&w.tx, municipality).await?;
        let row = membership::ActiveModel {
            working_group_id: Set(group.get()),
            municipality_id: Set(municipality.get()),
            country: Set(member.country),
            create_time: Set(w.now),
        };
        // DO NOTHING rather than a prior check: a concurrent duplicate waits
        // on the first insert and then reports itself as a duplicate.
        let inserted = membership::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([membership::Column::WorkingGroupId, membership::Column::MunicipalityId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&w.tx)
            .await?;
        if inserted != 1 {
            return Err(Error::AlreadyExists(name));
        }
        count_members(&w, group, 1).await?;
        w.complete_claim(municipality.get())?;
        let created = find(&w.tx, group, municipality)
            .await?
            .ok_or_else(|| Error::Internal("created membership is gone".into()))?;
        w.commit(event("membership.created", &created)).await?;
        Ok(created)
    }

    /// List the members of `group` in municipality id order; filter on
    /// `country` or `create_time`. A missing group is NOT_FOUND.
    pub async fn list_memberships(
        &self,
        p: &Principal,
        group: WorkingGroupId,
        req: &PageRequest,
    ) -> Result<Page<Membership>> {
        tracing::trace!(actor = %p.actor(), working_group = %group, "list memberships");
        let spec = PageSpec::new(req, &format!("memberships:{group}"))?;
        let filter = Filter::parse(&req.filter)?;
        group_row(&self.db, group).await?;
        let mut cond = Condition::all().add(membership::Column::WorkingGroupId.eq(group.get()));
        for t in &filter.terms {
            cond = cond.add(term(t)?);
        }
        if let Some(after) = spec.after {
            cond = cond.add(membership::Column::MunicipalityId.gt(after));
        }
        let rows = membership::Entity::find()
            .filter(cond)
            .order_by_asc(membership::Column::MunicipalityId)
            .limit(spec.limit + 1)
            .all(&self.db)
            .await?;
        let (rows, next_page_token) = spec.finish(rows, |r| r.municipality_id);
        Ok(Page { items: rows.into_iter().map(record).collect::<Result<_>>()?, next_page_token })
    }

    /// Remove `municipality` from `group` (coordinators only) and return the
    /// membership that was deleted. NOT_FOUND if it is not a member; an
    /// archived group is frozen (FAILED_PRECONDITION).
    pub async fn delete_membership(
        &self,
        p: &Principal,
        group: WorkingGroupId,
        municipality: MunicipalityId,
    ) -> Result<Membership> {
        p.coordinate()?;
        let name = names::membership(group, municipality);
        let w = self.begin_write(&p.actor()).await?;
        open_group(&w.tx, group).await?;
        let Some(gone) = find(&w.tx, group, municipality).await? else {
            return Err(Error::NotFound(name));
        };
        let res = membership::Entity::delete_by_id((group.get(), municipality.get())).exec(&w.tx).await?;
        if res.rows_affected != 1 {
            return Err(Error::NotFound(name));
        }
        count_members(&w, group, -1).await?;
        w.commit(event("membership.deleted", &gone)).await?;
        Ok(gone)
    }
}
