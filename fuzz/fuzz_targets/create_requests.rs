//! Create and update requests as they arrive on the wire: decode, then run
//! the service's validation and conversion as its handlers do. The first
//! byte picks the request type; the rest is the encoded message.

#![no_main]

use libfuzzer_sys::fuzz_target;
use peerlab_core::domain::{InitiativeStatus, Visibility};
use peerlab_core::model::{Etag, ItemRef, Target, names};
use peerlab_core::store::RequestId;
use peerlab_fuzz::{assert_rejection, assert_text, assert_themes};
use peerlab_proto::v1 as pb;
use peerlab_service::{convert, names as parse};
use prost::Message;
use prost_types::FieldMask;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, bytes)) = data.split_first() else { return };
    match kind % 8 {
        0 => decoded(bytes, create_challenge),
        1 => decoded(bytes, create_initiative),
        2 => decoded(bytes, create_project_idea),
        3 => decoded(bytes, create_recommendation),
        4 => decoded(bytes, update_challenge),
        5 => decoded(bytes, update_initiative),
        6 => decoded(bytes, update_project_idea),
        _ => decoded(bytes, update_recommendation),
    }
});

fn decoded<M: Message + Default>(bytes: &[u8], check: fn(&M)) {
    if let Ok(m) = M::decode(bytes) {
        check(&m);
    }
}

fn create_challenge(r: &pb::CreateChallengeRequest) {
    parent_and_request_id(&r.parent, &r.request_id);
    match convert::new_challenge(r.challenge.as_ref()) {
        Ok(c) => {
            let sent = r.challenge.as_ref().expect("accepted without a challenge");
            working_group_round_trips(c.working_group);
            assert_text(&c.title);
            assert_text(&c.description);
            assert_themes(&c.themes, sent.themes.len());
            visibility_defaults_to_shared(sent.visibility, c.visibility);
        }
        Err(e) => assert_rejection(&e, &["challenge"]),
    }
}

fn create_initiative(r: &pb::CreateInitiativeRequest) {
    parent_and_request_id(&r.parent, &r.request_id);
    match convert::new_initiative(r.initiative.as_ref()) {
        Ok(i) => {
            let sent = r.initiative.as_ref().expect("accepted without an initiative");
            working_group_round_trips(i.working_group);
            assert_text(&i.title);
            assert_text(&i.description);
            assert_eq!(i.challenges.len(), sent.challenges.len());
            i.challenges.iter().for_each(|c| challenge_round_trips(*c));
            if sent.status == 0 {
                assert_eq!(i.status, InitiativeStatus::Planned);
            }
            visibility_defaults_to_shared(sent.visibility, i.visibility);
        }
        Err(e) => assert_rejection(&e, &["initiative"]),
    }
}

fn create_project_idea(r: &pb::CreateProjectIdeaRequest) {
    parent_and_request_id(&r.parent, &r.request_id);
    match convert::new_project_idea(r.project_idea.as_ref()) {
        Ok(p) => {
            let sent = r.project_idea.as_ref().expect("accepted without a project idea");
            working_group_round_trips(p.working_group);
            assert_text(&p.title);
            assert_text(&p.description);
            assert_eq!(p.challenges.len(), sent.challenges.len());
            assert_eq!(p.initiatives.len(), sent.initiatives.len());
            assert_eq!(p.partners.len(), sent.partners.len());
            p.challenges.iter().for_each(|c| challenge_round_trips(*c));
            p.initiatives.iter().for_each(|i| initiative_round_trips(*i));
            p.partners.iter().for_each(|m| municipality_round_trips(*m));
            visibility_defaults_to_shared(sent.visibility, p.visibility);
        }
        Err(e) => assert_rejection(&e, &["project_idea"]),
    }
}

fn create_recommendation(r: &pb::CreateRecommendationRequest) {
    parent_and_request_id(&r.parent, &r.request_id);
    match convert::new_recommendation(r.recommendation.as_ref()) {
        Ok(n) => {
            let sent = r.recommendation.as_ref().expect("accepted without a recommendation");
            target_round_trips(n.target);
            assert_text(&n.body);
            assert_eq!(n.author_initiative.is_some(), !sent.author_initiative.is_empty());
            n.author_initiative.into_iter().for_each(initiative_round_trips);
        }
        Err(e) => assert_rejection(&e, &["recommendation"]),
    }
}

