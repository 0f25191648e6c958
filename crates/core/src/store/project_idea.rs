//! Project ideas: future projects a municipality elaborates through the
//! workshops, building on its group's challenges and initiatives, with
//! partner municipalities of the group.

use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait};

use super::content::{self, Link, MAX_LINKS, Outcome};
use super::entity::{project_idea, project_idea_challenge, project_idea_initiative, project_idea_partner};
use super::filter::{Op, Term};
use super::owned;
use super::write::{Claim, NewEvent, RequestId, WriteTx, ts};
use super::{Store, lookup, terms};
use crate::auth::Principal;
use crate::domain::*;
use crate::model::*;
use crate::{Error, Result};

const FIELDS: &[&str] = &["country", "working_group", "stage", "partner", "visibility", "update_time", "create_time"];

const CHALLENGES: Link<project_idea_challenge::Entity> = Link {
    owner: project_idea_challenge::Column::ProjectIdeaId,
    item: project_idea_challenge::Column::ChallengeId,
    item_table: Some("challenges"),
};
const INITIATIVES: Link<project_idea_initiative::Entity> = Link {
    owner: project_idea_initiative::Column::ProjectIdeaId,
    item: project_idea_initiative::Column::InitiativeId,
    item_table: Some("initiatives"),
};
const PARTNERS: Link<project_idea_partner::Entity> = Link {
    owner: project_idea_partner::Column::ProjectIdeaId,
    item: project_idea_partner::Column::MunicipalityId,
    item_table: None,
};

/// A filter term on a field of project ideas' own.
fn term(t: &Term) -> Result<Condition> {
    match t.field.as_str() {
        "stage" => {
            terms::equality(t)?;
            let s = ProjectStage::parse("filter", &terms::enum_text(&t.value, "PROJECT_STAGE_"))?;
            Ok(Condition::all().add(terms::compare("stage", t.op, s.as_str())))
        }
        "partner" => {
            terms::equality(t)?;
            let m = terms::name_id(t, "municipalities")?;
            let sub = Query::select()
                .column(project_idea_partner::Column::ProjectIdeaId)
                .from(project_idea_partner::Entity)
                .and_where(project_idea_partner::Column::MunicipalityId.eq(m))
                .to_owned();
            let col = Expr::col((project_idea::Entity, project_idea::Column::Id));
            Ok(Condition::all().add(if t.op == Op::Eq { col.in_subquery(sub) } else { col.not_in_subquery(sub) }))
        }
        _ => Err(terms::unknown(t, FIELDS)),
    }
}

type Links = (Vec<(MunicipalityId, i64)>, Vec<(MunicipalityId, i64)>, Vec<(MunicipalityId, i64)>);

fn record(row: project_idea::Model, (challenges, initiatives, partners): Links) -> Result<ProjectIdea> {
    Ok(ProjectIdea {
        id: ProjectIdeaId::from_db(row.id),
        owner: Ownership {
            working_group: WorkingGroupId::from_db(row.working_group_id),
            municipality: MunicipalityId::from_db(row.municipality_id),
            country: lookup::country_of(&row.country)?,
            visibility: Visibility::parse("visibility", &row.visibility).map_err(|e| Error::Internal(e.to_string()))?,
        },
        title: row.title,
        description: row.description,
        stage: ProjectStage::parse("stage", &row.stage).map_err(|e| Error::Internal(e.to_string()))?,
        challenges: challenges
            .into_iter()
            .map(|(m, c)| ItemRef { municipality: m, id: ChallengeId::from_db(c) })
            .collect(),
        initiatives: initiatives
            .into_iter()
            .map(|(m, i)| ItemRef { municipality: m, id: InitiativeId::from_db(i) })
            .collect(),
        partners: partners.into_iter().map(|(m, _)| m).collect(),
        meta: Meta {
            version: row.version,
            create_time: ts(row.create_time),
            update_time: ts(row.update_time),
            archive_time: row.archive_time.map(ts),
        },
    })
}

