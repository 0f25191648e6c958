//! Challenges: problems municipalities post for their working group.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entity::{challenge, challenge_theme};
use super::filter::{Filter, Term};
use super::page::PageSpec;
use super::write::{Claim, NewEvent, RequestId, ts};
use super::{Store, lookup, scope, terms};
use crate::auth::Principal;
use crate::domain::*;
use crate::model::*;
use crate::{Error, Result};

const FIELDS: &[&str] = &["country", "working_group", "status", "theme", "visibility", "update_time", "create_time"];

fn term(t: &Term) -> Result<Condition> {
    if let Some(e) = terms::common(t)? {
        return Ok(Condition::all().add(e));
    }
    match t.field.as_str() {
        "status" => {
            terms::equality(t)?;
            let s = ChallengeStatus::parse("filter", &terms::enum_text(&t.value, "CHALLENGE_STATUS_"))?;
            Ok(Condition::all().add(terms::compare("status", t.op, s.as_str())))
        }
        "theme" => {
            terms::equality(t)?;
            let theme = Theme::parse("filter", &t.value)?;
            let sub = Query::select()
                .column(challenge_theme::Column::ChallengeId)
                .from(challenge_theme::Entity)
                .and_where(challenge_theme::Column::Theme.eq(theme.as_str()))
                .to_owned();
            let col = Expr::col((challenge::Entity, challenge::Column::Id));
            Ok(Condition::all().add(if t.op == super::Op::Eq {
                col.in_subquery(sub)
            } else {
                col.not_in_subquery(sub)
            }))
        }
        _ => Err(terms::unknown(t, FIELDS)),
    }
}

fn record(row: challenge::Model, themes: Vec<String>) -> Result<Challenge> {
    Ok(Challenge {
        id: ChallengeId::from_db(row.id),
        owner: Ownership {
            working_group: WorkingGroupId::from_db(row.working_group_id),
            municipality: MunicipalityId::from_db(row.municipality_id),
            country: lookup::country_of(&row.country)?,
            visibility: Visibility::parse("visibility", &row.visibility).map_err(|e| Error::Internal(e.to_string()))?,
        },
        title: row.title,
        description: row.description,
        themes,
        status: ChallengeStatus::parse("status", &row.status).map_err(|e| Error::Internal(e.to_string()))?,
        meta: Meta {
            version: row.version,
            create_time: ts(row.create_time),
            update_time: ts(row.update_time),
            archive_time: row.archive_time.map(ts),
        },
    })
}

/// Load records for rows, with their themes, in one extra query.
async fn records(conn: &impl ConnectionTrait, rows: Vec<challenge::Model>) -> Result<Vec<Challenge>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut themes: HashMap<i64, Vec<String>> = HashMap::new();
    if !ids.is_empty() {
        for t in challenge_theme::Entity::find()
            .filter(challenge_theme::Column::ChallengeId.is_in(ids))
            .order_by_asc(challenge_theme::Column::Theme)
            .all(conn)
            .await?
        {
            themes.entry(t.challenge_id).or_default().push(t.theme);
        }
    }
    rows.into_iter()
        .map(|r| {
            let t = themes.remove(&r.id).unwrap_or_default();
            record(r, t)
        })
        .collect()
}

async fn load(conn: &impl ConnectionTrait, id: ChallengeId) -> Result<Option<Challenge>> {
    match challenge::Entity::find_by_id(id.get()).one(conn).await? {
        Some(row) => Ok(records(conn, vec![row]).await?.pop()),
        None => Ok(None),
    }
}

