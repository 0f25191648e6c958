//! What the writes of owned content (challenges, initiatives, project ideas)
//! and recommendations share: finishing a write, version-guarded saves, and
//! links between items.

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Expr, Order, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter};

use super::entity;
use super::write::{NewEvent, WriteTx};
use crate::domain::*;
use crate::model::names;
use crate::{Error, Result};

/// At most this many links of one kind on one item.
pub(crate) const MAX_LINKS: usize = 100;

/// What a write body decided: the item to return and, when something
/// changed, the event to commit with it.
pub(crate) struct Outcome<T> {
    item: T,
    event: Option<NewEvent>,
}

impl<T> Outcome<T> {
    /// Something changed: commit with `event`.
    pub fn changed(item: T, event: NewEvent) -> Self {
        Outcome { item, event: Some(event) }
    }

    /// Nothing changed (a replayed create, a second archive): no event.
    pub fn unchanged(item: T) -> Self {
        Outcome { item, event: None }
    }
}

/// Commit or roll back the write `w` according to `outcome`.
///
/// Rolling back explicitly matters on SQLite: a dropped transaction only
/// queues its rollback, so the file's write lock would outlive the store's
/// writer queue and the next writer would fail with `SQLITE_BUSY`.
pub(crate) async fn finish<T>(w: WriteTx, outcome: Result<Outcome<T>>) -> Result<T> {
    match outcome {
        Ok(Outcome { item, event: Some(ev) }) => {
            w.commit(ev).await?;
            Ok(item)
        }
        Ok(Outcome { item, event: None }) => w.unchanged(item).await,
        Err(e) => {
            if let Err(rollback) = w.tx.rollback().await {
                tracing::warn!(error = %rollback, "rollback after a failed write");
            }
            Err(e)
        }
    }
}

/// A table of mutable resources with `id`, `version` and `update_time`.
pub(crate) trait Versioned: EntityTrait {
    /// The primary key.
    const ID: Self::Column;
    /// The version the etag stands for.
    const VERSION: Self::Column;
    /// When the row last changed.
    const UPDATE_TIME: Self::Column;
}

macro_rules! versioned {
    ($($table:ident),*) => {$(
        impl Versioned for entity::$table::Entity {
            const ID: Self::Column = entity::$table::Column::Id;
            const VERSION: Self::Column = entity::$table::Column::Version;
            const UPDATE_TIME: Self::Column = entity::$table::Column::UpdateTime;
        }
    )*};
}

versioned!(challenge, initiative, project_idea, recommendation);

/// Write the changed columns of `row`, bumping the version only if it is
/// still `version`: a change that slipped in between read and write is
/// caught as a stale etag.
pub(crate) async fn save<E: Versioned>(
    w: &WriteTx,
    id: i64,
    row: E::ActiveModel,
    version: i64,
    name: &str,
) -> Result<()> {
    let res = E::update_many()
        .set(row)
        .col_expr(E::VERSION, Expr::value(version + 1))
        .col_expr(E::UPDATE_TIME, Expr::value(w.now))
        .filter(E::ID.eq(id))
        .filter(E::VERSION.eq(version))
        .exec(&w.tx)
        .await?;
    if res.rows_affected == 1 { Ok(()) } else { Err(Error::StaleEtag(name.to_owned())) }
}

/// The ownership columns of a row of challenges, initiatives or project ideas.
#[derive(Debug, Clone, FromQueryResult)]
pub(crate) struct OwnedRow {
    pub id: i64,
    pub working_group_id: i64,
    pub municipality_id: i64,
    pub country: String,
    pub visibility: String,
    pub archive_time: Option<i64>,
}

impl OwnedRow {
    /// Whether this row is shared with its group.
    pub fn is_shared(&self) -> bool {
        self.visibility == Visibility::Shared.as_str()
    }
}

/// The ownership columns of the rows of `table` with these ids.
pub(crate) async fn owned_rows(
    conn: &impl ConnectionTrait,
    table: &str,
    ids: &[i64],
) -> Result<HashMap<i64, OwnedRow>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let stmt = Query::select()
        .columns(["id", "working_group_id", "municipality_id", "country", "visibility", "archive_time"].map(Alias::new))
        .from(Alias::new(table))
        .and_where(Expr::col(Alias::new("id")).is_in(ids.iter().copied()))
        .to_owned();
    let rows = OwnedRow::find_by_statement(conn.get_database_backend().build(&stmt)).all(conn).await?;
    Ok(rows.into_iter().map(|r| (r.id, r)).collect())
}

