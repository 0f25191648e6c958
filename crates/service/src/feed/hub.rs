//! The [`Hub`]: one reader of the event log per process. Whenever the store
//! signals a commit (its own, or another replica's through PostgreSQL), the
//! hub reads the new events once, converts and encodes each once, and
//! broadcasts them, in id order, to every open WatchEvents stream.

use std::sync::Arc;
use std::time::{Duration, Instant};

use peerlab_core::auth::ReadScope;
use peerlab_core::model::Event;
use peerlab_core::store::Store;
use peerlab_proto::feed::{Encoded, EncodedWatchEventsResponse};
use peerlab_proto::v1 as pb;
use peerlab_proto::v1::watch_events_response::Message;
use tokio::sync::{broadcast, watch};

use super::FeedSettings;
use crate::convert;

/// How many events the broadcast keeps for slow streams; a stream further
/// behind than this catches up from the log instead.
const BROADCAST: usize = 4096;
/// Events read from the log per query.
const BATCH: u64 = 1000;
/// Read the log even without a signal this often, in case one was lost.
const RESYNC: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// One live event: what subscribers judge it by, and the message they send.
pub(super) struct Live {
    /// For the audience check (the wire form leaves out the visibility).
    pub(super) event: Event,
    /// The WatchEvents message carrying the event, encoded once for every stream.
    pub(super) message: EncodedWatchEventsResponse,
}

impl Live {
    fn new(event: Event) -> Live {
        let wire = pb::WatchEventsResponse { message: Some(Message::Event(convert::event(event.clone()))) };
        Live { message: Encoded::new(&wire), event }
    }
}

/// The live feed of one process. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    pub(super) store: Store,
    pub(super) settings: FeedSettings,
    pub(super) stop: watch::Receiver<bool>,
    events: broadcast::Sender<Arc<Live>>,
    head: watch::Receiver<i64>,
    pub(super) limit: super::limit::StreamLimit,
}

impl Hub {
    /// Start following the log of `store` (and, on PostgreSQL, the commits
    /// of other replicas) until `stop` turns true.
    pub fn start(store: Store, settings: FeedSettings, stop: watch::Receiver<bool>) -> Hub {
        let (events, _) = broadcast::channel(BROADCAST);
        let (head_tx, head) = watch::channel(0);
        tokio::spawn(tail(store.clone(), events.clone(), head_tx, stop.clone()));
        tokio::spawn({
            let (store, mut stop) = (store.clone(), stop.clone());
            async move {
                tokio::select! {
                    () = store.listen_for_events() => {}
                    _ = stop.wait_for(|s| *s) => {}
                }
            }
        });
        Hub { store, settings, stop, events, head, limit: Default::default() }
    }

    /// Live events from now on. Subscribe before reading the backlog, so
    /// nothing committed in between is missed.
    pub(super) fn subscribe(&self) -> broadcast::Receiver<Arc<Live>> {
        self.events.subscribe()
    }

    /// The highest event id broadcast so far (or known committed when the
    /// hub started): every event up to it is committed.
    pub(super) fn head(&self) -> i64 {
        *self.head.borrow()
    }
}

/// Read what the log gained whenever the store signals a commit, and
/// broadcast it in order.
async fn tail(
    store: Store,
    events: broadcast::Sender<Arc<Live>>,
    head: watch::Sender<i64>,
    mut stop: watch::Receiver<bool>,
) {
    let mut committed = store.committed();
    let mut backoff = Duration::from_millis(50);
    let mut last = loop {
        match store.last_event_id().await {
            Ok(id) => break id,
            Err(e) => tracing::warn!(error = %e, "live feed cannot read the log yet"),
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => backoff = (backoff * 2).min(MAX_BACKOFF),
            _ = stop.wait_for(|s| *s) => return,
        }
    };
    head.send_replace(last);
    let mut final_read = Instant::now();
    loop {
        let newest = *committed.borrow_and_update();
        if events.receiver_count() == 0 && newest >= last {
            // Nobody follows live events: no need to read them. Everything
            // up to the newest final id is in the log for the next stream's
            // catch-up to read. Where commits are in id order, that is the
            // newest committed id. On PostgreSQL a smaller id may still be
            // in flight, so the final id is read from the store, now and
            // then: it must be read before nobody is found to follow, since
            // a stream that subscribed meanwhile may have caught up to less.
            if store.commits_in_id_order() {
                last = newest;
                head.send_replace(last);
            } else if final_read.elapsed() >= RESYNC {
                final_read = Instant::now();
                match store.last_event_id().await {
                    Ok(id) if events.receiver_count() == 0 => {
                        last = last.max(id);
                        head.send_replace(last);
                    }
                    Ok(_) => continue,
                    Err(e) => tracing::warn!(error = %e, "live feed cannot read the log"),
                }
            }
        } else {
            match store.events_after(ReadScope::All, last, BATCH, None, &[]).await {
                Ok(batch) => {
                    backoff = Duration::from_millis(50);
                    let full = batch.len() as u64 == BATCH;
                    for event in batch {
                        last = event.id.get();
                        // With nobody watching, skip the encoding: a stream that
                        // subscribes later reads this event from the log, which
                        // already holds it.
                        if events.receiver_count() > 0 {
                            let _ = events.send(Arc::new(Live::new(event)));
                        }
                    }
                    head.send_replace(last);
                    if full {
                        continue;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "live feed cannot read the log");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => backoff = (backoff * 2).min(MAX_BACKOFF),
                        _ = stop.wait_for(|s| *s) => return,
                    }
                    continue;
                }
            }
        }
        tokio::select! {
            changed = committed.changed() => if changed.is_err() { return },
            () = tokio::time::sleep(RESYNC) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
