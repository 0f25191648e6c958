//! Reading challenges: each read is one statement that brings the rows with
//! their themes (and, for a single read, the owner's country and the
//! caller's membership of the group), decoded by column position.
//!
//! One statement per call matters: on PostgreSQL each is a network round
//! trip, and on SQLite (direct reads, or the writer inside a write) each is
//! a statement step on the calling thread.

use sea_orm::sea_query::{Alias, Expr, IntoIden, JoinType, Query, SelectStatement, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, IdenStatic};
use serde::Deserialize;

use super::super::direct::Cells;
use super::super::entity::{challenge, challenge_theme, municipality};
use super::super::filter::{Filter, Op, Term};
use super::super::page::PageSpec;
use super::super::write::ts;
use super::super::{Store, lookup, scope, terms};
use crate::auth::{Principal, ReadScope};
use crate::domain::*;
use crate::model::*;
use crate::{Error, Result};

const FIELDS: &[&str] = &["country", "working_group", "status", "theme", "visibility", "update_time", "create_time"];

/// The columns [`decode`] reads, in this order, followed by the themes.
const COLUMNS: [challenge::Column; 12] = [
    challenge::Column::Id,
    challenge::Column::WorkingGroupId,
    challenge::Column::MunicipalityId,
    challenge::Column::Country,
    challenge::Column::Title,
    challenge::Column::Description,
    challenge::Column::Visibility,
    challenge::Column::Status,
    challenge::Column::Version,
    challenge::Column::CreateTime,
    challenge::Column::UpdateTime,
    challenge::Column::ArchiveTime,
];

/// Themes are joined with this; [`Theme`] admits only letters, digits and `-`.
const THEME_SEPARATOR: char = ',';

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
            Ok(Condition::all().add(if t.op == Op::Eq { col.in_subquery(sub) } else { col.not_in_subquery(sub) }))
        }
        _ => Err(terms::unknown(t, FIELDS)),
    }
}

/// The themes of the challenge whose id is `id` as one text (NULL when it
/// has none), in no particular order: [`Row::record`] sorts them by byte,
/// which no database collation setting can change. `string_agg` is the same
/// on PostgreSQL and on SQLite (3.44+; sqlx bundles 3.46).
fn themes_of(id: SimpleExpr) -> SimpleExpr {
    let sub = Query::select()
        .expr(Expr::cust("string_agg(\"theme\", ',')"))
        .from(challenge_theme::Entity)
        .and_where(Expr::col((challenge_theme::Entity, challenge_theme::Column::ChallengeId)).eq(id))
        .to_owned();
    SimpleExpr::SubQuery(None, Box::new(sub.into_sub_query_statement()))
}

/// The challenge columns of `table` and its themes, as [`decode`] reads them.
fn select_challenge(q: &mut SelectStatement, table: impl IntoIden) {
    let table = table.into_iden();
    q.columns(COLUMNS.map(|c| (table.clone(), c)))
        .expr_as(themes_of(Expr::col((table, challenge::Column::Id)).into()), Alias::new("themes"));
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(e.to_string())
}

/// A challenge as the read statements select it: [`COLUMNS`], then the
/// themes. Deserializes from a JSON array in that order (see [`page_json`]).
#[derive(Deserialize)]
struct Row {
    id: i64,
    working_group_id: i64,
    municipality_id: i64,
    country: String,
    title: String,
    description: String,
    visibility: String,
    status: String,
    version: i64,
    create_time: i64,
    update_time: i64,
    archive_time: Option<i64>,
    themes: Option<String>,
}

impl Row {
    /// The row in the columns of `row` from `at` on.
    fn at(row: &impl Cells, at: usize) -> Result<Row> {
        Ok(Row {
            id: row.cell(at)?,
            working_group_id: row.cell(at + 1)?,
            municipality_id: row.cell(at + 2)?,
            country: row.cell(at + 3)?,
            title: row.cell(at + 4)?,
            description: row.cell(at + 5)?,
            visibility: row.cell(at + 6)?,
            status: row.cell(at + 7)?,
            version: row.cell(at + 8)?,
            create_time: row.cell(at + 9)?,
            update_time: row.cell(at + 10)?,
            archive_time: row.cell(at + 11)?,
            themes: row.cell(at + 12)?,
        })
    }

