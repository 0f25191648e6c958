//! Keeping the report aggregates current inside each write's transaction.
//!
//! A write's event carries the resource as it is after the change; the
//! previous event of the same resource carries it as it was. The counters a
//! snapshot contributes are a pure function of it ([`contribute`]), so the
//! change to apply is "after minus before", whatever the write did. The one
//! aggregate that depends on two resources — a challenge's first
//! recommendation — is re-derived from the tables for that challenge.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

use super::cells::Metric;
use super::histogram;
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

/// The changes to the aggregates for a write whose event is about to be
/// appended (`resource` as named in events, `after` its snapshot).
///
/// At most one statement is sent here, reading all it needs (none for a
/// create of anything but a recommendation), and at most one is added to
/// `writes`: the challenge's row of `report_challenges` when it changed. The
/// counters' changes are returned, for the write to send with its event
/// ([`Counters::statements`]) or, on SQLite, to add to its group-commit
/// batch, which sends the sum of its writes' changes once before its commit.
pub(crate) async fn record(
    tx: &impl ConnectionTrait,
    resource: &str,
    after: &Snapshot,
    writes: &mut Vec<Statement>,
) -> Result<Counters> {
    let meta = match after {
        Snapshot::Municipality(m) => &m.meta,
        Snapshot::Challenge(c) => &c.meta,
        Snapshot::Initiative(i) => &i.meta,
        Snapshot::ProjectIdea(p) => &p.meta,
        Snapshot::Recommendation(r) => &r.meta,
        Snapshot::WorkingGroup(_) | Snapshot::Membership(_) | Snapshot::Workshop(_) => return Ok(Counters::default()),
    };
    // Version 1 is the write that created the resource: it has no earlier
    // snapshot, and no recommendation can point at a challenge created in
    // this very transaction.
    let created = meta.version == 1;
    let challenge = match after {
        Snapshot::Challenge(c) if !created => Some(c.id.get()),
        Snapshot::Recommendation(r) => match r.target {
            Target::Challenge(t) => Some(t.id.get()),
            _ => None,
        },
        _ => None,
    };
    let before = if created && challenge.is_none() {
        Before::default()
    } else {
        before(tx, resource, !created, challenge).await?
    };
    let mut delta = Delta::new();
    if let Some(previous) = &before.previous {
        contribute(previous, -1, &mut delta);
    }
    contribute(after, 1, &mut delta);
    let (id, new) = match after {
        Snapshot::Challenge(c) => (c.id.get(), ChallengeRow::of(c)),
        Snapshot::Recommendation(r) => match r.target {
            Target::Challenge(t) => (t.id.get(), before.row.clone()),
            _ => return Ok(Counters(delta)),
        },
        _ => return Ok(Counters(delta)),
    };
    let new = new.map(|n| ChallengeRow { first: before.first, ..n });
    challenge_row(tx, id, before.row, new, &mut delta, writes);
    Ok(Counters(delta))
}

/// What a write's changes are derived from, as stored before it.
#[derive(Default)]
struct Before {
    /// The snapshot of the latest event already appended for the resource.
    previous: Option<Snapshot>,
    /// The challenge's row of `report_challenges`, if it has one.
    row: Option<ChallengeRow>,
    /// The create time of the challenge's first live recommendation, the
    /// write's own changes included.
    first: Option<i64>,
}

/// Read, in one statement, the resource's previous snapshot (if asked) and
/// the row and first live recommendation of `challenge` (if given).
async fn before(tx: &impl ConnectionTrait, resource: &str, previous: bool, challenge: Option<i64>) -> Result<Before> {
    let mut sql = Sql::new("SELECT ");
    if previous {
        sql = sql
            .bind("(SELECT payload FROM events WHERE resource = ?", resource)
            .push(" ORDER BY id DESC LIMIT 1) AS payload");
    }
    if let Some(id) = challenge {
        sql = sql
            .push(if previous { ", " } else { "" })
            .push("rc.working_group_id AS g, rc.country AS country, rc.create_time AS created,")
            .push(" rc.first_recommendation_time AS old_first, (SELECT MIN(create_time) FROM recommendations")
            .bind(" WHERE target_kind = 'challenge' AND target_id = ?", id)
            .push(" AND archive_time IS NULL) AS first FROM (SELECT 1 AS one) o")
            .bind(" LEFT JOIN report_challenges rc ON rc.challenge_id = ?", id);
    }
    let rows = sql.all(tx).await?;
    let Some(r) = rows.first() else { return Ok(Before::default()) };
    let mut out = Before::default();
    if previous && let Some(payload) = get::<Option<String>>(r, "payload")? {
        let snapshot =
            serde_json::from_str(&payload).map_err(|e| Error::Internal(format!("payload of {resource}: {e}")))?;
        out.previous = Some(snapshot);
    }
    if challenge.is_some() {
        out.first = get(r, "first")?;
        if let Some(group) = get::<Option<i64>>(r, "g")? {
            out.row = Some(ChallengeRow {
                group,
                country: super::sql::country(&get::<String>(r, "country")?)?,
                create_time: get(r, "created")?,
                first: get(r, "old_first")?,
            });
        }
    }
    Ok(out)
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
        if let Some(first) = self.first {
            let bucket = histogram::key(histogram::bucket(first - self.create_time));
            add_at(d, self.group, self.country, Metric::DelayBucket, &bucket, self.create_time, sign);
        }
    }
}

