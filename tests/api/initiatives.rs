//! InitiativeService end to end.

use peerlab_client::pb;
use peerlab_testkit::{Backend, seed};
use tonic::Code;

use crate::municipalities::{fields, mask};
use crate::support::spawn_app;
use crate::working_groups::network;

async fn create_get_list_update_archive(backend: Backend) {
    let app = spawn_app(backend).await;
    let net = network(&app).await;
    let ba = app.client(&app.staff_token("BA", net.mostar)).await;
    let rs = app.client(&app.staff_token("RS", net.nis)).await;
    let peer_challenge = net.challenge(&rs, net.nis, "City archives are not compatible").await;

    let created = ba
        .initiatives()
        .create_initiative(pb::CreateInitiativeRequest {
            parent: format!("municipalities/{}", net.mostar),
            initiative: Some(pb::Initiative {
                working_group: net.group.clone(),
                title: "A unified citizen register".into(),
                challenges: vec![peer_challenge.name.clone()],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("create")
        .into_inner();
    assert_eq!(created.name, format!("municipalities/{}/initiatives/1", net.mostar));
    assert_eq!(created.status, pb::InitiativeStatus::Planned as i32, "unset status means planned");
    assert_eq!(created.visibility, pb::Visibility::Shared as i32);
    assert_eq!(created.challenges, vec![peer_challenge.name.clone()]);
    assert_eq!(created.country, "BA");

    let read = rs
        .initiatives()
        .get_initiative(pb::GetInitiativeRequest { name: created.name.clone() })
        .await
        .expect("peer reads")
        .into_inner();
    assert_eq!(read, created);
    let mine = rs
        .initiatives()
        .list_initiatives(pb::ListInitiativesRequest {
            parent: format!("municipalities/{}", net.mostar),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(mine.initiatives, vec![created.clone()]);
    let addressing = rs
        .initiatives()
        .list_initiatives(pb::ListInitiativesRequest {
            parent: "municipalities/-".into(),
            filter: format!(r#"challenge = "{}""#, peer_challenge.name),
            ..Default::default()
        })
        .await
        .expect("filtered list")
        .into_inner();
    assert_eq!(addressing.initiatives.len(), 1);

    let denied = rs
        .initiatives()
        .update_initiative(pb::UpdateInitiativeRequest {
            initiative: Some(pb::Initiative { name: created.name.clone(), title: "ours".into(), ..Default::default() }),
            update_mask: mask(&["title"]),
        })
        .await
        .expect_err("cross-country write");
    assert_eq!(denied.code(), Code::PermissionDenied);

    let updated = ba
        .initiatives()
        .update_initiative(pb::UpdateInitiativeRequest {
            initiative: Some(pb::Initiative {
                name: created.name.clone(),
                title: "Unified citizen register".into(),
                status: pb::InitiativeStatus::InProgress as i32,
                description: "not in the mask".into(),
                etag: created.etag.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["title", "status"]),
        })
        .await
        .expect("update")
        .into_inner();
    assert_eq!(updated.title, "Unified citizen register");
    assert_eq!(updated.status, pb::InitiativeStatus::InProgress as i32);
    assert_eq!(updated.description, "");

    let backwards = ba
        .initiatives()
        .update_initiative(pb::UpdateInitiativeRequest {
            initiative: Some(pb::Initiative {
                name: created.name.clone(),
                status: pb::InitiativeStatus::Planned as i32,
                etag: updated.etag.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["status"]),
        })
        .await
        .expect_err("in progress → planned");
    assert_eq!(backwards.code(), Code::FailedPrecondition);
    let stale = ba
        .initiatives()
        .update_initiative(pb::UpdateInitiativeRequest {
            initiative: Some(pb::Initiative {
                name: created.name.clone(),
                title: "again".into(),
                etag: created.etag.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["title"]),
        })
        .await
        .expect_err("stale etag");
    assert_eq!(stale.code(), Code::Aborted);

    let archived = ba
        .initiatives()
        .delete_initiative(pb::DeleteInitiativeRequest { name: created.name.clone(), etag: updated.etag.clone() })
        .await
        .expect("archive")
        .into_inner();
    assert!(archived.archive_time.is_some());
    let list = rs
        .initiatives()
        .list_initiatives(pb::ListInitiativesRequest { parent: "municipalities/-".into(), ..Default::default() })
        .await
        .expect("list")
        .into_inner();
    assert!(list.initiatives.is_empty());
}

async fn bad_input_names_the_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    let net = network(&app).await;
    let ba = app.client(&app.staff_token("BA", net.mostar)).await;
    let parent = format!("municipalities/{}", net.mostar);
    let err = ba
        .initiatives()
        .create_initiative(pb::CreateInitiativeRequest {
            parent: parent.clone(),
            initiative: Some(pb::Initiative {
                working_group: "groups/1".into(),
                title: String::new(),
                status: 42,
                challenges: vec!["municipalities/1/initiatives/1".into()],
                visibility: 7,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect_err("invalid");
    assert_eq!(
        fields(err),
        vec![
            "initiative.working_group",
            "initiative.title",
            "initiative.status",
            "initiative.challenges[0]",
            "initiative.visibility"
        ]
    );
    let err = ba
        .initiatives()
        .create_initiative(pb::CreateInitiativeRequest {
            parent: parent.clone(),
            initiative: Some(pb::Initiative {
                working_group: net.group.clone(),
                title: "Stopped before it started".into(),
                status: pb::InitiativeStatus::Discontinued as i32,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect_err("discontinued on create");
    assert_eq!(fields(err), vec!["initiative.status"]);
    assert_eq!(seed::count(&app.db.store, "initiatives").await, 0);

    let created = ba
        .initiatives()
        .create_initiative(pb::CreateInitiativeRequest {
            parent,
            initiative: Some(pb::Initiative {
                working_group: net.group.clone(),
                title: "E-archive".into(),
                status: pb::InitiativeStatus::Implemented as i32,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("implemented on create")
        .into_inner();
    assert_eq!(created.status, pb::InitiativeStatus::Implemented as i32);
    let err = ba
        .initiatives()
        .update_initiative(pb::UpdateInitiativeRequest {
            initiative: Some(pb::Initiative { name: created.name.clone(), country: "RS".into(), ..Default::default() }),
            update_mask: mask(&["title", "country"]),
        })
        .await
        .expect_err("output only in the mask");
    assert_eq!(fields(err), vec!["update_mask"]);
    let err = ba
        .initiatives()
        .update_initiative(pb::UpdateInitiativeRequest {
            initiative: Some(pb::Initiative { name: created.name.clone(), ..Default::default() }),
            update_mask: mask(&["status"]),
        })
        .await
        .expect_err("unset status in the mask");
    assert_eq!(fields(err), vec!["initiative.status"]);
}

async fn create_is_idempotent_by_request_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let net = network(&app).await;
    let ba = app.client(&app.staff_token("BA", net.mostar)).await;
    let request = pb::CreateInitiativeRequest {
        parent: format!("municipalities/{}", net.mostar),
        initiative: Some(pb::Initiative {
            working_group: net.group.clone(),
            title: "E-archive".into(),
            ..Default::default()
        }),
        request_id: "initiative-1".into(),
    };
    let first = ba.initiatives().create_initiative(request.clone()).await.expect("first").into_inner();
    let retry = ba.initiatives().create_initiative(request).await.expect("retry").into_inner();
    assert_eq!(retry, first);
    assert_eq!(seed::count(&app.db.store, "initiatives").await, 1);
}

peerlab_testkit::on_both_backends!(
    create_get_list_update_archive,
    bad_input_names_the_fields,
    create_is_idempotent_by_request_id,
);
