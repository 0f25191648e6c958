//! Each stream carries only what its caller may read: directory events for
//! everyone, a group's content for its members (including members that join
//! while the stream is open), drafts for their owner and its country admin.

use peerlab_client::{Client, pb};
use peerlab_core::auth::Role;
use peerlab_testkit::Backend;

use super::{Watch, events_until, listed, next, post, watch};
use crate::municipalities::add;
use crate::support::spawn_app_with;
use crate::working_groups::network;

struct Watcher {
    who: &'static str,
    client: Client,
    live: Watch,
    /// The backlog received before the stream went live.
    backlog: Vec<pb::Event>,
}

/// The events of `stream` up to its first heartbeat. A heartbeat is only
/// sent once the backlog is done, so from then on the stream judges events
/// as they come: a stream still reading the log shows what its caller may
/// read at that time, which a join in between would change.
async fn until_live(stream: &mut Watch) -> Vec<pb::Event> {
    let mut events = Vec::new();
    loop {
        match next(stream).await {
            Ok(pb::watch_events_response::Message::Event(e)) => events.push(e),
            Ok(pb::watch_events_response::Message::Heartbeat(_)) => return events,
            Err(status) => panic!("the stream ended: {status:?}"),
        }
    }
}

async fn join(coordinator: &Client, group: &str, m: impl std::fmt::Display) {
    let membership = pb::Membership { municipality: format!("municipalities/{m}"), ..Default::default() };
    let req =
        pb::CreateMembershipRequest { parent: group.into(), membership: Some(membership), request_id: String::new() };
    coordinator.memberships().create_membership(req).await.unwrap_or_else(|e| panic!("join: {e:?}"));
}

/// The challenges among `events`, by title.
fn challenges(events: &[pb::Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.snapshot {
            Some(pb::event::Snapshot::ChallengeSnapshot(c)) => Some(c.title.clone()),
            _ => None,
        })
        .collect()
}

async fn each_caller_receives_only_what_it_may_read(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.server.feed_heartbeat_ms = 100).await;
    let net = network(&app).await;
    let coordinator = app.client(&app.coordinator_token()).await;
    let banja_luka = add(&coordinator, "Banja Luka", "BA").await;
    let mut watchers = Vec::new();
    for (who, token) in [
        ("Bitola staff", app.staff_token("MK", net.bitola)),
        ("Niš staff", app.staff_token("RS", net.nis)),
        ("Banja Luka staff", app.staff_token("BA", banja_luka)),
        ("Mostar staff", app.staff_token("BA", net.mostar)),
        ("BA admin", app.token(Role::CountryAdmin, Some("BA"), None)),
        ("BA observer", app.token(Role::Observer, Some("BA"), None)),
        ("MK observer", app.token(Role::Observer, Some("MK"), None)),
        ("RS admin", app.token(Role::CountryAdmin, Some("RS"), None)),
    ] {
        let client = app.client(&token).await;
        let mut live = watch(&client, 0, "", &[]).await;
        let backlog = until_live(&mut live).await;
        watchers.push(Watcher { who, client, live, backlog });
    }

    let mostar = app.client(&app.staff_token("BA", net.mostar)).await;
    post(&mostar, &net.group, net.mostar, "shared before", false).await;
    post(&mostar, &net.group, net.mostar, "Mostar's draft", true).await;
    // Bitola joins while its stream is open: what follows in the group is its too.
    join(&coordinator, &net.group, net.bitola).await;
    post(&mostar, &net.group, net.mostar, "shared after", false).await;
    add(&coordinator, "Marker", "GE").await;
    let last = listed(&coordinator).await.last().map_or(0, |e| e.id);

    let all = ["shared before", "Mostar's draft", "shared after"];
    let shared = ["shared before", "shared after"];
    for Watcher { who, client, mut live, mut backlog } in watchers {
        backlog.extend(events_until(&mut live, last).await);
        let received = backlog;
        let expected: &[&str] = match who {
            "Bitola staff" | "MK observer" => &["shared after"],
            "Banja Luka staff" => &[],
            "Mostar staff" | "BA admin" => &all,
            _ => &shared,
        };
        assert_eq!(challenges(&received), expected, "{who}, live");
        let directory = received.iter().filter(|e| e.kind.starts_with("municipality.")).count();
        assert_eq!(directory, 5, "{who} receives the directory");
        assert!(received.windows(2).all(|w| w[0].id < w[1].id), "{who}: in order");

        // From the log, what it reads now (Bitola is a member by then).
        let mut backlog = watch(&client, 0, "", &[]).await;
        let replayed = events_until(&mut backlog, last).await;
        assert_eq!(replayed, listed(&client).await, "{who}: the backlog is what it may list");
        let expected: &[&str] = match who {
            "Banja Luka staff" => &[],
            "Mostar staff" | "BA admin" => &all,
            _ => &shared,
        };
        assert_eq!(challenges(&replayed), expected, "{who}, backlog");
    }
}

peerlab_testkit::on_both_backends!(each_caller_receives_only_what_it_may_read);
