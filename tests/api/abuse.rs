//! 10,000 concurrent event streams from one token: all but the caller's
//! allowance are refused at once with a clear status, memory stays bounded,
//! and other callers are still served.

use std::time::{Duration, Instant};

use futures::StreamExt;
use peerlab_client::pb;
use peerlab_core::auth::Role;
use peerlab_testkit::Backend;
use tonic::Code;

use crate::support::spawn_app_with;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn ten_thousand_streams_from_one_token(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.server.feed_max_streams_per_caller = 50).await;
    let token = app.token(Role::Observer, Some("BA"), None);
    let rss_before = rss_kib();
    let started = Instant::now();

    // Ten connections of the same token, a thousand calls each.
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let client = app.client(&token).await;
        tasks.push(tokio::spawn(async move {
            let calls = (0..1_000).map(|_| {
                let mut feed = client.feed();
                async move { feed.watch_events(pb::WatchEventsRequest::default()).await.map(|r| r.into_inner()) }
            });
            futures::future::join_all(calls).await
        }));
    }
    let mut open = Vec::new();
    let mut refused = 0;
    for t in tasks {
        for result in t.await.expect("task") {
            match result {
                Ok(stream) => open.push(stream),
                Err(status) => {
                    // Refused by the per-caller stream limit, or shed by the
                    // per-connection concurrency limit: both say so plainly.
                    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
                    let shed = status.message().contains("Too many active requests");
                    let reason = peerlab_client::Error::from(status).reason();
                    assert!(shed || reason.as_deref() == Some("TOO_MANY_STREAMS"), "{reason:?}");
                    refused += 1;
                }
            }
        }
    }
    assert!(open.len() <= 50, "never more than the allowance: {}", open.len());
    assert_eq!(open.len() + refused, 10_000);
    // Top up one at a time: exactly the allowance fits, then a clear refusal.
    let single = app.client(&token).await;
    let refusal = loop {
        match single.feed().watch_events(pb::WatchEventsRequest::default()).await {
            Ok(stream) => open.push(stream.into_inner()),
            Err(status) => break status,
        }
        assert!(open.len() <= 50, "the allowance is enforced");
    };
    assert_eq!(open.len(), 50);
    assert_eq!(peerlab_client::Error::from(refusal).reason().as_deref(), Some("TOO_MANY_STREAMS"));
    assert!(started.elapsed() < Duration::from_secs(60), "refusals are quick: {:?}", started.elapsed());
    let grown_mib = rss_kib().saturating_sub(rss_before) / 1024;
    assert!(grown_mib < 256, "memory grew by {grown_mib} MiB");

    // Another caller (another token subject) is served, streams included.
    let someone = peerlab_core::domain::MunicipalityId::parse("m", 99).expect("id");
    let other = app.client(&app.staff_token("RS", someone)).await;
    other.list_events(pb::ListEventsRequest::default()).await.expect("other caller served");
    let mut stream =
        other.feed().watch_events(pb::WatchEventsRequest::default()).await.expect("other caller streams").into_inner();
    drop(stream.next());

    // Closing streams gives the slots back.
    open.truncate(10);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let again = app.client(&token).await;
    again.feed().watch_events(pb::WatchEventsRequest::default()).await.expect("a freed slot is usable again");
}

peerlab_testkit::on_both_backends!(ten_thousand_streams_from_one_token);