    fn record(self) -> Result<Challenge> {
        let mut themes: Vec<String> =
            self.themes.map_or_else(Vec::new, |t| t.split(THEME_SEPARATOR).map(str::to_owned).collect());
        themes.sort_unstable();
        Ok(Challenge {
            id: ChallengeId::from_db(self.id),
            owner: Ownership {
                working_group: WorkingGroupId::from_db(self.working_group_id),
                municipality: MunicipalityId::from_db(self.municipality_id),
                country: lookup::country_of(&self.country)?,
                visibility: Visibility::parse("visibility", &self.visibility).map_err(internal)?,
            },
            title: self.title,
            description: self.description,
            themes,
            status: ChallengeStatus::parse("status", &self.status).map_err(internal)?,
            meta: Meta {
                version: self.version,
                create_time: ts(self.create_time),
                update_time: ts(self.update_time),
                archive_time: self.archive_time.map(ts),
            },
        })
    }
}

/// A page of challenges (`inner`: [`select_challenge`] with its filter,
/// order and limit) as one JSON array of [`Row`] arrays, for PostgreSQL,
/// where pages are read through sqlx (SQLite reads them directly): one
/// value per page instead of a decoded message per row, which is most of an
/// export's cost.
fn page_json(inner: SelectStatement) -> SelectStatement {
    let columns = COLUMNS.iter().map(|c| format!("\"{}\"", c.as_str())).collect::<Vec<_>>().join(", ");
    let aggregate = format!("CAST(json_agg(json_build_array({columns}, \"themes\") ORDER BY \"id\") AS text)");
    Query::select().expr(Expr::cust(aggregate)).from_subquery(inner, Alias::new("page")).to_owned()
}

/// One challenge with its themes, whoever may read it (for writes).
pub(super) async fn load(conn: &impl ConnectionTrait, id: ChallengeId) -> Result<Option<Challenge>> {
    let mut q = Query::select();
    select_challenge(&mut q, challenge::Entity);
    q.from(challenge::Entity).and_where(Expr::col((challenge::Entity, challenge::Column::Id)).eq(id.get()));
    match conn.query_one(conn.get_database_backend().build(&q)).await? {
        Some(row) => Row::at(&row, 0)?.record().map(Some),
        None => Ok(None),
    }
}

/// The statement that reads `r` in `scope`: the owner municipality's row
/// (its country decides NOT_FOUND vs PERMISSION_DENIED), left-joined to the
/// challenge under it with its themes and whether `scope` is in its group.
fn get_statement(scope: ReadScope, r: ItemRef<ChallengeId>) -> SelectStatement {
    let (m, c) = (Alias::new("m"), Alias::new("c"));
    let mut q = Query::select();
    q.column((m.clone(), municipality::Column::Country));
    select_challenge(&mut q, c.clone());
    q.expr(scope::scope_in_group_expr(scope, Expr::col((c.clone(), challenge::Column::WorkingGroupId)).into()))
        .from_as(municipality::Entity, m.clone())
        .join_as(
            JoinType::LeftJoin,
            challenge::Entity,
            c.clone(),
            Condition::all()
                .add(Expr::col((c.clone(), challenge::Column::Id)).eq(r.id.get()))
                .add(Expr::col((c, challenge::Column::MunicipalityId)).equals((m.clone(), municipality::Column::Id))),
        )
        .and_where(Expr::col((m, municipality::Column::Id)).eq(r.municipality.get()));
    q
}

/// What [`get_statement`] found: the owner's stored country, the challenge
/// if it is there, and whether the scope is in its group.
struct Found {
    owner_country: String,
    challenge: Option<Challenge>,
    in_group: bool,
}

impl Found {
    fn read(row: &impl Cells) -> Result<Found> {
        let challenge = if row.cell::<Option<i64>>(1)?.is_some() { Some(Row::at(row, 1)?.record()?) } else { None };
        Ok(Found { owner_country: row.cell(0)?, challenge, in_group: row.cell(1 + COLUMNS.len() + 1)? })
    }
}

