//! Graceful shutdown under load with open feed streams: health turns
//! NOT_SERVING first, in-flight calls complete, streams end with a clean
//! status naming their cursor, and the server exits within its grace period.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use peerlab_client::{RetryPolicy, pb};
use peerlab_testkit::{Backend, seed};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::support::spawn_app;

async fn shutdown_drains_calls_and_ends_streams_cleanly(backend: Backend) {
    let mut app = spawn_app(backend).await;
    let s = app.db.store.clone();
    let mostar = seed::municipality(&s, "Mostar", "BA").await;
    let g = seed::group(&s, "Digitalisation", &[(mostar, "BA")]).await;
    let coordinator = app
        .client(&app.coordinator_token())
        .await
        .with_retry(RetryPolicy { max_attempts: 1, ..RetryPolicy::default() });
    let staff = app
        .client(&app.staff_token("BA", mostar))
        .await
        .with_retry(RetryPolicy { max_attempts: 1, ..RetryPolicy::default() });

    let mut health = HealthClient::new(coordinator.channel());
    let mut health_updates =
        health.watch(HealthCheckRequest { service: String::new() }).await.expect("watch health").into_inner();
    let first = health_updates.next().await.expect("status").expect("ok");
    assert_eq!(first.status, ServingStatus::Serving as i32);

    let mut streams = Vec::new();
    for _ in 0..3 {
        streams.push(
            coordinator.feed().watch_events(pb::WatchEventsRequest::default()).await.expect("stream").into_inner(),
        );
    }

    // Writers keep going until the server refuses them; every acknowledged create must be kept.
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..8 {
        let staff = staff.clone();
        let stop = stop.clone();
        writers.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) && i < 10_000 {
                let challenge = pb::Challenge {
                    working_group: format!("workingGroups/{g}"),
                    title: format!("w{w} #{i}"),
                    ..Default::default()
                };
                match staff.create_challenge(format!("municipalities/{mostar}"), challenge, None).await {
                    Ok(c) => acknowledged.push(c.name),
                    Err(e) => {
                        assert!(
                            matches!(e.code(), Code::Unavailable | Code::Cancelled | Code::Unknown),
                            "a call failed with {e}"
                        );
                        break;
                    }
                }
                i += 1;
            }
            acknowledged
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    app.trigger_shutdown();
    let next =
        tokio::time::timeout(Duration::from_secs(5), health_updates.next()).await.expect("health update in time");
    assert_eq!(
        next.expect("update").expect("ok").status,
        ServingStatus::NotServing as i32,
        "health turns NOT_SERVING first"
    );

    for mut stream in streams {
        let ended = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match stream.message().await {
                    Ok(Some(_)) => continue,
                    Ok(None) => return None,
                    Err(status) => return Some(status),
                }
            }
        })
        .await
        .expect("stream ends within the grace period");
        let status = ended.expect("a stream ends with a status, never silently");
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
        assert!(status.message().contains("after_id"), "{status:?}");
    }

    assert!(app.server_ended_within(Duration::from_secs(5)).await, "the server exits within its grace period");
    assert!(started.elapsed() < Duration::from_secs(5));
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    for w in writers {
        acknowledged.extend(w.await.expect("writer"));
    }
    assert!(!acknowledged.is_empty(), "writes were in flight");
    assert_eq!(
        seed::count(&s, "challenges").await as usize,
        acknowledged.len(),
        "every acknowledged write kept, nothing else"
    );
}

peerlab_testkit::on_both_backends!(shutdown_drains_calls_and_ends_streams_cleanly);
