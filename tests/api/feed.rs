//! FeedService.ListEvents: the audit trail, oldest first, limited to what
//! the caller may read.

use peerlab_client::pb;
use peerlab_client::pb::event::Snapshot;
use peerlab_testkit::Backend;

use crate::support::spawn_app;
use crate::working_groups::network;

async fn all_events(client: &peerlab_client::Client, filter: &str) -> Vec<pb::Event> {
    let mut events = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .feed()
            .list_events(pb::ListEventsRequest { page_size: 2, page_token, filter: filter.into() })
            .await
            .expect("list events")
            .into_inner();
        events.extend(page.events);
        if page.next_page_token.is_empty() {
            return events;
        }
        page_token = page.next_page_token;
    }
}

fn kinds(events: &[pb::Event]) -> Vec<&str> {
    events.iter().map(|e| e.kind.as_str()).collect()
}

async fn coordinators_read_every_write_in_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let net = network(&app).await;
    let ba = app.client(&app.staff_token("BA", net.mostar)).await;
    let challenge = net.challenge(&ba, net.mostar, "Low digital literacy").await;
    let coordinator = app.client(&app.coordinator_token()).await;

    let events = all_events(&coordinator, "").await;
    assert_eq!(
        kinds(&events),
        vec![
            "municipality.created",
            "municipality.created",
            "municipality.created",
            "working_group.created",
            "membership.created",
            "membership.created",
            "challenge.created",
        ]
    );
    assert!(events.windows(2).all(|w| w[0].id < w[1].id), "oldest first");
    for e in &events {
        assert_eq!(e.name, format!("events/{}", e.id));
        assert!(e.create_time.is_some());
    }
    let last = events.last().expect("challenge event");
    assert_eq!(last.resource, challenge.name);
    assert_eq!(last.working_group, net.group);
    assert_eq!(last.country, "BA");
    assert_eq!(last.municipality, format!("municipalities/{}", net.mostar));
    assert!(last.actor.ends_with(&format!("staff-{}", net.mostar)), "{}", last.actor);
    assert_eq!(last.snapshot, Some(Snapshot::ChallengeSnapshot(challenge)));
    match &events[0].snapshot {
        Some(Snapshot::MunicipalitySnapshot(m)) => assert_eq!(m.display_name, "Mostar"),
        other => panic!("{other:?}"),
    }
    match &events[4].snapshot {
        Some(Snapshot::MembershipSnapshot(m)) => assert_eq!(m.municipality, format!("municipalities/{}", net.mostar)),
        other => panic!("{other:?}"),
    }

    // Resuming after a cursor and filtering by kind.
    let after = all_events(&coordinator, &format!("id > {}", events[3].id)).await;
    assert_eq!(after, events[4..].to_vec());
    let created = all_events(&coordinator, r#"kind = "challenge.created""#).await;
    assert_eq!(created, vec![last.clone()]);
}

async fn outsiders_do_not_see_the_groups_content(backend: Backend) {
    let app = spawn_app(backend).await;
    let net = network(&app).await;
    let ba = app.client(&app.staff_token("BA", net.mostar)).await;
    net.challenge(&ba, net.mostar, "Low digital literacy").await;

    let outsider = app.client(&app.staff_token("MK", net.bitola)).await;
    let seen = all_events(&outsider, "").await;
    assert!(!seen.is_empty(), "the directory is public");
    assert!(!kinds(&seen).contains(&"challenge.created"), "{:?}", kinds(&seen));
    let member = app.client(&app.staff_token("RS", net.nis)).await;
    assert!(kinds(&all_events(&member, "").await).contains(&"challenge.created"));
}

peerlab_testkit::on_both_backends!(coordinators_read_every_write_in_order, outsiders_do_not_see_the_groups_content);
