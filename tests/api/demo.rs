//! The demo network: loaded once, idempotently, with the shape the README promises.

use peerlab_client::pb;
use peerlab_testkit::{Backend, seed};

use crate::support::spawn_app;

async fn demo_loads_once_and_is_readable_across_countries(backend: Backend) {
    let app = spawn_app(backend).await;
    let s = &app.db.store;
    peerlab_service::demo::load(s).await.expect("first load");
    let tables = [
        "municipalities",
        "working_groups",
        "memberships",
        "workshops",
        "challenges",
        "initiatives",
        "project_ideas",
        "recommendations",
        "events",
    ];
    let mut first = Vec::new();
    for t in tables {
        first.push(seed::count(s, t).await);
    }
    peerlab_service::demo::load(s).await.expect("second load");
    for (t, n) in tables.iter().zip(&first) {
        assert_eq!(seed::count(s, t).await, *n, "{t} after a second load");
    }
    assert_eq!(first[0], 21, "19 Digitalisation members and 2 more in the policy lab");
    assert_eq!(first[1], 2);
    assert_eq!(first[3], 7, "kick-off, four workshops, and two policy-lab sessions");

    let coordinator = app.client(&app.coordinator_token()).await;
    let groups = coordinator
        .working_groups()
        .list_working_groups(pb::ListWorkingGroupsRequest::default())
        .await
        .expect("groups")
        .into_inner();
    let dig = groups
        .working_groups
        .iter()
        .find(|g| g.display_name == "Digitalisation Working Group")
        .expect("digitalisation group");
    assert_eq!(dig.member_count, 19);
    let ideas = coordinator
        .project_ideas()
        .list_project_ideas(pb::ListProjectIdeasRequest { parent: "municipalities/-".into(), ..Default::default() })
        .await
        .expect("ideas")
        .into_inner();
    let stages: std::collections::BTreeSet<i32> = ideas.project_ideas.iter().map(|i| i.stage).collect();
    assert_eq!(stages.len(), 4, "project ideas at every stage");
}

peerlab_testkit::on_both_backends!(demo_loads_once_and_is_readable_across_countries);
