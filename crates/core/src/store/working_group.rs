//! Working groups: themed, time-boxed groups of municipalities. Everyone
//! reads them; only coordinators run them.

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entity::{membership, working_group};
use super::filter::{Filter, Op, Term};
use super::page::PageSpec;
use super::write::{Claim, NewEvent, RequestId, WriteTx, ts};
use super::{Store, lookup, terms};
use crate::auth::Principal;
use crate::domain::*;
use crate::model::*;
use crate::{Error, Result};

const FIELDS: &[&str] = &["theme", "member", "update_time", "create_time"];
const DATE: &str = "%Y-%m-%d";

/// A date as stored: `YYYY-MM-DD`.
pub(super) fn date_text(d: NaiveDate) -> String {
    d.format(DATE).to_string()
}

/// A stored date back as a date.
pub(super) fn date_of(raw: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(raw, DATE).map_err(|_| Error::Internal(format!("stored date {raw:?} is invalid")))
}

/// A group that may still change: NOT_FOUND when missing, FAILED_PRECONDITION
/// when archived (an archived group is frozen history).
pub(super) async fn open_group(conn: &impl ConnectionTrait, id: WorkingGroupId) -> Result<working_group::Model> {
    match working_group::Entity::find_by_id(id.get()).one(conn).await? {
        Some(g) if g.archive_time.is_none() => Ok(g),
        Some(_) => Err(Error::FailedPrecondition(format!("{} is archived", names::working_group(id)))),
        None => Err(Error::NotFound(names::working_group(id))),
    }
}

/// Any group, archived or not; NOT_FOUND when missing.
pub(super) async fn group_row(conn: &impl ConnectionTrait, id: WorkingGroupId) -> Result<working_group::Model> {
    working_group::Entity::find_by_id(id.get())
        .one(conn)
        .await?
        .ok_or_else(|| Error::NotFound(names::working_group(id)))
}

/// Bump a group's version, update time and member count by `delta`, in the
/// membership write's transaction. Fails if the group was archived meanwhile.
pub(super) async fn count_members(w: &WriteTx, id: WorkingGroupId, delta: i64) -> Result<()> {
    let res = working_group::Entity::update_many()
        .col_expr(working_group::Column::MemberCount, Expr::col(working_group::Column::MemberCount).add(delta))
        .col_expr(working_group::Column::Version, Expr::col(working_group::Column::Version).add(1))
        .col_expr(working_group::Column::UpdateTime, Expr::value(w.now))
        .filter(working_group::Column::Id.eq(id.get()))
        .filter(working_group::Column::ArchiveTime.is_null())
        .exec(&w.tx)
        .await?;
    if res.rows_affected == 1 {
        Ok(())
    } else {
        Err(Error::FailedPrecondition(format!("{} is archived", names::working_group(id))))
    }
}

fn term(t: &Term) -> Result<Condition> {
    let id = Expr::col((working_group::Entity, working_group::Column::Id));
    Ok(Condition::all().add(match t.field.as_str() {
        "update_time" | "create_time" => terms::common(t)?.ok_or_else(|| terms::unknown(t, FIELDS))?,
        "theme" => {
            terms::equality(t)?;
            // `themes` is a JSON array of tags; tags hold no LIKE wildcards
            // (`Theme` allows only letters, digits and hyphens).
            let pattern = format!("%\"{}\"%", Theme::parse("filter", &t.value)?.as_str());
            let col = Expr::col((working_group::Entity, working_group::Column::Themes));
            if t.op == Op::Eq { col.like(pattern) } else { col.not_like(pattern) }
        }
        "member" => {
            terms::equality(t)?;
            let sub = Query::select()
                .column(membership::Column::WorkingGroupId)
                .from(membership::Entity)
                .and_where(membership::Column::MunicipalityId.eq(terms::name_id(t, "municipalities")?))
                .to_owned();
            if t.op == Op::Eq { id.in_subquery(sub) } else { id.not_in_subquery(sub) }
        }
        _ => return Err(terms::unknown(t, FIELDS)),
    }))
}

