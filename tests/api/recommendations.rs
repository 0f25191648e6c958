//! RecommendationService end to end: advice across countries, answered only
//! by the receiving municipality.

use peerlab_client::{Client, pb};
use peerlab_core::auth::Role;
use peerlab_testkit::{Backend, seed};
use tonic::Code;

use crate::municipalities::{fields, mask};
use crate::support::spawn_app;
use crate::working_groups::network;

fn recommend(
    author: String,
    target: &str,
    author_initiative: &str,
    request_id: &str,
) -> pb::CreateRecommendationRequest {
    pb::CreateRecommendationRequest {
        parent: author,
        recommendation: Some(pb::Recommendation {
            target: target.into(),
            kind: pb::RecommendationKind::GoodPractice as i32,
            body: "We digitised our archive with an open-source DMS; happy to share the tender.".into(),
            author_initiative: author_initiative.into(),
            ..Default::default()
        }),
        request_id: request_id.into(),
    }
}

fn answer(name: &str, state: pb::AnswerState, etag: &str) -> pb::AnswerRecommendationRequest {
    pb::AnswerRecommendationRequest {
        name: name.into(),
        state: state as i32,
        note: "Thank you!".into(),
        etag: etag.into(),
    }
}

async fn initiative(client: &Client, owner: String, group: &str) -> pb::Initiative {
    client
        .initiatives()
        .create_initiative(pb::CreateInitiativeRequest {
            parent: owner,
            initiative: Some(pb::Initiative {
                working_group: group.into(),
                title: "Open-source document management".into(),
                status: pb::InitiativeStatus::Implemented as i32,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("initiative")
        .into_inner()
}

async fn recommend_update_answer_archive(backend: Backend) {
    let app = spawn_app(backend).await;
    let net = network(&app).await;
    let ba = app.client(&app.staff_token("BA", net.mostar)).await;
    let rs = app.client(&app.staff_token("RS", net.nis)).await;
    let (mostar, nis) = (format!("municipalities/{}", net.mostar), format!("municipalities/{}", net.nis));
    let challenge = net.challenge(&ba, net.mostar, "City archives are not compatible").await;
    let practice = initiative(&rs, nis.clone(), &net.group).await;

    let created = rs
        .recommendations()
        .create_recommendation(recommend(nis.clone(), &challenge.name, &practice.name, ""))
        .await
        .expect("create")
        .into_inner();
    assert_eq!(created.name, format!("{nis}/recommendations/1"));
    assert_eq!(created.target, challenge.name);
    assert_eq!(created.author_initiative, practice.name);
    assert_eq!((created.municipality.as_str(), created.country.as_str()), (nis.as_str(), "RS"));
    assert_eq!((created.target_municipality.as_str(), created.target_country.as_str()), (mostar.as_str(), "BA"));
    assert_eq!(created.working_group, net.group);
    let unanswered = created.answer.clone().expect("answer");
    assert_eq!(unanswered.state, pb::AnswerState::Unanswered as i32);
    assert!(unanswered.answer_time.is_none());

    let read = ba
        .recommendations()
        .get_recommendation(pb::GetRecommendationRequest { name: created.name.clone() })
        .await
        .expect("receiver reads")
        .into_inner();
    assert_eq!(read, created);
    let received = ba
        .recommendations()
        .list_recommendations(pb::ListRecommendationsRequest {
            parent: "municipalities/-".into(),
            filter: format!(r#"target_municipality = "{mostar}" AND answer_state = UNANSWERED"#),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(received.recommendations, vec![created.clone()]);

    let updated = rs
        .recommendations()
        .update_recommendation(pb::UpdateRecommendationRequest {
            recommendation: Some(pb::Recommendation {
                name: created.name.clone(),
                kind: pb::RecommendationKind::Caution as i32,
                body: "Mind the licence costs.".into(),
                etag: created.etag.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["kind", "body"]),
        })
        .await
        .expect("update")
        .into_inner();
    assert_eq!(updated.kind, pb::RecommendationKind::Caution as i32);
    assert_eq!(updated.body, "Mind the licence costs.");
    assert_eq!(updated.author_initiative, practice.name, "not in the mask");
    let unlinked = rs
        .recommendations()
        .update_recommendation(pb::UpdateRecommendationRequest {
            recommendation: Some(pb::Recommendation {
                name: created.name.clone(),
                author_initiative: String::new(),
                etag: updated.etag.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["author_initiative"]),
        })
        .await
        .expect("remove the initiative")
        .into_inner();
    assert!(unlinked.author_initiative.is_empty());

    // Only the receiving side answers: not the author, not the author's country.
    for token in [app.staff_token("RS", net.nis), app.token(Role::CountryAdmin, Some("RS"), None)] {
        let denied = rs
            .with_bearer(token)
            .recommendations()
            .answer_recommendation(answer(&created.name, pb::AnswerState::Acknowledged, ""))
            .await
            .expect_err("author side answering");
        assert_eq!(denied.code(), Code::PermissionDenied);
    }
    let acknowledged = ba
        .recommendations()
        .answer_recommendation(answer(&created.name, pb::AnswerState::Acknowledged, &unlinked.etag))
        .await
        .expect("BA staff answers")
        .into_inner();
    let a = acknowledged.answer.clone().expect("answer");
    assert_eq!(a.state, pb::AnswerState::Acknowledged as i32);
    assert_eq!(a.note, "Thank you!");
    assert!(a.answer_time.is_some());
    let ba_admin = app.client(&app.token(Role::CountryAdmin, Some("BA"), None)).await;
    let adopted = ba_admin
        .recommendations()
        .answer_recommendation(answer(&created.name, pb::AnswerState::Adopted, &acknowledged.etag))
        .await
        .expect("BA admin answers")
        .into_inner();
    assert_eq!(adopted.answer.map(|a| a.state), Some(pb::AnswerState::Adopted as i32));
    let final_answer = ba
        .recommendations()
        .answer_recommendation(answer(&created.name, pb::AnswerState::Declined, ""))
        .await
        .expect_err("adopted is final");
    assert_eq!(final_answer.code(), Code::FailedPrecondition);
    let frozen = rs
        .recommendations()
        .update_recommendation(pb::UpdateRecommendationRequest {
            recommendation: Some(pb::Recommendation {
                name: created.name.clone(),
                body: "late edit".into(),
                ..Default::default()
            }),
            update_mask: mask(&["body"]),
        })
        .await
        .expect_err("answered recommendations do not change");
    assert_eq!(frozen.code(), Code::FailedPrecondition);

    let denied = ba
        .recommendations()
        .delete_recommendation(pb::DeleteRecommendationRequest { name: created.name.clone(), etag: String::new() })
        .await
        .expect_err("receiver archiving");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let archived = rs
        .recommendations()
        .delete_recommendation(pb::DeleteRecommendationRequest { name: created.name.clone(), etag: String::new() })
        .await
        .expect("author archives")
        .into_inner();
    assert!(archived.archive_time.is_some());
}

async fn the_author_never_answers_its_own(backend: Backend) {
    let app = spawn_app(backend).await;
    let net = network(&app).await;
    let ba = app.client(&app.staff_token("BA", net.mostar)).await;
    let rs = app.client(&app.staff_token("RS", net.nis)).await;
    let challenge = net.challenge(&rs, net.nis, "Low digital literacy").await;
    let own = ba
        .recommendations()
        .create_recommendation(recommend(format!("municipalities/{}", net.mostar), &challenge.name, "", ""))
        .await
        .expect("BA recommends to RS")
        .into_inner();
    let denied = ba
        .recommendations()
        .answer_recommendation(answer(&own.name, pb::AnswerState::Adopted, ""))
        .await
        .expect_err("BA author answering its own");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let answered = rs
        .recommendations()
        .answer_recommendation(answer(&own.name, pb::AnswerState::Declined, ""))
        .await
        .expect("RS receiver answers")
        .into_inner();
    assert_eq!(answered.answer.map(|a| a.state), Some(pb::AnswerState::Declined as i32));
}

async fn a_municipality_cannot_recommend_to_itself(backend: Backend) {
    let app = spawn_app(backend).await;
    let net = network(&app).await;
    let ba = app.client(&app.staff_token("BA", net.mostar)).await;
    let challenge = net.challenge(&ba, net.mostar, "Low digital literacy").await;
    let err = ba
        .recommendations()
        .create_recommendation(recommend(format!("municipalities/{}", net.mostar), &challenge.name, "", ""))
        .await
        .expect_err("to itself");
    assert_eq!(fields(err), vec!["recommendation.target"]);
    assert_eq!(seed::count(&app.db.store, "recommendations").await, 0);
}

async fn bad_input_names_the_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    let net = network(&app).await;
    let ba = app.client(&app.staff_token("BA", net.mostar)).await;
    let rs = app.client(&app.staff_token("RS", net.nis)).await;
    let err = rs
        .recommendations()
        .create_recommendation(pb::CreateRecommendationRequest {
            parent: format!("municipalities/{}", net.nis),
            recommendation: Some(pb::Recommendation {
                target: "municipalities/1/recommendations/2".into(),
                kind: pb::RecommendationKind::Unspecified as i32,
                body: String::new(),
                author_initiative: "initiatives/1".into(),
                answer: Some(pb::Answer { state: pb::AnswerState::Adopted as i32, ..Default::default() }),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect_err("invalid");
    assert_eq!(
        fields(err),
        vec!["recommendation.target", "recommendation.kind", "recommendation.body", "recommendation.author_initiative"]
    );
    assert_eq!(seed::count(&app.db.store, "recommendations").await, 0);

    let challenge = net.challenge(&ba, net.mostar, "Low digital literacy").await;
    let created = rs
        .recommendations()
        .create_recommendation(recommend(format!("municipalities/{}", net.nis), &challenge.name, "", ""))
        .await
        .expect("create")
        .into_inner();
    let err = rs
        .recommendations()
        .update_recommendation(pb::UpdateRecommendationRequest {
            recommendation: Some(pb::Recommendation {
                name: created.name.clone(),
                answer: Some(pb::Answer { state: pb::AnswerState::Adopted as i32, ..Default::default() }),
                ..Default::default()
            }),
            update_mask: mask(&["answer"]),
        })
        .await
        .expect_err("answer is output only");
    assert_eq!(fields(err), vec!["update_mask"]);
    let err = ba
        .recommendations()
        .answer_recommendation(pb::AnswerRecommendationRequest {
            name: created.name.clone(),
            state: pb::AnswerState::Unspecified as i32,
            note: "x".repeat(5_001),
            etag: String::new(),
        })
        .await
        .expect_err("invalid answer");
    assert_eq!(fields(err), vec!["state", "note"]);
    let err = ba
        .recommendations()
        .answer_recommendation(answer(&created.name, pb::AnswerState::Unanswered, ""))
        .await
        .expect_err("unanswering");
    assert_eq!(fields(err), vec!["state"]);
}

async fn create_is_idempotent_by_request_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let net = network(&app).await;
    let ba = app.client(&app.staff_token("BA", net.mostar)).await;
    let rs = app.client(&app.staff_token("RS", net.nis)).await;
    let challenge = net.challenge(&ba, net.mostar, "Low digital literacy").await;
    let request = recommend(format!("municipalities/{}", net.nis), &challenge.name, "", "rec-1");
    let first = rs.recommendations().create_recommendation(request.clone()).await.expect("first").into_inner();
    let retry = rs.recommendations().create_recommendation(request).await.expect("retry").into_inner();
    assert_eq!(retry.name, first.name);
    assert_eq!(seed::count(&app.db.store, "recommendations").await, 1);
}

peerlab_testkit::on_both_backends!(
    recommend_update_answer_archive,
    the_author_never_answers_its_own,
    a_municipality_cannot_recommend_to_itself,
    bad_input_names_the_fields,
    create_is_idempotent_by_request_id,
);
