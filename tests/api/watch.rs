//! FeedService.WatchEvents: backlog then live, filters, bad input,
//! heartbeats and shutdown here; per-country scoping, resuming after a
//! disconnect and stalled subscribers in the submodules.

mod resume;
mod scoping;
mod stall;
mod web;

use std::time::{Duration, Instant};

use pb::watch_events_response::Message;
use peerlab_client::{Client, pb};
use peerlab_testkit::Backend;
use tonic::{Code, Status, Streaming};
use tonic_types::StatusExt;

use crate::municipalities::{add, fields};
use crate::support::{spawn_app, spawn_app_with};
use crate::working_groups::network;

/// How long any single expected message may take.
pub const WAIT: Duration = Duration::from_secs(15);

pub type Watch = Streaming<pb::WatchEventsResponse>;

/// Open a stream.
pub async fn watch(client: &Client, after_id: i64, working_group: &str, kinds: &[&str]) -> Watch {
    let req = pb::WatchEventsRequest {
        after_id,
        working_group: working_group.into(),
        kinds: kinds.iter().map(|k| k.to_string()).collect(),
    };
    client.feed().watch_events(req).await.unwrap_or_else(|e| panic!("watch: {e:?}")).into_inner()
}

/// The next message; `Err` when the stream ends with a status.
pub async fn next(stream: &mut Watch) -> Result<Message, Status> {
    match tokio::time::timeout(WAIT, stream.message()).await {
        Ok(Ok(Some(pb::WatchEventsResponse { message: Some(m) }))) => Ok(m),
        Ok(Ok(Some(_))) => panic!("an empty message"),
        Ok(Ok(None)) => panic!("the stream ended without a status"),
        Ok(Err(status)) => Err(status),
        Err(_) => panic!("nothing arrived within {WAIT:?}"),
    }
}

/// The next event, skipping heartbeats.
pub async fn next_event(stream: &mut Watch) -> pb::Event {
    loop {
        match next(stream).await {
            Ok(Message::Event(e)) => return e,
            Ok(Message::Heartbeat(_)) => {}
            Err(status) => panic!("stream ended: {status:?}"),
        }
    }
}

/// Events until (and including) the first with an id of at least `id`.
pub async fn events_until(stream: &mut Watch, id: i64) -> Vec<pb::Event> {
    let mut events = Vec::new();
    while events.last().is_none_or(|e: &pb::Event| e.id < id) {
        events.push(next_event(stream).await);
    }
    events
}

/// Every event `client` may list, oldest first.
pub async fn listed(client: &Client) -> Vec<pb::Event> {
    let mut events = Vec::new();
    let mut page_token = String::new();
    loop {
        let req = pb::ListEventsRequest { page_size: 500, page_token, filter: String::new() };
        let page = client.feed().list_events(req).await.unwrap_or_else(|e| panic!("list: {e:?}")).into_inner();
        events.extend(page.events);
        if page.next_page_token.is_empty() {
            return events;
        }
        page_token = page.next_page_token;
    }
}

/// Post a challenge of `owner` in `group` as `client`.
pub async fn post(
    client: &Client,
    group: &str,
    owner: impl std::fmt::Display,
    title: &str,
    draft: bool,
) -> pb::Challenge {
    post_long(client, group, owner, title, draft, "").await
}

/// [`post`] with a description.
pub async fn post_long(
    client: &Client,
    group: &str,
    owner: impl std::fmt::Display,
    title: &str,
    draft: bool,
    description: &str,
) -> pb::Challenge {
    let visibility = if draft { pb::Visibility::Draft } else { pb::Visibility::Shared };
    let challenge = pb::Challenge {
        working_group: group.into(),
        title: title.into(),
        description: description.into(),
        visibility: visibility.into(),
        ..Default::default()
    };
    let req = pb::CreateChallengeRequest {
        parent: format!("municipalities/{owner}"),
        challenge: Some(challenge),
        request_id: String::new(),
    };
    client.challenges().create_challenge(req).await.unwrap_or_else(|e| panic!("post {title}: {e:?}")).into_inner()
}

/// The `ErrorInfo` reason and `after_id` of a status that ends a stream.
pub fn resume_info(status: &Status) -> (String, i64) {
    let info = status.get_error_details().error_info().cloned().unwrap_or_else(|| panic!("no ErrorInfo: {status:?}"));
    let after = info.metadata.get("after_id").and_then(|a| a.parse().ok()).unwrap_or_else(|| panic!("{info:?}"));
    assert!(status.message().ends_with(&format!("resume with after_id = {after}")), "{status:?}");
    (info.reason, after)
}

