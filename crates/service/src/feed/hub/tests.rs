//! The hub's memory of recent events, and its reading of the log for
//! streams about to follow.

use peerlab_core::domain::{Description, MunicipalityId, Title};
use peerlab_core::model::{NewMunicipality, NewWorkingGroup};
use peerlab_testkit::{Backend, TestDb, cc, coordinator};

use super::*;

async fn town(s: &Store, name: &str) -> MunicipalityId {
    let input = NewMunicipality { display_name: Title::parse("name", name).expect("name"), country: cc("BA") };
    s.create_municipality(&coordinator(), input, None).await.expect("municipality").id
}

/// A log of 8 events: two municipalities, a group, a membership (id 4),
/// four more municipalities; all kept by the hub, as if it had read them.
async fn hub_with_log() -> (TestDb, Followers) {
    let db = TestDb::new(Backend::Sqlite).await;
    let s = &db.store;
    let mostar = town(s, "Mostar").await;
    town(s, "Banja Luka").await;
    let input = NewWorkingGroup {
        display_name: Title::parse("name", "Digitalisation").expect("name"),
        description: Description::parse("description", "").expect("description"),
        themes: Vec::new(),
        start_date: chrono::NaiveDate::from_ymd_opt(2021, 9, 21).expect("date"),
        end_date: chrono::NaiveDate::from_ymd_opt(2021, 11, 30).expect("date"),
    };
    let group = s.create_working_group(&coordinator(), input, None).await.expect("group").id;
    s.create_membership(&coordinator(), group, mostar, None).await.expect("membership");
    for name in ["Tuzla", "Zenica", "Bihać", "Trebinje"] {
        town(s, name).await;
    }
    let events = s.events_after(ReadScope::All, 0, 100, None, &[]).await.expect("log");
    assert_eq!(events.iter().map(|e| e.id.get()).collect::<Vec<_>>(), (1..=8).collect::<Vec<_>>());
    assert!(matches!(events[3].snapshot, Snapshot::Membership(_)));
    let mut followers = Followers::default();
    for event in events {
        followers.offer(event);
    }
    (db, followers)
}

/// A follower at `position` with an outbox of `room` messages.
async fn follower(
    db: &TestDb,
    position: i64,
    room: usize,
) -> (Arc<Follower>, mpsc::Receiver<EncodedWatchEventsResponse>) {
    let audience = db.store.audience(ReadScope::All).await.expect("audience");
    let (out, outbox) = mpsc::channel(room);
    let state = Following { position, last_sent: Instant::now(), audience, live: true };
    (Arc::new(Follower::new(None, Vec::new(), out, state)), outbox)
}

fn queued(outbox: &mut mpsc::Receiver<EncodedWatchEventsResponse>) -> usize {
    std::iter::from_fn(|| outbox.try_recv().ok()).count()
}

fn position(f: &Follower) -> i64 {
    lock(&f.state).position
}

#[tokio::test]
async fn a_follower_behind_the_hub_is_brought_level_from_memory() {
    let (db, mut hub) = hub_with_log().await;
    assert_eq!((hub.floor, hub.head), (0, 8));
    // Caught up to 5; the log was at 6 after its audience was read.
    let (f, mut outbox) = follower(&db, 5, 16).await;
    assert!(hub.bring_level(&f, 6));
    assert_eq!((queued(&mut outbox), position(&f)), (3, 8), "events 6, 7 and 8, from memory");
    // Level with the hub and the log: nothing to do.
    let (f, mut outbox) = follower(&db, 8, 16).await;
    assert!(hub.bring_level(&f, 8));
    assert_eq!((queued(&mut outbox), position(&f)), (0, 8));
    // A membership change at 4 is past the position (4 is later than
    // 2) and before the log's id read after the audience: the audience
    // may be newer than the position, so the log is read again.
    let (f, mut outbox) = follower(&db, 2, 16).await;
    assert!(!hub.bring_level(&f, 5));
    assert_eq!((queued(&mut outbox), position(&f)), (0, 2), "nothing sent");
    // The same change read before the position: judged, and passed on.
    let (f, mut outbox) = follower(&db, 4, 16).await;
    assert!(hub.bring_level(&f, 4));
    assert_eq!((queued(&mut outbox), position(&f)), (4, 8));
    // The hub has not read as far as the log went.
    let (f, _outbox) = follower(&db, 6, 16).await;
    assert!(!hub.bring_level(&f, 9));
}

