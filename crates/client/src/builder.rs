//! Building a [`Client`].

use std::sync::Arc;
use std::time::Duration;

use peerlab_proto::v1 as pb;
use tonic::metadata::AsciiMetadataValue;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use crate::Error;

/// Where the bearer token comes from.
#[derive(Clone)]
pub enum Credentials {
    /// No token (only health and reflection answer).
    None,
    /// A fixed token.
    Bearer(String),
    /// A function asked before every call, e.g. to refresh tokens.
    Provider(Arc<dyn Fn() -> String + Send + Sync>),
}

/// Configures a [`Client`].
pub struct Builder {
    endpoint: String,
    credentials: Credentials,
    timeout: Duration,
    connect_timeout: Duration,
}

impl Builder {
    /// Send `token` as `authorization: Bearer <token>`.
    pub fn bearer(mut self, token: impl Into<String>) -> Self {
        self.credentials = Credentials::Bearer(token.into());
        self
    }

    /// Ask `provider` for a fresh token before every call.
    pub fn token_provider(mut self, provider: impl Fn() -> String + Send + Sync + 'static) -> Self {
        self.credentials = Credentials::Provider(Arc::new(provider));
        self
    }

    /// Deadline of each call (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Connect.
    pub async fn connect(self) -> Result<Client, Error> {
        let channel = Endpoint::from_shared(self.endpoint)?
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_while_idle(true)
            .connect()
            .await?;
        Ok(Client { channel, auth: Auth(self.credentials) })
    }
}

/// Adds the bearer token to every call.
#[derive(Clone)]
pub struct Auth(Credentials);

impl Interceptor for Auth {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let token = match &self.0 {
            Credentials::None => return Ok(req),
            Credentials::Bearer(t) => t.clone(),
            Credentials::Provider(f) => f(),
        };
        let value = AsciiMetadataValue::try_from(format!("Bearer {token}"))
            .map_err(|_| tonic::Status::invalid_argument("the token is not valid header text"))?;
        req.metadata_mut().insert("authorization", value);
        Ok(req)
    }
}

/// A connected client; cheap to clone.
#[derive(Clone)]
pub struct Client {
    channel: Channel,
    auth: Auth,
}

/// A generated client with the bearer token attached.
pub type Authed = InterceptedService<Channel, Auth>;

impl Client {
    /// Start configuring a client for `endpoint` (e.g. `http://127.0.0.1:50051`).
    pub fn builder(endpoint: impl Into<String>) -> Builder {
        Builder {
            endpoint: endpoint.into(),
            credentials: Credentials::None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
        }
    }

    /// The same connection with other credentials.
    pub fn with_bearer(&self, token: impl Into<String>) -> Client {
        Client { channel: self.channel.clone(), auth: Auth(Credentials::Bearer(token.into())) }
    }

    /// The underlying channel.
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// `peerlab.v1.MunicipalityService`.
    pub fn municipalities(&self) -> pb::municipality_service_client::MunicipalityServiceClient<Authed> {
        pb::municipality_service_client::MunicipalityServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }
    /// `peerlab.v1.WorkingGroupService`.
    pub fn working_groups(&self) -> pb::working_group_service_client::WorkingGroupServiceClient<Authed> {
        pb::working_group_service_client::WorkingGroupServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }
    /// `peerlab.v1.MembershipService`.
    pub fn memberships(&self) -> pb::membership_service_client::MembershipServiceClient<Authed> {
        pb::membership_service_client::MembershipServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }
    /// `peerlab.v1.WorkshopService`.
    pub fn workshops(&self) -> pb::workshop_service_client::WorkshopServiceClient<Authed> {
        pb::workshop_service_client::WorkshopServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }
    /// `peerlab.v1.ChallengeService`.
    pub fn challenges(&self) -> pb::challenge_service_client::ChallengeServiceClient<Authed> {
        pb::challenge_service_client::ChallengeServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }
    /// `peerlab.v1.InitiativeService`.
    pub fn initiatives(&self) -> pb::initiative_service_client::InitiativeServiceClient<Authed> {
        pb::initiative_service_client::InitiativeServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }
    /// `peerlab.v1.ProjectIdeaService`.
    pub fn project_ideas(&self) -> pb::project_idea_service_client::ProjectIdeaServiceClient<Authed> {
        pb::project_idea_service_client::ProjectIdeaServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }
    /// `peerlab.v1.RecommendationService`.
    pub fn recommendations(&self) -> pb::recommendation_service_client::RecommendationServiceClient<Authed> {
        pb::recommendation_service_client::RecommendationServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }
    /// `peerlab.v1.FeedService`.
    pub fn feed(&self) -> pb::feed_service_client::FeedServiceClient<Authed> {
        pb::feed_service_client::FeedServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }
    /// `peerlab.v1.ReportService`.
    pub fn reports(&self) -> pb::report_service_client::ReportServiceClient<Authed> {
        pb::report_service_client::ReportServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
    }
}
