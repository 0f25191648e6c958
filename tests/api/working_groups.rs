//! WorkingGroupService, MembershipService and WorkshopService end to end,
//! and [`network`]: a small network built through the API for the content suites.

use peerlab_client::{Client, pb};
use peerlab_core::domain::MunicipalityId;
use peerlab_proto::google::r#type::Date;
use peerlab_testkit::{Backend, seed};
use tonic::Code;

use crate::municipalities::{add, fields, mask};
use crate::support::{TestApp, spawn_app};

fn day(year: i32, month: i32, day: i32) -> Option<Date> {
    Some(Date { year, month, day })
}

/// Mostar (BA) and Niš (RS) in the "Digitalisation" group; Bitola (MK) outside it.
pub struct Network {
    pub mostar: MunicipalityId,
    pub nis: MunicipalityId,
    pub bitola: MunicipalityId,
    /// `workingGroups/{id}`.
    pub group: String,
}

/// Build [`Network`] as the coordinator, through the API.
pub async fn network(app: &TestApp) -> Network {
    let coordinator = app.client(&app.coordinator_token()).await;
    let mostar = add(&coordinator, "Mostar", "BA").await;
    let nis = add(&coordinator, "Niš", "RS").await;
    let bitola = add(&coordinator, "Bitola", "MK").await;
    let group = create_group(&coordinator, "Digitalisation").await.name;
    for m in [mostar, nis] {
        join(&coordinator, &group, m).await;
    }
    Network { mostar, nis, bitola, group }
}

