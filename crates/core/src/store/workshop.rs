//! Workshops: the ordered series of meetings of a working group, with the
//! member municipalities that attended. Everyone reads them; only
//! coordinators run them.

use std::collections::HashMap;

use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entity::{membership, workshop, workshop_attendee};
use super::filter::{Filter, Term};
use super::page::PageSpec;
use super::working_group::{date_of, date_text, group_row, open_group};
use super::write::{Claim, NewEvent, RequestId, WriteTx, ts};
use super::{Store, lookup, terms};
use crate::auth::Principal;
use crate::domain::*;
use crate::model::*;
use crate::{Error, Result};

const FIELDS: &[&str] = &["update_time", "create_time"];
/// The longest workshop: one day.
const MAX_MINUTES: i64 = 24 * 60;

fn term(t: &Term) -> Result<Condition> {
    match t.field.as_str() {
        "update_time" | "create_time" => {
            Ok(Condition::all().add(terms::common(t)?.ok_or_else(|| terms::unknown(t, FIELDS))?))
        }
        _ => Err(terms::unknown(t, FIELDS)),
    }
}

fn check_duration(minutes: i64) -> Result<()> {
    if (1..=MAX_MINUTES).contains(&minutes) {
        Ok(())
    } else {
        Err(Error::invalid("workshop.duration_minutes", format!("must be 1 to {MAX_MINUTES} minutes (got {minutes})")))
    }
}

/// Attendees with their countries, duplicates dropped; each must be a member
/// of `group`, else an input error naming its position in the request.
async fn attendance(
    conn: &impl ConnectionTrait,
    group: WorkingGroupId,
    attendees: &[MunicipalityId],
) -> Result<Vec<(MunicipalityId, String)>> {
    let countries: HashMap<i64, String> = membership::Entity::find()
        .filter(membership::Column::WorkingGroupId.eq(group.get()))
        .filter(membership::Column::MunicipalityId.is_in(attendees.iter().map(|m| m.get())))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| (m.municipality_id, m.country))
        .collect();
    let mut out: Vec<(MunicipalityId, String)> = Vec::with_capacity(attendees.len());
    for (i, m) in attendees.iter().enumerate() {
        let Some(country) = countries.get(&m.get()) else {
            return Err(Error::invalid(
                format!("workshop.attendees[{i}]"),
                format!("{} is not a member of {}", names::municipality(*m), names::working_group(group)),
            ));
        };
        if !out.iter().any(|(seen, _)| seen == m) {
            out.push((*m, country.clone()));
        }
    }
    Ok(out)
}