async fn set_themes(conn: &impl ConnectionTrait, id: i64, themes: &[Theme]) -> Result<()> {
    challenge_theme::Entity::delete_many().filter(challenge_theme::Column::ChallengeId.eq(id)).exec(conn).await?;
    if !themes.is_empty() {
        challenge_theme::Entity::insert_many(
            themes
                .iter()
                .map(|t| challenge_theme::ActiveModel { challenge_id: Set(id), theme: Set(t.as_str().to_owned()) }),
        )
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

fn event(kind: &'static str, c: &Challenge) -> NewEvent {
    NewEvent {
        kind,
        resource: names::challenge(c.owner.municipality, c.id),
        working_group: Some(c.owner.working_group),
        country: Some(c.owner.country),
        municipality: Some(c.owner.municipality),
        visibility: Some(c.owner.visibility),
        snapshot: Snapshot::Challenge(c.clone()),
    }
}

impl Store {
    /// Post a challenge for `parent`. Idempotent by `request_id`.
    pub async fn create_challenge(
        &self,
        p: &Principal,
        parent: MunicipalityId,
        input: NewChallenge,
        request_id: Option<&RequestId>,
    ) -> Result<Challenge> {
        let mut w = self.begin_write(&p.actor()).await?;
        let acting = lookup::act_for(&w.tx, p, parent).await?;
        if let Claim::Replay(id) = w.claim(request_id, "CreateChallenge", &format!("{parent}{input:?}")).await? {
            let replayed = load(&w.tx, ChallengeId::from_db(id)).await?;
            return w.unchanged(replayed.ok_or_else(|| Error::Internal("replayed challenge is gone".into()))?).await;
        }
        lookup::active_group(&w.tx, input.working_group, "challenge.working_group").await?;
        lookup::require_member(&w.tx, input.working_group, parent, "challenge.working_group").await?;
        let row = challenge::ActiveModel {
            working_group_id: Set(input.working_group.get()),
            municipality_id: Set(parent.get()),
            country: Set(acting.country().as_str().to_owned()),
            title: Set(input.title.into_string()),
            description: Set(input.description.into_string()),
            visibility: Set(input.visibility.as_str().to_owned()),
            status: Set(ChallengeStatus::Open.as_str().to_owned()),
            version: Set(1),
            create_time: Set(w.now),
            update_time: Set(w.now),
            archive_time: Set(None),
            ..Default::default()
        };
        let id = challenge::Entity::insert(row).exec(&w.tx).await?.last_insert_id;
        set_themes(&w.tx, id, &input.themes).await?;
        w.complete_claim(id).await?;
        let created = load(&w.tx, ChallengeId::from_db(id))
            .await?
            .ok_or_else(|| Error::Internal("created challenge is gone".into()))?;
        w.commit(event("challenge.created", &created)).await?;
        Ok(created)
    }

    /// Read one challenge.
    pub async fn get_challenge(&self, p: &Principal, r: ItemRef<ChallengeId>) -> Result<Challenge> {
        let name = names::challenge(r.municipality, r.id);
        let scope = p.read_scope();
        match load(&self.db, r.id).await? {
            Some(c) if c.owner.municipality == r.municipality && scope::can_read(&self.db, scope, &c.owner).await? => {
                Ok(c)
            }
            _ => Err(scope::missing_or_denied(&self.db, scope, r.municipality, name).await),
        }
    }

    /// List the challenges the caller may read, of `parent` or of everyone.
    pub async fn list_challenges(
        &self,
        p: &Principal,
        parent: Option<MunicipalityId>,
        req: &PageRequest,
    ) -> Result<Page<Challenge>> {
        let spec = PageSpec::new(req, &format!("challenges:{parent:?}"))?;
        let filter = Filter::parse(&req.filter)?;
        let mut cond = Condition::all().add(scope::content_condition(p.read_scope()));
        for t in &filter.terms {
            cond = cond.add(term(t)?);
        }
        if let Some(m) = parent {
            cond = cond.add(challenge::Column::MunicipalityId.eq(m.get()));
        }
        if !req.show_archived && !terms::wants_tombstones(&filter.terms) {
            cond = cond.add(challenge::Column::ArchiveTime.is_null());
        }
        if let Some(after) = spec.after {
            cond = cond.add(challenge::Column::Id.gt(after));
        }
        let rows = challenge::Entity::find()
            .filter(cond)
            .order_by_asc(challenge::Column::Id)
            .limit(spec.limit + 1)
            .all(&self.db)
            .await?;
        let (rows, next_page_token) = spec.finish(rows, |r| r.id);
        Ok(Page { items: records(&self.db, rows).await?, next_page_token })
    }

    /// Change a challenge; status and visibility move only along their edges.
    pub async fn update_challenge(
        &self,
        p: &Principal,
        r: ItemRef<ChallengeId>,
        patch: ChallengePatch,
        etag: Option<Etag>,
    ) -> Result<Challenge> {
        let name = names::challenge(r.municipality, r.id);
        let w = self.begin_write(&p.actor()).await?;
        lookup::act_for(&w.tx, p, r.municipality).await?;
        let current = match load(&w.tx, r.id).await? {
            Some(c) if c.owner.municipality == r.municipality => c,
            _ => return Err(Error::NotFound(name)),
        };
        lookup::check_etag(etag, current.meta.version, &name)?;
        if current.status == ChallengeStatus::Archived {
            return Err(Error::FailedPrecondition(format!("{name} is archived")));
        }
        let mut row = challenge::ActiveModel::default();
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
            if s == ChallengeStatus::Archived {
                row.archive_time = Set(Some(w.now));
            }
        }
        let archived = patch.status == Some(ChallengeStatus::Archived);
        super::content::save::<challenge::Entity>(&w, current.id.get(), row, current.meta.version, &name).await?;
        if let Some(themes) = &patch.themes {
            set_themes(&w.tx, current.id.get(), themes).await?;
        }
        let updated = load(&w.tx, r.id).await?.ok_or_else(|| Error::Internal("updated challenge is gone".into()))?;
        w.commit(event(if archived { "challenge.archived" } else { "challenge.updated" }, &updated)).await?;
        Ok(updated)
    }

    /// Archive a challenge: its owner or a coordinator.
    pub async fn archive_challenge(
        &self,
        p: &Principal,
        r: ItemRef<ChallengeId>,
        etag: Option<Etag>,
    ) -> Result<Challenge> {
        let name = names::challenge(r.municipality, r.id);
        let w = self.begin_write(&p.actor()).await?;
        let owner = lookup::municipality(&w.tx, r.municipality).await?;
        p.archive(r.municipality, lookup::country_of(&owner.country)?)?;
        let current = match load(&w.tx, r.id).await? {
            Some(c) if c.owner.municipality == r.municipality => c,
            _ => return Err(Error::NotFound(name)),
        };
        lookup::check_etag(etag, current.meta.version, &name)?;
        if current.status == ChallengeStatus::Archived {
            return w.unchanged(current).await;
        }
        let row = challenge::ActiveModel {
            status: Set(ChallengeStatus::Archived.as_str().to_owned()),
            archive_time: Set(Some(w.now)),
            ..Default::default()
        };
        super::content::save::<challenge::Entity>(&w, current.id.get(), row, current.meta.version, &name).await?;
        let archived = load(&w.tx, r.id).await?.ok_or_else(|| Error::Internal("archived challenge is gone".into()))?;
        w.commit(event("challenge.archived", &archived)).await?;
        Ok(archived)
    }
}
