//! Initiatives: measures a municipality has planned or implemented, linked
//! to the challenges of its working group they address.

use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ActiveValue::Set, Condition, ConnectionTrait, EntityTrait};

use super::content::{self, Link, Outcome};
use super::entity::{challenge, initiative, initiative_challenge};
use super::filter::{Op, Term};
use super::owned;
use super::write::{Claim, NewEvent, RequestId, WriteTx, ts};
use super::{Store, lookup, terms};
use crate::auth::Principal;
use crate::domain::*;
use crate::model::*;
use crate::{Error, Result};

const FIELDS: &[&str] =
    &["country", "working_group", "status", "challenge", "visibility", "update_time", "create_time"];

const CHALLENGES: Link<initiative_challenge::Entity> = Link {
    owner: initiative_challenge::Column::InitiativeId,
    item: initiative_challenge::Column::ChallengeId,
    item_table: Some("challenges"),
};

/// A filter term on a field of initiatives' own.
fn term(t: &Term) -> Result<Condition> {
    match t.field.as_str() {
        "status" => {
            terms::equality(t)?;
            let s = InitiativeStatus::parse("filter", &terms::enum_text(&t.value, "INITIATIVE_STATUS_"))?;
            Ok(Condition::all().add(terms::compare("status", t.op, s.as_str())))
        }
        "challenge" => {
            terms::equality(t)?;
            let (m, _, c) = terms::item_name(t, &["challenges"])?;
            let sub = Query::select()
                .column((initiative_challenge::Entity, initiative_challenge::Column::InitiativeId))
                .from(initiative_challenge::Entity)
                .inner_join(
                    challenge::Entity,
                    Expr::col((challenge::Entity, challenge::Column::Id))
                        .equals((initiative_challenge::Entity, initiative_challenge::Column::ChallengeId)),
                )
                .and_where(Expr::col((challenge::Entity, challenge::Column::Id)).eq(c))
                .and_where(Expr::col((challenge::Entity, challenge::Column::MunicipalityId)).eq(m))
                .to_owned();
            let col = Expr::col((initiative::Entity, initiative::Column::Id));
            Ok(Condition::all().add(if t.op == Op::Eq { col.in_subquery(sub) } else { col.not_in_subquery(sub) }))
        }
        _ => Err(terms::unknown(t, FIELDS)),
    }
}

fn record(row: initiative::Model, challenges: Vec<(MunicipalityId, i64)>) -> Result<Initiative> {
    Ok(Initiative {
        id: InitiativeId::from_db(row.id),
        owner: Ownership {
            working_group: WorkingGroupId::from_db(row.working_group_id),
            municipality: MunicipalityId::from_db(row.municipality_id),
            country: lookup::country_of(&row.country)?,
            visibility: Visibility::parse("visibility", &row.visibility).map_err(|e| Error::Internal(e.to_string()))?,
        },
        title: row.title,
        description: row.description,
        status: InitiativeStatus::parse("status", &row.status).map_err(|e| Error::Internal(e.to_string()))?,
        challenges: challenges
            .into_iter()
            .map(|(m, c)| ItemRef { municipality: m, id: ChallengeId::from_db(c) })
            .collect(),
        meta: Meta {
            version: row.version,
            create_time: ts(row.create_time),
            update_time: ts(row.update_time),
            archive_time: row.archive_time.map(ts),
        },
    })
}

/// Load records for rows, with their linked challenges, in one extra query.
async fn records(conn: &impl ConnectionTrait, rows: Vec<initiative::Model>) -> Result<Vec<Initiative>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut links = CHALLENGES.load(conn, &ids).await?;
    rows.into_iter()
        .map(|r| {
            let c = links.remove(&r.id).unwrap_or_default();
            record(r, c)
        })
        .collect()
}

owned::owned_item!(
    Initiative in initiative, id InitiativeId, named names::initiative,
    kind "initiative", archived "initiative.archived", collection "initiatives",
    get get_initiative, list list_initiatives, export export_initiatives, archive archive_initiative,
);

/// The linked challenges' ids, checked against the initiative's group and owner.
async fn check_challenges(
    conn: &impl ConnectionTrait,
    refs: &[ItemRef<ChallengeId>],
    group: WorkingGroupId,
    owner: MunicipalityId,
) -> Result<Vec<i64>> {
    let refs: Vec<(MunicipalityId, i64)> = refs.iter().map(|r| (r.municipality, r.id.get())).collect();
    content::check_links(conn, "challenges", "initiative.challenges", &refs, group, owner).await
}