/// Load records for rows, with their links, in three extra queries.
async fn records(conn: &impl ConnectionTrait, rows: Vec<project_idea::Model>) -> Result<Vec<ProjectIdea>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut challenges = CHALLENGES.load(conn, &ids).await?;
    let mut initiatives = INITIATIVES.load(conn, &ids).await?;
    let mut partners = PARTNERS.load(conn, &ids).await?;
    rows.into_iter()
        .map(|r| {
            let links = (
                challenges.remove(&r.id).unwrap_or_default(),
                initiatives.remove(&r.id).unwrap_or_default(),
                partners.remove(&r.id).unwrap_or_default(),
            );
            record(r, links)
        })
        .collect()
}

owned::owned_item!(
    ProjectIdea in project_idea, id ProjectIdeaId, named names::project_idea,
    kind "project idea", archived "project_idea.archived", collection "projectIdeas",
    get get_project_idea, list list_project_ideas, export export_project_ideas, archive archive_project_idea,
);

async fn check_challenges(
    conn: &impl ConnectionTrait,
    refs: &[ItemRef<ChallengeId>],
    g: WorkingGroupId,
    owner: MunicipalityId,
) -> Result<Vec<i64>> {
    let refs: Vec<(MunicipalityId, i64)> = refs.iter().map(|r| (r.municipality, r.id.get())).collect();
    content::check_links(conn, "challenges", "project_idea.challenges", &refs, g, owner).await
}

async fn check_initiatives(
    conn: &impl ConnectionTrait,
    refs: &[ItemRef<InitiativeId>],
    g: WorkingGroupId,
    owner: MunicipalityId,
) -> Result<Vec<i64>> {
    let refs: Vec<(MunicipalityId, i64)> = refs.iter().map(|r| (r.municipality, r.id.get())).collect();
    content::check_links(conn, "initiatives", "project_idea.initiatives", &refs, g, owner).await
}

/// Partners are other members of the group (the directory is public, so
/// the reasons may be specific).
async fn check_partners(
    conn: &impl ConnectionTrait,
    partners: &[MunicipalityId],
    g: WorkingGroupId,
    owner: MunicipalityId,
) -> Result<Vec<i64>> {
    if partners.len() > MAX_LINKS {
        return Err(Error::invalid("project_idea.partners", format!("at most {MAX_LINKS} partners")));
    }
    let mut out = Vec::with_capacity(partners.len());
    for (i, m) in partners.iter().enumerate() {
        let field = format!("project_idea.partners[{i}]");
        if *m == owner {
            return Err(Error::invalid(field, "the owner cannot be its own partner"));
        }
        lookup::require_member(conn, g, *m, &field).await?;
        if !out.contains(&m.get()) {
            out.push(m.get());
        }
    }
    Ok(out)
}

fn event(kind: &'static str, i: &ProjectIdea) -> NewEvent {
    NewEvent {
        kind,
        resource: names::project_idea(i.owner.municipality, i.id),
        working_group: Some(i.owner.working_group),
        country: Some(i.owner.country),
        municipality: Some(i.owner.municipality),
        visibility: Some(i.owner.visibility),
        snapshot: Snapshot::ProjectIdea(i.clone()),
    }
}

