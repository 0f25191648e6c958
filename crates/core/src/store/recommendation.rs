//! Recommendations: advice from one municipality to a peer's shared
//! challenge, initiative or project idea, answered by the receiving
//! municipality.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::content::{self, Outcome, OwnedRow};
use super::entity::recommendation;
use super::filter::{Filter, Op, Term};
use super::page::PageSpec;
use super::write::{Claim, NewEvent, RequestId, WriteTx, ts};
use super::{Store, lookup, scope, terms};
use crate::auth::{Principal, ReadScope};
use crate::domain::*;
use crate::model::*;
use crate::{Error, Result};

const FIELDS: &[&str] = &[
    "country",
    "target_country",
    "target_municipality",
    "target",
    "working_group",
    "kind",
    "answer_state",
    "update_time",
    "create_time",
];

/// Collections of a target's resource name, with the stored target kind.
const TARGETS: [(&str, &str); 3] =
    [("challenges", "challenge"), ("initiatives", "initiative"), ("projectIdeas", "project_idea")];

/// What a recommendation's target must be, in one message: a missing item, a
/// draft and an item the author cannot read are told apart from nothing.
const UNREADABLE_TARGET: &str = "does not name a shared item the author can read";

fn term(t: &Term) -> Result<Condition> {
    let one = |e| Ok(Condition::all().add(e));
    match t.field.as_str() {
        "country" | "working_group" | "update_time" | "create_time" => match terms::common(t)? {
            Some(e) => one(e),
            None => Err(terms::unknown(t, FIELDS)),
        },
        "target_country" => {
            terms::equality(t)?;
            let c = CountryCode::parse(&t.value).map_err(|e| Error::invalid("filter", e.to_string()))?;
            one(terms::compare("target_country", t.op, c.as_str()))
        }
        "target_municipality" => {
            terms::equality(t)?;
            one(terms::compare("target_municipality_id", t.op, terms::name_id(t, "municipalities")?))
        }
        "target" => {
            terms::equality(t)?;
            let collections = TARGETS.map(|(c, _)| c);
            let (m, collection, id) = terms::item_name(t, &collections)?;
            let kind = TARGETS.iter().find(|(c, _)| *c == collection).map_or("", |(_, k)| *k);
            let is = Condition::all()
                .add(recommendation::Column::TargetKind.eq(kind))
                .add(recommendation::Column::TargetId.eq(id))
                .add(recommendation::Column::TargetMunicipalityId.eq(m));
            Ok(if t.op == Op::Eq { is } else { is.not() })
        }
        "kind" => {
            terms::equality(t)?;
            let k = RecommendationKind::parse("filter", &terms::enum_text(&t.value, "RECOMMENDATION_KIND_"))?;
            one(terms::compare("kind", t.op, k.as_str()))
        }
        "answer_state" => {
            terms::equality(t)?;
            let s = AnswerState::parse("filter", &terms::enum_text(&t.value, "ANSWER_STATE_"))?;
            one(terms::compare("answer_state", t.op, s.as_str()))
        }
        _ => Err(terms::unknown(t, FIELDS)),
    }
}

fn internal(e: Error) -> Error {
    Error::Internal(e.to_string())
}

