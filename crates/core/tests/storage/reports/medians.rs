//! The median delay to a first recommendation, read through the delay
//! histogram, at the edges of its buckets: delays on either side of a
//! bucket boundary, middle pairs split across buckets, zero and negative
//! delays, even and odd counts, after recommendations and challenges are
//! archived (emptied buckets), and after the histogram is rebuilt by its
//! migration. Each step is checked against the delays worked out here and
//! against the recomputation from the base tables.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta};
use peerlab_core::domain::*;
use peerlab_core::model::*;
use peerlab_core::report::{NetworkReport, Period};
use peerlab_core::store::Store;
use peerlab_migrations::{Migrator, MigratorTrait};
use peerlab_testkit::{Backend, TestDb, cc, coordinator, staff};
use sea_orm::{ConnectionTrait, Statement};

use super::agree;
use super::random::{d, t};
use super::writes::backdate;

/// 2024-03-01T00:00:00Z, when every challenge here was created.
const T0: i64 = 1_709_251_200_000_000;

/// A live challenge: its country, its reference, its live recommendations
/// with their delays.
type LiveChallenge = (CountryCode, ItemRef<ChallengeId>, Vec<(RecommendationId, i64)>);

/// A two-country network and the live recommendation delays of every
/// challenge, as the test expects them.
struct Net {
    group: WorkingGroupId,
    /// BA's and RS's municipality.
    towns: [(MunicipalityId, CountryCode); 2],
    /// Live challenge → (its country, its live recommendations and delays).
    live: BTreeMap<i64, LiveChallenge>,
}

impl Net {
    async fn new(s: &Store) -> Net {
        let co = coordinator();
        let mut towns = Vec::new();
        for (name, c) in [("Mostar", "BA"), ("Niš", "RS")] {
            let input = NewMunicipality { display_name: t(name), country: cc(c) };
            towns.push((s.create_municipality(&co, input, None).await.expect("municipality").id, cc(c)));
        }
        let day = |y, m| chrono::NaiveDate::from_ymd_opt(y, m, 1).expect("date");
        let input = NewWorkingGroup {
            display_name: t("Archives"),
            description: d(),
            themes: vec![],
            start_date: day(2024, 1),
            end_date: day(2026, 1),
        };
        let group = s.create_working_group(&co, input, None).await.expect("group").id;
        for (m, _) in &towns {
            s.create_membership(&co, group, *m, None).await.expect("member");
        }
        Net { group, towns: [towns[0], towns[1]], live: BTreeMap::new() }
    }

    /// A challenge of `owner` (0: BA, 1: RS) created at [`T0`], recommended
    /// by the other town after each of `delays` microseconds.
    async fn challenge(&mut self, s: &Store, owner: usize, delays: &[i64]) -> i64 {
        let ((m, c), (author, author_country)) = (self.towns[owner], self.towns[1 - owner]);
        let who = staff(c.as_str(), m);
        let input = NewChallenge {
            working_group: self.group,
            title: t("C"),
            description: d(),
            themes: vec![],
            visibility: Visibility::Shared,
        };
        let id = s.create_challenge(&who, m, input, None).await.expect("challenge").id;
        let r = ItemRef { municipality: m, id };
        backdate(s, "challenges", id.get(), T0).await;
        let touch = ChallengePatch { title: Some(t("Backdated")), ..Default::default() };
        s.update_challenge(&who, r, touch, None).await.expect("touch");
        let mut recs = Vec::new();
        for delay in delays {
            let by = staff(author_country.as_str(), author);
            let input = NewRecommendation {
                target: Target::Challenge(r),
                kind: RecommendationKind::Suggestion,
                body: Body::parse("body", "Try this.").expect("body"),
                author_initiative: None,
            };
            let rec = s.create_recommendation(&by, author, input, None).await.expect("recommendation");
            backdate(s, "recommendations", rec.id.get(), T0 + delay).await;
            let touch =
                RecommendationPatch { body: Some(Body::parse("body", "Backdated.").expect("b")), ..Default::default() };
            s.update_recommendation(&by, ItemRef { municipality: author, id: rec.id }, touch, None)
                .await
                .expect("touch");
            recs.push((rec.id, *delay));
        }
        self.live.insert(id.get(), (c, r, recs));
        id.get()
    }

    /// Archive the recommendation of challenge `id` with `delay`.
    async fn unrecommend(&mut self, s: &Store, id: i64, delay: i64) {
        let (owner, _, recs) = self.live.get_mut(&id).expect("challenge");
        let at = recs.iter().position(|(_, d)| *d == delay).expect("delay");
        let (rec, _) = recs.remove(at);
        let owner = *owner;
        let author = self.towns.iter().find(|(_, c)| *c != owner).expect("author").0;
        s.archive_recommendation(&coordinator(), ItemRef { municipality: author, id: rec }, None)
            .await
            .expect("archive");
    }

    async fn archive(&mut self, s: &Store, id: i64) {
        let (_, r, _) = self.live.remove(&id).expect("challenge");
        s.archive_challenge(&coordinator(), r, None).await.expect("archive");
    }

