//! Reading the event log: pages for the API and batches for the live feed,
//! both limited to the events the caller may read.

use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::entity::event;
use super::filter::{Filter, Op, Term};
use super::page::PageSpec;
use super::write::ts;
use super::{Store, lookup, scope, terms};
use crate::auth::{Principal, ReadScope};
use crate::domain::*;
use crate::model::*;
use crate::{Error, Result};

const FIELDS: &[&str] = &["working_group", "kind", "country", "id"];

fn term(t: &Term) -> Result<Condition> {
    let one = |e| Ok(Condition::all().add(e));
    match t.field.as_str() {
        "working_group" => {
            terms::equality(t)?;
            one(terms::compare("working_group_id", t.op, terms::name_id(t, "workingGroups")?))
        }
        "kind" => {
            terms::equality(t)?;
            one(terms::compare("kind", t.op, t.value.trim()))
        }
        "country" => {
            terms::equality(t)?;
            let c = CountryCode::parse(&t.value).map_err(|e| Error::invalid("filter", e.to_string()))?;
            one(terms::compare("country", t.op, c.as_str()))
        }
        "id" => {
            if !matches!(t.op, Op::Gt | Op::Ge) {
                return Err(Error::invalid("filter", "`id` can only be compared with > or >="));
            }
            let raw = t.value.trim();
            let id = raw
                .strip_prefix("events/")
                .unwrap_or(raw)
                .parse::<i64>()
                .map_err(|_| Error::invalid("filter", "`id` takes an event id like 42 or \"events/42\""))?;
            one(terms::compare("id", t.op, id))
        }
        _ => Err(terms::unknown(t, FIELDS)),
    }
}

fn record(row: event::Model) -> Result<Event> {
    let snapshot =
        serde_json::from_str(&row.payload).map_err(|e| Error::Internal(format!("payload of event {}: {e}", row.id)))?;
    Ok(Event {
        id: EventId::from_db(row.id),
        kind: row.kind,
        resource: row.resource,
        working_group: row.working_group_id.map(WorkingGroupId::from_db),
        country: row.country.as_deref().map(lookup::country_of).transpose()?,
        municipality: row.municipality_id.map(MunicipalityId::from_db),
        visibility: row
            .visibility
            .as_deref()
            .map(|v| Visibility::parse("visibility", v).map_err(|e| Error::Internal(e.to_string())))
            .transpose()?,
        actor: row.actor,
        create_time: ts(row.create_time),
        snapshot,
    })
}

impl Store {
    /// List the events the caller may read, oldest first. Filters:
    /// `working_group`, `kind`, `country`, and `id > N` (or `>=`) to resume.
    pub async fn list_events(&self, p: &Principal, req: &PageRequest) -> Result<Page<Event>> {
        self.event_page(p, req, PageSpec::new(req, "events")?).await
    }

    /// One page of an export of events: like [`Store::list_events`], in larger pages.
    pub async fn export_events(&self, p: &Principal, req: &PageRequest) -> Result<Page<Event>> {
        self.event_page(p, req, PageSpec::export(req, "events")?).await
    }

    async fn event_page(&self, p: &Principal, req: &PageRequest, spec: PageSpec) -> Result<Page<Event>> {
        let filter = Filter::parse(&req.filter)?;
        let mut cond = Condition::all().add(scope::event_condition(p.read_scope()));
        for t in &filter.terms {
            cond = cond.add(term(t)?);
        }
        if let Some(after) = spec.after {
            cond = cond.add(event::Column::Id.gt(after));
        }
        if let Some(last) = self.final_events().await? {
            cond = cond.add(event::Column::Id.lte(last));
        }
        let rows = event::Entity::find()
            .filter(cond)
            .order_by_asc(event::Column::Id)
            .limit(spec.limit + 1)
            .all(&self.db)
            .await?;
        let (rows, next_page_token) = spec.finish(rows, |r| r.id);
        Ok(Page { items: rows.into_iter().map(record).collect::<Result<_>>()?, next_page_token })
    }

    /// Up to `limit` events after id `after` that `scope` may read, oldest
    /// first, optionally of one group and of some kinds (empty: all kinds).
    /// The live feed's query; the visibility rule is [`Store::list_events`]'.
    pub async fn events_after(
        &self,
        scope: ReadScope,
        after: i64,
        limit: u64,
        working_group: Option<WorkingGroupId>,
        kinds: &[String],
    ) -> Result<Vec<Event>> {
        let mut cond = Condition::all().add(scope::event_condition(scope)).add(event::Column::Id.gt(after));
        if let Some(g) = working_group {
            cond = cond.add(event::Column::WorkingGroupId.eq(g.get()));
        }
        if !kinds.is_empty() {
            cond = cond.add(event::Column::Kind.is_in(kinds.iter().map(String::as_str)));
        }
        if let Some(last) = self.final_events().await? {
            cond = cond.add(event::Column::Id.lte(last));
        }
        let rows =
            event::Entity::find().filter(cond).order_by_asc(event::Column::Id).limit(limit).all(&self.db).await?;
        rows.into_iter().map(record).collect()
    }
}