fn record(row: working_group::Model) -> Result<WorkingGroup> {
    let themes = serde_json::from_str(&row.themes).map_err(|e| {
        Error::Internal(format!(
            "stored themes of {} are invalid: {e}",
            names::working_group(WorkingGroupId::from_db(row.id))
        ))
    })?;
    Ok(WorkingGroup {
        id: WorkingGroupId::from_db(row.id),
        display_name: row.display_name,
        description: row.description,
        themes,
        start_date: date_of(&row.start_date)?,
        end_date: date_of(&row.end_date)?,
        member_count: row.member_count,
        meta: Meta {
            version: row.version,
            create_time: ts(row.create_time),
            update_time: ts(row.update_time),
            archive_time: row.archive_time.map(ts),
        },
    })
}

fn themes_text(themes: &[Theme]) -> Result<String> {
    serde_json::to_string(&themes.iter().map(Theme::as_str).collect::<Vec<_>>())
        .map_err(|e| Error::Internal(format!("themes: {e}")))
}

/// The last day may not come before the first.
fn check_dates(start: NaiveDate, end: NaiveDate, field: &str) -> Result<()> {
    if end < start {
        return Err(Error::invalid(field, format!("must not be before start_date ({})", date_text(start))));
    }
    Ok(())
}

fn event(kind: &'static str, g: &WorkingGroup) -> NewEvent {
    NewEvent {
        kind,
        resource: names::working_group(g.id),
        working_group: Some(g.id),
        country: None,
        municipality: None,
        visibility: None,
        snapshot: Snapshot::WorkingGroup(g.clone()),
    }
}

/// Write changed columns, bumping the version only if it is still `version`.
async fn save(
    w: &WriteTx,
    id: WorkingGroupId,
    mut row: working_group::ActiveModel,
    version: i64,
) -> Result<WorkingGroup> {
    row.version = Set(version + 1);
    row.update_time = Set(w.now);
    let res = working_group::Entity::update_many()
        .set(row)
        .filter(working_group::Column::Id.eq(id.get()))
        .filter(working_group::Column::Version.eq(version))
        .exec(&w.tx)
        .await?;
    if res.rows_affected != 1 {
        return Err(Error::StaleEtag(names::working_group(id)));
    }
    record(group_row(&w.tx, id).await?)
}

impl Store {
    /// Start a working group (coordinators only); it has no members yet.
    /// `end_date` must not be before `start_date`. Idempotent by `request_id`.
    ///
    /// ```no_run
    /// # async fn run(store: peerlab_core::store::Store, coordinator: peerlab_core::auth::Principal) -> peerlab_core::Result<()> {
    /// use chrono::NaiveDate;
    /// use peerlab_core::domain::{Description, Theme, Title};
    /// use peerlab_core::model::NewWorkingGroup;
    /// let input = NewWorkingGroup {
    ///     display_name: Title::parse("display_name", "Digitalisation")?,
    ///     description: Description::parse("description", "")?,
    ///     themes: Theme::parse_list("themes", &["e-services".into()])?,
    ///     start_date: NaiveDate::from_ymd_opt(2021, 9, 21).unwrap_or_default(),
    ///     end_date: NaiveDate::from_ymd_opt(2021, 11, 30).unwrap_or_default(),
    /// };
    /// let group = store.create_working_group(&coordinator, input, None).await?;
    /// assert_eq!(group.member_count, 0);
    /// # Ok(()) }
    /// ```
    pub async fn create_working_group(
        &self,
        p: &Principal,
        input: NewWorkingGroup,
        request_id: Option<&RequestId>,
    ) -> Result<WorkingGroup> {
        p.coordinate()?;
        check_dates(input.start_date, input.end_date, "working_group.end_date")?;
        let mut w = self.begin_write(&p.actor()).await?;
        if let Claim::Replay(id) = w.claim(request_id, "CreateWorkingGroup", &format!("{input:?}")).await? {
            let replayed = record(group_row(&w.tx, WorkingGroupId::from_db(id)).await?)?;
            return w.unchanged(replayed).await;
        }
        let row = working_group::ActiveModel {
            display_name: Set(input.display_name.into_string()),
            description: Set(input.description.into_string()),
            themes: Set(themes_text(&input.themes)?),
            start_date: Set(date_text(input.start_date)),
            end_date: Set(date_text(input.end_date)),
            member_count: Set(0),
            version: Set(1),
            create_time: Set(w.now),
            update_time: Set(w.now),
            archive_time: Set(None),
            ..Default::default()
        };
        let id = working_group::Entity::insert(row).exec(&w.tx).await?.last_insert_id;
        w.complete_claim(id)?;
        let created = record(group_row(&w.tx, WorkingGroupId::from_db(id)).await?)?;
        w.commit(event("working_group.created", &created)).await?;
        Ok(created)
    }

