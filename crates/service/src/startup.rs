//! Building and running the server: one [`Application::build`] used by
//! `main` and by every test.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use http::HeaderValue;
use peerlab_core::store::{SqliteDurability, Store, StoreOptions};
use peerlab_proto::feed::FeedServiceServer;
use peerlab_proto::v1::challenge_service_server::ChallengeServiceServer;
use peerlab_proto::v1::initiative_service_server::InitiativeServiceServer;
use peerlab_proto::v1::membership_service_server::MembershipServiceServer;
use peerlab_proto::v1::municipality_service_server::MunicipalityServiceServer;
use peerlab_proto::v1::project_idea_service_server::ProjectIdeaServiceServer;
use peerlab_proto::v1::recommendation_service_server::RecommendationServiceServer;
use peerlab_proto::v1::report_service_server::ReportServiceServer;
use peerlab_proto::v1::working_group_service_server::WorkingGroupServiceServer;
use peerlab_proto::v1::workshop_service_server::WorkshopServiceServer;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Server;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::api::ReportApi;
use crate::api::{
    ChallengeApi, FeedApi, InitiativeApi, MembershipApi, MunicipalityApi, ProjectIdeaApi, RecommendationApi, Shared,
    WorkingGroupApi, WorkshopApi,
};
use crate::auth::Verifier;
use crate::config::Config;
use crate::edge::Edge;
use crate::feed::{FeedSettings, Hub};
use crate::{trace, transport};

/// Every peerlab service name, for health and for tests.
pub const SERVICES: &[&str] = &[
    "peerlab.v1.MunicipalityService",
    "peerlab.v1.WorkingGroupService",
    "peerlab.v1.MembershipService",
    "peerlab.v1.WorkshopService",
    "peerlab.v1.ChallengeService",
    "peerlab.v1.InitiativeService",
    "peerlab.v1.ProjectIdeaService",
    "peerlab.v1.RecommendationService",
    "peerlab.v1.FeedService",
    "peerlab.v1.ReportService",
];

/// A bound, ready-to-run server.
pub struct Application {
    addr: SocketAddr,
    listener: TcpListener,
    config: Config,
    store: Store,
    verifier: Verifier,
    stop: watch::Sender<bool>,
}

/// Asks a running [`Application`] to shut down gracefully.
#[derive(Clone)]
pub struct Shutdown(watch::Sender<bool>);

impl Shutdown {
    /// Start the graceful shutdown.
    pub fn trigger(&self) {
        let _ = self.0.send(true);
    }
}

/// Store options from the configuration.
pub fn store_options(config: &Config) -> StoreOptions {
    let mut options = StoreOptions::new(config.database.url.clone());
    options.max_connections = config.database.max_connections;
    options.sqlite_durability = match config.database.sqlite_synchronous.as_str() {
        "normal" => SqliteDurability::Normal,
        "extra" => SqliteDurability::Extra,
        _ => SqliteDurability::Full,
    };
    options.max_lifetime = match config.database.connection_lifetime_seconds {
        0 => None,
        seconds => Some(Duration::from_secs(seconds)),
    };
    options
}

impl Application {
    /// Open (and migrate) the store, load the trusted issuers and bind the
    /// listener. Port 0 binds a free port; see [`Application::local_addr`].
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let store = Store::open(store_options(&config)).await.context("opening the database")?;
        let verifier = Verifier::from_config(&config.auth).context("loading trusted issuers")?;
        let listener = TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
        let addr = listener.local_addr()?;
        let (stop, _) = watch::channel(false);
        Ok(Application { addr, listener, config, store, verifier, stop })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The store, e.g. to load demo data before serving.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The verifier, e.g. to re-read keys on SIGHUP.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// A handle that triggers a graceful shutdown.
    pub fn shutdown_handle(&self) -> Shutdown {
        Shutdown(self.stop.clone())
    }

