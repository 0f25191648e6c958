//! Municipalities: the public directory of the network's members.
//!
//! Every authenticated caller reads it; coordinators manage any
//! municipality, country admins those of their own country.

use sea_orm::sea_query::SimpleExpr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entity::municipality;
use super::filter::{Filter, Term};
use super::page::PageSpec;
use super::write::{Claim, NewEvent, RequestId, WriteTx, ts};
use super::{Store, lookup, terms};
use crate::auth::{ManagingCountry, Principal};
use crate::domain::*;
use crate::model::*;
use crate::{Error, Result};

const FIELDS: &[&str] = &["country", "update_time", "create_time"];

fn term(t: &Term) -> Result<SimpleExpr> {
    match t.field.as_str() {
        "country" | "update_time" | "create_time" => terms::common(t)?.ok_or_else(|| terms::unknown(t, FIELDS)),
        _ => Err(terms::unknown(t, FIELDS)),
    }
}

fn record(row: municipality::Model) -> Result<Municipality> {
    Ok(Municipality {
        id: MunicipalityId::from_db(row.id),
        display_name: row.display_name,
        country: lookup::country_of(&row.country)?,
        meta: Meta {
            version: row.version,
            create_time: ts(row.create_time),
            update_time: ts(row.update_time),
            archive_time: row.archive_time.map(ts),
        },
    })
}

async fn load(conn: &impl ConnectionTrait, id: MunicipalityId) -> Result<Municipality> {
    record(lookup::municipality(conn, id).await?)
}

fn event(kind: &'static str, m: &Municipality) -> NewEvent {
    NewEvent {
        kind,
        resource: names::municipality(m.id),
        working_group: None,
        country: Some(m.country),
        municipality: Some(m.id),
        visibility: None,
        snapshot: Snapshot::Municipality(m.clone()),
    }
}

/// The capability to manage municipality `id`, with its current record.
///
/// Callers who may manage no country at all (staff, observers) are denied
/// before the municipality is looked up; the directory is public, so for
/// the others a missing municipality is simply NOT_FOUND.
async fn managed(
    conn: &impl ConnectionTrait,
    p: &Principal,
    id: MunicipalityId,
) -> Result<(ManagingCountry, Municipality)> {
    if let Some(own) = p.country() {
        p.manage_country(own)?;
    }
    let current = load(conn, id).await?;
    Ok((p.manage_country(current.country)?, current))
}

/// Write changed columns, bumping the version only if it is still `version`
/// (a concurrent change between read and write is caught as a stale etag).
async fn save(
    w: &WriteTx,
    id: MunicipalityId,
    mut row: municipality::ActiveModel,
    version: i64,
) -> Result<Municipality> {
    row.version = Set(version + 1);
    row.update_time = Set(w.now);
    let res = municipality::Entity::update_many()
        .set(row)
        .filter(municipality::Column::Id.eq(id.get()))
        .filter(municipality::Column::Version.eq(version))
        .exec(&w.tx)
        .await?;
    if res.rows_affected != 1 {
        return Err(Error::StaleEtag(names::municipality(id)));
    }
    load(&w.tx, id).await
}

impl Store {
    /// Add a municipality to the directory: coordinators in any country,
    /// country admins in their own. Idempotent by `request_id`.
    ///
    /// ```no_run
    /// # async fn run(store: peerlab_core::store::Store, p: peerlab_core::auth::Principal) -> peerlab_core::Result<()> {
    /// use peerlab_core::domain::{CountryCode, Title};
    /// use peerlab_core::model::NewMunicipality;
    /// let input = NewMunicipality { display_name: Title::parse("display_name", "Mostar")?, country: CountryCode::parse("BA")? };
    /// let mostar = store.create_municipality(&p, input, None).await?;
    /// assert_eq!(mostar.country.as_str(), "BA");
    /// # Ok(()) }
    /// ```
    pub async fn create_municipality(
        &self,
        p: &Principal,
        input: NewMunicipality,
        request_id: Option<&RequestId>,
    ) -> Result<Municipality> {
        p.manage_country(input.country)?;
        let mut w = self.begin_write(&p.actor()).await?;
        if let Claim::Replay(id) = w.claim(request_id, "CreateMunicipality", &format!("{input:?}")).await? {
            let replayed = load(&w.tx, MunicipalityId::from_db(id)).await?;
            return w.unchanged(replayed).await;
        }
        let row = municipality::ActiveModel {
            display_name: Set(input.display_name.into_string()),
            country: Set(input.country.as_str().to_owned()),
            version: Set(1),
            create_time: Set(w.now),
            update_time: Set(w.now),
            archive_time: Set(None),
            ..Default::default()
        };
        let id = municipality::Entity::insert(row).exec(&w.tx).await?.last_insert_id;
        w.complete_claim(id)?;
        let created = load(&w.tx, MunicipalityId::from_db(id)).await?;
        w.commit(event("municipality.created", &created)).await?;
        Ok(created)
    }

