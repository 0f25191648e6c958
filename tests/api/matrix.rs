//! The authorization matrix: every RPC × every role × an item of the
//! caller's own municipality, of another municipality of its country, and
//! of a municipality abroad — with the exact status code expected, and no
//! event appended by any denied call.

use std::future::Future;
use std::pin::Pin;

use peerlab_client::{Client, pb};
use peerlab_core::auth::Role;
use peerlab_core::domain::*;
use peerlab_core::model::*;
use peerlab_core::store::Store;
use peerlab_testkit::{Backend, seed, staff};
use tonic::Code;

use crate::support::{TestApp, spawn_app};

/// Whose item a call is about, seen from a BA caller working for `own`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Whose {
    Own,
    Other,
    Abroad,
}

const WHOSE: [Whose; 3] = [Whose::Own, Whose::Other, Whose::Abroad];
const ROLES: [Role; 4] = [Role::Coordinator, Role::CountryAdmin, Role::Staff, Role::Observer];

struct World {
    own: MunicipalityId,
    other: MunicipalityId,
    abroad: MunicipalityId,
    group: WorkingGroupId,
    spare_group: WorkingGroupId,
}

impl World {
    fn muni(&self, w: Whose) -> MunicipalityId {
        match w {
            Whose::Own => self.own,
            Whose::Other => self.other,
            Whose::Abroad => self.abroad,
        }
    }

    fn country(&self, w: Whose) -> &'static str {
        if w == Whose::Abroad { "RS" } else { "BA" }
    }

    /// Someone in the group other than `w` itself, to recommend to or from.
    fn peer_of(&self, w: Whose) -> Whose {
        if w == Whose::Abroad { Whose::Own } else { Whose::Abroad }
    }

    fn owner(&self, w: Whose) -> Principal {
        staff(self.country(w), self.muni(w))
    }

    async fn challenge(&self, s: &Store, w: Whose) -> Challenge {
        let input = NewChallenge {
            working_group: self.group,
            title: Title::parse("t", "A challenge").expect("title"),
            description: Description::parse("d", "").expect("description"),
            themes: vec![],
            visibility: Visibility::Shared,
        };
        s.create_challenge(&self.owner(w), self.muni(w), input, None).await.expect("challenge")
    }

    async fn initiative(&self, s: &Store, w: Whose) -> Initiative {
        let input = NewInitiative {
            working_group: self.group,
            title: Title::parse("t", "An initiative").expect("title"),
            description: Description::parse("d", "").expect("description"),
            status: InitiativeStatus::Planned,
            challenges: vec![],
            visibility: Visibility::Shared,
        };
        s.create_initiative(&self.owner(w), self.muni(w), input, None).await.expect("initiative")
    }

    async fn idea(&self, s: &Store, w: Whose) -> ProjectIdea {
        let input = NewProjectIdea {
            working_group: self.group,
            title: Title::parse("t", "An idea").expect("title"),
            description: Description::parse("d", "").expect("description"),
            challenges: vec![],
            initiatives: vec![],
            partners: vec![],
            visibility: Visibility::Shared,
        };
        s.create_project_idea(&self.owner(w), self.muni(w), input, None).await.expect("idea")
    }

    /// A recommendation from `from` to a challenge of `to`.
    async fn recommendation(&self, s: &Store, from: Whose, to: Whose) -> Recommendation {
        let c = self.challenge(s, to).await;
        let input = NewRecommendation {
            target: Target::Challenge(ItemRef { municipality: c.owner.municipality, id: c.id }),
            kind: RecommendationKind::Suggestion,
            body: Body::parse("b", "Try this").expect("body"),
            author_initiative: None,
        };
        s.create_recommendation(&self.owner(from), self.muni(from), input, None).await.expect("recommendation")
    }
}

use peerlab_core::auth::Principal;

type Call<'a> = Pin<Box<dyn Future<Output = Result<(), Code>> + Send + 'a>>;

fn done<T>(r: Result<T, peerlab_client::Error>) -> Result<(), Code> {
    r.map(|_| ()).map_err(|e| e.code())
}

fn mask(paths: &[&str]) -> Vec<String> {
    paths.iter().map(|p| p.to_string()).collect()
}

