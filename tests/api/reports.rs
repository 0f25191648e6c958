//! ReportService end to end: reports over the demo network, and exports
//! streamed in batches, scoped to the caller, cancellable.

use std::collections::{BTreeMap, HashSet};

use peerlab_client::pb;
use peerlab_core::auth::Role;
use peerlab_core::domain::*;
use peerlab_core::model::NewChallenge;
use peerlab_core::store::Store;
use peerlab_testkit::{Backend, seed, staff};
use sea_orm::{ConnectionTrait, Statement};
use tonic::Code;

use crate::support::spawn_app;

/// `(key, n)` rows of a query.
async fn counted(s: &Store, sql: &str) -> BTreeMap<String, i64> {
    let db = s.connection();
    let rows = db.query_all(Statement::from_string(db.get_database_backend(), sql)).await.expect(sql);
    rows.iter().map(|r| (r.try_get::<String>("", "k").expect("k"), r.try_get::<i64>("", "n").expect("n"))).collect()
}

async fn one(s: &Store, sql: &str) -> i64 {
    counted(s, &format!("SELECT '' AS k, COUNT(*) AS n FROM {sql}")).await[""]
}

async fn reports_over_the_demo_network(backend: Backend) {
    let app = spawn_app(backend).await;
    let s = &app.db.store;
    peerlab_service::demo::load(s).await.expect("demo");
    let coordinator = app.client(&app.coordinator_token()).await;
    let network = coordinator
        .reports()
        .get_network_report(pb::GetNetworkReportRequest::default())
        .await
        .expect("network report")
        .into_inner();
    assert!(network.countries.len() >= 7, "{} countries", network.countries.len());
    let ba = network.countries.iter().find(|c| c.country == "BA").expect("BA").clone();

    // BA's numbers are what a direct count says.
    let mut by_status =
        counted(s, "SELECT status AS k, COUNT(*) AS n FROM challenges WHERE country = 'BA' GROUP BY status").await;
    for status in ["open", "addressed", "archived"] {
        by_status.entry(status.into()).or_default();
    }
    assert_eq!(ba.challenges_by_status.into_iter().collect::<BTreeMap<_, _>>(), by_status);
    let by_theme = counted(
        s,
        "SELECT t.theme AS k, COUNT(*) AS n FROM challenges c JOIN challenge_themes t ON t.challenge_id = c.id \
         WHERE c.country = 'BA' AND c.archive_time IS NULL GROUP BY t.theme",
    )
    .await;
    assert!(!by_theme.is_empty());
    assert_eq!(ba.challenges_by_theme.into_iter().collect::<BTreeMap<_, _>>(), by_theme);
    assert_eq!(ba.municipalities, one(s, "municipalities WHERE country = 'BA' AND archive_time IS NULL").await);
    let live = "recommendations WHERE archive_time IS NULL";
    assert_eq!(ba.recommendations_given, one(s, &format!("{live} AND country = 'BA'")).await);
    let received = one(s, &format!("{live} AND target_country = 'BA'")).await;
    let answered = one(s, &format!("{live} AND target_country = 'BA' AND answer_state <> 'unanswered'")).await;
    assert!(received > 0);
    assert_eq!((ba.recommendations_received, ba.recommendations_answered), (received, answered));
    assert_eq!(ba.response_rate, answered as f64 / received as f64);
    let totals = network.totals.expect("totals");
    assert_eq!(totals.challenges, one(s, "challenges WHERE archive_time IS NULL").await);
    assert!(!network.recommendation_flows.is_empty() && !network.theme_matrix.is_empty());
    assert!(!network.workshop_attendance.is_empty());

    // A country admin reads its own country, in the same numbers, and no other.
    let admin = app.client(&app.token(Role::CountryAdmin, Some("BA"), None)).await;
    let own = admin
        .reports()
        .get_country_report(pb::GetCountryReportRequest { country: "ba".into(), ..Default::default() })
        .await
        .expect("own country")
        .into_inner();
    assert_eq!(own.country.as_ref(), network.countries.iter().find(|c| c.country == "BA"));
    let ba_live = by_status["open"] + by_status["addressed"];
    assert_eq!(own.rest_of_network.expect("rest").challenges, totals.challenges - ba_live);
    assert!(own.recommendation_flows.iter().all(|f| f.from_country == "BA" || f.to_country == "BA"));
    let denied = admin
        .reports()
        .get_country_report(pb::GetCountryReportRequest { country: "RS".into(), ..Default::default() })
        .await
        .expect_err("another country");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let denied = admin.reports().get_network_report(pb::GetNetworkReportRequest::default()).await.expect_err("network");
    assert_eq!(denied.code(), Code::PermissionDenied);

    let id = counted(s, "SELECT '' AS k, id AS n FROM municipalities WHERE display_name = 'Mostar'").await[""];
    let mostar = MunicipalityId::parse("m", id).expect("id");
    let staff = app.client(&app.staff_token("BA", mostar)).await;
    let denied = staff
        .reports()
        .get_country_report(pb::GetCountryReportRequest { country: "BA".into(), ..Default::default() })
        .await
        .expect_err("staff");
    assert_eq!(denied.code(), Code::PermissionDenied);

    // Bad input is INVALID_ARGUMENT naming the field; a missing group NOT_FOUND.
    let bad = |country: &str, start: i64, end: i64| pb::GetCountryReportRequest {
        country: country.into(),
        start_time: Some(prost_types::Timestamp { seconds: start, nanos: 0 }),
        end_time: Some(prost_types::Timestamp { seconds: end, nanos: 0 }),
        ..Default::default()
    };
    for req in [bad("XX", 0, 1), bad("BA", 10, 5)] {
        let e = coordinator.reports().get_country_report(req).await.expect_err("bad input");
        assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    }
    let missing = pb::GetNetworkReportRequest { working_group: "workingGroups/999".into(), ..Default::default() };
    assert_eq!(coordinator.reports().get_network_report(missing).await.expect_err("missing").code(), Code::NotFound);
}