/// Check the items an item links to (`field[i]`, each named by its owner and
/// raw id, rows of `table`): each exists under the municipality its name
/// says, belongs to `group` and is readable by `writer` (its own, or shared).
/// A missing item, a peer's draft and an item of another group get the same
/// answer, so links never reveal drafts. Returns the ids, de-duplicated.
pub(crate) async fn check_links(
    conn: &impl ConnectionTrait,
    table: &str,
    field: &str,
    refs: &[(MunicipalityId, i64)],
    group: WorkingGroupId,
    writer: MunicipalityId,
) -> Result<Vec<i64>> {
    if refs.len() > MAX_LINKS {
        return Err(Error::invalid(field, format!("at most {MAX_LINKS} links")));
    }
    let ids: Vec<i64> = refs.iter().map(|(_, id)| *id).collect();
    let rows = owned_rows(conn, table, &ids).await?;
    let mut out = Vec::with_capacity(refs.len());
    for (i, (owner, id)) in refs.iter().enumerate() {
        let ok = rows.get(id).is_some_and(|r| {
            r.municipality_id == owner.get()
                && r.working_group_id == group.get()
                && (r.municipality_id == writer.get() || r.is_shared())
        });
        if !ok {
            return Err(Error::invalid(
                format!("{field}[{i}]"),
                format!(
                    "must name an item of {} that {} can read",
                    names::working_group(group),
                    names::municipality(writer)
                ),
            ));
        }
        if !out.contains(id) {
            out.push(*id);
        }
    }
    Ok(out)
}

/// A link table (entity `E`) from an owning item to linked items.
pub(crate) struct Link<E: EntityTrait> {
    /// The column naming the owning item.
    pub owner: E::Column,
    /// The column naming the linked item.
    pub item: E::Column,
    /// The linked items' table, whose `municipality_id` names their owner;
    /// `None` when the linked items are municipalities themselves.
    pub item_table: Option<&'static str>,
}

#[derive(FromQueryResult)]
struct LinkRow {
    owner_id: i64,
    item_id: i64,
    municipality_id: i64,
}

impl<E: EntityTrait> Link<E> {
    /// For each owner, its linked items as (owner municipality, item id), by item id.
    pub async fn load(
        &self,
        conn: &impl ConnectionTrait,
        owners: &[i64],
    ) -> Result<HashMap<i64, Vec<(MunicipalityId, i64)>>> {
        if owners.is_empty() {
            return Ok(HashMap::new());
        }
        let item = Expr::col((E::default(), self.item));
        let mut q = Query::select();
        q.expr_as(Expr::col((E::default(), self.owner)), Alias::new("owner_id"))
            .expr_as(item.clone(), Alias::new("item_id"))
            .from(E::default())
            .and_where(Expr::col((E::default(), self.owner)).is_in(owners.iter().copied()))
            .order_by((E::default(), self.item), Order::Asc);
        match self.item_table {
            Some(items) => {
                let items = Alias::new(items);
                q.expr_as(Expr::col((items.clone(), Alias::new("municipality_id"))), Alias::new("municipality_id"))
                    .inner_join(items.clone(), Expr::col((items, Alias::new("id"))).equals((E::default(), self.item)));
            }
            None => {
                q.expr_as(item, Alias::new("municipality_id"));
            }
        }
        let rows = LinkRow::find_by_statement(conn.get_database_backend().build(&q)).all(conn).await?;
        let mut out: HashMap<i64, Vec<(MunicipalityId, i64)>> = HashMap::new();
        for r in rows {
            out.entry(r.owner_id).or_default().push((MunicipalityId::from_db(r.municipality_id), r.item_id));
        }
        Ok(out)
    }

    /// Make `items` the links of `owner`.
    pub async fn replace(&self, conn: &impl ConnectionTrait, owner: i64, items: &[i64]) -> Result<()> {
        E::delete_many().filter(self.owner.eq(owner)).exec(conn).await?;
        if items.is_empty() {
            return Ok(());
        }
        let mut insert = Query::insert();
        insert.into_table(E::default()).columns([self.owner, self.item]);
        for item in items {
            insert.values([owner.into(), (*item).into()]).map_err(|e| Error::Internal(format!("link insert: {e}")))?;
        }
        conn.execute(conn.get_database_backend().build(&insert)).await?;
        Ok(())
    }
}
