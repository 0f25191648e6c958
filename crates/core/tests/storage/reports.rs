//! Reports: the aggregates every write keeps equal a from-scratch
//! recomputation on random networks (whole network, per group, per period);
//! a country report is the network's row for it plus the others' totals;
//! the migration backfills; who may read which report.

mod medians;
mod random;
mod small;
mod writes;

use chrono::{TimeDelta, Utc};
use peerlab_core::Error;
use peerlab_core::domain::*;
use peerlab_core::model::*;
use peerlab_core::report::*;
use peerlab_core::store::Store;
use peerlab_migrations::{Migrator, MigratorTrait};
use peerlab_testkit::{Backend, TestDb, cc, coordinator, country_admin, observer, staff};
use random::{Net, Rng, THEMES};
use small::small_network;

/// Assert that the maintained report equals the recomputed one.
async fn agree(s: &Store, group: Option<WorkingGroupId>, period: Period) -> NetworkReport {
    let co = coordinator();
    let mut kept = s.network_report(&co, group, period).await.expect("report");
    let fresh = s.recompute_network_report(&co, group, period).await.expect("recompute");
    kept.generate_time = fresh.generate_time;
    assert_eq!(kept, fresh, "group {group:?}, period {period:?}");
    kept
}

/// Every group and period of interest agree; returns the all-time report.
async fn all_agree(s: &Store, net: &Net, rng: &mut Rng) -> NetworkReport {
    let now = Utc::now();
    let hours = |h: u64| TimeDelta::hours(h as i64);
    let periods = [
        Period::all(),
        Period::new(Some(now - TimeDelta::days(200) + hours(rng.next() % 24)), Some(now - TimeDelta::days(30)))
            .expect("p"),
        Period::new(Some(now - TimeDelta::days(100) - hours(rng.next() % 24)), None).expect("p"),
        Period::new(None, Some(now - TimeDelta::days(150))).expect("p"),
    ];
    // Periods that start or end on the very day of an item, so an item
    // counted on the wrong day shows.
    let mut edges: Vec<Timestamp> = net.challenges.iter().map(|c| c.meta.create_time).collect();
    edges.extend(net.recs.iter().map(|r| r.meta.create_time));
    let around = (0..8).filter_map(|_| edges.get(rng.below(edges.len())).copied()).flat_map(|t| {
        [
            Period::new(Some(t + TimeDelta::days(1)), None),
            Period::new(None, Some(t)),
            Period::new(Some(t), Some(t + TimeDelta::hours(1))),
        ]
    });
    let whole = agree(s, None, Period::all()).await;
    for period in periods.into_iter().chain(around.map(|p| p.expect("period"))) {
        agree(s, None, period).await;
        for (g, _) in &net.groups {
            agree(s, Some(*g), period).await;
        }
    }
    whole
}

/// The comparison is not vacuous: every metric has something in it.
fn assert_rich(report: &NetworkReport, net: &Net) {
    assert_eq!(report.countries.len(), net.countries.len());
    let sum = |f: fn(&CountryMetrics) -> i64| report.countries.iter().map(f).sum::<i64>();
    assert!(sum(|m| m.challenges_by_status["archived"]) > 0, "archived challenges");
    assert!(sum(|m| m.challenges_by_status["addressed"]) > 0, "addressed challenges");
    assert!(
        sum(|m| m.initiatives_by_status["implemented"]) > 0 && sum(|m| m.project_ideas_by_stage["consolidated"]) > 0
    );
    let (answered, adopted) = (sum(|m| m.recommendations_answered), sum(|m| m.recommendations_adopted));
    assert!(adopted > 0 && answered > adopted, "answered {answered}, adopted {adopted}");
    assert!(sum(|m| m.challenges_without_recommendation) > 0);
    assert!(report.countries.iter().filter(|m| m.median_time_to_first_recommendation.is_some()).count() >= 2);
    assert!(report.recommendation_flows.len() >= 3 && report.theme_matrix.len() >= 6);
    assert!(!report.workshop_attendance.is_empty());
}

async fn aggregates_equal_a_recomputation(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mut rng = Rng::new(7);
    let net = random::build(s, &mut rng, 220).await;
    let report = all_agree(s, &net, &mut rng).await;

    assert_rich(&report, &net);
    let recent = agree(s, None, Period::new(Some(Utc::now() - TimeDelta::days(100)), None).expect("p")).await;
    assert!(recent.totals.challenges < report.totals.challenges, "backdated items fall outside the period");
    assert!(recent.totals.challenges > 0);

    // Municipalities leave the network and groups; reports follow.
    let co = coordinator();
    let (g, members) = &net.groups[0];
    s.delete_membership(&co, *g, members[0].0).await.expect("leave");
    s.archive_municipality(&co, members[1].0, None).await.expect("archive municipality");
    let after = all_agree(s, &net, &mut rng).await;
    assert_eq!(after.totals.municipalities, report.totals.municipalities - 1);
}