fn record(row: recommendation::Model) -> Result<Recommendation> {
    let target_owner = MunicipalityId::from_db(row.target_municipality_id);
    let target = match row.target_kind.as_str() {
        "challenge" => {
            Target::Challenge(ItemRef { municipality: target_owner, id: ChallengeId::from_db(row.target_id) })
        }
        "initiative" => {
            Target::Initiative(ItemRef { municipality: target_owner, id: InitiativeId::from_db(row.target_id) })
        }
        "project_idea" => {
            Target::ProjectIdea(ItemRef { municipality: target_owner, id: ProjectIdeaId::from_db(row.target_id) })
        }
        other => return Err(Error::Internal(format!("stored target kind {other:?} is invalid"))),
    };
    let author = MunicipalityId::from_db(row.municipality_id);
    Ok(Recommendation {
        id: RecommendationId::from_db(row.id),
        working_group: WorkingGroupId::from_db(row.working_group_id),
        municipality: author,
        country: lookup::country_of(&row.country)?,
        target,
        target_country: lookup::country_of(&row.target_country)?,
        kind: RecommendationKind::parse("kind", &row.kind).map_err(internal)?,
        body: row.body,
        author_initiative: row
            .author_initiative_id
            .map(|i| ItemRef { municipality: author, id: InitiativeId::from_db(i) }),
        answer: Answer {
            state: AnswerState::parse("answer_state", &row.answer_state).map_err(internal)?,
            note: row.answer_note,
            answer_time: row.answer_time.map(ts),
        },
        meta: Meta {
            version: row.version,
            create_time: ts(row.create_time),
            update_time: ts(row.update_time),
            archive_time: row.archive_time.map(ts),
        },
    })
}

async fn load(conn: &impl ConnectionTrait, id: RecommendationId) -> Result<Option<Recommendation>> {
    recommendation::Entity::find_by_id(id.get()).one(conn).await?.map(record).transpose()
}

async fn reload(conn: &impl ConnectionTrait, id: RecommendationId) -> Result<Recommendation> {
    load(conn, id).await?.ok_or_else(|| Error::Internal(format!("recommendation {id} vanished during a write")))
}

/// Whether `scope` may read `r`: the author's and the receiver's side (their
/// municipality or country), and every member of the target's group — the
/// rule of [`scope::recommendation_condition`] for one row.
pub(crate) async fn can_read_recommendation(
    conn: &impl ConnectionTrait,
    scope: ReadScope,
    r: &Recommendation,
) -> Result<bool> {
    let party = match scope {
        ReadScope::All => true,
        ReadScope::Municipality { municipality, .. } => {
            r.municipality == municipality || r.target.municipality() == municipality
        }
        ReadScope::Country { country, .. } => r.country == country || r.target_country == country,
    };
    if party {
        return Ok(true);
    }
    scope::scope_in_group(conn, scope, r.working_group).await
}

/// The target's row, checked: it names a shared, live item of a peer that
/// the author (reading as itself) can read, and both are in its group.
async fn check_target(
    conn: &impl ConnectionTrait,
    target: &Target,
    author: MunicipalityId,
    author_country: CountryCode,
) -> Result<OwnedRow> {
    const FIELD: &str = "recommendation.target";
    let table = match target {
        Target::Challenge(_) => "challenges",
        Target::Initiative(_) => "initiatives",
        Target::ProjectIdea(_) => "project_ideas",
    };
    let row = content::owned_rows(conn, table, &[target.raw_id()])
        .await?
        .remove(&target.raw_id())
        .filter(|r| r.municipality_id == target.municipality().get())
        .ok_or_else(|| Error::invalid(FIELD, UNREADABLE_TARGET))?;
    if row.municipality_id == author.get() {
        return Err(Error::invalid(FIELD, "a municipality cannot recommend to itself"));
    }
    let owner = Ownership {
        working_group: WorkingGroupId::from_db(row.working_group_id),
        municipality: MunicipalityId::from_db(row.municipality_id),
        country: lookup::country_of(&row.country)?,
        visibility: Visibility::parse("visibility", &row.visibility).map_err(internal)?,
    };
    // The author reads as itself, whoever acts for it: a country admin's
    // wider view does not let its municipality recommend on what it cannot see.
    let as_author = ReadScope::Municipality { municipality: author, country: author_country };
    if owner.visibility != Visibility::Shared || !scope::can_read(conn, as_author, &owner).await? {
        return Err(Error::invalid(FIELD, UNREADABLE_TARGET));
    }
    if row.archive_time.is_some() {
        return Err(Error::invalid(FIELD, "is archived"));
    }
    // A peer's shared item is readable only by members, so the author is
    // one; the owner may have left the group since it posted.
    lookup::require_member(conn, owner.working_group, owner.municipality, FIELD).await?;
    Ok(row)
}

