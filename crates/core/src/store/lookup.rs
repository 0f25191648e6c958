//! Look-ups shared by the writes of several resources.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

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
        return Err(Error::PermissionDenied(format!("the caller may not write for {}", names::municipality(owner))));
    }
    let row = municipality(conn, owner).await?;
    let acting = p.act_for(owner, country_of(&row.country)?)?;
    if row.archive_time.is_some() {
        return Err(Error::FailedPrecondition(format!("{} is archived", names::municipality(owner))));
    }
    Ok(acting)
}

/// An active working group, or an input error on `field`.
pub(crate) async fn active_group(
    conn: &impl ConnectionTrait,
    id: WorkingGroupId,
    field: &str,
) -> Result<working_group::Model> {
    match working_group::Entity::find_by_id(id.get()).one(conn).await? {
        Some(g) if g.archive_time.is_none() => Ok(g),
        Some(_) => Err(Error::invalid(field, format!("{} is archived", names::working_group(id)))),
        None => Err(Error::invalid(field, format!("{} does not exist", names::working_group(id)))),
    }
}

/// Whether `m` is a member of `g`.
pub(crate) async fn is_member(conn: &impl ConnectionTrait, g: WorkingGroupId, m: MunicipalityId) -> Result<bool> {
    let n = membership::Entity::find()
        .filter(membership::Column::WorkingGroupId.eq(g.get()))
        .filter(membership::Column::MunicipalityId.eq(m.get()))
        .count(conn)
        .await?;
    Ok(n > 0)
}

/// Require that `m` is a member of `g`, as an input error on `field`.
pub(crate) async fn require_member(
    conn: &impl ConnectionTrait,
    g: WorkingGroupId,
    m: MunicipalityId,
    field: &str,
) -> Result<()> {
    if is_member(conn, g, m).await? {
        Ok(())
    } else {
        Err(Error::invalid(field, format!("{} is not a member of {}", names::municipality(m), names::working_group(g))))
    }
}

/// Check an etag against the stored version.
pub(crate) fn check_etag(given: Option<crate::model::Etag>, version: i64, name: &str) -> Result<()> {
    match given {
        Some(e) if e.version() != version => Err(Error::StaleEtag(name.to_owned())),
        _ => Ok(()),
    }
}