#[tokio::test]
async fn a_follower_the_hub_cannot_bring_level_reads_the_log() {
    let (db, mut hub) = hub_with_log().await;
    // A full outbox: what fits is queued, and the position moves with it.
    let (f, mut outbox) = follower(&db, 5, 2).await;
    assert!(!hub.bring_level(&f, 5));
    assert_eq!((queued(&mut outbox), position(&f)), (2, 7));
    assert!(!lock(&f.state).live, "handed back");
    // The hub moved on without reading (nobody followed): what it kept
    // no longer reaches back to the position.
    hub.skip_to(20);
    assert_eq!((hub.floor, hub.head, hub.recent.len()), (20, 20, 0));
    let (f, _outbox) = follower(&db, 8, 16).await;
    assert!(!hub.bring_level(&f, 20));
    let (f, _outbox) = follower(&db, 20, 16).await;
    assert!(hub.bring_level(&f, 20));
}

/// What the running hub keeps: (floor, head, events kept).
fn kept(hub: &Hub) -> (i64, i64, usize) {
    let f = lock(&hub.followers);
    (f.floor, f.head, f.recent.len())
}

/// With nobody following, the hub moves its head past new events
/// without reading them, unless a stream is about to follow: then it
/// reads and keeps them, to bring that stream level from memory.
async fn the_hub_reads_the_log_for_a_stream_about_to_follow(backend: Backend) {
    let db = TestDb::new(backend).await;
    let settings = FeedSettings {
        heartbeat: Duration::from_secs(15),
        stall_timeout: Duration::from_secs(30),
        max_streams_per_caller: 10,
    };
    town(&db.store, "Mostar").await;
    let start = db.store.last_event_id().await.expect("log");
    let (stop_tx, stop) = watch::channel(false);
    let hub = Hub::start(db.store.clone(), settings, stop);
    hub.reached(start, Duration::from_secs(10)).await;
    assert_eq!(kept(&hub), (start, start, 0), "the hub starts at the end of the log");

    let joining = hub.joining();
    for name in ["Tuzla", "Zenica", "Bihać"] {
        town(&db.store, name).await;
    }
    let end = db.store.last_event_id().await.expect("log");
    hub.reached(end, Duration::from_secs(10)).await;
    assert_eq!(kept(&hub), (start, end, 3), "the three new events were read and kept, not skipped");
    // A stream level with the log before them joins from memory.
    let (out, mut outbox) = mpsc::channel(16);
    let audience = db.store.audience(ReadScope::All).await.expect("audience");
    let state = Following { position: start, last_sent: Instant::now(), audience, live: true };
    let follower = Arc::new(Follower::new(None, Vec::new(), out, state));
    assert!(hub.follow(&follower, end));
    drop(joining);
    assert_eq!(queued(&mut outbox), 3);
    hub.unfollow(&follower);

    // Nobody follows or joins: new events are skipped over. (A read the
    // hub began while the stream joined may still take in the first.)
    let mut last = 0;
    for name in ["Trebinje", "Zvornik"] {
        town(&db.store, name).await;
        last = db.store.last_event_id().await.expect("log");
        // On PostgreSQL the idle hub reads the final id every few seconds.
        let deadline = Instant::now() + Duration::from_secs(15);
        while kept(&hub).1 < last && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    assert_eq!(kept(&hub), (last, last, 0), "skipped over, not read: the last event is {last}");
    stop_tx.send_replace(true);
}

peerlab_testkit::on_both_backends!(the_hub_reads_the_log_for_a_stream_about_to_follow);

#[tokio::test]
async fn the_hub_keeps_a_bounded_number_of_events() {
    let (_db, mut hub) = hub_with_log().await;
    let template = hub.recent.back().map(|(e, _)| e.clone()).expect("an event");
    for id in 9..(9 + RECENT as i64) {
        let mut event = template.clone();
        event.id = peerlab_core::domain::EventId::parse("id", id).expect("id");
        hub.offer(event);
    }
    assert_eq!(hub.recent.len(), RECENT);
    assert_eq!((hub.floor, hub.head), (8, 8 + RECENT as i64));
}
