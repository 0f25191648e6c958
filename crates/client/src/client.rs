//! The [`Client`]: one connection, the generated per-service clients, and
//! the retry loop every typed method goes through.

use std::future::Future;

use futures::{Stream, TryStreamExt, stream};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::builder::{Auth, Builder, Credentials};
use crate::retry::{Replay, retrying};
use crate::{Error, RetryPolicy, pb};

/// A client of the peerlab API; cheap to clone (clones share the connection).
///
/// Besides the generated per-service clients ([`Client::challenges`], …),
/// it has one typed method per RPC ([`Client::get_challenge`],
/// [`Client::create_challenge`], [`Client::challenges_stream`], …) that retries
/// as [`RetryPolicy`] describes.
///
/// ```no_run
/// # async fn run() -> Result<(), peerlab_client::Error> {
/// use peerlab_client::Client;
/// let client = Client::builder("http://127.0.0.1:50051").bearer("<token>").connect().await?;
/// let challenge = client.get_challenge("municipalities/3/challenges/7").await?;
/// println!("{}: {}", challenge.name, challenge.title);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    channel: Channel,
    auth: Auth,
    retry: RetryPolicy,
}

/// A generated client with the bearer token attached.
pub type Authed = InterceptedService<Channel, Auth>;

impl Client {
    /// Start configuring a client for `endpoint` (e.g. `http://127.0.0.1:50051`).
    pub fn builder(endpoint: impl Into<String>) -> Builder {
        Builder::new(endpoint.into())
    }

    pub(crate) fn from_parts(channel: Channel, auth: Auth, retry: RetryPolicy) -> Client {
        Client { channel, auth, retry }
    }

    /// The same connection with other credentials.
    pub fn with_bearer(&self, token: impl Into<String>) -> Client {
        Client { auth: Auth(Credentials::Bearer(token.into())), ..self.clone() }
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The same connection with another retry policy.
    pub fn with_retry(&self, retry: RetryPolicy) -> Client {
        Client { retry, ..self.clone() }
    }

    /// The underlying channel.
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// Send `request` through `rpc`, replaying it as `replay` allows.
    pub(crate) async fn call<Req, Resp, F, Fut>(&self, replay: Replay, request: Req, rpc: F) -> Result<Resp, Error>
    where
        Req: Clone,
        F: Fn(Client, Req) -> Fut,
        Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>>,
    {
        retrying(&self.retry, replay, || {
            let attempt = rpc(self.clone(), request.clone());
            async move { attempt.await.map(tonic::Response::into_inner).map_err(Error::from) }
        })
        .await
    }

    /// Open a server stream of batches (with retries of the opening call) and
    /// flatten it into a stream of items.
    pub(crate) fn batches<Req, Batch, T, F, Fut>(
        &self,
        request: Req,
        rpc: F,
        unbatch: fn(Batch) -> Vec<T>,
    ) -> impl Stream<Item = Result<T, Error>> + Send + 'static
    where
        Req: Clone + Send + Sync + 'static,
        Batch: Send + 'static,
        T: Send + 'static,
        F: Fn(Client, Req) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<tonic::Response<tonic::Streaming<Batch>>, tonic::Status>> + Send,
    {
        let client = self.clone();
        let open = async move { client.call(Replay::Safe, request, rpc).await };
        stream::once(open)
            .map_ok(move |batches| {
                batches
                    .map_err(Error::from)
                    .map_ok(move |batch| stream::iter(unbatch(batch).into_iter().map(Ok)))
                    .try_flatten()
            })
            .try_flatten()
    }
}

macro_rules! accessors {
    ($($(#[$doc:meta])* $name:ident => $module:ident :: $client:ident;)*) => {
        impl Client {$(
            $(#[$doc])*
            pub fn $name(&self) -> pb::$module::$client<Authed> {
                pb::$module::$client::with_interceptor(self.channel.clone(), self.auth.clone())
            }
        )*}
    };
}

accessors! {
    /// `peerlab.v1.MunicipalityService`.
    municipalities => municipality_service_client::MunicipalityServiceClient;
    /// `peerlab.v1.WorkingGroupService`.
    working_groups => working_group_service_client::WorkingGroupServiceClient;
    /// `peerlab.v1.MembershipService`.
    memberships => membership_service_client::MembershipServiceClient;
    /// `peerlab.v1.WorkshopService`.
    workshops => workshop_service_client::WorkshopServiceClient;
    /// `peerlab.v1.ChallengeService`.
    challenges => challenge_service_client::ChallengeServiceClient;
    /// `peerlab.v1.InitiativeService`.
    initiatives => initiative_service_client::InitiativeServiceClient;
    /// `peerlab.v1.ProjectIdeaService`.
    project_ideas => project_idea_service_client::ProjectIdeaServiceClient;
    /// `peerlab.v1.RecommendationService`.
    recommendations => recommendation_service_client::RecommendationServiceClient;
    /// `peerlab.v1.FeedService`.
    feed => feed_service_client::FeedServiceClient;
    /// `peerlab.v1.ReportService`.
    reports => report_service_client::ReportServiceClient;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    #[tokio::test]
    async fn a_lazy_client_needs_no_server_and_its_calls_are_send() {
        let client = Client::builder("http://127.0.0.1:9").connect_lazy();
        let Ok(client) = client else { panic!("a lazy connect only checks the configuration") };
        assert_send(&client.get_challenge("municipalities/1/challenges/1"));
        assert_send(&client.create_challenge("municipalities/1", pb::Challenge::default(), None));
        assert_send(&client.answer_recommendation("n", pb::AnswerState::Adopted, "", None));
        assert_send(&client.challenges_stream(pb::ListChallengesRequest::default()));
        assert_send(&client.export_events(pb::ExportEventsRequest::default()));
    }

    #[tokio::test]
    async fn bad_endpoints_fail_before_any_call() {
        let err = Client::builder("not a uri").connect_lazy().err();
        assert!(matches!(err, Some(Error::Transport(_))), "{err:?}");
        #[cfg(not(feature = "tls"))]
        {
            let err = Client::builder("https://peerlab.example").connect_lazy().err();
            assert!(matches!(&err, Some(Error::InvalidRequest(m)) if m.contains("`tls` feature")), "{err:?}");
        }
        #[cfg(feature = "tls")]
        {
            let web_pki = Client::builder("https://peerlab.example").connect_lazy();
            assert!(web_pki.is_ok(), "{:?}", web_pki.err());
            let not_a_ca = Client::builder("https://peerlab.example").tls_ca_pem("no PEM here").connect_lazy().err();
            assert!(not_a_ca.is_some(), "a CA that is not PEM is refused");
        }
    }
}