async fn create(
    w: &mut WriteTx,
    p: &Principal,
    parent: MunicipalityId,
    input: NewProjectIdea,
    request_id: Option<&RequestId>,
) -> Result<Outcome<ProjectIdea>> {
    let posting = lookup::Posting::read(&w.tx, p, parent, input.working_group).await?;
    if let Claim::Replay(id) = w.claim(request_id, "CreateProjectIdea", &format!("{parent}{input:?}")).await? {
        return Ok(Outcome::unchanged(owned::reload::<ProjectIdea>(&w.tx, ProjectIdeaId::from_db(id)).await?));
    }
    let g = input.working_group;
    posting.check_group("project_idea.working_group")?;
    let challenges = check_challenges(&w.tx, &input.challenges, g, parent).await?;
    let initiatives = check_initiatives(&w.tx, &input.initiatives, g, parent).await?;
    let partners = check_partners(&w.tx, &input.partners, g, parent).await?;
    let row = project_idea::ActiveModel {
        working_group_id: Set(g.get()),
        municipality_id: Set(parent.get()),
        country: Set(posting.acting().country().as_str().to_owned()),
        title: Set(input.title.into_string()),
        description: Set(input.description.into_string()),
        visibility: Set(input.visibility.as_str().to_owned()),
        stage: Set(ProjectStage::Idea.as_str().to_owned()),
        version: Set(1),
        create_time: Set(w.now),
        update_time: Set(w.now),
        archive_time: Set(None),
        ..Default::default()
    };
    let id = project_idea::Entity::insert(row).exec(&w.tx).await?.last_insert_id;
    CHALLENGES.replace(&w.tx, id, &challenges).await?;
    INITIATIVES.replace(&w.tx, id, &initiatives).await?;
    PARTNERS.replace(&w.tx, id, &partners).await?;
    w.complete_claim(id)?;
    let created = owned::reload::<ProjectIdea>(&w.tx, ProjectIdeaId::from_db(id)).await?;
    let ev = event("project_idea.created", &created);
    Ok(Outcome::changed(created, ev))
}

async fn update(
    w: &mut WriteTx,
    p: &Principal,
    r: ItemRef<ProjectIdeaId>,
    patch: ProjectIdeaPatch,
    etag: Option<Etag>,
) -> Result<Outcome<ProjectIdea>> {
    let (current, name) = owned::for_update::<ProjectIdea>(w, p, r, etag).await?;
    let (g, owner) = (current.owner.working_group, current.owner.municipality);
    let mut row = project_idea::ActiveModel::default();
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
    if let Some(s) = patch.stage.filter(|s| *s != current.stage) {
        current.stage.check_move(s)?;
        row.stage = Set(s.as_str().to_owned());
    }
    let challenges = match &patch.challenges {
        Some(refs) => Some(check_challenges(&w.tx, refs, g, owner).await?),
        None => None,
    };
    let initiatives = match &patch.initiatives {
        Some(refs) => Some(check_initiatives(&w.tx, refs, g, owner).await?),
        None => None,
    };
    let partners = match &patch.partners {
        Some(ms) => Some(check_partners(&w.tx, ms, g, owner).await?),
        None => None,
    };
    content::save::<project_idea::Entity>(w, current.id.get(), row, current.meta.version, &name).await?;
    let id = current.id.get();
    if let Some(ids) = challenges {
        CHALLENGES.replace(&w.tx, id, &ids).await?;
    }
    if let Some(ids) = initiatives {
        INITIATIVES.replace(&w.tx, id, &ids).await?;
    }
    if let Some(ids) = partners {
        PARTNERS.replace(&w.tx, id, &ids).await?;
    }
    let updated = owned::reload::<ProjectIdea>(&w.tx, r.id).await?;
    let ev = event("project_idea.updated", &updated);
    Ok(Outcome::changed(updated, ev))
}

impl Store {
    /// Post a project idea for `parent`; it starts at the idea stage.
    /// Idempotent by `request_id`.
    pub async fn create_project_idea(
        &self,
        p: &Principal,
        parent: MunicipalityId,
        input: NewProjectIdea,
        request_id: Option<&RequestId>,
    ) -> Result<ProjectIdea> {
        let mut w = self.begin_write(&p.actor()).await?;
        let outcome = create(&mut w, p, parent, input, request_id).await;
        content::finish(w, outcome).await
    }

    /// Change a project idea: the stage moves one step forward at a time,
    /// visibility only from draft to shared, and new links are checked like
    /// on create.
    pub async fn update_project_idea(
        &self,
        p: &Principal,
        r: ItemRef<ProjectIdeaId>,
        patch: ProjectIdeaPatch,
        etag: Option<Etag>,
    ) -> Result<ProjectIdea> {
        let mut w = self.begin_write(&p.actor()).await?;
        let outcome = update(&mut w, p, r, patch, etag).await;
        content::finish(w, outcome).await
    }
}
