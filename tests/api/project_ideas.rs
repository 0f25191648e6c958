//! ProjectIdeaService end to end.

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
    let challenge = net.challenge(&ba, net.mostar, "Low digital literacy").await;
    let nis = format!("municipalities/{}", net.nis);

    let created = ba
        .project_ideas()
        .create_project_idea(pb::CreateProjectIdeaRequest {
            parent: format!("municipalities/{}", net.mostar),
            project_idea: Some(pb::ProjectIdea {
                working_group: net.group.clone(),
                title: "Digital skills for seniors".into(),
                stage: pb::ProjectStage::ProjectDefined as i32,
                challenges: vec![challenge.name.clone()],
                partners: vec![nis.clone()],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("create")
        .into_inner();
    assert_eq!(created.name, format!("municipalities/{}/projectIdeas/1", net.mostar));
    assert_eq!(created.stage, pb::ProjectStage::Idea as i32, "every idea starts at IDEA");
    assert_eq!(created.partners, vec![nis.clone()]);
    assert_eq!(created.challenges, vec![challenge.name.clone()]);

    let read = rs
        .project_ideas()
        .get_project_idea(pb::GetProjectIdeaRequest { name: created.name.clone() })
        .await
        .expect("partner reads")
        .into_inner();
    assert_eq!(read, created);
    let partnered = rs
        .project_ideas()
        .list_project_ideas(pb::ListProjectIdeasRequest {
            parent: "municipalities/-".into(),
            filter: format!(r#"partner = "{nis}""#),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(partnered.project_ideas, vec![created.clone()]);

    let consolidated = ba
        .project_ideas()
        .update_project_idea(pb::UpdateProjectIdeaRequest {
            project_idea: Some(pb::ProjectIdea {
                name: created.name.clone(),
                stage: pb::ProjectStage::Consolidated as i32,
                partners: vec![],
                etag: created.etag.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["stage", "partners"]),
        })
        .await
        .expect("update")
        .into_inner();
    assert_eq!(consolidated.stage, pb::ProjectStage::Consolidated as i32);
    assert!(consolidated.partners.is_empty(), "an empty list in the mask clears it");
    assert_eq!(consolidated.challenges, created.challenges);

    let leap = ba
        .project_ideas()
        .update_project_idea(pb::UpdateProjectIdeaRequest {
            project_idea: Some(pb::ProjectIdea {
                name: created.name.clone(),
                stage: pb::ProjectStage::ProjectDefined as i32,
                etag: consolidated.etag.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["stage"]),
        })
        .await
        .expect_err("two steps at once");
    assert_eq!(leap.code(), Code::FailedPrecondition);

    let denied = rs
        .project_ideas()
        .delete_project_idea(pb::DeleteProjectIdeaRequest { name: created.name.clone(), etag: String::new() })
        .await
        .expect_err("partner archiving");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let archived = ba
        .project_ideas()
        .delete_project_idea(pb::DeleteProjectIdeaRequest {
            name: created.name.clone(),
            etag: consolidated.etag.clone(),
        })
        .await
        .expect("archive")
        .into_inner();
    assert!(archived.archive_time.is_some());
}

async fn bad_input_names_the_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    let net = network(&app).await;
    let ba = app.client(&app.staff_token("BA", net.mostar)).await;
    let parent = format!("municipalities/{}", net.mostar);
    let err = ba
        .project_ideas()
        .create_project_idea(pb::CreateProjectIdeaRequest {
            parent: parent.clone(),
            project_idea: Some(pb::ProjectIdea {
                working_group: net.group.clone(),
                title: "x".repeat(201),
                challenges: vec!["municipalities/1/challenges/0".into()],
                initiatives: vec!["municipalities/1/challenges/1".into()],
                partners: vec!["Niš".into()],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect_err("invalid");
    assert_eq!(
        fields(err),
        vec![
            "project_idea.title",
            "project_idea.challenges[0]",
            "project_idea.initiatives[0]",
            "project_idea.partners[0]"
        ]
    );
    let err = ba
        .project_ideas()
        .create_project_idea(pb::CreateProjectIdeaRequest {
            parent: parent.clone(),
            project_idea: Some(pb::ProjectIdea {
                working_group: net.group.clone(),
                title: "Alone".into(),
                partners: vec![parent.clone()],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect_err("own partner");
    assert_eq!(fields(err), vec!["project_idea.partners[0]"]);
    assert_eq!(seed::count(&app.db.store, "project_ideas").await, 0);

    let created = ba
        .project_ideas()
        .create_project_idea(pb::CreateProjectIdeaRequest {
            parent,
            project_idea: Some(pb::ProjectIdea {
                working_group: net.group.clone(),
                title: "Open data portal".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("create")
        .into_inner();
    let err = ba
        .project_ideas()
        .update_project_idea(pb::UpdateProjectIdeaRequest {
            project_idea: Some(pb::ProjectIdea { name: created.name.clone(), ..Default::default() }),
            update_mask: mask(&["working_group"]),
        })
        .await
        .expect_err("immutable");
    assert_eq!(fields(err), vec!["update_mask"]);
    let err = ba
        .project_ideas()
        .update_project_idea(pb::UpdateProjectIdeaRequest {
            project_idea: Some(pb::ProjectIdea { name: created.name.clone(), title: " ".into(), ..Default::default() }),
            update_mask: mask(&["title", "stage"]),
        })
        .await
        .expect_err("empty title and unset stage");
    assert_eq!(fields(err), vec!["project_idea.title", "project_idea.stage"]);
}

async fn create_is_idempotent_by_request_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let net = network(&app).await;
    let ba = app.client(&app.staff_token("BA", net.mostar)).await;
    let request = pb::CreateProjectIdeaRequest {
        parent: format!("municipalities/{}", net.mostar),
        project_idea: Some(pb::ProjectIdea {
            working_group: net.group.clone(),
            title: "Open data portal".into(),
            ..Default::default()
        }),
        request_id: "idea-1".into(),
    };
    let first = ba.project_ideas().create_project_idea(request.clone()).await.expect("first").into_inner();
    let retry = ba.project_ideas().create_project_idea(request).await.expect("retry").into_inner();
    assert_eq!(retry, first);
    assert_eq!(seed::count(&app.db.store, "project_ideas").await, 1);
}

peerlab_testkit::on_both_backends!(
    create_get_list_update_archive,
    bad_input_names_the_fields,
    create_is_idempotent_by_request_id,
);
