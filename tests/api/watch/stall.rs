//! A subscriber that stops reading delays neither writers nor other
//! subscribers, and is itself ended with RESOURCE_EXHAUSTED and the cursor
//! from which it resumes without a gap. One that only pauses catches up.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use peerlab_client::pb::event::Snapshot;
use peerlab_testkit::Backend;
use tonic::Code;

use super::{events_until, listed, next, next_event, post_long, resume_info, watch};
use crate::support::spawn_app_with;
use crate::working_groups::network;

/// Events written while one subscriber stalls (each about 2.5 kB on the wire).
const WRITES: usize = 2_000;
const WRITERS: usize = 8;

type Times = Arc<Mutex<HashMap<String, Instant>>>;

async fn a_stalled_subscriber_delays_no_one_and_is_told_to_resume(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.server.feed_stall_timeout_ms = 300).await;
    let net = network(&app).await;
    let token = app.coordinator_token();
    let coordinator = app.client(&token).await;
    let backlog = listed(&coordinator).await.last().map_or(0, |e| e.id);
    // Separate connections: a client that does not read holds its own
    // connection's window only. The stalled one's are HTTP/2's default 64 KiB,
    // so its outbox fills early in the writes, well before they end (with a
    // client's usual megabytes of window it could hold most of them, and
    // fill only as the writes end).
    let stalled_client = app.client(&token).await;
    let mut stalled = small_window_watch(&app, &token).await;
    let healthy_client = app.client(&token).await;
    let mut healthy = watch(&healthy_client, 0, "", &[]).await;
    events_until(&mut healthy, backlog).await;

    let started: Times = Arc::default();
    let reader = tokio::spawn(async move {
        let mut arrived = HashMap::new();
        while arrived.len() < WRITES {
            if let Some(Snapshot::ChallengeSnapshot(c)) = next_event(&mut healthy).await.snapshot {
                arrived.insert(c.title, Instant::now());
            }
        }
        arrived
    });
    let description = "x".repeat(2_000);
    let writing = Instant::now();
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (country, owner) = if w % 2 == 0 { ("BA", net.mostar) } else { ("RS", net.nis) };
        let client = app.client(&app.staff_token(country, owner)).await;
        let (group, description, started) = (net.group.clone(), description.clone(), started.clone());
        writers.push(tokio::spawn(async move {
            for i in (w..WRITES).step_by(WRITERS) {
                let title = format!("challenge {i}");
                started.lock().expect("times").insert(title.clone(), Instant::now());
                post_long(&client, &group, owner, &title, false, &description).await;
            }
        }));
    }
    for w in writers {
        w.await.expect("writer");
    }
    let wrote = writing.elapsed();
    let arrived =
        tokio::time::timeout(Duration::from_secs(60), reader).await.expect("healthy in time").expect("reader");
    let started = started.lock().expect("times").clone();
    let mut latencies: Vec<Duration> =
        arrived.iter().map(|(title, at)| at.saturating_duration_since(started[title])).collect();
    latencies.sort();
    let (p50, p99, max) = (latencies[WRITES / 2], latencies[WRITES * 99 / 100], latencies[WRITES - 1]);
    eprintln!(
        "{backend:?}: {WRITES} writes in {wrote:?}; healthy subscriber latency p50 {p50:?} p99 {p99:?} max {max:?}"
    );
    assert!(max < Duration::from_secs(5), "the healthy subscriber was held up: max {max:?}");

    // The stalled one was cut off: what it buffered arrives, then the status.
    let mut received = Vec::new();
    let status = loop {
        match next(&mut stalled).await {
            Ok(super::Message::Event(e)) => received.push(e),
            Ok(super::Message::Heartbeat(_)) => {}
            Err(status) => break status,
        }
    };
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let (reason, after) = resume_info(&status);
    assert_eq!(reason, "SUBSCRIBER_LAGGING");
    let last = listed(&coordinator).await.last().map_or(0, |e| e.id);
    assert!(received.len() < WRITES, "it was ended before the end: {}", received.len());
    assert_eq!(received.last().map_or(0, |e| e.id), after, "the cursor is the last event it was sent");
    eprintln!("{backend:?}: the stalled subscriber got {} events before it was ended", received.len());

    let mut resumed = watch(&stalled_client, after, "", &[]).await;
    received.extend(events_until(&mut resumed, last).await);
    assert_eq!(received, listed(&coordinator).await, "no gap, no duplicate after resuming");
}

/// A stream opened on a connection with HTTP/2's protocol-default 64 KiB
/// windows, so that a client that pauses fills the server's outbox quickly.
async fn small_window_watch(app: &crate::support::TestApp, token: &str) -> super::Watch {
    let channel = tonic::transport::Endpoint::from_shared(app.endpoint())
        .expect("endpoint")
        .initial_stream_window_size(65_535)
        .initial_connection_window_size(65_535)
        .connect()
        .await
        .expect("connect");
    let bearer: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse().expect("bearer");
    let mut feed = peerlab_client::pb::feed_service_client::FeedServiceClient::with_interceptor(
        channel,
        move |mut req: tonic::Request<()>| {
            req.metadata_mut().insert("authorization", bearer.clone());
            Ok(req)
        },
    );
    let req = peerlab_client::pb::WatchEventsRequest::default();
    feed.watch_events(req).await.expect("watch").into_inner()
}

/// A subscriber that pauses for less than the stall timeout, while more is
/// written than its outbox holds, falls back to the log and then to live
/// events again: it receives every event once, in order, and its stream
/// stays open.
async fn a_paused_subscriber_catches_up_without_gap_or_duplicate(backend: Backend) {
    const PAUSED_WRITES: usize = 400;
    let app = spawn_app_with(backend, |c| c.server.feed_stall_timeout_ms = 60_000).await;
    let net = network(&app).await;
    let token = app.coordinator_token();
    let coordinator = app.client(&token).await;
    let backlog = listed(&coordinator).await.last().map_or(0, |e| e.id);
    let mut paused = small_window_watch(&app, &token).await;
    let mut received = events_until(&mut paused, backlog).await;

    let writer = app.client(&app.staff_token("BA", net.mostar)).await;
    let description = "x".repeat(2_000);
    for i in 0..PAUSED_WRITES {
        post_long(&writer, &net.group, net.mostar, &format!("while paused {i}"), false, &description).await;
    }
    let last = listed(&coordinator).await.last().map_or(0, |e| e.id);
    received.extend(events_until(&mut paused, last).await);
    // Live again: a write after the catch-up arrives on the same stream.
    let after = post_long(&writer, &net.group, net.mostar, "after the pause", false, "").await;
    let live = next_event(&mut paused).await;
    assert!(matches!(&live.snapshot, Some(Snapshot::ChallengeSnapshot(c)) if c.name == after.name), "{live:?}");
    received.push(live);
    assert_eq!(received, listed(&coordinator).await, "every event once, in order");
}

peerlab_testkit::on_both_backends!(
    a_stalled_subscriber_delays_no_one_and_is_told_to_resume,
    a_paused_subscriber_catches_up_without_gap_or_duplicate,
);