/// Store challenge `id`'s new row (none once archived) and count the
/// change from its old one.
fn challenge_row(
    tx: &impl ConnectionTrait,
    id: i64,
    old: Option<ChallengeRow>,
    new: Option<ChallengeRow>,
    d: &mut Delta,
    writes: &mut Vec<Statement>,
) {
    if old == new {
        return;
    }
    let backend = tx.get_database_backend();
    if let Some(o) = &old {
        o.contribute(-1, d);
    }
    match &new {
        Some(n) => {
            n.contribute(1, d);
            let created = n.create_time;
            let upsert =
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
                    .push(" first_delay = excluded.first_delay");
            writes.push(upsert.statement(backend));
        }
        None if old.is_some() => {
            writes
                .push(Sql::new("DELETE FROM report_challenges").bind(" WHERE challenge_id = ?", id).statement(backend));
        }
        None => {}
    }
}

/// Changes to the daily counters (`report_counts`) and the all-time totals
/// (`report_totals`) of one or more writes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Counters(Delta);

impl Counters {
    /// Add `other`'s changes to these.
    pub fn merge(&mut self, other: Counters) {
        for (key, n) in other.0 {
            *self.0.entry(key).or_default() += n;
        }
    }

    /// The statements that apply the non-zero changes to counter `slot`:
    /// one multi-row upsert each into the daily counters and the all-time
    /// totals (none when nothing changed). Neither reads anything a write
    /// reads, so they may run at any point of the transaction.
    pub fn statements(self, backend: DatabaseBackend, slot: i16) -> Vec<Statement> {
        let mut writes = Vec::new();
        let mut totals: BTreeMap<(i64, String, Metric, String), i64> = BTreeMap::new();
        let mut daily =
            Sql::new("INSERT INTO report_counts (working_group_id, country, metric, key, day, slot, n) VALUES ");
        let mut any = false;
        for ((g, c, m, k, day), n) in self.0.into_iter().filter(|(_, n)| *n != 0) {
            *totals.entry((g, c.clone(), m, k.clone())).or_default() += n;
            if !m.daily() {
                continue;
            }
            daily = daily
                .bind(if any { ", (?" } else { "(?" }, g)
                .bind(", ?", c)
                .bind(", ?", m.as_str())
                .bind(", ?", k)
                .bind(", ?", day)
                .bind(", ?", slot)
                .bind(", ?)", n);
            any = true;
        }
        if any {
            let daily = daily
                .push(" ON CONFLICT (working_group_id, country, metric, key, day, slot)")
                .push(" DO UPDATE SET n = report_counts.n + excluded.n");
            writes.push(daily.statement(backend));
        }
        let totals: Vec<_> = totals.into_iter().filter(|(_, n)| *n != 0).collect();
        if totals.is_empty() {
            return writes;
        }
        let mut all = Sql::new("INSERT INTO report_totals (working_group_id, country, metric, key, slot, n) VALUES ");
        for (i, ((g, c, m, k), n)) in totals.into_iter().enumerate() {
            all = all
                .bind(if i > 0 { ", (?" } else { "(?" }, g)
                .bind(", ?", c)
                .bind(", ?", m.as_str())
                .bind(", ?", k)
                .bind(", ?", slot)
                .bind(", ?)", n);
        }
        let all = all.push(
            " ON CONFLICT (working_group_id, country, metric, key, slot) DO UPDATE SET n = report_totals.n + excluded.n",
        );
        writes.push(all.statement(backend));
        writes
    }
}
