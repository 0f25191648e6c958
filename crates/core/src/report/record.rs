//! Keeping the report aggregates current inside each write's transaction.
//!
//! A write's event carries the resource as it is after the change; the
//! previous event of the same resource carries it as it was. The counters a
//! snapshot contributes are a pure function of it ([`contribute`]), so the
//! change to apply is "after minus before", whatever the write did. The one
//! aggregate that depends on two resources — a challenge's first
//! recommendation — is re-derived from the tables for that challenge.

use std::collections::BTreeMap;

use sea_orm::ConnectionTrait;

use super::cells::Metric;
use super::model::day_of;
use super::sql::{Sql, get};
use crate::domain::*;
use crate::model::{Snapshot, Target, Timestamp};
use crate::{Error, Result};

/// (working group, country, metric, key, day) → change.
type Delta = BTreeMap<(i64, String, Metric, String, i64), i64>;

fn add(d: &mut Delta, group: i64, country: CountryCode, metric: Metric, key: &str, created: Timestamp, n: i64) {
    add_at(d, group, country, metric, key, created.timestamp_micros(), n);
}

fn add_at(d: &mut Delta, group: i64, country: CountryCode, metric: Metric, key: &str, created: i64, n: i64) {
    let day = day_of(created);
    *d.entry((group, country.as_str().to_owned(), metric, key.to_owned(), day)).or_default() += n;
}

/// Add `sign` × the counters `s` contributes.
fn contribute(s: &Snapshot, sign: i64, d: &mut Delta) {
    match s {
        Snapshot::Municipality(m) if m.meta.archive_time.is_none() => {
            add(d, 0, m.country, Metric::Municipalities, "", m.meta.create_time, sign);
        }
        Snapshot::Challenge(c) => {
            let (g, at) = (c.owner.working_group.get(), c.meta.create_time);
            add(d, g, c.owner.country, Metric::ChallengeStatus, c.status.as_str(), at, sign);
            if c.meta.archive_time.is_none() {
                for t in &c.themes {
                    add(d, g, c.owner.country, Metric::ChallengeTheme, t, at, sign);
                }
            }
        }
        Snapshot::Initiative(i) if i.meta.archive_time.is_none() => {
            let g = i.owner.working_group.get();
            add(d, g, i.owner.country, Metric::InitiativeStatus, i.status.as_str(), i.meta.create_time, sign);
        }
        Snapshot::ProjectIdea(p) if p.meta.archive_time.is_none() => {
            let g = p.owner.working_group.get();
            add(d, g, p.owner.country, Metric::IdeaStage, p.stage.as_str(), p.meta.create_time, sign);
        }
        Snapshot::Recommendation(r) if r.meta.archive_time.is_none() => {
            let (g, at, to) = (r.working_group.get(), r.meta.create_time, r.target_country);
            add(d, g, r.country, Metric::RecGiven, "", at, sign);
            add(d, g, r.country, Metric::Flow, to.as_str(), at, sign);
            add(d, g, to, Metric::RecReceived, "", at, sign);
            if r.answer.state != AnswerState::Unanswered {
                add(d, g, to, Metric::RecAnswered, "", at, sign);
            }
            if r.answer.state == AnswerState::Adopted {
                add(d, g, to, Metric::RecAdopted, "", at, sign);
            }
        }
        _ => {}
    }
}

/// Update the aggregates for a write whose event is about to be appended:
/// `resource` as named in events, `after` its snapshot.
pub(crate) async fn record(tx: &impl ConnectionTrait, resource: &str, after: &Snapshot) -> Result<()> {
    if matches!(after, Snapshot::WorkingGroup(_) | Snapshot::Membership(_) | Snapshot::Workshop(_)) {
        return Ok(());
    }
    let mut delta = Delta::new();
    if let Some(before) = previous(tx, resource).await? {
        contribute(&before, -1, &mut delta);
    }
    contribute(after, 1, &mut delta);
    match after {
        Snapshot::Challenge(c) => challenge_row(tx, c.id.get(), Some(ChallengeRow::of(c)), &mut delta).await?,
        Snapshot::Recommendation(r) => {
            if let Target::Challenge(t) = r.target {
                challenge_row(tx, t.id.get(), None, &mut delta).await?;
            }
        }
        _ => {}
    }
    apply(tx, delta).await
}

/// The snapshot of the latest event already appended for `resource`.
async fn previous(tx: &impl ConnectionTrait, resource: &str) -> Result<Option<Snapshot>> {
    let rows = Sql::new("SELECT payload FROM events WHERE resource = ")
        .bind("?", resource)
        .push(" ORDER BY id DESC LIMIT 1")
        .all(tx)
        .await?;
    let Some(row) = rows.first() else { return Ok(None) };
    let payload: String = get(row, "payload")?;
    serde_json::from_str(&payload).map(Some).map_err(|e| Error::Internal(format!("payload of {resource}: {e}")))
}

/// A live challenge's row of `report_challenges`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ChallengeRow {
    group: i64,
    country: CountryCode,
    /// Microseconds.
    create_time: i64,
    first: Option<i64>,
}

