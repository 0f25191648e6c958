//! A stream dropped mid-way and reopened with the last id it received
//! misses nothing and repeats nothing, while writes go on throughout.

use std::collections::BTreeSet;

use peerlab_client::{Client, pb};
use peerlab_testkit::Backend;
use tokio::sync::watch as signal;

use super::{listed, next_event, post, watch};
use crate::municipalities::add;
use crate::support::spawn_app;
use crate::working_groups::network;

const WRITES: usize = 120;

/// Read some events, disconnect, wait for more writes, resume from the last
/// id received, and read until the marker municipality (the last write).
async fn watch_with_a_disconnect(client: Client, mut progress: signal::Receiver<usize>) -> Vec<pb::Event> {
    let mut first = watch(&client, 0, "", &[]).await;
    let _ = progress.wait_for(|n| *n >= 20).await;
    let mut received = Vec::new();
    for _ in 0..15 {
        received.push(next_event(&mut first).await);
    }
    drop(first);
    // Writes go on while it is away; it comes back in the middle of them.
    let _ = progress.wait_for(|n| *n >= WRITES / 2).await;
    let cursor = received.last().map_or(0, |e| e.id);
    let mut second = watch(&client, cursor, "", &[]).await;
    loop {
        let e = next_event(&mut second).await;
        let marker = e.kind == "municipality.created";
        received.push(e);
        if marker {
            return received;
        }
    }
}

async fn resuming_after_a_disconnect_has_no_gap_and_no_duplicate(backend: Backend) {
    let app = spawn_app(backend).await;
    let net = network(&app).await;
    let coordinator = app.client(&app.coordinator_token()).await;
    let nis = app.client(&app.staff_token("RS", net.nis)).await;
    let mostar = app.client(&app.staff_token("BA", net.mostar)).await;

    let (progress_tx, progress) = signal::channel(0);
    let watchers =
        [coordinator.clone(), nis.clone()].map(|c| tokio::spawn(watch_with_a_disconnect(c, progress.clone())));
    let writer = tokio::spawn({
        let (group, nis) = (net.group.clone(), nis.clone());
        async move {
            for i in 0..WRITES {
                let (client, owner) = if i % 2 == 0 { (&mostar, net.mostar) } else { (&nis, net.nis) };
                post(client, &group, owner, &format!("challenge {i}"), i % 3 == 0).await;
                progress_tx.send_replace(i + 1);
            }
        }
    });
    writer.await.expect("writer");
    add(&coordinator, "Marker", "GE").await;

    for (watcher, client) in watchers.into_iter().zip([&coordinator, &nis]) {
        let received = watcher.await.expect("watcher");
        let ids: Vec<i64> = received.iter().map(|e| e.id).collect();
        let unique: BTreeSet<i64> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "no duplicate");
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order across the reconnect");
        assert_eq!(received, listed(client).await, "no gap: exactly what the caller may list");
    }
    let everything = listed(&coordinator).await;
    assert!(everything.len() > WRITES + 6, "{}", everything.len());
    let seen_by_nis = listed(&nis).await;
    assert!(seen_by_nis.len() < everything.len(), "Mostar's drafts are not Niš's");
}

peerlab_testkit::on_both_backends!(resuming_after_a_disconnect_has_no_gap_and_no_duplicate);