/// Mostar (BA) and Niš (RS) post `n` challenges, every tenth a draft.
async fn many_challenges(s: &Store, n: usize) -> (MunicipalityId, MunicipalityId) {
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let nis = seed::municipality(s, "Niš", "RS").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA"), (nis, "RS")]).await;
    for i in 0..n {
        let (m, c) = if i % 2 == 0 { (mostar, "BA") } else { (nis, "RS") };
        let input = NewChallenge {
            working_group: g,
            title: Title::parse("title", &format!("Challenge {i}")).expect("title"),
            description: Description::parse("description", "").expect("description"),
            themes: vec![],
            visibility: if i % 10 < 2 { Visibility::Draft } else { Visibility::Shared },
        };
        s.create_challenge(&staff(c, m), m, input, None).await.expect("challenge");
    }
    (mostar, nis)
}

async fn export_all(client: &peerlab_client::Client, filter: &str) -> Vec<pb::ExportChallengesResponse> {
    let req = pb::ExportChallengesRequest { filter: filter.into(), show_archived: true };
    let mut stream = client.reports().export_challenges(req).await.expect("export").into_inner();
    let mut batches = Vec::new();
    while let Some(b) = stream.message().await.expect("batch") {
        batches.push(b);
    }
    batches
}

async fn exports_stream_every_readable_item_once_in_batches(backend: Backend) {
    let app = spawn_app(backend).await;
    let s = &app.db.store;
    let (mostar, nis) = many_challenges(s, 1_200).await;

    let coordinator = app.client(&app.coordinator_token()).await;
    let batches = export_all(&coordinator, "").await;
    assert!(batches.len() >= 3 && batches.iter().all(|b| !b.challenges.is_empty() && b.challenges.len() <= 500));
    let names: Vec<String> = batches.iter().flat_map(|b| b.challenges.iter().map(|c| c.name.clone())).collect();
    assert_eq!(names.len(), 1_200);
    assert_eq!(names.iter().collect::<HashSet<_>>().len(), 1_200, "each challenge exactly once");

    // Staff read their own drafts and peers' shared challenges only.
    let ba = app.client(&app.staff_token("BA", mostar)).await;
    let seen: Vec<pb::Challenge> = export_all(&ba, "").await.into_iter().flat_map(|b| b.challenges).collect();
    let nis_name = format!("municipalities/{nis}");
    assert!(seen.iter().all(|c| c.municipality != nis_name || c.visibility == pb::Visibility::Shared as i32));
    assert_eq!(seen.len(), 1_200 - 120, "the 120 drafts of Niš are not exported to Mostar");
    let filtered = export_all(&ba, "country = \"RS\"").await.into_iter().map(|b| b.challenges.len()).sum::<usize>();
    assert_eq!(filtered, 600 - 120);

    // A bad filter fails the call itself, before any batch.
    let bad = ba
        .reports()
        .export_challenges(pb::ExportChallengesRequest { filter: "colour = \"red\"".into(), show_archived: false })
        .await;
    assert_eq!(bad.expect_err("bad filter").code(), Code::InvalidArgument);

    // Events stream oldest first in batches too.
    let mut events =
        coordinator.reports().export_events(pb::ExportEventsRequest::default()).await.expect("events").into_inner();
    let mut ids = Vec::new();
    while let Some(b) = events.message().await.expect("batch") {
        assert!(b.events.len() <= 500);
        ids.extend(b.events.iter().map(|e| e.id));
    }
    assert_eq!(ids.len(), 1_200);
    assert!(ids.windows(2).all(|w| w[0] < w[1]));

    // A client that walks away mid-export leaves the server serving.
    for _ in 0..3 {
        let req = pb::ExportChallengesRequest::default();
        let mut stream = coordinator.reports().export_challenges(req).await.expect("export").into_inner();
        assert!(stream.message().await.expect("first batch").is_some());
        drop(stream);
    }
    let after =
        coordinator.reports().get_network_report(pb::GetNetworkReportRequest::default()).await.expect("still serving");
    assert_eq!(after.into_inner().totals.expect("totals").challenges, 1_200);
    assert_eq!(export_all(&coordinator, "").await.iter().map(|b| b.challenges.len()).sum::<usize>(), 1_200);
}

peerlab_testkit::on_both_backends!(reports_over_the_demo_network, exports_stream_every_readable_item_once_in_batches);
