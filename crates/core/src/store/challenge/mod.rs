//! Challenges: problems municipalities post for their working group.

mod read;

use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryTrait, Statement,
};

use super::entity::{challenge, challenge_theme};
use super::write::{self, Claim, Committed, NewEvent, RequestId};
use super::{Store, lookup, shape};
use crate::auth::{ActingFor, Principal, ReadScope};
use crate::domain::*;
use crate::model::*;
use crate::{Error, Result};
use read::load;

/// The statement that gives challenge `id` its `themes`, if it has any.
fn insert_themes(backend: DatabaseBackend, id: i64, themes: &[Theme]) -> Result<Option<Statement>> {
    if themes.is_empty() {
        return Ok(None);
    }
    let values = themes.iter().flat_map(|t| [id.into(), t.as_str().into()]).collect();
    let insert = shape::statement(backend, ("challenge_themes", themes.len()), values, || {
        let rows = themes
            .iter()
            .map(|t| challenge_theme::ActiveModel { challenge_id: Set(id), theme: Set(t.as_str().to_owned()) });
        challenge_theme::Entity::insert_many(rows).build(backend)
    })?;
    Ok(Some(insert))
}

/// The challenge a replayed create made.
async fn replayed(conn: &impl ConnectionTrait, id: i64) -> Result<Challenge> {
    load(conn, ChallengeId::from_db(id)).await?.ok_or_else(|| Error::Internal("replayed challenge is gone".into()))
}