    /// Read one municipality (archived ones too); every caller may.
    pub async fn get_municipality(&self, p: &Principal, id: MunicipalityId) -> Result<Municipality> {
        tracing::trace!(actor = %p.actor(), municipality = %id, "get municipality");
        load(&self.db, id).await
    }

    /// List the directory in id order. Filters: `country`, `update_time`,
    /// `create_time`. Archived municipalities appear with `show_archived`, or
    /// as tombstones when asking for changes since a time (`update_time > t`).
    pub async fn list_municipalities(&self, p: &Principal, req: &PageRequest) -> Result<Page<Municipality>> {
        tracing::trace!(actor = %p.actor(), "list municipalities");
        let spec = PageSpec::new(req, "municipalities")?;
        let filter = Filter::parse(&req.filter)?;
        let mut cond = Condition::all();
        for t in &filter.terms {
            cond = cond.add(term(t)?);
        }
        if !req.show_archived && !terms::wants_tombstones(&filter.terms) {
            cond = cond.add(municipality::Column::ArchiveTime.is_null());
        }
        if let Some(after) = spec.after {
            cond = cond.add(municipality::Column::Id.gt(after));
        }
        let rows = municipality::Entity::find()
            .filter(cond)
            .order_by_asc(municipality::Column::Id)
            .limit(spec.limit + 1)
            .all(&self.db)
            .await?;
        let (rows, next_page_token) = spec.finish(rows, |r| r.id);
        Ok(Page { items: rows.into_iter().map(record).collect::<Result<_>>()?, next_page_token })
    }

    /// Rename a municipality. A stale `etag` is [`Error::StaleEtag`]; an
    /// archived municipality cannot change.
    pub async fn update_municipality(
        &self,
        p: &Principal,
        id: MunicipalityId,
        display_name: Option<Title>,
        etag: Option<Etag>,
    ) -> Result<Municipality> {
        let name = names::municipality(id);
        let w = self.begin_write(&p.actor()).await?;
        let (_, current) = managed(&w.tx, p, id).await?;
        lookup::check_etag(etag, current.meta.version, &name)?;
        if current.meta.archive_time.is_some() {
            return Err(Error::FailedPrecondition(format!("{name} is archived")));
        }
        let mut row = municipality::ActiveModel::default();
        if let Some(n) = display_name {
            row.display_name = Set(n.into_string());
        }
        let updated = save(&w, id, row, current.meta.version).await?;
        w.commit(event("municipality.updated", &updated)).await?;
        Ok(updated)
    }

    /// Archive a municipality (it leaves default lists and can no longer
    /// act). Archiving an archived municipality returns it unchanged.
    pub async fn archive_municipality(
        &self,
        p: &Principal,
        id: MunicipalityId,
        etag: Option<Etag>,
    ) -> Result<Municipality> {
        let name = names::municipality(id);
        let w = self.begin_write(&p.actor()).await?;
        let (_, current) = managed(&w.tx, p, id).await?;
        lookup::check_etag(etag, current.meta.version, &name)?;
        if current.meta.archive_time.is_some() {
            return w.unchanged(current).await;
        }
        let row = municipality::ActiveModel { archive_time: Set(Some(w.now)), ..Default::default() };
        let archived = save(&w, id, row, current.meta.version).await?;
        w.commit(event("municipality.archived", &archived)).await?;
        Ok(archived)
    }
}