/// The author's own live initiative a recommendation points to.
async fn check_author_initiative(
    conn: &impl ConnectionTrait,
    r: Option<ItemRef<InitiativeId>>,
    author: MunicipalityId,
) -> Result<Option<i64>> {
    const FIELD: &str = "recommendation.author_initiative";
    let Some(r) = r else { return Ok(None) };
    let own = format!("must name an initiative of the author, {}", names::municipality(author));
    if r.municipality != author {
        return Err(Error::invalid(FIELD, own));
    }
    match content::owned_rows(conn, "initiatives", &[r.id.get()]).await?.remove(&r.id.get()) {
        Some(row) if row.municipality_id == author.get() && row.archive_time.is_none() => Ok(Some(row.id)),
        Some(row) if row.municipality_id == author.get() => Err(Error::invalid(FIELD, "is archived")),
        _ => Err(Error::invalid(FIELD, own)),
    }
}

fn event(kind: &'static str, r: &Recommendation) -> NewEvent {
    NewEvent {
        kind,
        resource: names::recommendation(r.municipality, r.id),
        working_group: Some(r.working_group),
        country: Some(r.country),
        municipality: Some(r.municipality),
        visibility: Some(Visibility::Shared),
        snapshot: Snapshot::Recommendation(r.clone()),
    }
}

async fn create(
    w: &mut WriteTx,
    p: &Principal,
    parent: MunicipalityId,
    input: NewRecommendation,
    request_id: Option<&RequestId>,
) -> Result<Outcome<Recommendation>> {
    let acting = lookup::act_for(&w.tx, p, parent).await?;
    if let Claim::Replay(id) = w.claim(request_id, "CreateRecommendation", &format!("{parent}{input:?}")).await? {
        return Ok(Outcome::unchanged(reload(&w.tx, RecommendationId::from_db(id)).await?));
    }
    let target = check_target(&w.tx, &input.target, parent, acting.country()).await?;
    let author_initiative = check_author_initiative(&w.tx, input.author_initiative, parent).await?;
    let row = recommendation::ActiveModel {
        working_group_id: Set(target.working_group_id),
        municipality_id: Set(parent.get()),
        country: Set(acting.country().as_str().to_owned()),
        target_kind: Set(input.target.kind().to_owned()),
        target_id: Set(target.id),
        target_municipality_id: Set(target.municipality_id),
        target_country: Set(target.country),
        kind: Set(input.kind.as_str().to_owned()),
        body: Set(input.body.into_string()),
        author_initiative_id: Set(author_initiative),
        answer_state: Set(AnswerState::Unanswered.as_str().to_owned()),
        answer_note: Set(String::new()),
        answer_time: Set(None),
        version: Set(1),
        create_time: Set(w.now),
        update_time: Set(w.now),
        archive_time: Set(None),
        ..Default::default()
    };
    let id = recommendation::Entity::insert(row).exec(&w.tx).await?.last_insert_id;
    w.complete_claim(id)?;
    let created = reload(&w.tx, RecommendationId::from_db(id)).await?;
    let ev = event("recommendation.created", &created);
    Ok(Outcome::changed(created, ev))
}

async fn update(
    w: &mut WriteTx,
    p: &Principal,
    r: ItemRef<RecommendationId>,
    patch: RecommendationPatch,
    etag: Option<Etag>,
) -> Result<Outcome<Recommendation>> {
    let name = names::recommendation(r.municipality, r.id);
    lookup::act_for(&w.tx, p, r.municipality).await?;
    let current = match load(&w.tx, r.id).await? {
        Some(c) if c.municipality == r.municipality => c,
        _ => return Err(Error::NotFound(name)),
    };
    lookup::check_etag(etag, current.meta.version, &name)?;
    if current.meta.archive_time.is_some() {
        return Err(Error::FailedPrecondition(format!("{name} is archived")));
    }
    if current.answer.state != AnswerState::Unanswered {
        return Err(Error::FailedPrecondition(format!("{name} was answered and can no longer change")));
    }
    let mut row = recommendation::ActiveModel::default();
    if let Some(k) = patch.kind {
        row.kind = Set(k.as_str().to_owned());
    }
    if let Some(b) = patch.body {
        row.body = Set(b.into_string());
    }
    if let Some(i) = patch.author_initiative {
        row.author_initiative_id = Set(check_author_initiative(&w.tx, i, current.municipality).await?);
    }
    content::save::<recommendation::Entity>(w, current.id.get(), row, current.meta.version, &name).await?;
    let updated = reload(&w.tx, r.id).await?;
    let ev = event("recommendation.updated", &updated);
    Ok(Outcome::changed(updated, ev))
}