/// One RPC: how to call it about `whose` item, and the expected outcome per
/// role as a 12-letter row: coordinator, admin, staff, observer × own, other,
/// abroad. `O` = OK, `D` = PERMISSION_DENIED.
struct Case {
    rpc: &'static str,
    expect: &'static str,
    call: for<'a> fn(&'a Client, &'a World, &'a Store, Whose) -> Call<'a>,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            rpc: "GetMunicipality",
            expect: "OOO OOO OOO OOO",
            call: |c, w, _, x| {
                Box::pin(async move { done(c.get_municipality(format!("municipalities/{}", w.muni(x))).await) })
            },
        },
        Case {
            rpc: "ListMunicipalities",
            expect: "OOO OOO OOO OOO",
            call: |c, _, _, _| {
                Box::pin(async move { done(c.list_municipalities(pb::ListMunicipalitiesRequest::default()).await) })
            },
        },
        Case {
            rpc: "CreateMunicipality",
            expect: "OOO OOD DDD DDD",
            call: |c, w, _, x| {
                Box::pin(async move {
                    let m = pb::Municipality {
                        display_name: "New town".into(),
                        country: w.country(x).into(),
                        ..Default::default()
                    };
                    done(c.create_municipality(m, None).await)
                })
            },
        },
        Case {
            rpc: "UpdateMunicipality",
            expect: "OOO OOD DDD DDD",
            call: |c, w, _, x| {
                Box::pin(async move {
                    let m = pb::Municipality {
                        name: format!("municipalities/{}", w.muni(x)),
                        display_name: "Renamed".into(),
                        ..Default::default()
                    };
                    done(c.update_municipality(m, mask(&["display_name"])).await)
                })
            },
        },
        Case {
            rpc: "ListWorkingGroups",
            expect: "OOO OOO OOO OOO",
            call: |c, _, _, _| {
                Box::pin(async move { done(c.list_working_groups(pb::ListWorkingGroupsRequest::default()).await) })
            },
        },
        Case {
            rpc: "UpdateWorkingGroup",
            expect: "OOO DDD DDD DDD",
            call: |c, w, _, _| {
                Box::pin(async move {
                    let g = pb::WorkingGroup {
                        name: format!("workingGroups/{}", w.group),
                        description: "Updated".into(),
                        ..Default::default()
                    };
                    done(c.update_working_group(g, mask(&["description"])).await)
                })
            },
        },
        Case {
            rpc: "CreateMembership",
            expect: "OOO DDD DDD DDD",
            call: |c, w, s, x| {
                Box::pin(async move {
                    // Fresh municipality each time, so the coordinator's repeats succeed.
                    let m = seed::municipality(s, "Joiner", w.country(x)).await;
                    let membership =
                        pb::Membership { municipality: format!("municipalities/{m}"), ..Default::default() };
                    done(c.create_membership(format!("workingGroups/{}", w.spare_group), membership, None).await)
                })
            },
        },
        Case {
            rpc: "ListMemberships",
            expect: "OOO OOO OOO OOO",
            call: |c, w, _, _| {
                Box::pin(async move {
                    done(
                        c.list_memberships(pb::ListMembershipsRequest {
                            parent: format!("workingGroups/{}", w.group),
                            ..Default::default()
                        })
                        .await,
                    )
                })
            },
        },
        Case {
            rpc: "CreateWorkshop",
            expect: "OOO DDD DDD DDD",
            call: |c, w, _, _| {
                Box::pin(async move {
                    let ws = pb::Workshop {
                        display_name: "Extra session".into(),
                        phase: pb::WorkshopPhase::Other as i32,
                        date: Some(peerlab_client::Date { year: 2021, month: 11, day: 3 }),
                        duration_minutes: 120,
                        ..Default::default()
                    };
                    done(c.create_workshop(format!("workingGroups/{}", w.group), ws, None).await)
                })
            },
        },
        Case {
            rpc: "GetChallenge",
            expect: "OOO OOO OOO OOO",
            call: |c, w, s, x| {
                Box::pin(async move {
                    let ch = w.challenge(s, x).await;
                    done(c.get_challenge(names::challenge(ch.owner.municipality, ch.id)).await)
                })
            },
        },
        Case {
            rpc: "ListChallenges",
            expect: "OOO OOO OOO OOO",
            call: |c, w, _, x| {
                Box::pin(async move {
                    done(
                        c.list_challenges(pb::ListChallengesRequest {
                            parent: format!("municipalities/{}", w.muni(x)),
                            ..Default::default()
                        })
                        .await,
                    )
                })
            },
        },
        Case {
            rpc: "CreateChallenge",
            expect: "DDD OOD ODD DDD",
            call: |c, w, _, x| {
                Box::pin(async move {
                    let ch = pb::Challenge {
                        working_group: format!("workingGroups/{}", w.group),
                        title: "Posted".into(),
                        ..Default::default()
                    };
                    done(c.create_challenge(format!("municipalities/{}", w.muni(x)), ch, None).await)
                })
            },
        },
        Case {
            rpc: "UpdateChallenge",
            expect: "DDD OOD ODD DDD",
            call: |c, w, s, x| {
                Box::pin(async move {
                    let ch = w.challenge(s, x).await;
                    let update = pb::Challenge {
                        name: names::challenge(ch.owner.municipality, ch.id),
                        title: "Edited".into(),
                        ..Default::default()
                    };
                    done(c.update_challenge(update, mask(&["title"])).await)
                })
            },
        },
        Case {
            rpc: "DeleteChallenge",
            expect: "OOO OOD ODD DDD",
            call: |c, w, s, x| {
                Box::pin(async move {
                    let ch = w.challenge(s, x).await;
                    done(c.delete_challenge(names::challenge(ch.owner.municipality, ch.id), None).await)
                })
            },
        },
        Case {
            rpc: "CreateInitiative",
            expect: "DDD OOD ODD DDD",
            call: |c, w, _, x| {
                Box::pin(async move {
                    let i = pb::Initiative {
                        working_group: format!("workingGroups/{}", w.group),
                        title: "Tried".into(),
                        ..Default::default()
                    };
                    done(c.create_initiative(format!("municipalities/{}", w.muni(x)), i, None).await)
                })
            },
        },
        Case {
            rpc: "UpdateInitiative",
            expect: "DDD OOD ODD DDD",
            call: |c, w, s, x| {
                Box::pin(async move {
                    let i = w.initiative(s, x).await;
                    let update = pb::Initiative {
                        name: names::initiative(i.owner.municipality, i.id),
                        status: pb::InitiativeStatus::InProgress as i32,
                        ..Default::default()
                    };
                    done(c.update_initiative(update, mask(&["status"])).await)
                })
            },
        },
        Case {
            rpc: "DeleteInitiative",
            expect: "OOO OOD ODD DDD",
            call: |c, w, s, x| {
                Box::pin(async move {
                    let i = w.initiative(s, x).await;
                    done(c.delete_initiative(names::initiative(i.owner.municipality, i.id), None).await)
                })
            },
        },
        Case {
            rpc: "CreateProjectIdea",
            expect: "DDD OOD ODD DDD",
            call: |c, w, _, x| {
                Box::pin(async move {
                    let p = pb::ProjectIdea {
                        working_group: format!("workingGroups/{}", w.group),
                        title: "Idea".into(),
                        ..Default::default()
                    };
                    done(c.create_project_idea(format!("municipalities/{}", w.muni(x)), p, None).await)
                })
            },
        },
        Case {
            rpc: "UpdateProjectIdea",
            expect: "DDD OOD ODD DDD",
            call: |c, w, s, x| {
                Box::pin(async move {
                    let p = w.idea(s, x).await;
                    let update = pb::ProjectIdea {
                        name: names::project_idea(p.owner.municipality, p.id),
                        stage: pb::ProjectStage::Consolidated as i32,
                        ..Default::default()
                    };
                    done(c.update_project_idea(update, mask(&["stage"])).await)
                })
            },
        },
        Case {
            rpc: "DeleteProjectIdea",
            expect: "OOO OOD ODD DDD",
            call: |c, w, s, x| {
                Box::pin(async move {
                    let p = w.idea(s, x).await;
                    done(c.delete_project_idea(names::project_idea(p.owner.municipality, p.id), None).await)
                })
            },
        },
        Case {
            rpc: "CreateRecommendation",
            expect: "DDD OOD ODD DDD",
            call: |c, w, s, x| {
                Box::pin(async move {
                    let target = w.challenge(s, w.peer_of(x)).await;
                    let r = pb::Recommendation {
                        target: names::challenge(target.owner.municipality, target.id),
                        kind: pb::RecommendationKind::Suggestion as i32,
                        body: "Have you tried this?".into(),
                        ..Default::default()
                    };
                    done(c.create_recommendation(format!("municipalities/{}", w.muni(x)), r, None).await)
                })
            },
        },
        Case {
            rpc: "UpdateRecommendation",
            expect: "DDD OOD ODD DDD",
            call: |c, w, s, x| {
                Box::pin(async move {
                    let r = w.recommendation(s, x, w.peer_of(x)).await;
                    let update = pb::Recommendation {
                        name: names::recommendation(r.municipality, r.id),
                        body: "Edited".into(),
                        ..Default::default()
                    };
                    done(c.update_recommendation(update, mask(&["body"])).await)
                })
            },
        },
        Case {
            rpc: "AnswerRecommendation",
            expect: "DDD OOD ODD DDD",
            call: |c, w, s, x| {
                Box::pin(async move {
                    // A recommendation received by `x`.
                    let r = w.recommendation(s, w.peer_of(x), x).await;
                    done(
                        c.answer_recommendation(
                            names::recommendation(r.municipality, r.id),
                            pb::AnswerState::Adopted,
                            "Thanks",
                            None,
                        )
                        .await,
                    )
                })
            },
        },
        Case {
            rpc: "DeleteRecommendation",
            expect: "OOO OOD ODD DDD",
            call: |c, w, s, x| {
                Box::pin(async move {
                    let r = w.recommendation(s, x, w.peer_of(x)).await;
                    done(c.delete_recommendation(names::recommendation(r.municipality, r.id), None).await)
                })
            },
        },
        Case {
            rpc: "GetNetworkReport",
            expect: "OOO DDD DDD DDD",
            call: |c, _, _, _| {
                Box::pin(async move { done(c.get_network_report(pb::GetNetworkReportRequest::default()).await) })
            },
        },
        Case {
            rpc: "GetCountryReport",
            expect: "OOO OOD DDD OOD",
            call: |c, w, _, x| {
                Box::pin(async move {
                    let request = pb::GetCountryReportRequest { country: w.country(x).into(), ..Default::default() };
                    done(c.get_country_report(request).await)
                })
            },
        },
        Case {
            rpc: "ExportChallenges",
            expect: "OOO OOO OOO OOO",
            call: |c, _, _, _| {
                Box::pin(async move {
                    let mut items = std::pin::pin!(c.export_challenges(pb::ExportChallengesRequest::default()));
                    match futures::StreamExt::next(&mut items).await {
                        Some(Err(e)) => Err(e.code()),
                        _ => Ok(()),
                    }
                })
            },
        },
        Case {
            rpc: "WatchEvents",
            expect: "OOO OOO OOO OOO",
            call: |c, _, _, _| {
                Box::pin(async move {
                    c.feed().watch_events(pb::WatchEventsRequest::default()).await.map(|_| ()).map_err(|s| s.code())
                })
            },
        },
        Case {
            rpc: "ListEvents",
            expect: "OOO OOO OOO OOO",
            call: |c, _, _, _| Box::pin(async move { done(c.list_events(pb::ListEventsRequest::default()).await) }),
        },
    ]
}