async fn set_attendees(conn: &impl ConnectionTrait, id: i64, attendees: &[(MunicipalityId, String)]) -> Result<()> {
    workshop_attendee::Entity::delete_many().filter(workshop_attendee::Column::WorkshopId.eq(id)).exec(conn).await?;
    if !attendees.is_empty() {
        workshop_attendee::Entity::insert_many(attendees.iter().map(|(m, country)| workshop_attendee::ActiveModel {
            workshop_id: Set(id),
            municipality_id: Set(m.get()),
            country: Set(country.clone()),
        }))
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

fn record(row: workshop::Model, attendees: Vec<MunicipalityId>) -> Result<Workshop> {
    Ok(Workshop {
        id: WorkshopId::from_db(row.id),
        working_group: WorkingGroupId::from_db(row.working_group_id),
        display_name: row.display_name,
        phase: WorkshopPhase::parse("phase", &row.phase).map_err(|e| Error::Internal(e.to_string()))?,
        date: date_of(&row.date)?,
        duration_minutes: row.duration_minutes,
        attendees,
        meta: Meta {
            version: row.version,
            create_time: ts(row.create_time),
            update_time: ts(row.update_time),
            archive_time: row.archive_time.map(ts),
        },
    })
}

/// Records for rows, with their attendees (in municipality id order) in one extra query.
async fn records(conn: &impl ConnectionTrait, rows: Vec<workshop::Model>) -> Result<Vec<Workshop>> {
    let mut attendees: HashMap<i64, Vec<MunicipalityId>> = HashMap::new();
    if !rows.is_empty() {
        for a in workshop_attendee::Entity::find()
            .filter(workshop_attendee::Column::WorkshopId.is_in(rows.iter().map(|r| r.id)))
            .order_by_asc(workshop_attendee::Column::MunicipalityId)
            .all(conn)
            .await?
        {
            attendees.entry(a.workshop_id).or_default().push(MunicipalityId::from_db(a.municipality_id));
        }
    }
    rows.into_iter()
        .map(|r| {
            let a = attendees.remove(&r.id).unwrap_or_default();
            record(r, a)
        })
        .collect()
}

/// The workshop `id` of `group`; one of another group is NOT_FOUND here.
async fn load(conn: &impl ConnectionTrait, group: WorkingGroupId, id: WorkshopId) -> Result<Workshop> {
    let row = workshop::Entity::find_by_id(id.get())
        .filter(workshop::Column::WorkingGroupId.eq(group.get()))
        .one(conn)
        .await?
        .ok_or_else(|| Error::NotFound(names::workshop(group, id)))?;
    records(conn, vec![row]).await?.pop().ok_or_else(|| Error::Internal("loaded workshop is gone".into()))
}

fn event(kind: &'static str, ws: &Workshop) -> NewEvent {
    NewEvent {
        kind,
        resource: names::workshop(ws.working_group, ws.id),
        working_group: Some(ws.working_group),
        country: None,
        municipality: None,
        visibility: None,
        snapshot: Snapshot::Workshop(ws.clone()),
    }
}

/// Write changed columns, bumping the version only if it is still `version`.
async fn save(w: &WriteTx, id: WorkshopId, mut row: workshop::ActiveModel, version: i64, name: &str) -> Result<()> {
    row.version = Set(version + 1);
    row.update_time = Set(w.now);
    let res = workshop::Entity::update_many()
        .set(row)
        .filter(workshop::Column::Id.eq(id.get()))
        .filter(workshop::Column::Version.eq(version))
        .exec(&w.tx)
        .await?;
    if res.rows_affected == 1 { Ok(()) } else { Err(Error::StaleEtag(name.to_owned())) }
}

impl Store {
    /// Schedule a workshop of `group` (coordinators only). It lasts 1 to
    /// 1440 minutes and its attendees are members of the group. Idempotent
    /// by `request_id`.
    ///
    /// ```no_run
    /// # async fn run(store: peerlab_core::store::Store, coordinator: peerlab_core::auth::Principal) -> peerlab_core::Result<()> {
    /// use chrono::NaiveDate;
    /// use peerlab_core::domain::{Title, WorkingGroupId, WorkshopPhase};
    /// use peerlab_core::model::NewWorkshop;
    /// let group = WorkingGroupId::parse("working_group", 1)?;
    /// let input = NewWorkshop {
    ///     display_name: Title::parse("display_name", "Ideation")?,
    ///     phase: WorkshopPhase::Ideation,
    ///     date: NaiveDate::from_ymd_opt(2021, 9, 21).unwrap_or_default(),
    ///     duration_minutes: 180,
    ///     attendees: vec![],
    /// };
    /// let ws = store.create_workshop(&coordinator, group, input, None).await?;
    /// assert_eq!(ws.working_group, group);
    /// # Ok(()) }
    /// ```
    pub async fn create_workshop(
        &self,
        p: &Principal,
        group: WorkingGroupId,
        input: NewWorkshop,
        request_id: Option<&RequestId>,
    ) -> Result<Workshop> {
        p.coordinate()?;
        check_duration(input.duration_minutes)?;
        let mut w = self.begin_write(&p.actor()).await?;
        if let Claim::Replay(id) = w.claim(request_id, "CreateWorkshop", &format!("{group}{input:?}")).await? {
            let replayed = load(&w.tx, group, WorkshopId::from_db(id)).await?;
            return w.unchanged(replayed).await;
        }
        open_group(&w.tx, group).await?;
        let attendees = attendance(&w.tx, group, &input.attendees).await?;
        let row = workshop::ActiveModel {
            working_group_id: Set(group.get()),
            display_name: Set(input.display_name.into_string()),
            phase: Set(input.phase.as_str().to_owned()),
            date: Set(date_text(input.date)),
            duration_minutes: Set(input.duration_minutes),
            version: Set(1),
            create_time: Set(w.now),
            update_time: Set(w.now),
            archive_time: Set(None),
            ..Default::default()
        };
        let id = workshop::Entity::insert(row).exec(&w.tx).await?.last_insert_id;
        set_attendees(&w.tx, id, &attendees).await?;
        w.complete_claim(id)?;
        let created = load(&w.tx, group, WorkshopId::from_db(id)).await?;
        w.commit(event("workshop.created", &created)).await?;
        Ok(created)
    }

    /// Read one workshop of `group` (archived ones too); every caller may.
    pub async fn get_workshop(&self, p: &Principal, group: WorkingGroupId, id: WorkshopId) -> Result<Workshop> {
        tracing::trace!(actor = %p.actor(), working_group = %group, workshop = %id, "get workshop");
        load(&self.db, group, id).await
    }

    /// List the workshops of `group` in creation order; filter on
    /// `update_time` or `create_time`. Archived workshops appear with
    /// `show_archived` or as tombstones of `update_time > t`.
    pub async fn list_workshops(
        &self,
        p: &Principal,
        group: WorkingGroupId,
        req: &PageRequest,
    ) -> Result<Page<Workshop>> {
        tracing::trace!(actor = %p.actor(), working_group = %group, "list workshops");
        let spec = PageSpec::new(req, &format!("workshops:{group}"))?;
        let filter = Filter::parse(&req.filter)?;
        group_row(&self.db, group).await?;
        let mut cond = Condition::all().add(workshop::Column::WorkingGroupId.eq(group.get()));
        for t in &filter.terms {
            cond = cond.add(term(t)?);
        }
        if !req.show_archived && !terms::wants_tombstones(&filter.terms) {
            cond = cond.add(workshop::Column::ArchiveTime.is_null());
        }
        if let Some(after) = spec.after {
            cond = cond.add(workshop::Column::Id.gt(after));
        }
        let rows = workshop::Entity::find()
            .filter(cond)
            .order_by_asc(workshop::Column::Id)
            .limit(spec.limit + 1)
            .all(&self.db)
            .await?;
        let (rows, next_page_token) = spec.finish(rows, |r| r.id);
        Ok(Page { items: records(&self.db, rows).await?, next_page_token })
    }

    /// Change a workshop (coordinators only), under the rules of
    /// [`Store::create_workshop`]. Neither an archived workshop nor one of an
    /// archived group can change.
    pub async fn update_workshop(
        &self,
        p: &Principal,
        group: WorkingGroupId,
        id: WorkshopId,
        patch: WorkshopPatch,
        etag: Option<Etag>,
    ) -> Result<Workshop> {
        p.coordinate()?;
        if let Some(d) = patch.duration_minutes {
            check_duration(d)?;
        }
        let name = names::workshop(group, id);
        let w = self.begin_write(&p.actor()).await?;
        let current = load(&w.tx, group, id).await?;
        lookup::check_etag(etag, current.meta.version, &name)?;
        if current.meta.archive_time.is_some() {
            return Err(Error::FailedPrecondition(format!("{name} is archived")));
        }
        open_group(&w.tx, group).await?;
        let mut row = workshop::ActiveModel::default();
        if let Some(n) = patch.display_name {
            row.display_name = Set(n.into_string());
        }
        if let Some(ph) = patch.phase {
            row.phase = Set(ph.as_str().to_owned());
        }
        if let Some(d) = patch.date {
            row.date = Set(date_text(d));
        }
        if let Some(d) = patch.duration_minutes {
            row.duration_minutes = Set(d);
        }
        let attendees = match &patch.attendees {
            Some(a) => Some(attendance(&w.tx, group, a).await?),
            None => None,
        };
        save(&w, id, row, current.meta.version, &name).await?;
        if let Some(a) = &attendees {
            set_attendees(&w.tx, id.get(), a).await?;
        }
        let updated = load(&w.tx, group, id).await?;
        w.commit(event("workshop.updated", &updated)).await?;
        Ok(updated)
    }

    /// Archive a workshop (coordinators only). Archiving an archived
    /// workshop returns it unchanged.
    pub async fn archive_workshop(
        &self,
        p: &Principal,
        group: WorkingGroupId,
        id: WorkshopId,
        etag: Option<Etag>,
    ) -> Result<Workshop> {
        p.coordinate()?;
        let name = names::workshop(group, id);
        let w = self.begin_write(&p.actor()).await?;
        let current = load(&w.tx, group, id).await?;
        lookup::check_etag(etag, current.meta.version, &name)?;
        if current.meta.archive_time.is_some() {
            return w.unchanged(current).await;
        }
        let row = workshop::ActiveModel { archive_time: Set(Some(w.now)), ..Default::default() };
        save(&w, id, row, current.meta.version, &name).await?;
        let archived = load(&w.tx, group, id).await?;
        w.commit(event("workshop.archived", &archived)).await?;
        Ok(archived)
    }
}