async fn country_reports_are_the_network_row_and_the_rest(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mut rng = Rng::new(11);
    let net = random::build(s, &mut rng, 200).await;
    let period =
        Period::new(Some(Utc::now() - TimeDelta::days(250)), Some(Utc::now() + TimeDelta::days(1))).expect("p");
    for (group, period) in [(None, Period::all()), (Some(net.groups[1].0), Period::all()), (None, period)] {
        let whole = agree(s, group, period).await;
        for row in &whole.countries {
            let r = s.country_report(&coordinator(), row.country, group, period).await.expect("country report");
            assert_eq!(&r.country, row);
            let rest: NetworkTotals =
                whole.countries.iter().filter(|m| m.country != row.country).map(|m| m.totals()).sum();
            assert_eq!(r.rest_of_network, rest);
            let flows: Vec<_> = whole
                .recommendation_flows
                .iter()
                .filter(|f| f.from_country == row.country || f.to_country == row.country)
                .copied()
                .collect();
            assert_eq!(r.recommendation_flows, flows);
        }
    }
    // A country with nothing in the network reads zeros, not an error.
    let empty = s.country_report(&coordinator(), cc("FR"), None, Period::all()).await.expect("empty country");
    assert_eq!(empty.country, CountryMetrics::empty(cc("FR")));
}

async fn the_migration_backfills_the_aggregates(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mut rng = Rng::new(3);
    let mut net = random::build(s, &mut rng, 200).await;
    let before = all_agree(s, &net, &mut rng).await;
    assert_rich(&before, &net);
    let histogram = medians::histogram(s).await;
    assert!(!histogram.is_empty());
    // The reports migration and the two after it (delay histogram, counter slots).
    Migrator::down(s.connection(), Some(3)).await.expect("down");
    Migrator::up(s.connection(), None).await.expect("up");
    assert_eq!(medians::histogram(s).await, histogram);
    let mut backfilled = all_agree(s, &net, &mut rng).await;
    backfilled.generate_time = before.generate_time;
    assert_eq!(backfilled, before);
    for _ in 0..40 {
        writes::step(s, &mut rng, &mut net).await;
    }
    all_agree(s, &net, &mut rng).await;
}

async fn a_small_network_reads_as_worked_out_by_hand(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let (g, _, [r1, _]) = small_network(s).await;
    let report = agree(s, None, Period::all()).await;
    assert_eq!(agree(s, Some(g), Period::all()).await.countries, report.countries);
    let [ba, mk, rs] = [&report.countries[0], &report.countries[1], &report.countries[2]];
    assert_eq!((ba.country, mk.country, rs.country), (cc("BA"), cc("MK"), cc("RS")));
    let map = |pairs: &[(&str, i64)]| {
        pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect::<std::collections::BTreeMap<_, _>>()
    };
    assert_eq!(ba.challenges_by_status, map(&[("open", 1), ("addressed", 0), ("archived", 0)]));
    assert_eq!(ba.challenges_by_theme, map(&[("archives", 1), ("digitalisation", 1)]));
    assert_eq!(
        (
            ba.recommendations_given,
            ba.recommendations_received,
            ba.recommendations_answered,
            ba.recommendations_adopted
        ),
        (0, 2, 2, 1)
    );
    assert_eq!((ba.response_rate(), ba.adoption_rate()), (1.0, 0.5));
    let Target::Challenge(first) = r1.target else { panic!("{:?}", r1.target) };
    let challenge = s.get_challenge(&coordinator(), first).await.expect("challenge");
    assert_eq!(ba.median_time_to_first_recommendation, Some(r1.meta.create_time - challenge.meta.create_time));
    assert_eq!((ba.challenges_without_recommendation, rs.challenges_without_recommendation), (0, 1), "r3 was archived");
    assert_eq!(rs.median_time_to_first_recommendation, None);
    assert_eq!(mk.challenges_by_status["archived"], 1);
    assert!(mk.challenges_by_theme.is_empty());
    assert_eq!((mk.recommendations_given, rs.recommendations_given, rs.recommendations_received), (1, 1, 0));
    let flows: Vec<_> = report
        .recommendation_flows
        .iter()
        .map(|f| (f.from_country.as_str(), f.to_country.as_str(), f.recommendations))
        .collect();
    assert_eq!(flows, [("MK", "BA", 1), ("RS", "BA", 1)]);
    let themes: Vec<_> =
        report.theme_matrix.iter().map(|c| (c.theme.as_str(), c.country.as_str(), c.challenges)).collect();
    assert_eq!(themes, [("archives", "BA", 1), ("digitalisation", "BA", 1), ("digitalisation", "RS", 1)]);
    let seen: Vec<_> = report.workshop_attendance.iter().map(|a| (a.country.as_str(), a.municipalities)).collect();
    assert_eq!(seen, [("BA", 1), ("MK", 1)]);
    let totals = NetworkTotals {
        municipalities: 3,
        challenges: 2,
        initiatives: 0,
        project_ideas: 0,
        recommendations: 2,
        recommendations_answered: 2,
    };
    assert_eq!(report.totals, totals);
    // Workshops count by their date; everything else by its create time.
    let autumn_2021 =
        Period::new(Some("2021-10-01T00:00:00Z".parse().expect("t")), Some("2021-11-01T00:00:00Z".parse().expect("t")))
            .expect("p");
    let old = agree(s, None, autumn_2021).await;
    assert_eq!(old.workshop_attendance, report.workshop_attendance);
    assert_eq!(
        (old.totals.challenges, old.totals.municipalities),
        (0, 3),
        "municipalities are counted as they are now"
    );
}

