//! What initiatives and project ideas share apart from their write bodies:
//! reading one, pages of them (lists and exports), and archiving one. Each
//! kind says how its rows become items ([`OwnedItem`]); the rules here are
//! written once. (Challenges have their own read path, which reads by a
//! direct connection on SQLite, and archive through their status.)

use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::content::{self, Outcome, Versioned};
use super::filter::{Filter, Term};
use super::page::PageSpec;
use super::write::{NewEvent, WriteTx};
use super::{Store, lookup, scope, terms};
use crate::auth::Principal;
use crate::domain::*;
use crate::model::*;
use crate::{Error, Result};

/// A kind of owned content kept in one table, plus link tables read with it.
pub(crate) trait OwnedItem: Sized + Send + Sync {
    /// Its table.
    type Entity: Versioned<Model: Send + Sync>;
    /// Its typed id.
    type Id: Copy + Send + Sync + std::fmt::Display;

    /// What it is called in messages (`initiative`).
    const KIND: &'static str;
    /// The kind of the event archiving one (`initiative.archived`).
    const ARCHIVED: &'static str;
    /// The plural in page tokens, so a token is only good for its own list.
    const COLLECTION: &'static str;
    /// The owner column and the archive-time column of its table.
    const MUNICIPALITY: <Self::Entity as EntityTrait>::Column;
    const ARCHIVE_TIME: <Self::Entity as EntityTrait>::Column;

    fn raw(id: Self::Id) -> i64;
    fn row_id(row: &<Self::Entity as EntityTrait>::Model) -> i64;
    fn name(r: ItemRef<Self::Id>) -> String;
    fn owner(&self) -> &Ownership;
    fn meta(&self) -> &Meta;
    /// The event of a change to this item.
    fn event(&self, kind: &'static str) -> NewEvent;
    /// A row that only archives, at `now`.
    fn archived_row(now: i64) -> <Self::Entity as EntityTrait>::ActiveModel;
    /// A filter term on a field of its own (common fields are handled here).
    fn term(t: &Term) -> Result<Condition>;
    /// Items for `rows`, with their links.
    async fn records(conn: &impl ConnectionTrait, rows: Vec<<Self::Entity as EntityTrait>::Model>)
    -> Result<Vec<Self>>;
}

/// Item `id`, with its links, if it exists.
pub(crate) async fn load<T: OwnedItem>(conn: &impl ConnectionTrait, id: T::Id) -> Result<Option<T>> {
    let row = T::Entity::find().filter(T::Entity::ID.eq(T::raw(id))).one(conn).await?;
    match row {
        Some(row) => Ok(T::records(conn, vec![row]).await?.pop()),
        None => Ok(None),
    }
}

/// Item `id`, which this write has just read or written.
pub(crate) async fn reload<T: OwnedItem>(conn: &impl ConnectionTrait, id: T::Id) -> Result<T> {
    load(conn, id).await?.ok_or_else(|| Error::Internal(format!("{} {id} vanished during a write", T::KIND)))
}

/// The item `r` names as an update finds it, and its name: the caller acts
/// for its owner, `etag` (if given) is current, and it is not archived.
pub(crate) async fn for_update<T: OwnedItem>(
    w: &WriteTx,
    p: &Principal,
    r: ItemRef<T::Id>,
    etag: Option<Etag>,
) -> Result<(T, String)> {
    let name = T::name(r);
    lookup::act_for(&w.tx, p, r.municipality).await?;
    let current = match load::<T>(&w.tx, r.id).await? {
        Some(i) if i.owner().municipality == r.municipality => i,
        _ => return Err(Error::NotFound(name)),
    };
    lookup::check_etag(etag, current.meta().version, &name)?;
    if current.meta().archive_time.is_some() {
        return Err(Error::FailedPrecondition(format!("{name} is archived")));
    }
    Ok((current, name))
}

/// Archive the item `r` names: its owner or a coordinator. Archiving an
/// archived item returns it unchanged.
async fn archive<T: OwnedItem>(
    w: &mut WriteTx,
    p: &Principal,
    r: ItemRef<T::Id>,
    etag: Option<Etag>,
) -> Result<Outcome<T>> {
    let name = T::name(r);
    let owner = lookup::municipality(&w.tx, r.municipality).await?;
    p.archive(r.municipality, lookup::country_of(&owner.country)?)?;
    let current = match load::<T>(&w.tx, r.id).await? {
        Some(i) if i.owner().municipality == r.municipality => i,
        _ => return Err(Error::NotFound(name)),
    };
    lookup::check_etag(etag, current.meta().version, &name)?;
    if current.meta().archive_time.is_some() {
        return Ok(Outcome::unchanged(current));
    }
    content::save::<T::Entity>(w, T::raw(r.id), T::archived_row(w.now), current.meta().version, &name).await?;
    let archived = reload::<T>(&w.tx, r.id).await?;
    let event = archived.event(T::ARCHIVED);
    Ok(Outcome::changed(archived, event))
}

impl Store {
    /// Read one item, if the caller may.
    pub(crate) async fn owned_get<T: OwnedItem>(&self, p: &Principal, r: ItemRef<T::Id>) -> Result<T> {
        let scope = p.read_scope();
        match load::<T>(&self.db, r.id).await? {
            Some(i)
                if i.owner().municipality == r.municipality && scope::can_read(&self.db, scope, i.owner()).await? =>
            {
                Ok(i)
            }
            _ => Err(scope::missing_or_denied(&self.db, scope, r.municipality, T::name(r)).await),
        }
    }