fn event(kind: &'static str, i: &Initiative) -> NewEvent {
    NewEvent {
        kind,
        resource: names::initiative(i.owner.municipality, i.id),
        working_group: Some(i.owner.working_group),
        country: Some(i.owner.country),
        municipality: Some(i.owner.municipality),
        visibility: Some(i.owner.visibility),
        snapshot: Snapshot::Initiative(i.clone()),
    }
}

async fn create(
    w: &mut WriteTx,
    p: &Principal,
    parent: MunicipalityId,
    input: NewInitiative,
    request_id: Option<&RequestId>,
) -> Result<Outcome<Initiative>> {
    let posting = lookup::Posting::read(&w.tx, p, parent, input.working_group).await?;
    if let Claim::Replay(id) = w.claim(request_id, "CreateInitiative", &format!("{parent}{input:?}")).await? {
        return Ok(Outcome::unchanged(owned::reload::<Initiative>(&w.tx, InitiativeId::from_db(id)).await?));
    }
    if input.status == InitiativeStatus::Discontinued {
        return Err(Error::invalid("initiative.status", "a new initiative is planned, in progress or implemented"));
    }
    posting.check_group("initiative.working_group")?;
    let challenges = check_challenges(&w.tx, &input.challenges, input.working_group, parent).await?;
    let row = initiative::ActiveModel {
        working_group_id: Set(input.working_group.get()),
        municipality_id: Set(parent.get()),
        country: Set(posting.acting().country().as_str().to_owned()),
        title: Set(input.title.into_string()),
        description: Set(input.description.into_string()),
        visibility: Set(input.visibility.as_str().to_owned()),
        status: Set(input.status.as_str().to_owned()),
        version: Set(1),
        create_time: Set(w.now),
        update_time: Set(w.now),
        archive_time: Set(None),
        ..Default::default()
    };
    let id = initiative::Entity::insert(row).exec(&w.tx).await?.last_insert_id;
    CHALLENGES.replace(&w.tx, id, &challenges).await?;
    w.complete_claim(id)?;
    let created = owned::reload::<Initiative>(&w.tx, InitiativeId::from_db(id)).await?;
    let ev = event("initiative.created", &created);
    Ok(Outcome::changed(created, ev))
}

async fn update(
    w: &mut WriteTx,
    p: &Principal,
    r: ItemRef<InitiativeId>,
    patch: InitiativePatch,
    etag: Option<Etag>,
) -> Result<Outcome<Initiative>> {
    let (current, name) = owned::for_update::<Initiative>(w, p, r, etag).await?;
    let mut row = initiative::ActiveModel::default();
    if let Some(t) = patch.title {
        row.title = Set(t.into_string());
    }
    if let Some(d) = patch.description {
        row.description = Set(d.into_string());
    }
    if let Some(v) = patch.visibility.filter(|v| *v != current.owner.visibility) {
        current.owner.visibility.check_move(v)?;
        row.visibility = Set(v.as_str().to_owned());
    }
    if let Some(s) = patch.status.filter(|s| *s != current.status) {
        current.status.check_move(s)?;
        row.status = Set(s.as_str().to_owned());
    }
    let challenges = match &patch.challenges {
        Some(refs) => {
            Some(check_challenges(&w.tx, refs, current.owner.working_group, current.owner.municipality).await?)
        }
        None => None,
    };
    content::save::<initiative::Entity>(w, current.id.get(), row, current.meta.version, &name).await?;
    if let Some(c) = challenges {
        CHALLENGES.replace(&w.tx, current.id.get(), &c).await?;
    }
    let updated = owned::reload::<Initiative>(&w.tx, r.id).await?;
    let ev = event("initiative.updated", &updated);
    Ok(Outcome::changed(updated, ev))
}

impl Store {
    /// Post an initiative for `parent`, linked to challenges of its group.
    /// Idempotent by `request_id`.
    pub async fn create_initiative(
        &self,
        p: &Principal,
        parent: MunicipalityId,
        input: NewInitiative,
        request_id: Option<&RequestId>,
    ) -> Result<Initiative> {
        let mut w = self.begin_write(&p.actor()).await?;
        let outcome = create(&mut w, p, parent, input, request_id).await;
        content::finish(w, outcome).await
    }

    /// Change an initiative; status and visibility move only along their
    /// edges, and a new list of challenges is checked like on create.
    pub async fn update_initiative(
        &self,
        p: &Principal,
        r: ItemRef<InitiativeId>,
        patch: InitiativePatch,
        etag: Option<Etag>,
    ) -> Result<Initiative> {
        let mut w = self.begin_write(&p.actor()).await?;
        let outcome = update(&mut w, p, r, patch, etag).await;
        content::finish(w, outcome).await
    }
}
