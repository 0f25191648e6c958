//! Health, reflection, authentication at the edge.

use peerlab_testkit::Backend;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::support::spawn_app;

async fn health_reports_serving_then_not_serving_on_shutdown(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = app.anonymous().await;
    let mut health = HealthClient::new(client.channel());
    for service in std::iter::once(&"").chain(peerlab_service::SERVICES) {
        let status = health
            .check(HealthCheckRequest { service: service.to_string() })
            .await
            .expect("health")
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "{service:?}");
    }
    app.stop().await;
}

async fn calls_without_a_valid_token_are_unauthenticated(backend: Backend) {
    let app = spawn_app(backend).await;
    let anonymous = app.anonymous().await;
    let err = anonymous
        .challenges()
        .list_challenges(peerlab_client::pb::ListChallengesRequest {
            parent: "municipalities/-".into(),
            ..Default::default()
        })
        .await
        .expect_err("no token");
    assert_eq!(err.code(), Code::Unauthenticated);
    assert_eq!(peerlab_client::Error::from(err).reason().as_deref(), Some("TOKEN_MISSING"));
    let forged = app.client("not.a.jwt").await;
    let err = forged
        .challenges()
        .list_challenges(peerlab_client::pb::ListChallengesRequest {
            parent: "municipalities/-".into(),
            ..Default::default()
        })
        .await
        .expect_err("bad token");
    assert_eq!(err.code(), Code::Unauthenticated);
}

async fn each_country_has_its_own_rate_limit(backend: Backend) {
    let app = crate::support::spawn_app_with(backend, |c| c.server.rate_limit_per_country_per_second = 3).await;
    let ba = app.client(&app.token(peerlab_core::auth::Role::Observer, Some("BA"), None)).await;
    let rs = app.client(&app.token(peerlab_core::auth::Role::Observer, Some("RS"), None)).await;
    let list = || peerlab_client::pb::ListChallengesRequest { parent: "municipalities/-".into(), ..Default::default() };
    let mut limited = None;
    for _ in 0..10 {
        if let Err(e) = ba.challenges().list_challenges(list()).await {
            limited = Some(e);
            break;
        }
    }
    let limited = limited.expect("BA is limited within 10 calls");
    assert_eq!(limited.code(), Code::ResourceExhausted);
    assert_eq!(peerlab_client::Error::from(limited).reason().as_deref(), Some("RATE_LIMITED"));
    // Serbia's budget is untouched by Bosnia's calls.
    assert!(rs.challenges().list_challenges(list()).await.is_ok());
}

async fn oversized_messages_are_refused_and_the_server_keeps_serving(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = app.client(&app.coordinator_token()).await;
    let huge = peerlab_client::pb::CreateChallengeRequest {
        parent: "municipalities/1".into(),
        challenge: Some(peerlab_client::pb::Challenge { title: "x".repeat(5 * 1024 * 1024), ..Default::default() }),
        request_id: String::new(),
    };
    let err = client.challenges().create_challenge(huge).await.expect_err("5 MB");
    // tonic reports an over-limit request as OUT_OF_RANGE, naming the limit.
    assert_eq!(err.code(), Code::OutOfRange, "{err:?}");
    assert!(err.message().contains("limit"), "{err:?}");
    let ok = client
        .challenges()
        .list_challenges(peerlab_client::pb::ListChallengesRequest {
            parent: "municipalities/-".into(),
            ..Default::default()
        })
        .await;
    assert!(ok.is_ok(), "{ok:?}");
}

peerlab_testkit::on_both_backends!(
    health_reports_serving_then_not_serving_on_shutdown,
    calls_without_a_valid_token_are_unauthenticated,
    each_country_has_its_own_rate_limit,
    oversized_messages_are_refused_and_the_server_keeps_serving
);
