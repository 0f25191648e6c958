//! The client's `watch()`: it resumes from the last event by itself when the
//! server goes away and comes back.

use std::time::Duration;

use futures::StreamExt;
use peerlab_client::{RetryPolicy, pb};
use peerlab_core::domain::*;
use peerlab_core::model::NewChallenge;
use peerlab_testkit::{Backend, seed, staff};

use crate::support::spawn_app;

async fn post(store: &peerlab_core::store::Store, m: MunicipalityId, g: WorkingGroupId, n: usize) {
    for i in 0..n {
        let input = NewChallenge {
            working_group: g,
            title: Title::parse("t", &format!("challenge {i}")).expect("title"),
            description: Description::parse("d", "").expect("description"),
            themes: vec![],
            visibility: Visibility::Shared,
        };
        store.create_challenge(&staff("BA", m), m, input, None).await.expect("create");
    }
}

async fn watch_resumes_across_a_server_restart_without_gap_or_duplicate(backend: Backend) {
    let mut app = spawn_app(backend).await;
    let store = app.db.store.clone();
    let mostar = seed::municipality(&store, "Mostar", "BA").await;
    let g = seed::group(&store, "Digitalisation", &[(mostar, "BA")]).await;
    let fast = RetryPolicy {
        max_attempts: 50,
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(200),
    };
    let client = app.client(&app.coordinator_token()).await.with_retry(fast);
    let mut feed = Box::pin(client.watch(pb::WatchEventsRequest::default()));

    post(&store, mostar, g, 5).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let event = tokio::time::timeout(Duration::from_secs(10), feed.next())
            .await
            .expect("in time")
            .expect("open")
            .expect("event");
        ids.push(event.id);
    }

    app.stop_server().await;
    post(&store, mostar, g, 3).await; // written while no server runs
    app.restart_server().await;
    post(&store, mostar, g, 4).await;

    for _ in 0..7 {
        let event = tokio::time::timeout(Duration::from_secs(20), feed.next())
            .await
            .expect("in time")
            .expect("open")
            .expect("event");
        ids.push(event.id);
    }
    assert_eq!(ids, (1..=12).collect::<Vec<i64>>(), "every event once, in order");
}

peerlab_testkit::on_both_backends!(watch_resumes_across_a_server_restart_without_gap_or_duplicate);
