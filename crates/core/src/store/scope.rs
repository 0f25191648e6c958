//! Turning a [`ReadScope`] into SQL, so lists never return what the caller
//! may not read, and single reads decide "denied" before "missing".

use sea_orm::sea_query::{Alias, Expr, Query, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};

use super::entity::{membership, municipality};
use crate::auth::ReadScope;
use crate::domain::*;
use crate::model::Ownership;
use crate::{Error, Result};

/// `working_group_id IN (groups the scope belongs to)`.
fn in_scope_groups(scope_col: &str, value: SimpleExpr) -> SimpleExpr {
    Expr::col(Alias::new("working_group_id")).in_subquery(
        Query::select()
            .column(membership::Column::WorkingGroupId)
            .from(membership::Entity)
            .and_where(Expr::col((membership::Entity, Alias::new(scope_col))).eq(value))
            .to_owned(),
    )
}

/// The rows of an owned-content table (columns `working_group_id`,
/// `municipality_id`, `country`, `visibility`) readable in `scope`.
pub(crate) fn content_condition(scope: ReadScope) -> Condition {
    let shared = Expr::col(Alias::new("visibility")).eq(Visibility::Shared.as_str());
    match scope {
        ReadScope::All => Condition::all(),
        ReadScope::Municipality { municipality, .. } => Condition::any()
            .add(Condition::all().add(shared).add(in_scope_groups("municipality_id", municipality.get().into())))
            .add(Expr::col(Alias::new("municipality_id")).eq(municipality.get())),
        ReadScope::Country { country, drafts } => {
            let mut any = Condition::any()
                .add(Condition::all().add(shared).add(in_scope_groups("country", country.as_str().into())));
            if drafts {
                any = any.add(Expr::col(Alias::new("country")).eq(country.as_str()));
            }
            any
        }
    }
}

/// Recommendations are shared with the target's group; both parties always
/// see their own.
pub(crate) fn recommendation_condition(scope: ReadScope) -> Condition {
    match scope {
        ReadScope::All => Condition::all(),
        ReadScope::Municipality { municipality, .. } => Condition::any()
            .add(in_scope_groups("municipality_id", municipality.get().into()))
            .add(Expr::col(Alias::new("municipality_id")).eq(municipality.get()))
            .add(Expr::col(Alias::new("target_municipality_id")).eq(municipality.get())),
        ReadScope::Country { country, .. } => Condition::any()
            .add(in_scope_groups("country", country.as_str().into()))
            .add(Expr::col(Alias::new("country")).eq(country.as_str()))
            .add(Expr::col(Alias::new("target_country")).eq(country.as_str())),
    }
}

/// Whether `scope` includes a member of `group`.
pub(crate) async fn scope_in_group(
    conn: &impl ConnectionTrait,
    scope: ReadScope,
    group: WorkingGroupId,
) -> Result<bool> {
    let q = membership::Entity::find().filter(membership::Column::WorkingGroupId.eq(group.get()));
    // One member is enough: the first row found, not a count of them all.
    let q = match scope {
        ReadScope::All => return Ok(true),
        ReadScope::Municipality { municipality, .. } => {
            q.filter(membership::Column::MunicipalityId.eq(municipality.get()))
        }
        ReadScope::Country { country, .. } => q.filter(membership::Column::Country.eq(country.as_str())),
    };
    Ok(q.one(conn).await?.is_some())
}

/// [`scope_in_group`] as an SQL boolean over the group column `group`, so a
/// single read can fetch the item and the answer in one statement.
pub(crate) fn scope_in_group_expr(scope: ReadScope, group: SimpleExpr) -> SimpleExpr {
    let members = |col: membership::Column, value: SimpleExpr| {
        Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(membership::Entity)
                .and_where(Expr::col((membership::Entity, membership::Column::WorkingGroupId)).eq(group))
                .and_where(Expr::col((membership::Entity, col)).eq(value))
                .to_owned(),
        )
    };
    match scope {
        ReadScope::All => Expr::val(true).into(),
        ReadScope::Municipality { municipality, .. } => {
            members(membership::Column::MunicipalityId, municipality.get().into())
        }
        ReadScope::Country { country, .. } => members(membership::Column::Country, country.as_str().into()),
    }
}