/// Replace challenge `id`'s themes with `themes`.
async fn set_themes(conn: &impl ConnectionTrait, id: i64, themes: &[Theme]) -> Result<()> {
    challenge_theme::Entity::delete_many().filter(challenge_theme::Column::ChallengeId.eq(id)).exec(conn).await?;
    if let Some(insert) = insert_themes(conn.get_database_backend(), id, themes)? {
        conn.execute(insert).await?;
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
    ///
    /// On PostgreSQL a create sends all its writes in one statement, which
    /// is its own transaction, with an id drawn ahead. When the caller is
    /// the owner's staff or its country's admin, that statement also checks
    /// what posting needs (the owner's country, that it and the group are
    /// active, that it is a member): a create is then one round trip. If
    /// that check fails, nothing was written, and the create runs again
    /// with a read of the checks first, for the precise error.
    pub async fn create_challenge(
        &self,
        p: &Principal,
        parent: MunicipalityId,
        input: NewChallenge,
        request_id: Option<&RequestId>,
    ) -> Result<Challenge> {
        if let Some(acting) = self.acts_unread(p, parent)
            && let Some(created) = self.post_challenge(p, parent, &input, request_id, Some(acting)).await?
        {
            return Ok(created);
        }
        let created = self.post_challenge(p, parent, &input, request_id, None).await?;
        created.ok_or_else(|| Error::Internal("a create without a check at commit failed it".into()))
    }

    /// On PostgreSQL, the capability to write for `owner` if the caller has
    /// it as a municipality of its own country (its staff, or its country's
    /// admin), decided without reading: the commit checks the country.
    fn acts_unread(&self, p: &Principal, owner: MunicipalityId) -> Option<ActingFor> {
        self.ids.as_ref()?;
        let country = match p.read_scope() {
            ReadScope::Municipality { country, .. } | ReadScope::Country { country, drafts: true } => country,
            _ => return None,
        };
        p.act_for(owner, country).ok()
    }

    /// Post a challenge. With `unread`, the posting checks go with the
    /// commit, and `None` means they failed (nothing was written); without,
    /// they are read first.
    async fn post_challenge(
        &self,
        p: &Principal,
        parent: MunicipalityId,
        input: &NewChallenge,
        request_id: Option<&RequestId>,
        unread: Option<ActingFor>,
    ) -> Result<Option<Challenge>> {
        let mut w = self.begin_create(&p.actor()).await?;
        let fingerprint = format!("{parent}{input:?}");
        let acting = match unread {
            Some(acting) => {
                w.check_at_commit(lookup::posting_holds(parent, input.working_group, acting.country()));
                // Without a transaction the id is claimed with the commit.
                w.claim(request_id, "CreateChallenge", &fingerprint).await?;
                acting
            }
            None => {
                let posting = lookup::Posting::read(&w.tx, p, parent, input.working_group).await?;
                if let Claim::Replay(id) = w.claim(request_id, "CreateChallenge", &fingerprint).await? {
                    let item = replayed(&w.tx, id).await?;
                    return w.unchanged(item).await.map(Some);
                }
                if let Err(e) = posting.check_group("challenge.working_group") {
                    return match w.replay_of_pending_claim().await? {
                        Some(id) => {
                            let item = replayed(&w.tx, id).await?;
                            w.unchanged(item).await.map(Some)
                        }
                        None => Err(e),
                    };
                }
                posting.acting().clone()
            }
        };
        let backend = w.tx.get_database_backend();
        let country = acting.country().as_str().to_owned();
        let (group, status) = (input.working_group.get(), ChallengeStatus::Open.as_str());
        let mut values = vec![
            group.into(),
            parent.get().into(),
            country.as_str().into(),
            input.title.as_str().into(),
            input.description.as_str().into(),
            input.visibility.as_str().into(),
            status.into(),
            1_i64.into(),
            w.now.into(),
            w.now.into(),
            Option::<i64>::None.into(),
        ];
        // On PostgreSQL the create writes nothing before its commit, which
        // sends all of it in one statement: the new id is drawn ahead.
        let reserved = match &self.ids {
            Some(ids) => Some(ids.next(&self.db, "challenges").await?),
            None => None,
        };
        if let Some(id) = reserved {
            values.insert(0, id.into());
        }
        let shape = if reserved.is_some() { "challenge/with-id" } else { "challenge" };
        let insert = shape::statement(backend, (shape, 0), values, || {
            let row = challenge::ActiveModel {
                id: reserved.map_or(NotSet, Set),
                working_group_id: Set(group),
                municipality_id: Set(parent.get()),
                country: Set(country.clone()),
                title: Set(input.title.as_str().to_owned()),
                description: Set(input.description.as_str().to_owned()),
                visibility: Set(input.visibility.as_str().to_owned()),
                status: Set(status.to_owned()),
                version: Set(1),
                create_time: Set(w.now),
                update_time: Set(w.now),
                archive_time: Set(None),
            };
            challenge::Entity::insert(row).build(backend)
        })?;
        // SQLite gives the new row id with the insert itself.
        let id: i64 = match reserved {
            Some(id) => {
                w.defer(insert);
                id
            }
            None => {
                let id = w.tx.execute(insert).await?.last_insert_id();
                i64::try_from(id).map_err(|_| Error::Internal(format!("challenge id {id} out of range")))?
            }
        };
        // A new challenge has no themes to remove; they are sent with the event.
        if let Some(insert) = insert_themes(backend, id, &input.themes)? {
            w.defer(insert);
        }
        w.complete_claim(id)?;
        // What was inserted, as a read would return it (themes sorted as
        // reads sort them), without reading it back.
        let mut themes: Vec<String> = input.themes.iter().map(|t| t.as_str().to_owned()).collect();
        themes.sort_unstable();
        let at = write::ts(w.now);
        let created = Challenge {
            id: ChallengeId::from_db(id),
            owner: Ownership {
                working_group: input.working_group,
                municipality: parent,
                country: acting.country(),
                visibility: input.visibility,
            },
            title: input.title.as_str().to_owned(),
            description: input.description.as_str().to_owned(),
            themes,
            status: ChallengeStatus::Open,
            meta: Meta { version: 1, create_time: at, update_time: at, archive_time: None },
        };
        match w.commit_or_replay(event("challenge.created", &created)).await? {
            Committed::Event(_) => Ok(Some(created)),
            Committed::Replay(id) => replayed(&self.db, id).await.map(Some),
            Committed::Unchecked => Ok(None),
        }
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