async fn backlog_then_live(backend: Backend) {
    let app = spawn_app(backend).await;
    let net = network(&app).await;
    let coordinator = app.client(&app.coordinator_token()).await;
    let before = listed(&coordinator).await;
    let last = before.last().map_or(0, |e| e.id);

    let mut all = watch(&coordinator, 0, "", &[]).await;
    assert_eq!(events_until(&mut all, last).await, before, "the backlog is the log");
    let mut filtered = watch(&coordinator, 0, &net.group, &["membership.created", "challenge.created"]).await;

    let ba = app.client(&app.staff_token("BA", net.mostar)).await;
    let started = Instant::now();
    let challenge = post(&ba, &net.group, net.mostar, "Low digital literacy", false).await;
    let live = next_event(&mut all).await;
    eprintln!("live delivery after a write started: {:?}", started.elapsed());
    assert_eq!((live.kind.as_str(), live.resource.as_str()), ("challenge.created", challenge.name.as_str()));
    assert_eq!(listed(&coordinator).await.last(), Some(&live), "live events are the log's");

    let kinds: Vec<String> = events_until(&mut filtered, live.id).await.into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["membership.created", "membership.created", "challenge.created"]);
    let mut resumed = watch(&coordinator, before[3].id, "", &[]).await;
    assert_eq!(events_until(&mut resumed, live.id).await.len(), before.len() - 4 + 1);
}

async fn bad_requests_name_the_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    let coordinator = app.client(&app.coordinator_token()).await;
    let bad = pb::WatchEventsRequest {
        after_id: -5,
        working_group: "workingGroups/zero".into(),
        kinds: vec!["challenge.created".into(), String::new(), "k.".repeat(40)],
    };
    let err = coordinator.feed().watch_events(bad).await.expect_err("invalid");
    assert_eq!(fields(err), ["after_id", "working_group", "kinds[1]", "kinds[2]"]);
    let many = pb::WatchEventsRequest { kinds: vec!["challenge.created".into(); 21], ..Default::default() };
    assert_eq!(fields(coordinator.feed().watch_events(many).await.expect_err("too many")), ["kinds"]);
    let anonymous = app.anonymous().await.feed().watch_events(pb::WatchEventsRequest::default()).await;
    assert_eq!(anonymous.expect_err("no token").code(), Code::Unauthenticated);
}

async fn heartbeats_arrive_while_idle(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.server.feed_heartbeat_ms = 100).await;
    let coordinator = app.client(&app.coordinator_token()).await;
    add(&coordinator, "Mostar", "BA").await;
    let last = listed(&coordinator).await.last().map_or(0, |e| e.id);
    let mut stream = watch(&coordinator, 0, "", &[]).await;
    assert_eq!(next_event(&mut stream).await.id, last);
    let started = Instant::now();
    for _ in 0..3 {
        match next(&mut stream).await {
            Ok(Message::Heartbeat(h)) => {
                assert_eq!(h.last_id, last);
                assert!(h.time.is_some());
            }
            other => panic!("{other:?}"),
        }
    }
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(190) && took < Duration::from_secs(5), "three heartbeats took {took:?}");
}

async fn shutdown_ends_streams_with_their_cursor(backend: Backend) {
    let app = spawn_app(backend).await;
    let coordinator = app.client(&app.coordinator_token()).await;
    add(&coordinator, "Mostar", "BA").await;
    let mut stream = watch(&coordinator, 0, "", &[]).await;
    let seen = next_event(&mut stream).await;
    let started = Instant::now();
    let stopping = tokio::spawn(app.stop());
    let status = next(&mut stream).await.expect_err("ended");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(resume_info(&status), ("SERVER_SHUTTING_DOWN".to_owned(), seen.id));
    stopping.await.expect("stopped");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "an open stream held the shutdown for {took:?}");
}

