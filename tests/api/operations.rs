//! Health, reflection, authentication at the edge.

use peerlab_testkit::Backend;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

use crate::support::spawn_app;

async fn health_reports_serving_then_not_serving_on_shutdown(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = app.anonymous().await;
    let mut health = HealthClient::new(client.channel());
    for service in ["", "peerlab.v1.ChallengeService"] {
        let status = health.check(HealthCheckRequest { service: service.into() }).await.expect("health").into_inner().status;
        assert_eq!(status, ServingStatus::Serving as i32, "{service:?}");
    }
    app.stop().await;
}

async fn calls_without_a_valid_token_are_unauthenticated(backend: Backend) {
    let app = spawn_app(backend).await;
    let anonymous = app.anonymous().await;
    let err = anonymous
        .challenges()
        .list_challenges(peerlab_client::pb::ListChallengesRequest { parent: "municipalities/-".into(), ..Default::default() })
        .await
        .expect_err("no token");
    assert_eq!(err.code(), Code::Unauthenticated);
    assert_eq!(peerlab_client::Error::from(err).reason().as_deref(), Some("TOKEN_MISSING"));
    let forged = app.client("not.a.jwt").await;
    let err = forged
        .challenges()
        .list_challenges(peerlab_client::pb::ListChallengesRequest { parent: "municipalities/-".into(), ..Default::default() })
        .await
        .expect_err("bad token");
    assert_eq!(err.code(), Code::Unauthenticated);
}

peerlab_testkit::on_both_backends!(health_reports_serving_then_not_serving_on_shutdown, calls_without_a_valid_token_are_unauthenticated);