impl Network {
    /// Post a shared challenge for `owner` as `client`.
    pub async fn challenge(&self, client: &Client, owner: MunicipalityId, title: &str) -> pb::Challenge {
        client
            .challenges()
            .create_challenge(pb::CreateChallengeRequest {
                parent: format!("municipalities/{owner}"),
                challenge: Some(pb::Challenge {
                    working_group: self.group.clone(),
                    title: title.into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap_or_else(|e| panic!("challenge {title}: {e:?}"))
            .into_inner()
    }
}

async fn create_group(client: &Client, display_name: &str) -> pb::WorkingGroup {
    client
        .working_groups()
        .create_working_group(pb::CreateWorkingGroupRequest {
            working_group: Some(pb::WorkingGroup {
                display_name: display_name.into(),
                description: "Digital services for citizens".into(),
                themes: vec!["E-Services".into()],
                start_date: day(2021, 9, 21),
                end_date: day(2021, 11, 30),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap_or_else(|e| panic!("group {display_name}: {e:?}"))
        .into_inner()
}

async fn join(client: &Client, group: &str, m: MunicipalityId) -> pb::Membership {
    client
        .memberships()
        .create_membership(pb::CreateMembershipRequest {
            parent: group.into(),
            membership: Some(pb::Membership { municipality: format!("municipalities/{m}"), ..Default::default() }),
            request_id: String::new(),
        })
        .await
        .unwrap_or_else(|e| panic!("join {m}: {e:?}"))
        .into_inner()
}

async fn member_count(client: &Client, group: &str) -> i32 {
    let request = pb::GetWorkingGroupRequest { name: group.into() };
    client.working_groups().get_working_group(request).await.expect("group").into_inner().member_count
}

async fn group_lifecycle(backend: Backend) {
    let app = spawn_app(backend).await;
    let coordinator = app.client(&app.coordinator_token()).await;
    let created = create_group(&coordinator, "Digitalisation").await;
    assert_eq!(created.name, "workingGroups/1");
    assert_eq!(created.themes, vec!["e-services"]);
    assert_eq!(created.start_date, day(2021, 9, 21));
    assert_eq!(created.member_count, 0);

    let mostar = add(&coordinator, "Mostar", "BA").await;
    let staff = app.client(&app.staff_token("BA", mostar)).await;
    let read = staff
        .working_groups()
        .get_working_group(pb::GetWorkingGroupRequest { name: created.name.clone() })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(read, created);
    let list = staff
        .working_groups()
        .list_working_groups(pb::ListWorkingGroupsRequest {
            filter: r#"theme = "e-services""#.into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(list.working_groups, vec![created.clone()]);

    let updated = coordinator
        .working_groups()
        .update_working_group(pb::UpdateWorkingGroupRequest {
            working_group: Some(pb::WorkingGroup {
                name: created.name.clone(),
                display_name: "Digitalisation II".into(),
                end_date: day(2021, 12, 15),
                description: "not in the mask".into(),
                etag: created.etag.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["display_name", "end_date"]),
        })
        .await
        .expect("update")
        .into_inner();
    assert_eq!(updated.display_name, "Digitalisation II");
    assert_eq!(updated.end_date, day(2021, 12, 15));
    assert_eq!(updated.description, created.description);
    assert_eq!(updated.start_date, created.start_date);

    let backwards = coordinator
        .working_groups()
        .update_working_group(pb::UpdateWorkingGroupRequest {
            working_group: Some(pb::WorkingGroup {
                name: created.name.clone(),
                end_date: day(2021, 1, 1),
                etag: updated.etag.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["end_date"]),
        })
        .await
        .expect_err("end before start");
    assert_eq!(fields(backwards), vec!["working_group.end_date"]);

    let archived = coordinator
        .working_groups()
        .delete_working_group(pb::DeleteWorkingGroupRequest { name: created.name.clone(), etag: updated.etag.clone() })
        .await
        .expect("archive")
        .into_inner();
    assert!(archived.archive_time.is_some());
    let list = staff
        .working_groups()
        .list_working_groups(pb::ListWorkingGroupsRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert!(list.working_groups.is_empty());
}

async fn memberships_and_workshops(backend: Backend) {
    let app = spawn_app(backend).await;
    let net = network(&app).await;
    let coordinator = app.client(&app.coordinator_token()).await;
    let staff = app.client(&app.staff_token("MK", net.bitola)).await;

    let members = staff
        .memberships()
        .list_memberships(pb::ListMembershipsRequest { parent: net.group.clone(), ..Default::default() })
        .await
        .expect("list memberships")
        .into_inner();
    let names: Vec<&str> = members.memberships.iter().map(|m| m.name.as_str()).collect();
    let (mostar, nis) = (net.mostar, net.nis);
    assert_eq!(names, vec![format!("{}/memberships/{mostar}", net.group), format!("{}/memberships/{nis}", net.group)]);
    assert_eq!(members.memberships[1].country, "RS");
    let rs_only = staff
        .memberships()
        .list_memberships(pb::ListMembershipsRequest {
            parent: net.group.clone(),
            filter: r#"country = "RS""#.into(),
            ..Default::default()
        })
        .await
        .expect("filtered")
        .into_inner();
    assert_eq!(rs_only.memberships.len(), 1);
    let again = coordinator
        .memberships()
        .create_membership(pb::CreateMembershipRequest {
            parent: net.group.clone(),
            membership: Some(pb::Membership { municipality: format!("municipalities/{mostar}"), ..Default::default() }),
            request_id: String::new(),
        })
        .await
        .expect_err("second membership");
    assert_eq!(again.code(), Code::AlreadyExists);
    assert_eq!(member_count(&coordinator, &net.group).await, 2);

    let created = coordinator
        .workshops()
        .create_workshop(pb::CreateWorkshopRequest {
            parent: net.group.clone(),
            workshop: Some(pb::Workshop {
                display_name: "Workshop I: Ideation".into(),
                phase: pb::WorkshopPhase::Ideation as i32,
                date: day(2021, 9, 21),
                duration_minutes: 180,
                attendees: vec![format!("municipalities/{mostar}")],
                ..Default::default()
            }),
            request_id: "ws-1".into(),
        })
        .await
        .expect("create workshop")
        .into_inner();
    assert_eq!(created.name, format!("{}/workshops/1", net.group));
    assert_eq!(created.phase, pb::WorkshopPhase::Ideation as i32);
    assert_eq!(created.attendees, vec![format!("municipalities/{mostar}")]);
    let read = staff
        .workshops()
        .get_workshop(pb::GetWorkshopRequest { name: created.name.clone() })
        .await
        .expect("get workshop")
        .into_inner();
    assert_eq!(read, created);
    let updated = coordinator
        .workshops()
        .update_workshop(pb::UpdateWorkshopRequest {
            workshop: Some(pb::Workshop {
                name: created.name.clone(),
                phase: pb::WorkshopPhase::Consolidation as i32,
                attendees: vec![format!("municipalities/{mostar}"), format!("municipalities/{nis}")],
                duration_minutes: 9999,
                etag: created.etag.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["phase", "attendees"]),
        })
        .await
        .expect("update workshop")
        .into_inner();
    assert_eq!(updated.phase, pb::WorkshopPhase::Consolidation as i32);
    assert_eq!(updated.attendees.len(), 2);
    assert_eq!(updated.duration_minutes, 180);
    let outsider = coordinator
        .workshops()
        .update_workshop(pb::UpdateWorkshopRequest {
            workshop: Some(pb::Workshop {
                name: created.name.clone(),
                attendees: vec![format!("municipalities/{}", net.bitola)],
                ..Default::default()
            }),
            update_mask: mask(&["attendees"]),
        })
        .await
        .expect_err("non-member attendee");
    assert_eq!(fields(outsider), vec!["workshop.attendees[0]"]);
    let denied = staff
        .workshops()
        .delete_workshop(pb::DeleteWorkshopRequest { name: created.name.clone(), etag: String::new() })
        .await
        .expect_err("staff cancelling");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let cancelled = coordinator
        .workshops()
        .delete_workshop(pb::DeleteWorkshopRequest { name: created.name.clone(), etag: updated.etag.clone() })
        .await
        .expect("cancel")
        .into_inner();
    assert!(cancelled.archive_time.is_some());
    let listed = staff
        .workshops()
        .list_workshops(pb::ListWorkshopsRequest {
            parent: net.group.clone(),
            show_archived: true,
            ..Default::default()
        })
        .await
        .expect("list workshops")
        .into_inner();
    assert_eq!(listed.workshops, vec![cancelled]);

    let left = coordinator
        .memberships()
        .delete_membership(pb::DeleteMembershipRequest { name: format!("{}/memberships/{nis}", net.group) })
        .await
        .expect("leave")
        .into_inner();
    assert_eq!(left.municipality, format!("municipalities/{nis}"));
    assert_eq!(member_count(&coordinator, &net.group).await, 1);
    assert_eq!(seed::count(&app.db.store, "memberships").await, 1);
}

async fn only_coordinators_run_groups(backend: Backend) {
    let app = spawn_app(backend).await;
    let net = network(&app).await;
    let staff = app.client(&app.staff_token("BA", net.mostar)).await;
    let denied = staff
        .working_groups()
        .create_working_group(pb::CreateWorkingGroupRequest {
            working_group: Some(pb::WorkingGroup {
                display_name: "Our own group".into(),
                start_date: day(2022, 1, 1),
                end_date: day(2022, 2, 1),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect_err("staff creating a group");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let denied = staff
        .memberships()
        .create_membership(pb::CreateMembershipRequest {
            parent: net.group.clone(),
            membership: Some(pb::Membership {
                municipality: format!("municipalities/{}", net.bitola),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect_err("staff adding a member");
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert_eq!(seed::count(&app.db.store, "working_groups").await, 1);
    assert_eq!(seed::count(&app.db.store, "memberships").await, 2);
}

async fn bad_input_names_the_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    let net = network(&app).await;
    let coordinator = app.client(&app.coordinator_token()).await;
    let events = seed::count(&app.db.store, "events").await;
    let err = coordinator
        .working_groups()
        .create_working_group(pb::CreateWorkingGroupRequest {
            working_group: Some(pb::WorkingGroup {
                display_name: String::new(),
                themes: vec!["no/slashes".into()],
                start_date: None,
                end_date: day(2021, 13, 1),
                member_count: 40,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect_err("invalid group");
    assert_eq!(
        fields(err),
        vec![
            "working_group.display_name",
            "working_group.themes[0]",
            "working_group.start_date",
            "working_group.end_date"
        ]
    );
    let err = coordinator
        .working_groups()
        .update_working_group(pb::UpdateWorkingGroupRequest {
            working_group: Some(pb::WorkingGroup { name: net.group.clone(), member_count: 9, ..Default::default() }),
            update_mask: mask(&["member_count"]),
        })
        .await
        .expect_err("output only");
    assert_eq!(fields(err), vec!["update_mask"]);
    let err = coordinator
        .workshops()
        .create_workshop(pb::CreateWorkshopRequest {
            parent: net.group.clone(),
            workshop: Some(pb::Workshop {
                display_name: "Kick-off".into(),
                phase: pb::WorkshopPhase::Unspecified as i32,
                date: None,
                duration_minutes: 60,
                attendees: vec!["mostar".into()],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect_err("invalid workshop");
    assert_eq!(fields(err), vec!["workshop.phase", "workshop.date", "workshop.attendees[0]"]);
    let err = coordinator
        .memberships()
        .create_membership(pb::CreateMembershipRequest {
            parent: net.group.clone(),
            membership: Some(pb::Membership { municipality: "municipalities/x".into(), ..Default::default() }),
            request_id: String::new(),
        })
        .await
        .expect_err("invalid membership");
    assert_eq!(fields(err), vec!["membership.municipality"]);
    assert_eq!(seed::count(&app.db.store, "events").await, events);
}

async fn creates_are_idempotent_by_request_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let coordinator = app.client(&app.coordinator_token()).await;
    let request = pb::CreateWorkingGroupRequest {
        working_group: Some(pb::WorkingGroup {
            display_name: "Digitalisation".into(),
            start_date: day(2021, 9, 21),
            end_date: day(2021, 11, 30),
            ..Default::default()
        }),
        request_id: "group-1".into(),
    };
    let first = coordinator.working_groups().create_working_group(request.clone()).await.expect("first").into_inner();
    let retry = coordinator.working_groups().create_working_group(request).await.expect("retry").into_inner();
    assert_eq!(retry.name, first.name);
    assert_eq!(seed::count(&app.db.store, "working_groups").await, 1);

    let mostar = add(&coordinator, "Mostar", "BA").await;
    let join = pb::CreateMembershipRequest {
        parent: first.name.clone(),
        membership: Some(pb::Membership { municipality: format!("municipalities/{mostar}"), ..Default::default() }),
        request_id: "join-1".into(),
    };
    let first = coordinator.memberships().create_membership(join.clone()).await.expect("join").into_inner();
    let retry = coordinator.memberships().create_membership(join).await.expect("join retry").into_inner();
    assert_eq!(retry.name, first.name);
    assert_eq!(seed::count(&app.db.store, "memberships").await, 1);
}

peerlab_testkit::on_both_backends!(
    group_lifecycle,
    memberships_and_workshops,
    only_coordinators_run_groups,
    bad_input_names_the_fields,
    creates_are_idempotent_by_request_id,
);
