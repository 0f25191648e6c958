//! Look-ups shared by the writes of several resources.

use sea_orm::sea_query::{Alias, Expr, JoinType, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, Statement};

use super::entity::{membership, municipality, working_group};
use crate::auth::{ActingFor, Principal};
use crate::domain::*;
use crate::model::names;
use crate::{Error, Result};

/// A municipality's row; the directory is public, so missing is NOT_FOUND.
pub(crate) async fn municipality(conn: &impl ConnectionTrait, id: MunicipalityId) -> Result<municipality::Model> {
    municipality::Entity::find_by_id(id.get()).one(conn).await?.ok_or_else(|| Error::NotFound(names::municipality(id)))
}

/// The country of a stored row.
pub(crate) fn country_of(raw: &str) -> Result<CountryCode> {
    CountryCode::parse(raw).map_err(|_| Error::Internal(format!("stored country {raw:?} is invalid")))
}

/// Capability to write for `owner`, decided before anything about the item
/// is revealed. An archived municipality cannot act.
pub(crate) async fn act_for(conn: &impl ConnectionTrait, p: &Principal, owner: MunicipalityId) -> Result<ActingFor> {
    if p.municipality().is_some_and(|m| m != owner) {
        return Err(denied(owner));
    }
    let row = municipality(conn, owner).await?;
    let acting = p.act_for(owner, country_of(&row.country)?)?;
    if row.archive_time.is_some() {
        return Err(Error::FailedPrecondition(format!("{} is archived", names::municipality(owner))));
    }
    Ok(acting)
}

/// What a create of owned content checks about its author and group, read
/// with one statement (each statement in a write is a round trip on
/// PostgreSQL): the owner's country and whether it is
/// archived, whether the group exists and is archived, and whether the owner
/// is a member.
pub(crate) struct Posting {
    acting: ActingFor,
    group: WorkingGroupId,
    owner: MunicipalityId,
    /// `None`: no such group; `Some(archived)` otherwise.
    group_archived: Option<bool>,
    member: bool,
}

impl Posting {
    /// Read what posting into `group` for `owner` needs and decide the
    /// capability to write for `owner` (as [`act_for`], first, before
    /// anything about the group is revealed).
    pub async fn read(
        conn: &impl ConnectionTrait,
        p: &Principal,
        owner: MunicipalityId,
        group: WorkingGroupId,
    ) -> Result<Posting> {
        if p.municipality().is_some_and(|m| m != owner) {
            return Err(denied(owner));
        }
        let backend = conn.get_database_backend();
        let (group_id, owner_id) = (group.get(), owner.get());
        // In the order `Posting::statement` binds them: the membership
        // EXISTS, the group's join, the owner.
        let values = vec![1.into(), group_id.into(), owner_id.into(), group_id.into(), owner_id.into()];
        let statement =
            super::shape::statement(backend, ("posting", 0), values, || backend.build(&Self::statement(owner, group)))?;
        let row = conn.query_one(statement).await?.ok_or_else(|| Error::NotFound(names::municipality(owner)))?;
        let country: String = row.try_get_by_index(0)?;
        let acting = p.act_for(owner, country_of(&country)?)?;
        if flag(&row, 1)? {
            return Err(Error::FailedPrecondition(format!("{} is archived", names::municipality(owner))));
        }
        let group_archived = if flag(&row, 2)? { Some(flag(&row, 3)?) } else { None };
        Ok(Posting { acting, group, owner, group_archived, member: flag(&row, 4)? })
    }