async fn archive(
    w: &mut WriteTx,
    p: &Principal,
    r: ItemRef<RecommendationId>,
    etag: Option<Etag>,
) -> Result<Outcome<Recommendation>> {
    let name = names::recommendation(r.municipality, r.id);
    let author = lookup::municipality(&w.tx, r.municipality).await?;
    p.archive(r.municipality, lookup::country_of(&author.country)?)?;
    let current = match load(&w.tx, r.id).await? {
        Some(c) if c.municipality == r.municipality => c,
        _ => return Err(Error::NotFound(name)),
    };
    lookup::check_etag(etag, current.meta.version, &name)?;
    if current.meta.archive_time.is_some() {
        return Ok(Outcome::unchanged(current));
    }
    let row = recommendation::ActiveModel { archive_time: Set(Some(w.now)), ..Default::default() };
    content::save::<recommendation::Entity>(w, current.id.get(), row, current.meta.version, &name).await?;
    let archived = reload(&w.tx, r.id).await?;
    let ev = event("recommendation.archived", &archived);
    Ok(Outcome::changed(archived, ev))
}

async fn answer(
    w: &mut WriteTx,
    p: &Principal,
    r: ItemRef<RecommendationId>,
    answer: NewAnswer,
    etag: Option<Etag>,
) -> Result<Outcome<Recommendation>> {
    let name = names::recommendation(r.municipality, r.id);
    let scope = p.read_scope();
    let current = match load(&w.tx, r.id).await? {
        Some(c) if c.municipality == r.municipality && can_read_recommendation(&w.tx, scope, &c).await? => c,
        _ => return Err(scope::missing_or_denied(&w.tx, scope, r.municipality, name).await),
    };
    let receiver = current.target.municipality();
    lookup::act_for(&w.tx, p, receiver).await.map_err(|e| match e {
        Error::PermissionDenied(_) => Error::PermissionDenied(format!(
            "only {} (or its country admin) may answer {name}",
            names::municipality(receiver)
        )),
        other => other,
    })?;
    if current.meta.archive_time.is_some() {
        return Err(Error::FailedPrecondition(format!("{name} is archived")));
    }
    lookup::check_etag(etag, current.meta.version, &name)?;
    if answer.state == AnswerState::Unanswered {
        return Err(Error::invalid("state", "an answer acknowledges, adopts or declines"));
    }
    current.answer.state.check_move(answer.state)?;
    let row = recommendation::ActiveModel {
        answer_state: Set(answer.state.as_str().to_owned()),
        answer_note: Set(answer.note.into_string()),
        answer_time: Set(Some(w.now)),
        ..Default::default()
    };
    content::save::<recommendation::Entity>(w, current.id.get(), row, current.meta.version, &name).await?;
    let answered = reload(&w.tx, r.id).await?;
    let ev = event("recommendation.answered", &answered);
    Ok(Outcome::changed(answered, ev))
}

impl Store {
    /// Recommend, as `parent`, on a peer's shared challenge, initiative or
    /// project idea in a group both belong to. Idempotent by `request_id`.
    pub async fn create_recommendation(
        &self,
        p: &Principal,
        parent: MunicipalityId,
        input: NewRecommendation,
        request_id: Option<&RequestId>,
    ) -> Result<Recommendation> {
        let mut w = self.begin_write(&p.actor()).await?;
        let outcome = create(&mut w, p, parent, input, request_id).await;
        content::finish(w, outcome).await
    }

