//! The S1 ceiling: a bare tonic `ChallengeService` whose GetChallenge
//! answers a fixed challenge of the same shape as the one the bench reads
//! from peerlab, served with the same `tonic::transport::Server` settings
//! as `peerlab serve` — but without authentication, tracing, CORS, gRPC-Web
//! or a database. The gap between the two is what peerlab adds per call.

use std::time::Duration;

use peerlab_proto::v1 as pb;
use peerlab_proto::v1::challenge_service_server::{ChallengeService, ChallengeServiceServer};
use peerlab_service::config::ServerConfig;
use tokio::net::TcpListener;
use tonic::transport::Server;
use tonic::{Request, Response, Status};

/// Title of the challenge S1 reads (from peerlab and, canned, from the echo).
pub const TITLE: &str = "Low digital literacy among older residents";
/// Its description.
pub const DESCRIPTION: &str = "Older residents cannot use the new e-services portal: most applications still \
    arrive on paper and are re-typed by staff. We look for training formats that worked elsewhere.";
/// Its themes.
pub const THEMES: [&str; 2] = ["digital-literacy", "e-services"];

/// The canned challenge named `name`.
pub fn challenge(name: String) -> pb::Challenge {
    let municipality = name.split("/challenges/").next().unwrap_or_default().to_owned();
    let time = Some(prost_types::Timestamp { seconds: 1_732_000_000, nanos: 123_456_000 });
    pb::Challenge {
        name,
        working_group: "workingGroups/1".into(),
        title: TITLE.into(),
        description: DESCRIPTION.into(),
        themes: THEMES.iter().map(|t| (*t).to_owned()).collect(),
        status: pb::ChallengeStatus::Open.into(),
        visibility: pb::Visibility::Shared.into(),
        municipality,
        country: "BA".into(),
        create_time: time,
        update_time: time,
        archive_time: None,
        etag: "1".into(),
    }
}

/// GetChallenge answers the canned challenge; everything else is unimplemented.
#[derive(Clone, Copy, Debug, Default)]
pub struct EchoChallenges;

fn unimplemented<T>() -> Result<Response<T>, Status> {
    Err(Status::unimplemented("the echo server only answers GetChallenge"))
}

#[tonic::async_trait]
impl ChallengeService for EchoChallenges {
    async fn get_challenge(&self, req: Request<pb::GetChallengeRequest>) -> Result<Response<pb::Challenge>, Status> {
        Ok(Response::new(challenge(req.into_inner().name)))
    }

    async fn list_challenges(
        &self,
        _: Request<pb::ListChallengesRequest>,
    ) -> Result<Response<pb::ListChallengesResponse>, Status> {
        unimplemented()
    }

    async fn create_challenge(
        &self,
        _: Request<pb::CreateChallengeRequest>,
    ) -> Result<Response<pb::Challenge>, Status> {
        unimplemented()
    }

    async fn update_challenge(
        &self,
        _: Request<pb::UpdateChallengeRequest>,
    ) -> Result<Response<pb::Challenge>, Status> {
        unimplemented()
    }

    async fn delete_challenge(
        &self,
        _: Request<pb::DeleteChallengeRequest>,
    ) -> Result<Response<pb::Challenge>, Status> {
        unimplemented()
    }
}

/// Serve the echo on `listener` with the transport settings `peerlab serve`
/// uses for `config` (see `peerlab_service::startup`), and its connections
/// (`peerlab_service::transport`: with no feed stream open they write
/// directly, as a plain socket does), until the process ends.
pub async fn serve(listener: TcpListener, config: &ServerConfig) -> anyhow::Result<()> {
    let max = config.max_message_bytes;
    let service =
        ChallengeServiceServer::new(EchoChallenges).max_decoding_message_size(max).max_encoding_message_size(max);
    Server::builder()
        .accept_http1(true)
        .timeout(Duration::from_millis(config.request_timeout_ms))
        .concurrency_limit_per_connection(config.concurrency_per_connection)
        .load_shed(true)
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .add_service(service)
        .serve_with_incoming(peerlab_service::transport::incoming(listener))
        .await?;
    Ok(())
}
