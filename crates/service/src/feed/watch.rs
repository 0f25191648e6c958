//! One WatchEvents stream: the backlog from the log, then live events from
//! the [`Hub`], with heartbeats; ended with a status that names the cursor
//! to resume from (`after_id`), never silently.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt, stream};
use peerlab_core::feed::Audience;
use peerlab_proto::feed::EncodedWatchEventsResponse;
use peerlab_proto::v1 as pb;
use peerlab_proto::v1::watch_events_response::Message;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use super::hub::{Follower, Following, JoinGuard, encode, lock};
use super::{Hub, WatchRequest};
use crate::convert;
use crate::status::to_status;

/// Messages buffered for one client before it counts as not reading.
const OUTBOX: usize = 256;
/// Events per backlog query.
const PAGE: u64 = 500;
/// How long a stream that has caught up waits for the hub to read as far
/// as the log went before it reads the log again.
const LEVEL_WAIT: Duration = Duration::from_secs(1);

/// The response stream of WatchEvents: messages already encoded (a live
/// event's once, in the [`Hub`], for every stream).
pub type WatchStream = Pin<Box<dyn Stream<Item = Result<EncodedWatchEventsResponse, Status>> + Send>>;

/// Why a stream stops.
enum End {
    /// The client went away; nobody is listening.
    Gone,
    /// End with this status.
    Status(Status),
}

/// What [`Feed::follow`] returns to: the hub stopped delivering (the
/// outbox was full), so the stream catches up from the log.
struct HandedBack;

/// Why a stream stopped following the hub.
enum Left {
    /// The hub handed it back.
    HandedBack,
    /// A heartbeat found the outbox full: it waits for room, under the stall rule.
    Heartbeat(EncodedWatchEventsResponse),
    Stopping,
    Gone,
}

/// While alive, the hub delivers to the follower; dropped (however the
/// stream's task ends), the hub stops, and the follower's state is final.
struct Followed<'a> {
    hub: &'a Hub,
    follower: &'a Arc<Follower>,
}

impl Drop for Followed<'_> {
    fn drop(&mut self) {
        self.hub.unfollow(self.follower);
    }
}