    /// Serve until shutdown is triggered: health turns NOT_SERVING first,
    /// in-flight calls get `shutdown_grace_ms` to finish, then the server stops.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Application { addr, listener, config, store, verifier, stop } = self;
        let server_cfg = &config.server;
        let hub = Hub::start(store.clone(), FeedSettings::from(server_cfg), stop.subscribe());
        let shared = Shared { store };
        let edge = Edge::new(verifier, server_cfg.rate_limit_per_country_per_second);
        let max = server_cfg.max_message_bytes;

        let (health, health_service) = tonic_health::server::health_reporter();
        set_health(&health, ServingStatus::Serving).await;
        let reflection_v1 = reflection().build_v1()?;
        let reflection_v1alpha = reflection().build_v1alpha()?;

        let mut rx = stop.subscribe();
        let grace = Duration::from_millis(server_cfg.shutdown_grace_ms);
        let draining = {
            let health = health.clone();
            let mut rx = rx.clone();
            async move {
                let _ = rx.wait_for(|s| *s).await;
                set_health(&health, ServingStatus::NotServing).await;
                tracing::info!("shutting down: draining in-flight calls");
            }
        };

        // Every peerlab service gets the message size limits and the edge
        // (authentication, rate limit); health and reflection do not.
        macro_rules! guarded {
            ($server:ident, $api:expr) => {
                InterceptedService::new(
                    $server::new($api).max_decoding_message_size(max).max_encoding_message_size(max),
                    edge.clone(),
                )
            };
        }

        let router = Server::builder()
            .accept_http1(true)
            .timeout(Duration::from_millis(server_cfg.request_timeout_ms))
            .concurrency_limit_per_connection(server_cfg.concurrency_per_connection)
            .load_shed(true)
            .http2_keepalive_interval(Some(Duration::from_secs(30)))
            .layer(trace::layer())
            .layer(cors(&server_cfg.cors_allowed_origins))
            .layer(tonic_web::GrpcWebLayer::new())
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(guarded!(ChallengeServiceServer, ChallengeApi(shared.clone())))
            .add_service(guarded!(MunicipalityServiceServer, MunicipalityApi(shared.clone())))
            .add_service(guarded!(WorkingGroupServiceServer, WorkingGroupApi(shared.clone())))
            .add_service(guarded!(MembershipServiceServer, MembershipApi(shared.clone())))
            .add_service(guarded!(WorkshopServiceServer, WorkshopApi(shared.clone())))
            .add_service(guarded!(InitiativeServiceServer, InitiativeApi(shared.clone())))
            .add_service(guarded!(ProjectIdeaServiceServer, ProjectIdeaApi(shared.clone())))
            .add_service(guarded!(RecommendationServiceServer, RecommendationApi(shared.clone())))
            .add_service(guarded!(ReportServiceServer, ReportApi(shared.clone())))
            .add_service(guarded!(FeedServiceServer, FeedApi(shared.clone(), hub)));

        tracing::info!(%addr, "peerlab is serving");
        let serve = router.serve_with_incoming_shutdown(transport::incoming(listener), draining);
        tokio::pin!(serve);
        tokio::select! {
            res = &mut serve => res?,
            _ = async { let _ = rx.wait_for(|s| *s).await; tokio::time::sleep(grace).await } => {
                tracing::warn!(grace_ms = server_cfg.shutdown_grace_ms, "grace period over; closing remaining calls");
            }
        }
        Ok(())
    }
}

async fn set_health(health: &HealthReporter, status: ServingStatus) {
    health.set_service_status("", status).await;
    for s in SERVICES {
        health.set_service_status(*s, status).await;
    }
}

fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(peerlab_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
}

/// CORS for gRPC-Web: only the configured origins; no origins, no CORS.
fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([http::Method::POST, http::Method::OPTIONS])
        .allow_headers([
            http::header::AUTHORIZATION,
            http::header::CONTENT_TYPE,
            http::HeaderName::from_static("x-grpc-web"),
            http::HeaderName::from_static("x-user-agent"),
            http::HeaderName::from_static("grpc-timeout"),
        ])
        .expose_headers([
            http::HeaderName::from_static("grpc-status"),
            http::HeaderName::from_static("grpc-message"),
            http::HeaderName::from_static("grpc-status-details-bin"),
        ])
        .max_age(Duration::from_secs(3600))
}
