//! A live feed that resumes by itself: [`Client::watch`].

use std::time::Duration;

use futures::Stream;
use tonic::Streaming;

use crate::{Client, Error, pb};

/// Waits between reconnects never exceed this, however long the outage.
const MAX_WAIT: Duration = Duration::from_secs(10);

struct Watch {
    client: Client,
    request: pb::WatchEventsRequest,
    cursor: i64,
    stream: Option<Streaming<pb::WatchEventsResponse>>,
    failures: u32,
}

/// Whether a broken stream should be resumed from its cursor rather than
/// reported: the server restarting or shedding a lagging subscriber, or the
/// network going away.
fn resumable(status: &tonic::Status) -> bool {
    use tonic::Code::*;
    match status.code() {
        Unavailable | Unknown | Internal | Aborted | Cancelled | DeadlineExceeded => true,
        ResourceExhausted => Error::from(status.clone()).reason().as_deref() == Some("SUBSCRIBER_LAGGING"),
        _ => false,
    }
}

impl Watch {
    async fn wait(&mut self) {
        self.failures += 1;
        let wait = self.client.retry_policy().backoff(self.failures).min(MAX_WAIT);
        tracing::debug!(cursor = self.cursor, ?wait, "feed interrupted; resuming");
        tokio::time::sleep(wait).await;
    }

    /// The next event; `None` with the error that ended the feed for good.
    async fn next(&mut self) -> Result<pb::Event, Error> {
        loop {
            let stream = match self.stream.as_mut() {
                Some(s) => s,
                None => {
                    let request = pb::WatchEventsRequest { after_id: self.cursor, ..self.request.clone() };
                    // Boxed, as the backoff below: these futures are large
                    // and rare, and `next` is polled once per event.
                    match Box::pin(self.client.feed().watch_events(request)).await {
                        Ok(response) => self.stream.insert(response.into_inner()),
                        Err(status) if resumable(&status) => {
                            Box::pin(self.wait()).await;
                            continue;
                        }
                        Err(status) => return Err(status.into()),
                    }
                }
            };
            match stream.message().await {
                Ok(Some(pb::WatchEventsResponse {
                    message: Some(pb::watch_events_response::Message::Event(event)),
                })) => {
                    self.failures = 0;
                    self.cursor = self.cursor.max(event.id);
                    return Ok(event);
                }
                Ok(Some(pb::WatchEventsResponse {
                    message: Some(pb::watch_events_response::Message::Heartbeat(beat)),
                })) => {
                    // Everything up to last_id that this stream may see was sent already.
                    self.failures = 0;
                    self.cursor = self.cursor.max(beat.last_id);
                }
                Ok(Some(pb::WatchEventsResponse { message: None })) => {}
                Ok(None) => {
                    self.stream = None;
                    Box::pin(self.wait()).await;
                }
                Err(status) if resumable(&status) => {
                    self.stream = None;
                    Box::pin(self.wait()).await;
                }
                Err(status) => return Err(status.into()),
            }
        }
    }
}

impl Client {
    /// Follow the live feed from `request.after_id`, resuming from the last
    /// event received whenever the stream breaks (server restart, network
    /// loss, or the server shedding a lagging subscriber), so the stream
    /// yields every event once, in order, with no gap. It ends only with an
    /// error that resuming cannot fix (e.g. an expired token).
    ///
    /// ```no_run
    /// # async fn run(client: peerlab_client::Client) -> Result<(), peerlab_client::Error> {
    /// use futures::TryStreamExt;
    /// use peerlab_client::pb;
    /// let mut feed = std::pin::pin!(client.watch(pb::WatchEventsRequest { after_id: 0, ..Default::default() }));
    /// while let Some(event) = feed.try_next().await? {
    ///     println!("{} {} {}", event.id, event.kind, event.resource);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn watch(
        &self,
        request: pb::WatchEventsRequest,
    ) -> impl Stream<Item = Result<pb::Event, Error>> + Send + 'static {
        // Boxed: the unfold moves its state into a new future per event.
        let state =
            Box::new(Watch { client: self.clone(), cursor: request.after_id, request, stream: None, failures: 0 });
        futures::stream::unfold(Some(state), |state| async move {
            let mut state = state?;
            match state.next().await {
                Ok(event) => Some((Ok(event), Some(state))),
                Err(e) => Some((Err(e), None)),
            }
        })
    }
}