fn update_challenge(r: &pb::UpdateChallengeRequest) {
    let c = match convert::required("challenge", r.challenge.as_ref()) {
        Ok(c) => c,
        Err(e) => return assert_rejection(&e, &["challenge"]),
    };
    name_and_etag(parse::challenge("challenge.name", &c.name).map(challenge_round_trips), &c.etag, "challenge");
    let mask = r.update_mask.as_ref();
    match convert::challenge_patch(c, mask) {
        Ok(p) => {
            p.title.iter().for_each(assert_text);
            p.description.iter().for_each(assert_text);
            p.themes.iter().for_each(|t| assert_themes(t, c.themes.len()));
            let set = [
                ("title", p.title.is_some()),
                ("description", p.description.is_some()),
                ("themes", p.themes.is_some()),
                ("visibility", p.visibility.is_some()),
                ("status", p.status.is_some()),
            ];
            patch_follows_mask(mask, convert::CHALLENGE_UPDATABLE, &set, |f| match f {
                "title" => !c.title.is_empty(),
                "description" => !c.description.is_empty(),
                "themes" => !c.themes.is_empty(),
                "visibility" => c.visibility != 0,
                _ => c.status != 0,
            });
        }
        Err(e) => assert_rejection(&e, &["challenge", "update_mask"]),
    }
}

fn update_initiative(r: &pb::UpdateInitiativeRequest) {
    let i = match convert::required("initiative", r.initiative.as_ref()) {
        Ok(i) => i,
        Err(e) => return assert_rejection(&e, &["initiative"]),
    };
    name_and_etag(parse::initiative("initiative.name", &i.name).map(initiative_round_trips), &i.etag, "initiative");
    let mask = r.update_mask.as_ref();
    match convert::initiative_patch(i, mask) {
        Ok(p) => {
            p.title.iter().for_each(assert_text);
            p.description.iter().for_each(assert_text);
            p.challenges.iter().flatten().for_each(|c| challenge_round_trips(*c));
            let set = [
                ("title", p.title.is_some()),
                ("description", p.description.is_some()),
                ("status", p.status.is_some()),
                ("challenges", p.challenges.is_some()),
                ("visibility", p.visibility.is_some()),
            ];
            patch_follows_mask(mask, convert::INITIATIVE_UPDATABLE, &set, |f| match f {
                "title" => !i.title.is_empty(),
                "description" => !i.description.is_empty(),
                "status" => i.status != 0,
                "challenges" => !i.challenges.is_empty(),
                _ => i.visibility != 0,
            });
        }
        Err(e) => assert_rejection(&e, &["initiative", "update_mask"]),
    }
}

fn update_project_idea(r: &pb::UpdateProjectIdeaRequest) {
    let i = match convert::required("project_idea", r.project_idea.as_ref()) {
        Ok(i) => i,
        Err(e) => return assert_rejection(&e, &["project_idea"]),
    };
    let name = parse::project_idea("project_idea.name", &i.name)
        .map(|n| assert_eq!(parse::project_idea("n", &names::project_idea(n.municipality, n.id)).ok(), Some(n)));
    name_and_etag(name, &i.etag, "project_idea");
    let mask = r.update_mask.as_ref();
    match convert::project_idea_patch(i, mask) {
        Ok(p) => {
            p.title.iter().for_each(assert_text);
            p.description.iter().for_each(assert_text);
            p.challenges.iter().flatten().for_each(|c| challenge_round_trips(*c));
            p.initiatives.iter().flatten().for_each(|c| initiative_round_trips(*c));
            p.partners.iter().flatten().for_each(|m| municipality_round_trips(*m));
            let set = [
                ("title", p.title.is_some()),
                ("description", p.description.is_some()),
                ("stage", p.stage.is_some()),
                ("challenges", p.challenges.is_some()),
                ("initiatives", p.initiatives.is_some()),
                ("partners", p.partners.is_some()),
                ("visibility", p.visibility.is_some()),
            ];
            patch_follows_mask(mask, convert::PROJECT_IDEA_UPDATABLE, &set, |f| match f {
                "title" => !i.title.is_empty(),
                "description" => !i.description.is_empty(),
                "stage" => i.stage != 0,
                "challenges" => !i.challenges.is_empty(),
                "initiatives" => !i.initiatives.is_empty(),
                "partners" => !i.partners.is_empty(),
                _ => i.visibility != 0,
            });
        }
        Err(e) => assert_rejection(&e, &["project_idea", "update_mask"]),
    }
}