    /// A page of the items the caller may read, of `parent` or of everyone.
    pub(crate) async fn owned_list<T: OwnedItem>(
        &self,
        p: &Principal,
        parent: Option<MunicipalityId>,
        req: &PageRequest,
    ) -> Result<Page<T>> {
        let spec = PageSpec::new(req, &format!("{}:{parent:?}", T::COLLECTION))?;
        self.owned_page(p, parent, req, spec).await
    }

    /// One page of an export: like the list of everyone's, in larger pages.
    pub(crate) async fn owned_export<T: OwnedItem>(&self, p: &Principal, req: &PageRequest) -> Result<Page<T>> {
        let spec = PageSpec::export(req, &format!("{}:None", T::COLLECTION))?;
        self.owned_page(p, None, req, spec).await
    }

    async fn owned_page<T: OwnedItem>(
        &self,
        p: &Principal,
        parent: Option<MunicipalityId>,
        req: &PageRequest,
        spec: PageSpec,
    ) -> Result<Page<T>> {
        let filter = Filter::parse(&req.filter)?;
        let mut cond = Condition::all().add(scope::content_condition(p.read_scope()));
        for t in &filter.terms {
            cond = cond.add(match terms::common(t)? {
                Some(e) => Condition::all().add(e),
                None => T::term(t)?,
            });
        }
        if let Some(m) = parent {
            cond = cond.add(T::MUNICIPALITY.eq(m.get()));
        }
        if !req.show_archived && !terms::wants_tombstones(&filter.terms) {
            cond = cond.add(T::ARCHIVE_TIME.is_null());
        }
        if let Some(after) = spec.after {
            cond = cond.add(T::Entity::ID.gt(after));
        }
        let rows =
            T::Entity::find().filter(cond).order_by_asc(T::Entity::ID).limit(spec.limit + 1).all(&self.db).await?;
        let (rows, next_page_token) = spec.finish(rows, T::row_id);
        Ok(Page { items: T::records(&self.db, rows).await?, next_page_token })
    }

    /// Archive an item: its owner or a coordinator.
    pub(crate) async fn owned_archive<T: OwnedItem>(
        &self,
        p: &Principal,
        r: ItemRef<T::Id>,
        etag: Option<Etag>,
    ) -> Result<T> {
        let mut w = self.begin_write(&p.actor()).await?;
        let outcome = archive(&mut w, p, r, etag).await;
        content::finish(w, outcome).await
    }
}

/// The [`OwnedItem`] impl of `$item` (rows of `$table`, ids `$id`) from its
/// module's `records`, `term` and `event`, and the reads and archive of the
/// store's API for it, all written once above.
macro_rules! owned_item {
    (
        $item:ident in $table:ident, id $id:ident, named $name:path,
        kind $kind:literal, archived $archived:literal, collection $collection:literal,
        get $get:ident, list $list:ident, export $export:ident, archive $archive:ident $(,)?
    ) => {
        impl $crate::store::owned::OwnedItem for $item {
            type Entity = $table::Entity;
            type Id = $id;
            const KIND: &'static str = $kind;
            const ARCHIVED: &'static str = $archived;
            const COLLECTION: &'static str = $collection;
            const MUNICIPALITY: $table::Column = $table::Column::MunicipalityId;
            const ARCHIVE_TIME: $table::Column = $table::Column::ArchiveTime;

            fn raw(id: $id) -> i64 {
                id.get()
            }
            fn row_id(row: &$table::Model) -> i64 {
                row.id
            }
            fn name(r: ItemRef<$id>) -> String {
                $name(r.municipality, r.id)
            }
            fn owner(&self) -> &Ownership {
                &self.owner
            }
            fn meta(&self) -> &Meta {
                &self.meta
            }
            fn event(&self, kind: &'static str) -> NewEvent {
                event(kind, self)
            }
            fn archived_row(now: i64) -> $table::ActiveModel {
                $table::ActiveModel { archive_time: sea_orm::ActiveValue::Set(Some(now)), ..Default::default() }
            }
            fn term(t: &Term) -> Result<sea_orm::Condition> {
                term(t)
            }
            async fn records(
                conn: &impl sea_orm::ConnectionTrait,
                rows: Vec<$table::Model>,
            ) -> Result<Vec<Self>> {
                records(conn, rows).await
            }
        }

        impl Store {
            #[doc = concat!("Read one ", $kind, ".")]
            pub async fn $get(&self, p: &Principal, r: ItemRef<$id>) -> Result<$item> {
                self.owned_get(p, r).await
            }

            #[doc = concat!("List the ", $kind, "s the caller may read, of `parent` or of everyone.")]
            pub async fn $list(
                &self,
                p: &Principal,
                parent: Option<MunicipalityId>,
                req: &PageRequest,
            ) -> Result<Page<$item>> {
                self.owned_list(p, parent, req).await
            }

            /// One page of an export: like the list of everyone's, in larger pages.
            pub async fn $export(&self, p: &Principal, req: &PageRequest) -> Result<Page<$item>> {
                self.owned_export(p, req).await
            }

            #[doc = concat!("Archive a ", $kind, ": its owner or a coordinator. Archiving an archived one returns it unchanged.")]
            pub async fn $archive(&self, p: &Principal, r: ItemRef<$id>, etag: Option<Etag>) -> Result<$item> {
                self.owned_archive(p, r, etag).await
            }
        }
    };
}

pub(crate) use owned_item;