/// Resolves once the server is shutting down.
async fn stopping(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

fn resume_status(code: Code, reason: &str, what: &str, after: i64) -> Status {
    let info = ErrorDetails::with_error_info(reason, "peerlab", [("after_id".to_owned(), after.to_string())]);
    Status::with_error_details(code, format!("{what}; resume with after_id = {after}"), info)
}

impl Hub {
    /// Open a stream for `req`: the events after `req.after` that its scope
    /// may read, backlog first, then live, until the client goes away or the
    /// stream is ended with a status naming the cursor to resume from.
    /// `caller` identifies who holds the stream, for the per-caller limit.
    pub fn watch(&self, caller: &str, req: WatchRequest) -> Result<WatchStream, Status> {
        let permit = self.limit.acquire(caller, self.settings.max_streams_per_caller)?;
        let (out, outbox) = mpsc::channel(OUTBOX);
        let (end_tx, end_rx) = oneshot::channel();
        let feed = Feed {
            hub: self.clone(),
            position: req.after,
            last_sent: Instant::now(),
            req,
            out,
            stop: self.stop.clone(),
        };
        tokio::spawn(async move {
            let _permit = permit;
            if let End::Status(status) = feed.run().await {
                let _ = end_tx.send(status);
            }
        });
        let end = stream::once(async move {
            Err(end_rx.await.unwrap_or_else(|_| Status::internal("the feed stopped; resume with the last id received")))
        });
        Ok(Box::pin(ReceiverStream::new(outbox).map(Ok).chain(end)))
    }
}

/// The state of one stream.
struct Feed {
    hub: Hub,
    req: WatchRequest,
    /// Every event up to this id has been sent to the client or judged not for it.
    position: i64,
    /// When a message was last queued for the client.
    last_sent: Instant,
    out: mpsc::Sender<EncodedWatchEventsResponse>,
    stop: watch::Receiver<bool>,
}

impl Feed {
    async fn run(mut self) -> End {
        let end = loop {
            // From here until it follows, the hub keeps what it reads for
            // this stream to join from.
            let joining = self.hub.joining();
            let (audience, settled) = match self.catch_up().await {
                Ok(caught_up) => caught_up,
                Err(end) => break end,
            };
            match self.follow(audience, settled, joining).await {
                Ok(HandedBack) => {
                    tracing::debug!(position = self.position, "stream fell behind; catching up from the log")
                }
                Err(end) => break end,
            }
        };
        if let End::Status(s) = &end {
            tracing::debug!(code = ?s.code(), position = self.position, "event stream ended");
        }
        end
    }

    /// Send the log after `position` page by page, then return the audience
    /// that judges live events from there on, with a committed id read
    /// after it (see [`Hub::follow`]).
    async fn catch_up(&mut self) -> Result<(Audience, i64), End> {
        let store = self.hub.store.clone();
        let WatchRequest { scope, working_group, ref kinds, .. } = self.req;
        let kinds = kinds.clone();
        loop {
            // Everything up to `head` is committed, so this query sees it all.
            let head = self.hub.head();
            let page = store.events_after(scope, self.position, PAGE, working_group, &kinds).await;
            let page = page.map_err(|e| End::Status(to_status(e)))?;
            let full = page.len() as u64 == PAGE;
            for event in page {
                let id = event.id.get();
                self.send(encode(Message::Event(convert::event(event)))).await?;
                self.position = id;
            }
            if !full {
                self.position = self.position.max(head);
                // Live events are judged by who the caller can see as of
                // `position`. The audience is read after the log, so a
                // membership change committed in between (up to `settled`)
                // would make it newer than that: the hub checks the events
                // in between, or the stream reads the log again.
                let audience = store.audience(scope).await.map_err(|e| End::Status(to_status(e)))?;
                let settled = store.last_event_id().await.map_err(|e| End::Status(to_status(e)))?;
                return Ok((audience, settled));
            }
        }
    }

    /// Have the hub deliver live events from `position` on, until it hands
    /// the stream back or the stream ends. Meanwhile this task only sends
    /// heartbeats; the hub holds the position. `settled`: see [`Hub::follow`].
    async fn follow(&mut self, audience: Audience, settled: i64, joining: JoinGuard) -> Result<HandedBack, End> {
        let WatchRequest { working_group, ref kinds, .. } = self.req;
        let state = Following { position: self.position, last_sent: self.last_sent, audience, live: true };
        let follower = Arc::new(Follower::new(working_group, kinds.clone(), self.out.clone(), state));
        // Under a steady stream of commits the log is always a little ahead
        // of the hub when the catch-up ends: wait for the hub to read that
        // far, rather than read the log again, which would take as long
        // again and end as far behind (a stream could go round forever).
        if settled > self.position {
            self.hub.reached(settled, LEVEL_WAIT).await;
        }
        let followed = self.hub.follow(&follower, settled);
        drop(joining);
        if !followed {
            // The hub could not bring it level: read the log from where it stands.
            let s = lock(&follower.state);
            tracing::debug!(position = s.position, settled, "could not join the live feed; reading the log again");
            (self.position, self.last_sent) = (s.position, s.last_sent);
            return Ok(HandedBack);
        }
        let followed = Followed { hub: &self.hub, follower: &follower };
        let every = self.hub.settings.heartbeat;
        let beat = tokio::time::sleep_until(self.last_sent + every);
        let mut stop = self.stop.clone();
        let stopped = stopping(&mut stop);
        let out = self.out.clone();
        let closed = out.closed();
        tokio::pin!(beat, stopped, closed);
        let left = loop {
            tokio::select! {
                biased;
                () = &mut stopped => break Left::Stopping,
                () = &mut closed => break Left::Gone,
                () = follower.handed_back.notified() => {
                    if !lock(&follower.state).live {
                        break Left::HandedBack;
                    }
                }
                () = &mut beat => {
                    // Under the lock, so the hub queues nothing in between
                    // and the heartbeat's `last_id` is the stream's position.
                    let mut s = lock(&follower.state);
                    if s.last_sent.elapsed() >= every {
                        let time = Some(convert::timestamp(chrono::Utc::now()));
                        let beat = encode(Message::Heartbeat(pb::Heartbeat { last_id: s.position, time }));
                        if let Err(e) = self.out.try_send(beat) {
                            break Left::Heartbeat(e.into_inner());
                        }
                        s.last_sent = Instant::now();
                    }
                    beat.as_mut().reset(s.last_sent + every);
                }
            }
        };
        drop(followed);
        {
            let s = lock(&follower.state);
            (self.position, self.last_sent) = (s.position, s.last_sent);
        }
        match left {
            Left::HandedBack => Ok(HandedBack),
            Left::Heartbeat(beat) => self.send(beat).await.map(|()| HandedBack),
            Left::Stopping => Err(self.shutting_down()),
            Left::Gone => Err(End::Gone),
        }
    }

    /// Queue `message` for the client, waiting at most the stall timeout.
    async fn send(&mut self, message: EncodedWatchEventsResponse) -> Result<(), End> {
        if *self.stop.borrow() {
            return Err(self.shutting_down());
        }
        // With room in the outbox (the usual case) no timer is set.
        let message = match self.out.try_send(message) {
            Ok(()) => {
                self.last_sent = Instant::now();
                return Ok(());
            }
            Err(TrySendError::Closed(_)) => return Err(End::Gone),
            Err(TrySendError::Full(message)) => message,
        };
        let stall = self.hub.settings.stall_timeout;
        let permit = tokio::select! {
            biased;
            () = stopping(&mut self.stop) => return Err(self.shutting_down()),
            permit = tokio::time::timeout(stall, self.out.reserve()) => match permit {
                Ok(Ok(permit)) => permit,
                Ok(Err(_)) => return Err(End::Gone),
                Err(_) => {
                    tracing::warn!(position = self.position, stall_ms = stall.as_millis() as u64, "ending a stream its client does not read");
                    let what = "subscriber too far behind";
                    return Err(End::Status(resume_status(Code::ResourceExhausted, "SUBSCRIBER_LAGGING", what, self.position)));
                }
            },
        };
        permit.send(message);
        self.last_sent = Instant::now();
        Ok(())
    }

    fn shutting_down(&self) -> End {
        End::Status(resume_status(Code::Unavailable, "SERVER_SHUTTING_DOWN", "server shutting down", self.position))
    }
}