    /// Read one recommendation: the author's and the receiver's side, and
    /// members of the target's group.
    pub async fn get_recommendation(&self, p: &Principal, r: ItemRef<RecommendationId>) -> Result<Recommendation> {
        let name = names::recommendation(r.municipality, r.id);
        let scope = p.read_scope();
        match load(&self.db, r.id).await? {
            Some(c) if c.municipality == r.municipality && can_read_recommendation(&self.db, scope, &c).await? => Ok(c),
            _ => Err(scope::missing_or_denied(&self.db, scope, r.municipality, name).await),
        }
    }

    /// List the recommendations the caller may read, written by `parent` or
    /// by everyone.
    pub async fn list_recommendations(
        &self,
        p: &Principal,
        parent: Option<MunicipalityId>,
        req: &PageRequest,
    ) -> Result<Page<Recommendation>> {
        let spec = PageSpec::new(req, &format!("recommendations:{parent:?}"))?;
        self.recommendation_page(p, parent, req, spec).await
    }

    /// One page of an export: like the list of everyone's, in larger pages.
    pub async fn export_recommendations(&self, p: &Principal, req: &PageRequest) -> Result<Page<Recommendation>> {
        self.recommendation_page(p, None, req, PageSpec::export(req, "recommendations:None")?).await
    }

    async fn recommendation_page(
        &self,
        p: &Principal,
        parent: Option<MunicipalityId>,
        req: &PageRequest,
        spec: PageSpec,
    ) -> Result<Page<Recommendation>> {
        let filter = Filter::parse(&req.filter)?;
        let mut cond = Condition::all().add(scope::recommendation_condition(p.read_scope()));
        for t in &filter.terms {
            cond = cond.add(term(t)?);
        }
        if let Some(m) = parent {
            cond = cond.add(recommendation::Column::MunicipalityId.eq(m.get()));
        }
        if !req.show_archived && !terms::wants_tombstones(&filter.terms) {
            cond = cond.add(recommendation::Column::ArchiveTime.is_null());
        }
        if let Some(after) = spec.after {
            cond = cond.add(recommendation::Column::Id.gt(after));
        }
        let rows = recommendation::Entity::find()
            .filter(cond)
            .order_by_asc(recommendation::Column::Id)
            .limit(spec.limit + 1)
            .all(&self.db)
            .await?;
        let (rows, next_page_token) = spec.finish(rows, |r| r.id);
        Ok(Page { items: rows.into_iter().map(record).collect::<Result<_>>()?, next_page_token })
    }

    /// Change an unanswered recommendation: its author only.
    pub async fn update_recommendation(
        &self,
        p: &Principal,
        r: ItemRef<RecommendationId>,
        patch: RecommendationPatch,
        etag: Option<Etag>,
    ) -> Result<Recommendation> {
        let mut w = self.begin_write(&p.actor()).await?;
        let outcome = update(&mut w, p, r, patch, etag).await;
        content::finish(w, outcome).await
    }

    /// Archive a recommendation: its author or a coordinator. Archiving an
    /// archived recommendation returns it unchanged.
    pub async fn archive_recommendation(
        &self,
        p: &Principal,
        r: ItemRef<RecommendationId>,
        etag: Option<Etag>,
    ) -> Result<Recommendation> {
        let mut w = self.begin_write(&p.actor()).await?;
        let outcome = archive(&mut w, p, r, etag).await;
        content::finish(w, outcome).await
    }

    /// Answer a recommendation: only the receiving municipality (its staff
    /// or its country admin). The state moves unanswered → acknowledged,
    /// adopted or declined, and acknowledged → adopted or declined.
    pub async fn answer_recommendation(
        &self,
        p: &Principal,
        r: ItemRef<RecommendationId>,
        answer: NewAnswer,
        etag: Option<Etag>,
    ) -> Result<Recommendation> {
        let mut w = self.begin_write(&p.actor()).await?;
        let outcome = self::answer(&mut w, p, r, answer, etag).await;
        content::finish(w, outcome).await
    }
}
