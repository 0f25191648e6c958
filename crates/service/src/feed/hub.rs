//! The [`Hub`]: one reader of the event log per process. Whenever the store
//! signals a commit (its own, or another replica's through PostgreSQL), the
//! hub reads the new events once, converts and encodes each once, and puts
//! it, in id order, straight into the outbox of every stream that follows
//! live events ([`Follower`]). No task of the stream's runs per event: the
//! only task woken is the one writing the stream's responses. A stream whose
//! outbox is full is handed back to its own task, which catches up from the
//! log (and ends the stream if its client stops reading). The hub keeps
//! the events it read last, so that a stream that has caught up from the
//! log while the hub read on is brought level from memory (see
//! [`Hub::follow`]).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use peerlab_core::auth::ReadScope;
use peerlab_core::domain::WorkingGroupId;
use peerlab_core::feed::Audience;
use peerlab_core::model::{Event, Snapshot};
use peerlab_core::store::Store;
use peerlab_proto::feed::{Encoded, EncodedWatchEventsResponse};
use peerlab_proto::v1 as pb;
use peerlab_proto::v1::watch_events_response::Message;
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::Instant;

use super::FeedSettings;
use crate::convert;

/// Events read from the log per query.
const BATCH: u64 = 1000;
/// Read the log even without a signal this often, in case one was lost.
const RESYNC: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Events the hub keeps after offering them (about 1 KiB each): a stream
/// whose catch-up from the log ended at most this many events behind the
/// hub joins without reading the log again.
const RECENT: usize = 1024;

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A stream the hub delivers live events to.
pub(super) struct Follower {
    /// Only this group's events.
    working_group: Option<WorkingGroupId>,
    /// Only these kinds (empty: all).
    kinds: Vec<String>,
    /// The stream's outbox.
    out: mpsc::Sender<EncodedWatchEventsResponse>,
    /// Shared with the stream's task, which sends heartbeats and takes the
    /// stream back when it ends.
    pub(super) state: Mutex<Following>,
    /// Told when the hub stops delivering (`Following::live` turned false).
    pub(super) handed_back: Notify,
}

/// Where a followed stream stands.
pub(super) struct Following {
    /// Every event up to this id has been queued for the client or judged not for it.
    pub(super) position: i64,
    /// When a message was last queued for the client.
    pub(super) last_sent: Instant,
    /// Who the caller can see as of `position`.
    pub(super) audience: Audience,
    /// Whether the hub still delivers to the stream.
    pub(super) live: bool,
}

impl Follower {
    pub(super) fn new(
        working_group: Option<WorkingGroupId>,
        kinds: Vec<String>,
        out: mpsc::Sender<EncodedWatchEventsResponse>,
        state: Following,
    ) -> Follower {
        Follower { working_group, kinds, out, state: Mutex::new(state), handed_back: Notify::new() }
    }

    /// Queue `event` (encoded on first need into `message`) if the stream
    /// asked for it and may read it, and move past it; false when the outbox
    /// is full or closed, and the stream's task takes over from the event.
    fn offer(&self, event: &Event, message: &mut Option<EncodedWatchEventsResponse>, now: Instant) -> bool {
        let id = event.id.get();
        let mut s = lock(&self.state);
        if id <= s.position {
            return true;
        }
        let wanted = self.working_group.is_none_or(|g| event.working_group == Some(g))
            && (self.kinds.is_empty() || self.kinds.contains(&event.kind))
            && s.audience.sees(event);
        if wanted {
            let message = message.get_or_insert_with(|| encode_event(event));
            if self.out.try_send(message.clone()).is_err() {
                s.live = false;
                drop(s);
                self.handed_back.notify_one();
                return false;
            }
            s.last_sent = now;
        }
        s.audience.observe(event);
        s.position = id;
        true
    }
}

/// A WatchEvents message, encoded.
pub(super) fn encode(message: Message) -> EncodedWatchEventsResponse {
    Encoded::new(&pb::WatchEventsResponse { message: Some(message) })
}

/// The WatchEvents message carrying `event`, encoded once for every stream.
fn encode_event(event: &Event) -> EncodedWatchEventsResponse {
    encode(Message::Event(convert::event(event.clone())))
}