/// Whether a single item is readable in `scope` without asking about group
/// membership; `None` when only membership of the item's group decides.
fn readable_without_group(scope: ReadScope, owner: &Ownership) -> Option<bool> {
    if scope.reads_drafts_of(owner.municipality, owner.country)
        || scope.owns(owner.municipality, owner.country) && owner.visibility == Visibility::Shared
    {
        return Some(true);
    }
    if owner.visibility == Visibility::Draft {
        return Some(false);
    }
    None
}

/// Whether a single item is readable in `scope`.
pub(crate) async fn can_read(conn: &impl ConnectionTrait, scope: ReadScope, owner: &Ownership) -> Result<bool> {
    match readable_without_group(scope, owner) {
        Some(decided) => Ok(decided),
        None => scope_in_group(conn, scope, owner.working_group).await,
    }
}

/// [`can_read`], with the membership answer already fetched (by
/// [`scope_in_group_expr`]).
pub(crate) fn readable(scope: ReadScope, owner: &Ownership, in_group: bool) -> bool {
    readable_without_group(scope, owner).unwrap_or(in_group)
}

/// The error for an item under `municipalities/{owner}` that is missing or
/// unreadable: NOT_FOUND only where the caller could have read it had it
/// existed (its own municipality or country), PERMISSION_DENIED otherwise —
/// so a denial never tells whether the item exists.
pub(crate) async fn missing_or_denied(
    conn: &impl ConnectionTrait,
    scope: ReadScope,
    owner: MunicipalityId,
    name: String,
) -> Error {
    match municipality::Entity::find_by_id(owner.get()).one(conn).await {
        Ok(m) => missing_or_denied_given(scope, owner, m.as_ref().map(|m| m.country.as_str()), name),
        Err(e) => e.into(),
    }
}

/// [`missing_or_denied`], with the owner's stored country already fetched
/// (`None`: no such municipality).
pub(crate) fn missing_or_denied_given(
    scope: ReadScope,
    owner: MunicipalityId,
    owner_country: Option<&str>,
    name: String,
) -> Error {
    let Some(raw) = owner_country else { return Error::NotFound(name) };
    match CountryCode::parse(raw).ok() {
        Some(c) if scope.reads_drafts_of(owner, c) => Error::NotFound(name),
        _ => Error::PermissionDenied(format!("the caller may not read {name}")),
    }
}

/// The events readable in `scope`: directory events (no visibility) by
/// everyone; a shared item's events by the members of its group and by its
/// own municipality (or country); a draft's only where its drafts are read.
pub(crate) fn event_condition(scope: ReadScope) -> Condition {
    let visibility = || Expr::col(Alias::new("visibility"));
    let directory = visibility().is_null();
    let shared = || visibility().eq(Visibility::Shared.as_str());
    let draft = || visibility().eq(Visibility::Draft.as_str());
    match scope {
        ReadScope::All => Condition::all(),
        ReadScope::Municipality { municipality, .. } => {
            let own = || Expr::col(Alias::new("municipality_id")).eq(municipality.get());
            let in_groups = in_scope_groups("municipality_id", municipality.get().into());
            Condition::any()
                .add(directory)
                .add(Condition::all().add(shared()).add(Condition::any().add(in_groups).add(own())))
                .add(Condition::all().add(draft()).add(own()))
        }
        ReadScope::Country { country, drafts } => {
            let own = || Expr::col(Alias::new("country")).eq(country.as_str());
            let in_groups = in_scope_groups("country", country.as_str().into());
            let mut any = Condition::any()
                .add(directory)
                .add(Condition::all().add(shared()).add(Condition::any().add(in_groups).add(own())));
            if drafts {
                any = any.add(Condition::all().add(draft()).add(own()));
            }
            any
        }
    }
}