async fn reports_are_for_coordinators_and_their_country(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let (g, [mostar_challenge, _], _) = small_network(s).await;
    let (ba, rs, all) = (cc("BA"), cc("RS"), Period::all());
    assert!(s.network_report(&coordinator(), Some(g), all).await.is_ok());
    assert!(s.country_report(&coordinator(), rs, None, all).await.is_ok());
    for p in [country_admin("BA"), observer("BA")] {
        assert!(s.country_report(&p, ba, Some(g), all).await.is_ok(), "{p:?} reads BA");
        assert!(matches!(s.country_report(&p, rs, None, all).await, Err(Error::PermissionDenied(_))), "{p:?} reads RS");
        assert!(matches!(s.network_report(&p, None, all).await, Err(Error::PermissionDenied(_))));
    }
    let ba_staff = staff("BA", mostar_challenge.municipality);
    assert!(matches!(s.country_report(&ba_staff, ba, None, all).await, Err(Error::PermissionDenied(_))));
    assert!(matches!(s.network_report(&ba_staff, None, all).await, Err(Error::PermissionDenied(_))));
    let missing = WorkingGroupId::parse("g", 999).expect("id");
    assert!(matches!(s.network_report(&coordinator(), Some(missing), all).await, Err(Error::NotFound(_))));
    let now = Utc::now();
    assert!(matches!(Period::new(Some(now), Some(now)), Err(Error::InvalidInput { .. })));
}

/// Writes in flight together (on SQLite they share one group-commit batch,
/// which sums their counter changes and sends them once) leave the same
/// aggregates as writes one at a time; writes that fail in the same batch
/// count for nothing.
async fn concurrent_writes_keep_the_aggregates(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mut rng = Rng::new(23);
    let mut net = random::build(s, &mut rng, 40).await;
    let before = agree(s, None, Period::all()).await;
    let (g, members) = net.groups[0].clone();
    let outside = NewMunicipality { display_name: random::t("Outside town"), country: members[0].1 };
    let outsider = s.create_municipality(&coordinator(), outside, None).await.expect("municipality");
    let burst = (0..48).map(|i| {
        let (m, c) = members[i % members.len()];
        let themes: Vec<String> = [THEMES[i % 6], THEMES[(i / 6 + 1) % 6]].iter().map(|t| t.to_string()).collect();
        async move {
            let who = random::as_staff(m, c);
            let input = NewChallenge {
                working_group: g,
                title: random::t("Burst"),
                description: random::d(),
                themes: Theme::parse_list("themes", &themes).expect("themes"),
                visibility: Visibility::Shared,
            };
            let created = s.create_challenge(&who, m, input, None).await.expect("create");
            let r = ItemRef { municipality: m, id: created.id };
            match i % 4 {
                0 => s.archive_challenge(&who, r, None).await.expect("archive"),
                1 => {
                    let patch = ChallengePatch { status: Some(ChallengeStatus::Addressed), ..Default::default() };
                    s.update_challenge(&who, r, patch, None).await.expect("address")
                }
                _ => created,
            }
        }
    });
    // Posts into a group the municipality is not in: refused mid-batch.
    let refused = (0..4).map(|_| async {
        let (m, c) = (outsider.id, outsider.country);
        let input = NewChallenge {
            working_group: g,
            title: random::t("Refused"),
            description: random::d(),
            themes: Theme::parse_list("themes", &[THEMES[0].to_string()]).expect("themes"),
            visibility: Visibility::Shared,
        };
        s.create_challenge(&random::as_staff(m, c), m, input, None).await
    });
    let (written, refused) =
        futures::future::join(futures::future::join_all(burst), futures::future::join_all(refused)).await;
    assert!(refused.iter().all(|r| matches!(r, Err(Error::InvalidInput { .. }))), "{refused:?}");
    net.challenges.extend(written);
    let after = all_agree(s, &net, &mut rng).await;
    assert_eq!(after.totals.challenges, before.totals.challenges + 36, "48 created, 12 archived");
    let status = |r: &NetworkReport, s: &str| r.countries.iter().map(|m| m.challenges_by_status[s]).sum::<i64>();
    for (state, n) in [("archived", 12), ("addressed", 12), ("open", 24)] {
        assert_eq!(status(&after, state), status(&before, state) + n, "{state}");
    }
}

peerlab_testkit::on_both_backends!(
    aggregates_equal_a_recomputation,
    country_reports_are_the_network_row_and_the_rest,
    the_migration_backfills_the_aggregates,
    a_small_network_reads_as_worked_out_by_hand,
    reports_are_for_coordinators_and_their_country,
    concurrent_writes_keep_the_aggregates,
);