/// The streams following live events, how far the hub has read, and the
/// events it read last.
#[derive(Default)]
pub(super) struct Followers {
    /// Every event up to this id is committed and has been offered to the
    /// followers (or there were none).
    head: i64,
    list: Vec<Arc<Follower>>,
    /// The events the hub read last, oldest first, each with its message
    /// once encoded: every event after `floor` up to `head`.
    recent: VecDeque<(Event, Option<EncodedWatchEventsResponse>)>,
    floor: i64,
}

impl Followers {
    fn offer(&mut self, event: Event) {
        let mut message = None;
        let now = Instant::now();
        self.list.retain(|f| f.offer(&event, &mut message, now));
        self.head = event.id.get();
        if self.recent.len() == RECENT
            && let Some((oldest, _)) = self.recent.pop_front()
        {
            self.floor = oldest.id.get();
        }
        self.recent.push_back((event, message));
    }

    /// Move the head to `id` without reading the events in between (nobody
    /// follows them): the events kept no longer reach the head.
    fn skip_to(&mut self, id: i64) {
        if id > self.head {
            self.head = id;
            self.floor = id;
            self.recent.clear();
        }
    }

    /// Offer `follower` the events it missed, from memory: those after its
    /// position, which its audience is as of, up to the head. `settled` is
    /// a committed id read after the audience: a membership change between
    /// the position and it may be in the audience already, which then
    /// would judge the events before that change wrongly. False (the
    /// follower to read the log) when the events kept do not reach back to
    /// the position or on to `settled`, when a membership changed in
    /// between, or when the follower's outbox fills.
    fn bring_level(&mut self, follower: &Follower, settled: i64) -> bool {
        let position = lock(&follower.state).position;
        if position >= self.head && settled <= position {
            return true;
        }
        if position < self.floor || settled > self.head {
            return false;
        }
        let membership_changed = self.recent.iter().any(|(e, _)| {
            (position + 1..=settled).contains(&e.id.get()) && matches!(e.snapshot, Snapshot::Membership(_))
        });
        if membership_changed {
            return false;
        }
        let now = Instant::now();
        self.recent
            .iter_mut()
            .filter(|(e, _)| e.id.get() > position)
            .all(|(event, message)| follower.offer(event, message, now))
    }
}

/// The streams about to follow. While there are any, the hub reads the
/// log even with nobody following yet, rather than move its head past
/// events unread: it keeps what it reads, from which it brings them level.
#[derive(Default)]
struct Joining {
    count: AtomicUsize,
    /// Told when a joining stream waits for the hub to read further.
    wake: Notify,
}

/// Held by a stream from the start of its catch-up from the log until it
/// follows (or reads the log again).
pub(super) struct JoinGuard(Arc<Joining>);

impl Joining {
    /// Whether no stream is about to follow.
    fn none(&self) -> bool {
        self.count.load(Ordering::Acquire) == 0
    }
}

impl Drop for JoinGuard {
    fn drop(&mut self) {
        self.0.count.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The live feed of one process. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    pub(super) store: Store,
    pub(super) settings: FeedSettings,
    pub(super) stop: watch::Receiver<bool>,
    followers: Arc<Mutex<Followers>>,
    /// The head, as it moves.
    head_seen: watch::Receiver<i64>,
    joining: Arc<Joining>,
    pub(super) limit: super::limit::StreamLimit,
}

impl Hub {
    /// Start following the log of `store` (and, on PostgreSQL, the commits
    /// of other replicas) until `stop` turns true.
    pub fn start(store: Store, settings: FeedSettings, stop: watch::Receiver<bool>) -> Hub {
        let followers = Arc::new(Mutex::new(Followers::default()));
        let (head_tx, head_seen) = watch::channel(0);
        let joining = Arc::new(Joining::default());
        tokio::spawn(tail(store.clone(), followers.clone(), head_tx, joining.clone(), stop.clone()));
        tokio::spawn({
            let (store, mut stop) = (store.clone(), stop.clone());
            async move {
                tokio::select! {
                    () = store.listen_for_events() => {}
                    _ = stop.wait_for(|s| *s) => {}
                }
            }
        });
        Hub { store, settings, stop, followers, head_seen, joining, limit: Default::default() }
    }

