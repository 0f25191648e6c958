//! The event log, the live feed, reports and exports.

use futures::Stream;

use crate::retry::Replay;
use crate::{Client, Error, pb};

impl Client {
    /// One page of the event log, oldest first.
    pub async fn list_events(&self, request: pb::ListEventsRequest) -> Result<pb::ListEventsResponse, Error> {
        self.call(Replay::Safe, request, |c, r| async move { c.feed().list_events(r).await }).await
    }

    /// Every event `request` selects, oldest first, following page tokens
    /// until the log is exhausted for now.
    ///
    /// ```no_run
    /// # async fn run(client: peerlab_client::Client) -> Result<(), peerlab_client::Error> {
    /// use futures::TryStreamExt;
    /// use peerlab_client::pb;
    /// let request = pb::ListEventsRequest { filter: "id > 100".into(), ..Default::default() };
    /// let mut events = std::pin::pin!(client.events_stream(request));
    /// while let Some(event) = events.try_next().await? {
    ///     println!("{} {} {}", event.id, event.kind, event.resource);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn events_stream(
        &self,
        request: pb::ListEventsRequest,
    ) -> impl Stream<Item = Result<pb::Event, Error>> + Send + 'static {
        self.paginate(request)
    }

    /// Events after `request.after_id`: the backlog, then live changes.
    /// Heartbeats are consumed, not yielded. Opening the stream is retried;
    /// when it breaks, open a new one after the last id received.
    pub fn watch_events(
        &self,
        request: pb::WatchEventsRequest,
    ) -> impl Stream<Item = Result<pb::Event, Error>> + Send + 'static {
        self.batches(
            request,
            |c, r| async move { c.feed().watch_events(r).await },
            |message| match message.message {
                Some(pb::watch_events_response::Message::Event(event)) => vec![event],
                Some(pb::watch_events_response::Message::Heartbeat(_)) | None => Vec::new(),
            },
        )
    }

    /// The whole network, country by country (coordinators).
    pub async fn get_network_report(&self, request: pb::GetNetworkReportRequest) -> Result<pb::NetworkReport, Error> {
        self.call(Replay::Safe, request, |c, r| async move { c.reports().get_network_report(r).await }).await
    }

    /// One country in detail and the rest of the network as totals.
    ///
    /// ```no_run
    /// # async fn run(client: peerlab_client::Client) -> Result<(), peerlab_client::Error> {
    /// use peerlab_client::pb;
    /// let report = client
    ///     .get_country_report(pb::GetCountryReportRequest { country: "MD".into(), ..Default::default() })
    ///     .await?;
    /// if let Some(md) = report.country {
    ///     println!("MD answers {:.0}% of recommendations", md.response_rate * 100.0);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get_country_report(&self, request: pb::GetCountryReportRequest) -> Result<pb::CountryReport, Error> {
        self.call(Replay::Safe, request, |c, r| async move { c.reports().get_country_report(r).await }).await
    }

    /// Every challenge the caller may read, streamed in batches and yielded
    /// one by one. Opening the stream is retried; a break mid-way ends it
    /// with the error.
    pub fn export_challenges(
        &self,
        request: pb::ExportChallengesRequest,
    ) -> impl Stream<Item = Result<pb::Challenge, Error>> + Send + 'static {
        self.batches(request, |c, r| async move { c.reports().export_challenges(r).await }, |b| b.challenges)
    }

    /// Every initiative the caller may read; see [`Self::export_challenges`].
    pub fn export_initiatives(
        &self,
        request: pb::ExportInitiativesRequest,
    ) -> impl Stream<Item = Result<pb::Initiative, Error>> + Send + 'static {
        self.batches(request, |c, r| async move { c.reports().export_initiatives(r).await }, |b| b.initiatives)
    }

    /// Every project idea the caller may read; see [`Self::export_challenges`].
    pub fn export_project_ideas(
        &self,
        request: pb::ExportProjectIdeasRequest,
    ) -> impl Stream<Item = Result<pb::ProjectIdea, Error>> + Send + 'static {
        self.batches(request, |c, r| async move { c.reports().export_project_ideas(r).await }, |b| b.project_ideas)
    }

    /// Every recommendation the caller may read; see [`Self::export_challenges`].
    pub fn export_recommendations(
        &self,
        request: pb::ExportRecommendationsRequest,
    ) -> impl Stream<Item = Result<pb::Recommendation, Error>> + Send + 'static {
        self.batches(request, |c, r| async move { c.reports().export_recommendations(r).await }, |b| b.recommendations)
    }

    /// Every event the caller may read, oldest first; see [`Self::export_challenges`].
    pub fn export_events(
        &self,
        request: pb::ExportEventsRequest,
    ) -> impl Stream<Item = Result<pb::Event, Error>> + Send + 'static {
        self.batches(request, |c, r| async move { c.reports().export_events(r).await }, |b| b.events)
    }
}
