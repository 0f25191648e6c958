//! ChallengeService end to end.

use std::collections::BTreeMap;

use peerlab_client::{Client, pb};
use peerlab_core::domain::{MunicipalityId, WorkingGroupId};
use peerlab_testkit::{Backend, seed};
use sea_orm::{ConnectionTrait, Statement};
use tonic::Code;

use crate::support::{TestApp, spawn_app};

/// Mostar (BA) and Niš (RS) in one working group, and a staff client of each.
struct TwoCountries {
    app: TestApp,
    mostar: MunicipalityId,
    nis: MunicipalityId,
    g: WorkingGroupId,
    ba: Client,
    rs: Client,
}

async fn two_countries(backend: Backend) -> TwoCountries {
    let app = spawn_app(backend).await;
    let s = &app.db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let nis = seed::municipality(s, "Niš", "RS").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA"), (nis, "RS")]).await;
    let ba = app.client(&app.staff_token("BA", mostar)).await;
    let rs = app.client(&app.staff_token("RS", nis)).await;
    TwoCountries { app, mostar, nis, g, ba, rs }
}

async fn create_get_list_update_archive(backend: Backend) {
    // `_app` keeps the server running.
    let TwoCountries { app: _app, mostar, nis: _, g, ba, rs } = two_countries(backend).await;

    let created = ba
        .challenges()
        .create_challenge(pb::CreateChallengeRequest {
            parent: format!("municipalities/{mostar}"),
            challenge: Some(pb::Challenge {
                working_group: format!("workingGroups/{g}"),
                title: "Low digital literacy".into(),
                themes: vec!["Digital Literacy".into()],
                ..Default::default()
            }),
            request_id: "c-1".into(),
        })
        .await
        .expect("create")
        .into_inner();
    assert_eq!(created.name, format!("municipalities/{mostar}/challenges/1"));
    assert_eq!(created.status, pb::ChallengeStatus::Open as i32);
    assert_eq!(created.visibility, pb::Visibility::Shared as i32);
    assert_eq!(created.country, "BA");
    assert_eq!(created.themes, vec!["digital-literacy"]);

    let read = rs
        .challenges()
        .get_challenge(pb::GetChallengeRequest { name: created.name.clone() })
        .await
        .expect("peer reads")
        .into_inner();
    assert_eq!(read, created);
    let list = rs
        .challenges()
        .list_challenges(pb::ListChallengesRequest { parent: "municipalities/-".into(), ..Default::default() })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(list.challenges.len(), 1);

    // The peer abroad may read but not write.
    let denied = rs
        .challenges()
        .update_challenge(pb::UpdateChallengeRequest {
            challenge: Some(pb::Challenge {
                name: created.name.clone(),
                title: "mine now".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask { paths: vec!["title".into()] }),
        })
        .await
        .expect_err("cross-country write");
    assert_eq!(denied.code(), Code::PermissionDenied);

    let updated = ba
        .challenges()
        .update_challenge(pb::UpdateChallengeRequest {
            challenge: Some(pb::Challenge {
                name: created.name.clone(),
                status: pb::ChallengeStatus::Addressed as i32,
                etag: created.etag.clone(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask { paths: vec!["status".into()] }),
        })
        .await
        .expect("update")
        .into_inner();
    assert_eq!(updated.status, pb::ChallengeStatus::Addressed as i32);
    assert_eq!(updated.title, created.title);

    let stale = ba
        .challenges()
        .update_challenge(pb::UpdateChallengeRequest {
            challenge: Some(pb::Challenge {
                name: created.name.clone(),
                title: "again".into(),
                etag: created.etag.clone(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask { paths: vec!["title".into()] }),
        })
        .await
        .expect_err("stale etag");
    assert_eq!(stale.code(), Code::Aborted);

    let archived = ba
        .challenges()
        .delete_challenge(pb::DeleteChallengeRequest { name: created.name.clone(), etag: String::new() })
        .await
        .expect("archive")
        .into_inner();
    assert_eq!(archived.status, pb::ChallengeStatus::Archived as i32);
    assert!(archived.archive_time.is_some());
}

async fn bad_input_names_every_field_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let s = &app.db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    seed::group(s, "Digitalisation", &[(mostar, "BA")]).await;
    let ba = app.client(&app.staff_token("BA", mostar)).await;
    let err = ba
        .challenges()
        .create_challenge(pb::CreateChallengeRequest {
            parent: format!("municipalities/{mostar}"),
            challenge: Some(pb::Challenge {
                working_group: "groups/1".into(),
                title: " ".into(),
                themes: vec!["no/slashes".into()],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect_err("invalid");
    assert_eq!(err.code(), Code::InvalidArgument);
    let err = peerlab_client::Error::from(err);
    let fields: Vec<String> = err.field_violations().into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, vec!["challenge.working_group", "challenge.title", "challenge.themes[0]"]);
    assert_eq!(seed::count(s, "challenges").await, 0);
    assert_eq!(seed::count(s, "events").await, 0);
}

async fn server_owned_fields_are_never_taken_from_the_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let s = &app.db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let nis = seed::municipality(s, "Niš", "RS").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA"), (nis, "RS")]).await;
    let ba = app.client(&app.staff_token("BA", mostar)).await;
    let forged_time = Some(prost_types::Timestamp { seconds: 1, nanos: 0 });
    let c = ba
        .challenges()
        .create_challenge(pb::CreateChallengeRequest {
            parent: format!("municipalities/{mostar}"),
            challenge: Some(pb::Challenge {
                name: format!("municipalities/{nis}/challenges/999"),
                working_group: format!("workingGroups/{g}"),
                title: "x".into(),
                status: pb::ChallengeStatus::Archived as i32,
                municipality: format!("municipalities/{nis}"),
                country: "RS".into(),
                create_time: forged_time,
                update_time: forged_time,
                archive_time: forged_time,
                etag: "v99".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("create")
        .into_inner();
    assert_eq!(c.name, format!("municipalities/{mostar}/challenges/1"));
    assert_eq!(c.municipality, format!("municipalities/{mostar}"));
    assert_eq!(c.country, "BA");
    assert_eq!(c.status, pb::ChallengeStatus::Open as i32);
    assert!(c.archive_time.is_none());
    assert_ne!(c.create_time, forged_time);
    assert_eq!(c.etag, "v1");
    // Output-only fields cannot be named in an update mask.
    let err = ba
        .challenges()
        .update_challenge(pb::UpdateChallengeRequest {
            challenge: Some(pb::Challenge {
                name: c.name.clone(),
                country: "RS".into(),
                municipality: format!("municipalities/{nis}"),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask { paths: vec!["country".into(), "municipality".into()] }),
        })
        .await
        .expect_err("output only");
    assert_eq!(err.code(), Code::InvalidArgument);
}

/// Posts in flight together with 0 to 4 themes each (on PostgreSQL they
/// share statements whose theme rows and report counters go as arrays):
/// every challenge reads back with exactly its themes, and each country's
/// report counts exactly the themes posted.
async fn concurrent_posts_with_varied_themes_read_back_and_count_exactly(backend: Backend) {
    const THEMES: [&str; 6] = ["procurement", "e-services", "mobility", "housing", "energy", "youth"];
    let TwoCountries { app, mostar, nis, g, ba, rs } = two_countries(backend).await;
    let s = &app.db.store;
    let posts: Vec<(usize, Vec<String>)> =
        (0..48).map(|i| (i, (0..i % 5).map(|k| THEMES[(i + k) % 6].to_owned()).collect())).collect();
    let created = futures::future::join_all(posts.iter().map(|(i, themes)| {
        let (client, m) = if i % 2 == 0 { (&ba, mostar) } else { (&rs, nis) };
        let challenge = pb::Challenge {
            working_group: format!("workingGroups/{g}"),
            title: format!("Post {i}"),
            themes: themes.clone(),
            ..Default::default()
        };
        client.create_challenge(format!("municipalities/{m}"), challenge, None)
    }))
    .await;
    let mut expected: BTreeMap<(&str, String), i64> = BTreeMap::new();
    for ((i, themes), created) in posts.iter().zip(created) {
        let created = created.expect("create");
        let country = if i % 2 == 0 { "BA" } else { "RS" };
        let mut sent = themes.clone();
        sent.sort();
        let mut read = ba.get_challenge(&created.name).await.expect("read back").themes;
        read.sort();
        assert_eq!((created.title.as_str(), read), (format!("Post {i}").as_str(), sent), "{}", created.name);
        for theme in themes {
            *expected.entry((country, theme.clone())).or_default() += 1;
        }
    }
    if backend == Backend::Postgres {
        // Some creates shared a statement, and so a transaction (the rows'
        // `xmin`): their theme rows went in together, as arrays. Had that
        // statement failed, each create would have committed alone.
        let db = s.connection();
        let sql = "SELECT COUNT(DISTINCT challenge_id) AS n FROM challenge_themes GROUP BY xmin::text ORDER BY n DESC LIMIT 1";
        let row = db.query_one(Statement::from_string(db.get_database_backend(), sql)).await.expect(sql);
        let most: i64 = row.expect("a row").try_get("", "n").expect("n");
        assert!(most >= 2, "no transaction carried the themes of two creates");
    }
    let coordinator = app.client(&app.coordinator_token()).await;
    let report = coordinator.get_network_report(pb::GetNetworkReportRequest::default()).await.expect("report");
    let mut counted = BTreeMap::new();
    for c in &report.countries {
        for (theme, n) in &c.challenges_by_theme {
            if *n != 0 {
                counted.insert((c.country.as_str(), theme.clone()), *n);
            }
        }
    }
    assert_eq!(counted, expected);
}

peerlab_testkit::on_both_backends!(
    create_get_list_update_archive,
    concurrent_posts_with_varied_themes_read_back_and_count_exactly,
    bad_input_names_every_field_and_changes_nothing,
    server_owned_fields_are_never_taken_from_the_request,
);