    /// The highest event id the hub has read: every event up to it is committed.
    pub(super) fn head(&self) -> i64 {
        lock(&self.followers).head
    }

    /// Have the hub deliver to `follower` from its position on, whose
    /// audience was read before the committed id `settled`. Where the hub
    /// has read past the position, the events in between are offered from
    /// memory first. False when that cannot be done (see
    /// [`Followers::bring_level`]): the follower's position (which may
    /// have moved) is then where it reads the log from.
    pub(super) fn follow(&self, follower: &Arc<Follower>, settled: i64) -> bool {
        let mut followers = lock(&self.followers);
        if !followers.bring_level(follower, settled) {
            return false;
        }
        followers.list.push(follower.clone());
        true
    }

    /// Announce a stream about to follow: until the guard is dropped, the
    /// hub reads the log rather than skip over it (see [`Hub::reached`]).
    pub(super) fn joining(&self) -> JoinGuard {
        self.joining.count.fetch_add(1, Ordering::AcqRel);
        JoinGuard(self.joining.clone())
    }

    /// Wait until the hub has read every event up to `id`, or `limit` has
    /// passed, or the server stops. Call it holding a [`JoinGuard`]: with
    /// nobody following, the hub reads the log only for joining streams.
    pub(super) async fn reached(&self, id: i64, limit: Duration) {
        let mut head = self.head_seen.clone();
        if *head.borrow() >= id {
            return;
        }
        self.joining.wake.notify_one();
        let mut stop = self.stop.clone();
        tokio::select! {
            _ = tokio::time::timeout(limit, head.wait_for(|h| *h >= id)) => {}
            _ = stop.wait_for(|s| *s) => {}
        }
    }

    /// Stop delivering to `follower`; afterwards its state is final.
    pub(super) fn unfollow(&self, follower: &Arc<Follower>) {
        lock(&self.followers).list.retain(|f| !Arc::ptr_eq(f, follower));
        lock(&follower.state).live = false;
    }
}

/// Read what the log gained whenever the store signals a commit, and offer
/// it to the followers in order.
async fn tail(
    store: Store,
    followers: Arc<Mutex<Followers>>,
    head_seen: watch::Sender<i64>,
    joining: Arc<Joining>,
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
    lock(&followers).skip_to(last);
    head_seen.send_replace(last);
    let mut final_read = Instant::now();
    loop {
        let newest = *committed.borrow_and_update();
        let idle = newest >= last && lock(&followers).list.is_empty() && joining.none();
        if idle {
            // Nobody follows live events, or is about to: no need to read
            // them. Everything up to the newest final id is in the log for
            // the next stream's catch-up to read. Where commits are in id
            // order, that is the newest committed id. On PostgreSQL a
            // smaller id may still be in flight, so the final id is read
            // from the store, now and then. The head moves only while
            // nobody follows or joins (checked under the lock): a stream
            // that starts joining meanwhile is at worst refused once, and
            // reads the log on from its position.
            let final_id = if store.commits_in_id_order() {
                Some(newest)
            } else if final_read.elapsed() >= RESYNC {
                final_read = Instant::now();
                match store.last_event_id().await {
                    Ok(id) => Some(id),
                    Err(e) => {
                        tracing::warn!(error = %e, "live feed cannot read the log");
                        None
                    }
                }
            } else {
                None
            };
            if let Some(id) = final_id {
                let mut f = lock(&followers);
                if f.list.is_empty() && joining.none() {
                    f.skip_to(id);
                    last = f.head;
                    drop(f);
                    head_seen.send_replace(last);
                } else {
                    continue;
                }
            }
        } else {
            match store.events_after(ReadScope::All, last, BATCH, None, &[]).await {
                Ok(batch) => {
                    backoff = Duration::from_millis(50);
                    let full = batch.len() as u64 == BATCH;
                    for event in batch {
                        // The lock is taken per event, so that streams
                        // joining or leaving wait for one event's delivery
                        // at most. Nobody following: nothing is encoded.
                        last = event.id.get();
                        lock(&followers).offer(event);
                    }
                    head_seen.send_replace(last);
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
            () = joining.wake.notified() => {}
            () = tokio::time::sleep(RESYNC) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

#[cfg(test)]
mod tests;