fn token(app: &TestApp, w: &World, role: Role) -> String {
    match role {
        Role::Staff => app.staff_token("BA", w.own),
        Role::Coordinator => app.coordinator_token(),
        other => app.token(other, Some("BA"), None),
    }
}

async fn every_rpc_every_role_own_other_abroad(backend: Backend) {
    let app = spawn_app(backend).await;
    let s = &app.db.store;
    let own = seed::municipality(s, "Mostar", "BA").await;
    let other = seed::municipality(s, "Tuzla", "BA").await;
    let abroad = seed::municipality(s, "Niš", "RS").await;
    let group = seed::group(s, "Digitalisation", &[(own, "BA"), (other, "BA"), (abroad, "RS")]).await;
    let spare_group = seed::group(s, "Spare", &[]).await;
    let world = World { own, other, abroad, group, spare_group };

    let mut clients = Vec::new();
    for role in ROLES {
        clients.push(app.client(&token(&app, &world, role)).await);
    }
    let mut failures = Vec::new();
    for case in cases() {
        let expected: Vec<char> = case.expect.chars().filter(|c| !c.is_whitespace()).collect();
        assert_eq!(expected.len(), 12, "{}", case.rpc);
        for (r, role) in ROLES.iter().enumerate() {
            for (t, whose) in WHOSE.iter().enumerate() {
                let want = match expected[r * 3 + t] {
                    'O' => Ok(()),
                    'D' => Err(Code::PermissionDenied),
                    other => panic!("unknown code letter {other}"),
                };
                // Fixtures are written by test principals; anything written
                // through the API carries a development token's actor.
                let through_api = "events WHERE actor LIKE 'peerlab-dev/%'";
                let before = seed::count(s, through_api).await;
                let got = (case.call)(&clients[r], &world, s, *whose).await;
                if got != want {
                    failures.push(format!("{} as {role} on {whose:?}: expected {want:?}, got {got:?}", case.rpc));
                }
                if got.is_err() {
                    let after = seed::count(s, through_api).await;
                    assert_eq!(after, before, "{} as {role} on {whose:?} was denied yet wrote", case.rpc);
                }
            }
        }
    }
    assert!(failures.is_empty(), "authorization matrix mismatches:\n{}", failures.join("\n"));
}

peerlab_testkit::on_both_backends!(every_rpc_every_role_own_other_abroad);