fn update_recommendation(r: &pb::UpdateRecommendationRequest) {
    let x = match convert::required("recommendation", r.recommendation.as_ref()) {
        Ok(x) => x,
        Err(e) => return assert_rejection(&e, &["recommendation"]),
    };
    let name = parse::recommendation("recommendation.name", &x.name)
        .map(|n| assert_eq!(parse::recommendation("n", &names::recommendation(n.municipality, n.id)).ok(), Some(n)));
    name_and_etag(name, &x.etag, "recommendation");
    let mask = r.update_mask.as_ref();
    match convert::recommendation_patch(x, mask) {
        Ok(p) => {
            p.body.iter().for_each(assert_text);
            p.author_initiative.iter().flatten().for_each(|i| initiative_round_trips(*i));
            if let Some(a) = &p.author_initiative {
                assert_eq!(a.is_some(), !x.author_initiative.is_empty());
            }
            let set = [
                ("kind", p.kind.is_some()),
                ("body", p.body.is_some()),
                ("author_initiative", p.author_initiative.is_some()),
            ];
            patch_follows_mask(mask, convert::RECOMMENDATION_UPDATABLE, &set, |f| match f {
                "kind" => x.kind != 0,
                "body" => !x.body.is_empty(),
                _ => !x.author_initiative.is_empty(),
            });
        }
        Err(e) => assert_rejection(&e, &["recommendation", "update_mask"]),
    }
}

/// The fields a patch sets are exactly the mask's (AIP-134: `*` is every
/// updatable field, no mask is the populated ones).
fn patch_follows_mask(
    mask: Option<&FieldMask>,
    updatable: &[&str],
    set: &[(&str, bool)],
    populated: impl Fn(&str) -> bool,
) {
    let wanted = |f: &str| match mask {
        Some(m) if m.paths.iter().any(|p| p == "*") => true,
        Some(m) if !m.paths.is_empty() => m.paths.iter().any(|p| p == f),
        _ => populated(f),
    };
    assert_eq!(set.len(), updatable.len());
    assert!(set.iter().any(|(_, s)| *s), "an accepted patch changes nothing");
    for (field, is_set) in set {
        assert_eq!(*is_set, wanted(field), "patch field `{field}` against mask {mask:?}");
    }
}

fn parent_and_request_id(parent: &str, request_id: &str) {
    match parse::municipality("parent", parent) {
        Ok(m) => municipality_round_trips(m),
        Err(e) => assert_rejection(&e, &["parent"]),
    }
    match RequestId::parse(request_id) {
        Ok(rid) => {
            assert_eq!(rid.is_some(), !request_id.is_empty());
            assert!(request_id.len() <= 64 && request_id.bytes().all(|b| b.is_ascii_graphic()));
        }
        Err(e) => assert_rejection(&e, &["request_id"]),
    }
}

fn name_and_etag(name: peerlab_core::Result<()>, etag: &str, message: &str) {
    if let Err(e) = name {
        assert_rejection(&e, &[&format!("{message}.name")]);
    }
    match convert::etag_in(&format!("{message}.etag"), etag) {
        Ok(Some(t)) => {
            assert!(t.version() > 0);
            assert_eq!(Etag::parse("e", &t.to_string()).ok(), Some(Some(t)));
        }
        Ok(None) => assert!(etag.trim().trim_matches('"').is_empty()),
        Err(e) => assert_rejection(&e, &[&format!("{message}.etag")]),
    }
}

fn visibility_defaults_to_shared(sent: i32, got: Visibility) {
    if sent == 0 {
        assert_eq!(got, Visibility::Shared);
    }
}

fn municipality_round_trips(m: peerlab_core::domain::MunicipalityId) {
    assert!(m.get() > 0);
    assert_eq!(parse::municipality("m", &names::municipality(m)).ok(), Some(m));
}

fn working_group_round_trips(g: peerlab_core::domain::WorkingGroupId) {
    assert!(g.get() > 0);
    assert_eq!(parse::working_group("g", &names::working_group(g)).ok(), Some(g));
}

fn challenge_round_trips(c: ItemRef<peerlab_core::domain::ChallengeId>) {
    assert_eq!(parse::challenge("c", &names::challenge(c.municipality, c.id)).ok(), Some(c));
}

fn initiative_round_trips(i: ItemRef<peerlab_core::domain::InitiativeId>) {
    assert_eq!(parse::initiative("i", &names::initiative(i.municipality, i.id)).ok(), Some(i));
}

fn target_round_trips(t: Target) {
    assert_eq!(parse::target("t", &convert::target(t)).ok(), Some(t));
}