/// The answer to reading `r` in `scope`, given what was found (`None`: no
/// such municipality).
fn decide(scope: ReadScope, r: ItemRef<ChallengeId>, found: Option<Found>) -> Result<Challenge> {
    let name = || names::challenge(r.municipality, r.id);
    let Some(found) = found else { return Err(scope::missing_or_denied_given(scope, r.municipality, None, name())) };
    match found.challenge {
        Some(ch) if scope::readable(scope, &ch.owner, found.in_group) => Ok(ch),
        _ => Err(scope::missing_or_denied_given(scope, r.municipality, Some(&found.owner_country), name())),
    }
}

impl Store {
    /// The rows of a page (`q`) through sqlx (PostgreSQL), as one JSON value.
    async fn page_rows(&self, q: SelectStatement) -> Result<Vec<Row>> {
        let backend = self.db.get_database_backend();
        let page = self.db.query_one(backend.build(&page_json(q))).await?;
        // No rows: NULL.
        let json: Option<String> = match page {
            Some(row) => row.try_get_by_index(0)?,
            None => None,
        };
        match json {
            Some(json) => serde_json::from_str(&json).map_err(|e| internal(format!("a page of challenges: {e}"))),
            None => Ok(Vec::new()),
        }
    }

    /// Read one challenge.
    pub async fn get_challenge(&self, p: &Principal, r: ItemRef<ChallengeId>) -> Result<Challenge> {
        let scope = p.read_scope();
        let found = match &self.direct {
            Some(direct) => {
                // The values `get_statement` binds, in order: the scope's
                // (`1` selected by the membership EXISTS, then its key),
                // the challenge id, the owner.
                let (shape, mut values): (_, Vec<sea_orm::Value>) = match scope {
                    ReadScope::All => ("get_challenge/all", vec![true.into()]),
                    ReadScope::Municipality { municipality, .. } => {
                        ("get_challenge/municipality", vec![1.into(), municipality.get().into()])
                    }
                    ReadScope::Country { country, .. } => {
                        ("get_challenge/country", vec![1.into(), country.as_str().into()])
                    }
                };
                values.extend([r.id.get().into(), r.municipality.get().into()]);
                direct.query_one(shape, values, || get_statement(scope, r), |row| Found::read(row))?
            }
            None => match self.db.query_one(self.db.get_database_backend().build(&get_statement(scope, r))).await? {
                Some(row) => Some(Found::read(&row)?),
                None => None,
            },
        };
        decide(scope, r, found)
    }

    /// List the challenges the caller may read, of `parent` or of everyone.
    pub async fn list_challenges(
        &self,
        p: &Principal,
        parent: Option<MunicipalityId>,
        req: &PageRequest,
    ) -> Result<Page<Challenge>> {
        let context = format!("challenges:{parent:?}");
        self.challenge_page(p, parent, req, PageSpec::new(req, &context)?).await
    }

    /// One page of an export of the challenges the caller may read: like
    /// [`Store::list_challenges`] of everyone, in larger pages.
    pub async fn export_challenges(&self, p: &Principal, req: &PageRequest) -> Result<Page<Challenge>> {
        self.challenge_page(p, None, req, PageSpec::export(req, "challenges:None")?).await
    }

    async fn challenge_page(
        &self,
        p: &Principal,
        parent: Option<MunicipalityId>,
        req: &PageRequest,
        spec: PageSpec,
    ) -> Result<Page<Challenge>> {
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
        let mut q = Query::select();
        select_challenge(&mut q, challenge::Entity);
        q.from(challenge::Entity)
            .cond_where(cond)
            .order_by((challenge::Entity, challenge::Column::Id), sea_orm::Order::Asc)
            .limit(spec.limit + 1);
        let rows = match &self.direct {
            Some(direct) => direct.query_all(q, |row| Row::at(row, 0)).await?,
            None => self.page_rows(q).await?,
        };
        let items = rows.into_iter().map(Row::record).collect::<Result<Vec<_>>>()?;
        let (items, next_page_token) = spec.finish(items, |c| c.id.get());
        Ok(Page { items, next_page_token })
    }
}
