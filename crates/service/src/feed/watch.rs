//! One WatchEvents stream: the backlog from the log, then live events from
//! the [`Hub`], with heartbeats; ended with a status that names the cursor
//! to resume from (`after_id`), never silently.

use std::pin::Pin;
use std::sync::Arc;

use futures::{Stream, StreamExt, stream};
use peerlab_core::feed::Audience;
use peerlab_proto::feed::{Encoded, EncodedWatchEventsResponse};
use peerlab_proto::v1 as pb;
use peerlab_proto::v1::watch_events_response::Message;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use super::hub::Live;
use super::{Hub, WatchRequest};
use crate::convert;
use crate::status::to_status;

/// Messages buffered for one client before it counts as not reading.
const OUTBOX: usize = 256;
/// Events per backlog query.
const PAGE: u64 = 500;

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

/// What [`Stream::follow`] returns to: the broadcast ran ahead of it.
struct Lagged;

/// Resolves once the server is shutting down.
async fn stopping(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

fn resume_status(code: Code, reason: &str, what: &str, after: i64) -> Status {
    let info = ErrorDetails::with_error_info(reason, "peerlab", [("after_id".to_owned(), after.to_string())]);
    Status::with_error_details(code, format!("{what}; resume with after_id = {after}"), info)
}

fn encode(message: Message) -> EncodedWatchEventsResponse {
    Encoded::new(&pb::WatchEventsResponse { message: Some(message) })
}

/// The next live event already queued, without waiting.
fn queued(live: &mut broadcast::Receiver<Arc<Live>>) -> Option<Result<Arc<Live>, RecvError>> {
    match live.try_recv() {
        Ok(event) => Some(Ok(event)),
        Err(TryRecvError::Empty) => None,
        Err(TryRecvError::Lagged(n)) => Some(Err(RecvError::Lagged(n))),
        Err(TryRecvError::Closed) => Some(Err(RecvError::Closed)),
    }
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
        let feed = Feed { hub: self.clone(), position: req.after, req, out, stop: self.stop.clone() };
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
    out: mpsc::Sender<EncodedWatchEventsResponse>,
    stop: watch::Receiver<bool>,
}

impl Feed {
    async fn run(mut self) -> End {
        let mut live = self.hub.subscribe();
        let end = loop {
            let mut audience = match self.catch_up().await {
                Ok(audience) => audience,
                Err(end) => break end,
            };
            match self.follow(&mut live, &mut audience).await {
                Ok(Lagged) => tracing::debug!(position = self.position, "stream fell behind; catching up from the log"),
                Err(end) => break end,
            }
        };
        if let End::Status(s) = &end {
            tracing::debug!(code = ?s.code(), position = self.position, "event stream ended");
        }
        end
    }

    /// Send the log after `position` page by page, then return the audience
    /// that judges live events from there on.
    async fn catch_up(&mut self) -> Result<Audience, End> {
        let store = self.hub.store.clone();
        let WatchRequest { scope, working_group, ref kinds, .. } = self.req;
        let kinds = kinds.clone();
        // Known committed before the next page is read (see below).
        let mut committed = 0;
        loop {
            // Everything up to `head` is committed, so this query sees it all.
            let head = self.hub.head().max(committed);
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
                // membership change committed in between would make it
                // newer than that: then the events up to it are read from
                // the log first, and the audience again.
                let audience = store.audience(scope).await.map_err(|e| End::Status(to_status(e)))?;
                committed = store.last_event_id().await.map_err(|e| End::Status(to_status(e)))?;
                if committed <= self.position {
                    return Ok(audience);
                }
            }
        }
    }

    /// Forward live events past `position` until the broadcast runs ahead.
    async fn follow(
        &mut self,
        live: &mut broadcast::Receiver<Arc<Live>>,
        audience: &mut Audience,
    ) -> Result<Lagged, End> {
        let every = self.hub.settings.heartbeat;
        let mut last_sent = Instant::now();
        // Built once and polled again on each wake-up, rather than rebuilt
        // (timer and wakers registered anew) for every event.
        let beat = tokio::time::sleep_until(last_sent + every);
        let mut stop = self.stop.clone();
        let stopped = stopping(&mut stop);
        let out = self.out.clone();
        let closed = out.closed();
        tokio::pin!(beat, stopped, closed);
        loop {
            let mut received = tokio::select! {
                biased;
                () = &mut stopped => return Err(self.shutting_down()),
                () = &mut closed => return Err(End::Gone),
                received = live.recv() => received,
                () = &mut beat => {
                    if last_sent.elapsed() >= every {
                        let time = Some(convert::timestamp(chrono::Utc::now()));
                        self.send(encode(Message::Heartbeat(pb::Heartbeat { last_id: self.position, time }))).await?;
                        last_sent = Instant::now();
                    }
                    beat.as_mut().reset(last_sent + every);
                    continue;
                }
            };
            // Everything already queued is handled on this one wake-up.
            loop {
                let event = match received {
                    Ok(event) => event,
                    Err(RecvError::Lagged(_)) => return Ok(Lagged),
                    Err(RecvError::Closed) => return Err(self.shutting_down()),
                };
                if self.forward(&event, audience).await? {
                    last_sent = Instant::now();
                }
                match queued(live) {
                    Some(next) => received = next,
                    None => break,
                }
            }
        }
    }

    /// Send `live` if the stream asked for it and may read it, and move past
    /// it either way; whether it was sent. Per stream this is only the
    /// audience check and a pointer copy: the message is encoded already.
    async fn forward(&mut self, live: &Live, audience: &mut Audience) -> Result<bool, End> {
        let event = &live.event;
        let id = event.id.get();
        if id <= self.position {
            return Ok(false);
        }
        let WatchRequest { working_group, ref kinds, .. } = self.req;
        let wanted = working_group.is_none_or(|g| event.working_group == Some(g))
            && (kinds.is_empty() || kinds.contains(&event.kind))
            && audience.sees(event);
        audience.observe(event);
        if wanted {
            self.send(live.message.clone()).await?;
        }
        self.position = id;
        Ok(wanted)
    }

    /// Queue `message` for the client, waiting at most the stall timeout.
    async fn send(&mut self, message: EncodedWatchEventsResponse) -> Result<(), End> {
        if *self.stop.borrow() {
            return Err(self.shutting_down());
        }
        // With room in the outbox (the usual case) no timer is set.
        let message = match self.out.try_send(message) {
            Ok(()) => return Ok(()),
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
        Ok(())
    }

    fn shutting_down(&self) -> End {
        End::Status(resume_status(Code::Unavailable, "SERVER_SHUTTING_DOWN", "server shutting down", self.position))
    }
}