    /// Each country's median of its challenges' first delays, by hand.
    fn medians(&self) -> BTreeMap<CountryCode, TimeDelta> {
        let mut firsts: BTreeMap<CountryCode, Vec<i64>> = BTreeMap::new();
        for (c, _, recs) in self.live.values() {
            if let Some(first) = recs.iter().map(|(_, d)| *d).min() {
                firsts.entry(*c).or_default().push(first);
            }
        }
        firsts
            .into_iter()
            .map(|(c, mut v)| {
                v.sort_unstable();
                let (lower, upper) = (v[(v.len() - 1) / 2], v[v.len() / 2]);
                (c, TimeDelta::microseconds(lower + (upper - lower) / 2))
            })
            .collect()
    }

    /// The reports say what [`Net::medians`] says, whole network, per
    /// group, per country and over a period (the path without histogram).
    async fn check(&self, s: &Store, step: &str) {
        let expected = self.medians();
        let whole = agree(s, None, Period::all()).await;
        assert_eq!(medians(&whole), expected, "{step}");
        assert_eq!(agree(s, Some(self.group), Period::all()).await.countries, whole.countries, "{step}");
        for (_, c) in self.towns {
            let r = s.country_report(&coordinator(), c, Some(self.group), Period::all()).await.expect("country");
            assert_eq!(r.country.median_time_to_first_recommendation, expected.get(&c).copied(), "{step}: {c}");
        }
        let at = DateTime::from_timestamp_micros(T0).expect("t0");
        let around = Period::new(Some(at), Some(at + TimeDelta::hours(1))).expect("period");
        assert_eq!(medians(&agree(s, None, around).await), expected, "{step}: over a period");
    }
}

fn medians(report: &NetworkReport) -> BTreeMap<CountryCode, TimeDelta> {
    report.countries.iter().filter_map(|m| m.median_time_to_first_recommendation.map(|d| (m.country, d))).collect()
}

/// The histogram cells with a count (each the sum of its slots' rows).
pub async fn histogram(s: &Store) -> Vec<(i64, String, String, i64)> {
    let db = s.connection();
    let sql = "SELECT working_group_id AS g, country, key, CAST(SUM(n) AS BIGINT) AS n FROM report_totals \
               WHERE metric = 'delay_bucket' GROUP BY g, country, key HAVING SUM(n) <> 0 ORDER BY g, country, key";
    let rows = db.query_all(Statement::from_string(db.get_database_backend(), sql)).await.expect("histogram");
    rows.iter()
        .map(|r| {
            let get = |c: &str| r.try_get::<i64>("", c).expect("number");
            let text = |c: &str| r.try_get::<String>("", c).expect("text");
            (get("g"), text("country"), text("key"), get("n"))
        })
        .collect()
}

async fn medians_are_exact_at_bucket_edges(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mut net = Net::new(s).await;
    let p40 = 1_i64 << 40;
    net.challenge(s, 0, &[15]).await;
    net.check(s, "one delay, odd").await;
    net.challenge(s, 0, &[16]).await;
    net.check(s, "the middle pair on both sides of the 15|16 edge").await;
    net.challenge(s, 0, &[31]).await;
    net.check(s, "odd, the middle on an edge").await;
    let two = net.challenge(s, 0, &[32, p40 + (1 << 37)]).await;
    net.check(s, "the middle pair in buckets 16 and 23").await;
    net.challenge(s, 0, &[p40 - 1]).await;
    net.challenge(s, 0, &[p40]).await;
    net.check(s, "the middle pair on both sides of the 31|32 edge").await;
    net.challenge(s, 0, &[0]).await;
    net.challenge(s, 0, &[-5]).await;
    net.check(s, "zero and negative delays in bucket 0").await;
    net.unrecommend(s, two, 32).await;
    net.check(s, "the first recommendation archived: the next one counts").await;
    net.unrecommend(s, two, p40 + (1 << 37)).await;
    net.check(s, "no live recommendation left").await;
    let sixteen = net.live.iter().find(|(_, (_, _, r))| r.iter().any(|(_, d)| *d == 16)).map(|(id, _)| *id);
    net.archive(s, sixteen.expect("challenge")).await;
    net.check(s, "a recommended challenge archived").await;

    // Many delays in one bucket (2^30 to 2^30 + 2^27): walks from either edge.
    let p30 = 1_i64 << 30;
    for delay in [p30 + 3, p30, p30 + 2, p30 + 1, 1 << 31, 1 << 32] {
        net.challenge(s, 1, &[delay]).await;
    }
    net.check(s, "even, the middle pair at the top of a bucket").await;
    for (delay, step) in [(1 << 29, "odd"), (1 << 33, "even"), (1 << 34, "odd, near the top"), (7, "even"), (8, "odd")]
    {
        net.challenge(s, 1, &[delay]).await;
        net.check(s, step).await;
    }

    // The migration's SQL puts every delay in the bucket the writes did.
    let kept = histogram(s).await;
    assert!(kept.len() >= 12, "{kept:?}");
    // The histogram's migration and the counter slots' after it.
    Migrator::down(s.connection(), Some(2)).await.expect("down");
    assert!(histogram(s).await.is_empty(), "down removes the histogram");
    Migrator::up(s.connection(), None).await.expect("up");
    assert_eq!(histogram(s).await, kept);
    net.check(s, "after the migration's backfill").await;
}

peerlab_testkit::on_both_backends!(medians_are_exact_at_bucket_edges);