impl ChallengeRow {
    /// The row of `c` (its first recommendation still to be looked up), or
    /// none when it is archived.
    fn of(c: &crate::model::Challenge) -> Option<ChallengeRow> {
        c.meta.archive_time.is_none().then(|| ChallengeRow {
            group: c.owner.working_group.get(),
            country: c.owner.country,
            create_time: c.meta.create_time.timestamp_micros(),
            first: None,
        })
    }

    fn contribute(&self, sign: i64, d: &mut Delta) {
        let metric = if self.first.is_some() { Metric::ChallengeRecommended } else { Metric::ChallengeUnrecommended };
        add_at(d, self.group, self.country, metric, "", self.create_time, sign);
    }
}

/// Re-derive challenge `id`'s row: from its snapshot when it changed
/// (`Some(None)` once archived), else from the stored row; its first live
/// recommendation always from the recommendations table.
async fn challenge_row(
    tx: &impl ConnectionTrait,
    id: i64,
    snapshot: Option<Option<ChallengeRow>>,
    d: &mut Delta,
) -> Result<()> {
    let rows =
        Sql::new("SELECT working_group_id, country, create_time, first_recommendation_time FROM report_challenges")
            .bind(" WHERE challenge_id = ?", id)
            .all(tx)
            .await?;
    let old = match rows.first() {
        Some(r) => Some(ChallengeRow {
            group: get(r, "working_group_id")?,
            country: super::sql::country(&get::<String>(r, "country")?)?,
            create_time: get(r, "create_time")?,
            first: get(r, "first_recommendation_time")?,
        }),
        None => None,
    };
    let mut new = snapshot.unwrap_or_else(|| old.clone());
    if let Some(n) = new.as_mut() {
        let first = Sql::new("SELECT MIN(create_time) AS t FROM recommendations WHERE target_kind = 'challenge'")
            .bind(" AND target_id = ? AND archive_time IS NULL", id)
            .all(tx)
            .await?;
        n.first = match first.first() {
            Some(r) => get(r, "t")?,
            None => None,
        };
    }
    if old == new {
        return Ok(());
    }
    if let Some(o) = &old {
        o.contribute(-1, d);
    }
    match &new {
        Some(n) => {
            n.contribute(1, d);
            let created = n.create_time;
            Sql::new("INSERT INTO report_challenges (challenge_id, working_group_id, country, create_time, ")
                .push("first_recommendation_time, first_delay) VALUES (")
                .bind("?", id)
                .bind(", ?", n.group)
                .bind(", ?", n.country.as_str())
                .bind(", ?", created)
                .bind(", ?", n.first)
                .bind(", ?)", n.first.map(|f| f - created))
                .push(" ON CONFLICT (challenge_id) DO UPDATE SET working_group_id = excluded.working_group_id,")
                .push(" country = excluded.country, create_time = excluded.create_time,")
                .push(" first_recommendation_time = excluded.first_recommendation_time,")
                .push(" first_delay = excluded.first_delay")
                .exec(tx)
                .await
        }
        None => Sql::new("DELETE FROM report_challenges").bind(" WHERE challenge_id = ?", id).exec(tx).await,
    }
}

/// Add the non-zero changes to the daily counters and to the all-time totals.
async fn apply(tx: &impl ConnectionTrait, delta: Delta) -> Result<()> {
    let mut totals: BTreeMap<(i64, String, Metric, String), i64> = BTreeMap::new();
    let mut daily = Sql::new("INSERT INTO report_counts (working_group_id, country, metric, key, day, n) VALUES ");
    let mut any = false;
    for ((g, c, m, k, day), n) in delta.into_iter().filter(|(_, n)| *n != 0) {
        *totals.entry((g, c.clone(), m, k.clone())).or_default() += n;
        daily = daily
            .bind(if any { ", (?" } else { "(?" }, g)
            .bind(", ?", c)
            .bind(", ?", m.as_str())
            .bind(", ?", k)
            .bind(", ?", day)
            .bind(", ?)", n);
        any = true;
    }
    if !any {
        return Ok(());
    }
    daily
        .push(
            " ON CONFLICT (working_group_id, country, metric, key, day) DO UPDATE SET n = report_counts.n + excluded.n",
        )
        .exec(tx)
        .await?;
    let mut all = Sql::new("INSERT INTO report_totals (working_group_id, country, metric, key, n) VALUES ");
    let totals: Vec<_> = totals.into_iter().filter(|(_, n)| *n != 0).collect();
    if totals.is_empty() {
        return Ok(());
    }
    for (i, ((g, c, m, k), n)) in totals.into_iter().enumerate() {
        all = all
            .bind(if i > 0 { ", (?" } else { "(?" }, g)
            .bind(", ?", c)
            .bind(", ?", m.as_str())
            .bind(", ?", k)
            .bind(", ?)", n);
    }
    all.push(" ON CONFLICT (working_group_id, country, metric, key) DO UPDATE SET n = report_totals.n + excluded.n")
        .exec(tx)
        .await
}