    /// The statement [`Posting::read`] reads: the owner's country and
    /// whether it is archived, whether the group exists and is archived,
    /// and whether the owner is a member of it.
    fn statement(owner: MunicipalityId, group: WorkingGroupId) -> sea_orm::sea_query::SelectStatement {
        let (m, g) = (Alias::new("m"), Alias::new("g"));
        let member = Query::select()
            .expr(Expr::val(1))
            .from(membership::Entity)
            .and_where(membership::Column::WorkingGroupId.eq(group.get()))
            .and_where(membership::Column::MunicipalityId.eq(owner.get()))
            .to_owned();
        Query::select()
            .column((m.clone(), municipality::Column::Country))
            .expr(Expr::col((m.clone(), municipality::Column::ArchiveTime)).is_not_null())
            .expr(Expr::col((g.clone(), working_group::Column::Id)).is_not_null())
            .expr(Expr::col((g.clone(), working_group::Column::ArchiveTime)).is_not_null())
            .expr(Expr::exists(member))
            .from_as(municipality::Entity, m.clone())
            .join_as(
                JoinType::LeftJoin,
                working_group::Entity,
                g.clone(),
                Expr::col((g, working_group::Column::Id)).eq(group.get()),
            )
            .and_where(Expr::col((m, municipality::Column::Id)).eq(owner.get()))
            .to_owned()
    }

    /// The capability to write for the owner.
    pub fn acting(&self) -> &ActingFor {
        &self.acting
    }

    /// The group is active and the owner a member of it, or an input error
    /// on `field` (the same answers as [`require_member`]).
    pub fn check_group(&self, field: &str) -> Result<()> {
        let g = self.group;
        match self.group_archived {
            None => Err(Error::invalid(field, format!("{} does not exist", names::working_group(g)))),
            Some(true) => Err(Error::invalid(field, format!("{} is archived", names::working_group(g)))),
            Some(false) if !self.member => Err(not_member(field, self.owner, g)),
            Some(false) => Ok(()),
        }
    }
}

/// What [`Posting::read`] and [`Posting::check_group`] check, for a writer
/// acting for `owner` as a municipality of `country`, as one PostgreSQL
/// condition (for [`super::write::WriteTx::check_at_commit`]): the owner is
/// of that country and not archived, and a member of `group`, which is not
/// archived.
pub(crate) fn posting_holds(owner: MunicipalityId, group: WorkingGroupId, country: CountryCode) -> Statement {
    Statement::from_sql_and_values(
        DbBackend::Postgres,
        r#"EXISTS (SELECT 1 FROM "municipalities" m JOIN "working_groups" g ON g."id" = $2 JOIN "memberships" s ON s."working_group_id" = g."id" AND s."municipality_id" = m."id" WHERE m."id" = $1 AND m."country" = $3 AND m."archive_time" IS NULL AND g."archive_time" IS NULL)"#,
        [owner.get().into(), group.get().into(), country.as_str().into()],
    )
}

/// A truth value computed by a statement: PostgreSQL returns a boolean,
/// SQLite an integer (which only sqlx's SQLite driver reads as a boolean).
fn flag(row: &sea_orm::QueryResult, i: usize) -> Result<bool> {
    match row.try_get_by_index::<bool>(i) {
        Ok(b) => Ok(b),
        Err(_) => Ok(row.try_get_by_index::<i64>(i)? != 0),
    }
}

fn denied(owner: MunicipalityId) -> Error {
    Error::PermissionDenied(format!("the caller may not write for {}", names::municipality(owner)))
}

fn not_member(field: &str, m: MunicipalityId, g: WorkingGroupId) -> Error {
    Error::invalid(field, format!("{} is not a member of {}", names::municipality(m), names::working_group(g)))
}

/// Whether `m` is a member of `g`.
pub(crate) async fn is_member(conn: &impl ConnectionTrait, g: WorkingGroupId, m: MunicipalityId) -> Result<bool> {
    let row = membership::Entity::find_by_id((g.get(), m.get())).one(conn).await?;
    Ok(row.is_some())
}

/// Require that `m` is a member of `g`, as an input error on `field`.
pub(crate) async fn require_member(
    conn: &impl ConnectionTrait,
    g: WorkingGroupId,
    m: MunicipalityId,
    field: &str,
) -> Result<()> {
    if is_member(conn, g, m).await? { Ok(()) } else { Err(not_member(field, m, g)) }
}

/// Check an etag against the stored version.
pub(crate) fn check_etag(given: Option<crate::model::Etag>, version: i64, name: &str) -> Result<()> {
    match given {
        Some(e) if e.version() != version => Err(Error::StaleEtag(name.to_owned())),
        _ => Ok(()),
    }
}