/// Creates committed side by side (on PostgreSQL, in any order) reach a
/// stream opened before them once each, in id order, none left out: what
/// the stream sends is the log.
async fn concurrent_writes_reach_a_stream_once_each_in_order(backend: Backend) {
    const WRITERS: usize = 8;
    const EACH: usize = 6;
    let app = spawn_app(backend).await;
    let net = network(&app).await;
    let coordinator = app.client(&app.coordinator_token()).await;
    let start = listed(&coordinator).await.last().map_or(0, |e| e.id);
    let mut stream = watch(&coordinator, start, "", &[]).await;
    let reader = tokio::spawn(async move {
        let mut seen = Vec::new();
        while seen.len() < WRITERS * EACH {
            seen.push(next_event(&mut stream).await);
        }
        seen
    });
    let ba = app.client(&app.staff_token("BA", net.mostar)).await;
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let (ba, group, owner) = (ba.clone(), net.group.clone(), net.mostar);
        writers.spawn(async move {
            for i in 0..EACH {
                post(&ba, &group, owner, &format!("Side by side {w}.{i}"), false).await;
            }
        });
    }
    while let Some(done) = writers.join_next().await {
        done.expect("writer");
    }
    let seen = tokio::time::timeout(WAIT, reader).await.expect("every event arrives").expect("reader");
    let log: Vec<pb::Event> = listed(&coordinator).await.into_iter().filter(|e| e.id > start).collect();
    assert_eq!(log.len(), WRITERS * EACH, "one event per create");
    assert!(log.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(seen, log, "the stream sends the log: each event once, in order");
}

/// Streams opened while creates commit one after another end their
/// catch-up behind the log and join the live feed from there: each sends
/// what its caller may read of the log, once, in order, and goes on live.
async fn streams_opened_during_writes_send_the_log_once_each(backend: Backend) {
    opened_during_writes(backend, true).await;
}

/// The same with no stream following live events when the first opens
/// (the hub then reads the log for the joining streams only).
async fn streams_opened_during_writes_with_nobody_following_send_the_log_once_each(backend: Backend) {
    opened_during_writes(backend, false).await;
}

/// `early`: one stream follows live events throughout.
async fn opened_during_writes(backend: Backend, early: bool) {
    const WRITES: usize = 60;
    let app = spawn_app(backend).await;
    let net = network(&app).await;
    let coordinator = app.client(&app.coordinator_token()).await;
    let nis = app.client(&app.staff_token("RS", net.nis)).await;
    let ba = app.client(&app.staff_token("BA", net.mostar)).await;
    let start = listed(&coordinator).await.last().map_or(0, |e| e.id);
    let mut early = if early { Some(watch(&coordinator, start, "", &[]).await) } else { None };
    let writer = tokio::spawn({
        let (ba, group, owner) = (ba.clone(), net.group.clone(), net.mostar);
        async move {
            for i in 0..WRITES {
                // Every third a draft, which Niš does not read.
                post(&ba, &group, owner, &format!("Steady {i}"), i % 3 == 0).await;
            }
        }
    });
    let mut streams = Vec::new();
    for i in 0..6 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let everything = i % 2 == 0;
        let client = if everything { &coordinator } else { &nis };
        streams.push((everything, watch(client, start, "", &[]).await));
    }
    writer.await.expect("writer");
    post(&ba, &net.group, net.mostar, "After the writes", false).await;
    let log: Vec<pb::Event> = listed(&coordinator).await.into_iter().filter(|e| e.id > start).collect();
    let shared: Vec<pb::Event> = listed(&nis).await.into_iter().filter(|e| e.id > start).collect();
    assert_eq!(log.len(), WRITES + 1, "one event per create");
    assert_eq!(shared.len(), WRITES - WRITES / 3 + 1, "Niš reads the shared posts");
    for (everything, stream) in &mut streams {
        let expected = if *everything { &log } else { &shared };
        let last = expected.last().map_or(0, |e| e.id);
        let sent = tokio::time::timeout(WAIT * 2, events_until(stream, last)).await.expect("the whole log arrives");
        assert_eq!(&sent, expected, "each event once, in order (everything: {everything})");
    }
    if let Some(early) = &mut early {
        let last = log.last().map_or(0, |e| e.id);
        assert_eq!(events_until(early, last).await, log);
    }
    // Each goes on with the next post.
    let next = post(&ba, &net.group, net.mostar, "Live again", false).await;
    for (_, stream) in &mut streams {
        assert_eq!(next_event(stream).await.resource, next.name);
    }
}

peerlab_testkit::on_both_backends!(
    backlog_then_live,
    streams_opened_during_writes_send_the_log_once_each,
    streams_opened_during_writes_with_nobody_following_send_the_log_once_each,
    concurrent_writes_reach_a_stream_once_each_in_order,
    bad_requests_name_the_fields,
    heartbeats_arrive_while_idle,
    shutdown_ends_streams_with_their_cursor,
);