    /// Read one working group (archived ones too); every caller may.
    pub async fn get_working_group(&self, p: &Principal, id: WorkingGroupId) -> Result<WorkingGroup> {
        tracing::trace!(actor = %p.actor(), working_group = %id, "get working group");
        record(group_row(&self.db, id).await?)
    }

    /// List working groups in id order. Filters: `theme = tag`,
    /// `member = "municipalities/N"`, `update_time`, `create_time`.
    /// Archived groups appear with `show_archived` or as tombstones of
    /// `update_time > t`.
    pub async fn list_working_groups(&self, p: &Principal, req: &PageRequest) -> Result<Page<WorkingGroup>> {
        tracing::trace!(actor = %p.actor(), "list working groups");
        let spec = PageSpec::new(req, "workingGroups")?;
        let filter = Filter::parse(&req.filter)?;
        let mut cond = Condition::all();
        for t in &filter.terms {
            cond = cond.add(term(t)?);
        }
        if !req.show_archived && !terms::wants_tombstones(&filter.terms) {
            cond = cond.add(working_group::Column::ArchiveTime.is_null());
        }
        if let Some(after) = spec.after {
            cond = cond.add(working_group::Column::Id.gt(after));
        }
        let rows = working_group::Entity::find()
            .filter(cond)
            .order_by_asc(working_group::Column::Id)
            .limit(spec.limit + 1)
            .all(&self.db)
            .await?;
        let (rows, next_page_token) = spec.finish(rows, |r| r.id);
        Ok(Page { items: rows.into_iter().map(record).collect::<Result<_>>()?, next_page_token })
    }

    /// Change a working group (coordinators only). The dates, merged with
    /// the stored ones, must stay in order; an archived group cannot change.
    pub async fn update_working_group(
        &self,
        p: &Principal,
        id: WorkingGroupId,
        patch: WorkingGroupPatch,
        etag: Option<Etag>,
    ) -> Result<WorkingGroup> {
        p.coordinate()?;
        let name = names::working_group(id);
        let w = self.begin_write(&p.actor()).await?;
        let current = record(group_row(&w.tx, id).await?)?;
        lookup::check_etag(etag, current.meta.version, &name)?;
        if current.meta.archive_time.is_some() {
            return Err(Error::FailedPrecondition(format!("{name} is archived")));
        }
        let start = patch.start_date.unwrap_or(current.start_date);
        let end = patch.end_date.unwrap_or(current.end_date);
        // Blame the date the caller sent: a new start after the old end names start_date.
        let field = if patch.end_date.is_none() && patch.start_date.is_some() {
            "working_group.start_date"
        } else {
            "working_group.end_date"
        };
        check_dates(start, end, field)?;
        let mut row = working_group::ActiveModel::default();
        if let Some(n) = patch.display_name {
            row.display_name = Set(n.into_string());
        }
        if let Some(d) = patch.description {
            row.description = Set(d.into_string());
        }
        if let Some(t) = &patch.themes {
            row.themes = Set(themes_text(t)?);
        }
        if patch.start_date.is_some() {
            row.start_date = Set(date_text(start));
        }
        if patch.end_date.is_some() {
            row.end_date = Set(date_text(end));
        }
        let updated = save(&w, id, row, current.meta.version).await?;
        w.commit(event("working_group.updated", &updated)).await?;
        Ok(updated)
    }

    /// Archive a working group (coordinators only): it leaves default lists
    /// and is frozen. Archiving an archived group returns it unchanged.
    pub async fn archive_working_group(
        &self,
        p: &Principal,
        id: WorkingGroupId,
        etag: Option<Etag>,
    ) -> Result<WorkingGroup> {
        p.coordinate()?;
        let name = names::working_group(id);
        let w = self.begin_write(&p.actor()).await?;
        let current = record(group_row(&w.tx, id).await?)?;
        lookup::check_etag(etag, current.meta.version, &name)?;
        if current.meta.archive_time.is_some() {
            return w.unchanged(current).await;
        }
        let row = working_group::ActiveModel { archive_time: Set(Some(w.now)), ..Default::default() };
        let archived = save(&w, id, row, current.meta.version).await?;
        w.commit(event("working_group.archived", &archived)).await?;
        Ok(archived)
    }
}
