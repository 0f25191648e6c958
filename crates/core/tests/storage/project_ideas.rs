//! Project ideas: links to the group's challenges and initiatives, partners,
//! one-step stages, idempotency, reading scope, filters.

use peerlab_core::Error;
use peerlab_core::domain::*;
use peerlab_core::model::*;
use peerlab_core::store::{RequestId, Store};
use peerlab_testkit::{Backend, TestDb, coordinator, country_admin, observer, seed, staff};

fn new(group: WorkingGroupId, title: &str, visibility: Visibility) -> NewProjectIdea {
    NewProjectIdea {
        working_group: group,
        title: Title::parse("title", title).expect("title"),
        description: Description::parse("description", "A joint e-archive for three cities").expect("description"),
        challenges: Vec::new(),
        initiatives: Vec::new(),
        partners: Vec::new(),
        visibility,
    }
}

async fn challenge(
    s: &Store,
    m: MunicipalityId,
    country: &str,
    g: WorkingGroupId,
    visibility: Visibility,
) -> ItemRef<ChallengeId> {
    let input = NewChallenge {
        working_group: g,
        title: Title::parse("title", "City archives are not compatible").expect("title"),
        description: Description::parse("description", "").expect("description"),
        themes: Vec::new(),
        visibility,
    };
    let c = s.create_challenge(&staff(country, m), m, input, None).await.expect("challenge");
    ItemRef { municipality: m, id: c.id }
}

async fn initiative(
    s: &Store,
    m: MunicipalityId,
    country: &str,
    g: WorkingGroupId,
    visibility: Visibility,
) -> ItemRef<InitiativeId> {
    let input = NewInitiative {
        working_group: g,
        title: Title::parse("title", "Scanning the archive").expect("title"),
        description: Description::parse("description", "").expect("description"),
        status: InitiativeStatus::InProgress,
        challenges: Vec::new(),
        visibility,
    };
    let i = s.create_initiative(&staff(country, m), m, input, None).await.expect("initiative");
    ItemRef { municipality: m, id: i.id }
}

fn r(i: &ProjectIdea) -> ItemRef<ProjectIdeaId> {
    ItemRef { municipality: i.owner.municipality, id: i.id }
}

fn field_of<T: std::fmt::Debug>(res: &Result<T, Error>) -> Option<String> {
    match res {
        Err(Error::InvalidInput { field, .. }) => Some(field.clone()),
        _ => None,
    }
}

async fn create_read_and_scope(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let banja_luka = seed::municipality(s, "Banja Luka", "BA").await;
    let nis = seed::municipality(s, "Niš", "RS").await;
    let tbilisi = seed::municipality(s, "Tbilisi", "GE").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA"), (nis, "RS")]).await;
    let p = staff("BA", mostar);
    let shared =
        s.create_project_idea(&p, mostar, new(g, "e-archive", Visibility::Shared), None).await.expect("create");
    assert_eq!(shared.stage, ProjectStage::Idea);
    let draft = s.create_project_idea(&p, mostar, new(g, "open data", Visibility::Draft), None).await.expect("draft");

    assert_eq!(s.get_project_idea(&staff("RS", nis), r(&shared)).await.expect("peer reads"), shared);
    assert!(matches!(s.get_project_idea(&staff("RS", nis), r(&draft)).await, Err(Error::PermissionDenied(_))));
    assert!(s.get_project_idea(&country_admin("BA"), r(&draft)).await.is_ok());
    assert!(matches!(s.get_project_idea(&observer("BA"), r(&draft)).await, Err(Error::PermissionDenied(_))));
    for outsider in [staff("GE", tbilisi), staff("BA", banja_luka)] {
        assert!(
            matches!(s.get_project_idea(&outsider, r(&shared)).await, Err(Error::PermissionDenied(_))),
            "{outsider:?}"
        );
        assert!(
            matches!(s.get_project_idea(&outsider, r(&draft)).await, Err(Error::PermissionDenied(_))),
            "{outsider:?}"
        );
    }
    let all = &PageRequest::default();
    let count = |p| async move { s.list_project_ideas(&p, None, all).await.expect("list").items.len() };
    assert_eq!(count(staff("GE", tbilisi)).await, 0);
    assert_eq!(count(staff("BA", banja_luka)).await, 0);
    assert_eq!(count(staff("RS", nis)).await, 1);
    assert_eq!(count(country_admin("BA")).await, 2);
    assert_eq!(count(coordinator()).await, 2);
    let ghost = ItemRef { municipality: mostar, id: ProjectIdeaId::parse("id", 999).expect("id") };
    assert!(matches!(s.get_project_idea(&p, ghost).await, Err(Error::NotFound(_))));
    assert!(matches!(s.get_project_idea(&staff("RS", nis), ghost).await, Err(Error::PermissionDenied(_))));
}

async fn denied_writes_change_nothing(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let nis = seed::municipality(s, "Niš", "RS").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA"), (nis, "RS")]).await;
    let events = seed::count(s, "events").await;
    let mut input = new(g, "x", Visibility::Shared);
    input.partners = vec![nis];
    for p in [staff("RS", nis), country_admin("RS"), observer("BA"), coordinator()] {
        let res = s.create_project_idea(&p, mostar, input.clone(), None).await;
        assert!(matches!(res, Err(Error::PermissionDenied(_))), "{p:?}: {res:?}");
    }
    // Bad input after the request id was claimed: the claim goes too, so the
    // corrected retry with the same id is a fresh create.
    let rid = RequestId::parse("retry-me").expect("rid");
    let mut bad = input.clone();
    bad.partners = vec![nis, mostar];
    let res = s.create_project_idea(&staff("BA", mostar), mostar, bad, rid.as_ref()).await;
    assert_eq!(field_of(&res).as_deref(), Some("project_idea.partners[1]"), "{res:?}");
    assert_eq!(seed::count(s, "project_ideas").await, 0);
    assert_eq!(seed::count(s, "project_idea_partners").await, 0);
    assert_eq!(seed::count(s, "request_ids").await, 0);
    assert_eq!(seed::count(s, "events").await, events);

    let idea = s.create_project_idea(&staff("BA", mostar), mostar, input, rid.as_ref()).await.expect("create");
    let ghost = ItemRef { municipality: mostar, id: ProjectIdeaId::parse("id", 999).expect("id") };
    let step = || ProjectIdeaPatch { stage: Some(ProjectStage::Consolidated), ..Default::default() };
    assert!(matches!(
        s.update_project_idea(&staff("RS", nis), ghost, step(), None).await,
        Err(Error::PermissionDenied(_))
    ));
    assert!(matches!(
        s.update_project_idea(&staff("RS", nis), r(&idea), step(), None).await,
        Err(Error::PermissionDenied(_))
    ));
    assert!(matches!(s.archive_project_idea(&staff("RS", nis), r(&idea), None).await, Err(Error::PermissionDenied(_))));
    assert_eq!(seed::count(s, "events").await, events + 1);
}

async fn links_and_partners_stay_in_the_group(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let nis = seed::municipality(s, "Niš", "RS").await;
    let skopje = seed::municipality(s, "Skopje", "MK").await;
    let tbilisi = seed::municipality(s, "Tbilisi", "GE").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA"), (nis, "RS"), (skopje, "MK")]).await;
    let other = seed::group(s, "Mobility", &[(mostar, "BA"), (tbilisi, "GE")]).await;
    let p = staff("BA", mostar);

    let res = s.create_project_idea(&staff("GE", tbilisi), tbilisi, new(g, "x", Visibility::Shared), None).await;
    assert_eq!(field_of(&res).as_deref(), Some("project_idea.working_group"), "{res:?}");

    let peer_challenge = challenge(s, nis, "RS", g, Visibility::Shared).await;
    let peer_draft_challenge = challenge(s, nis, "RS", g, Visibility::Draft).await;
    let foreign_challenge = challenge(s, tbilisi, "GE", other, Visibility::Shared).await;
    let peer_initiative = initiative(s, skopje, "MK", g, Visibility::Shared).await;
    let peer_draft_initiative = initiative(s, skopje, "MK", g, Visibility::Draft).await;
    let foreign_initiative = initiative(s, mostar, "BA", other, Visibility::Shared).await;

    for (bad, field) in [
        (
            ProjectIdeaPatch { challenges: Some(vec![peer_draft_challenge]), ..Default::default() },
            "project_idea.challenges[0]",
        ),
        (
            ProjectIdeaPatch { challenges: Some(vec![peer_challenge, foreign_challenge]), ..Default::default() },
            "project_idea.challenges[1]",
        ),
        (
            ProjectIdeaPatch { initiatives: Some(vec![peer_draft_initiative]), ..Default::default() },
            "project_idea.initiatives[0]",
        ),
        (
            ProjectIdeaPatch { initiatives: Some(vec![foreign_initiative]), ..Default::default() },
            "project_idea.initiatives[0]",
        ),
        (ProjectIdeaPatch { partners: Some(vec![tbilisi]), ..Default::default() }, "project_idea.partners[0]"),
        (ProjectIdeaPatch { partners: Some(vec![nis, mostar]), ..Default::default() }, "project_idea.partners[1]"),
    ] {
        let mut input = new(g, "joint e-archive", Visibility::Shared);
        input.challenges = bad.challenges.clone().unwrap_or_default();
        input.initiatives = bad.initiatives.clone().unwrap_or_default();
        input.partners = bad.partners.clone().unwrap_or_default();
        let res = s.create_project_idea(&p, mostar, input, None).await;
        assert_eq!(field_of(&res).as_deref(), Some(field), "{res:?}");
    }
    assert_eq!(seed::count(s, "project_ideas").await, 0);

    let mut input = new(g, "joint e-archive", Visibility::Shared);
    input.challenges = vec![peer_challenge];
    input.initiatives = vec![peer_initiative];
    input.partners = vec![nis, skopje, nis];
    let idea = s.create_project_idea(&p, mostar, input, None).await.expect("create");
    assert_eq!(idea.challenges, vec![peer_challenge]);
    assert_eq!(idea.initiatives, vec![peer_initiative]);
    assert_eq!(idea.partners, vec![nis, skopje]);
    assert_eq!(s.get_project_idea(&staff("MK", skopje), r(&idea)).await.expect("partner reads"), idea);

    // Updates check new links the same way, and replace only what they name.
    let res = s
        .update_project_idea(
            &p,
            r(&idea),
            ProjectIdeaPatch { partners: Some(vec![tbilisi]), ..Default::default() },
            None,
        )
        .await;
    assert_eq!(field_of(&res).as_deref(), Some("project_idea.partners[0]"), "{res:?}");
    let res = s
        .update_project_idea(
            &p,
            r(&idea),
            ProjectIdeaPatch { initiatives: Some(vec![peer_draft_initiative]), ..Default::default() },
            None,
        )
        .await;
    assert_eq!(field_of(&res).as_deref(), Some("project_idea.initiatives[0]"), "{res:?}");
    let fewer = s
        .update_project_idea(
            &p,
            r(&idea),
            ProjectIdeaPatch { partners: Some(vec![skopje]), ..Default::default() },
            None,
        )
        .await
        .expect("partners");
    assert_eq!(fewer.partners, vec![skopje]);
    assert_eq!(fewer.challenges, vec![peer_challenge]);
    assert_eq!(fewer.initiatives, vec![peer_initiative]);
}

async fn stages_move_one_step_forward(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA")]).await;
    let p = staff("BA", mostar);
    let idea = s.create_project_idea(&p, mostar, new(g, "x", Visibility::Draft), None).await.expect("create");
    let to = |st| ProjectIdeaPatch { stage: Some(st), ..Default::default() };
    let jump = s.update_project_idea(&p, r(&idea), to(ProjectStage::SolutionDefined), None).await;
    assert!(matches!(jump, Err(Error::InvalidTransition { what: "project_idea.stage", .. })), "{jump:?}");
    let mut etag = idea.meta.etag();
    for st in [ProjectStage::Consolidated, ProjectStage::SolutionDefined, ProjectStage::ProjectDefined] {
        let moved = s.update_project_idea(&p, r(&idea), to(st), Some(etag)).await.expect("one step");
        assert_eq!(moved.stage, st);
        etag = moved.meta.etag();
    }
    let back = s.update_project_idea(&p, r(&idea), to(ProjectStage::Idea), None).await;
    assert!(matches!(back, Err(Error::InvalidTransition { .. })), "{back:?}");
    let stale = s.update_project_idea(&p, r(&idea), ProjectIdeaPatch::default(), Some(idea.meta.etag())).await;
    assert!(matches!(stale, Err(Error::StaleEtag(_))), "{stale:?}");
    let shared = s
        .update_project_idea(
            &p,
            r(&idea),
            ProjectIdeaPatch { visibility: Some(Visibility::Shared), ..Default::default() },
            None,
        )
        .await
        .expect("share");
    let unshare = s
        .update_project_idea(
            &p,
            r(&idea),
            ProjectIdeaPatch { visibility: Some(Visibility::Draft), ..Default::default() },
            None,
        )
        .await;
    assert!(matches!(unshare, Err(Error::InvalidTransition { what: "visibility", .. })), "{unshare:?}");

    let archived = s.archive_project_idea(&p, r(&idea), Some(shared.meta.etag())).await.expect("archive");
    assert!(archived.meta.archive_time.is_some());
    let events = seed::count(s, "events").await;
    assert_eq!(s.archive_project_idea(&coordinator(), r(&idea), None).await.expect("twice"), archived);
    assert_eq!(seed::count(s, "events").await, events);
    let res = s
        .update_project_idea(
            &p,
            r(&idea),
            ProjectIdeaPatch { title: Some(Title::parse("t", "y").expect("t")), ..Default::default() },
            None,
        )
        .await;
    assert!(matches!(res, Err(Error::FailedPrecondition(_))), "{res:?}");
    let kinds: Vec<String> =
        s.list_events(&p, &PageRequest::default()).await.expect("events").items.into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds.first().map(String::as_str), Some("project_idea.created"));
    assert_eq!(kinds.iter().filter(|k| *k == "project_idea.updated").count(), 4);
    assert_eq!(kinds.last().map(String::as_str), Some("project_idea.archived"));
    assert_eq!(kinds.len(), 6);
}

async fn creates_are_idempotent(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let nis = seed::municipality(s, "Niš", "RS").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA"), (nis, "RS")]).await;
    let p = staff("BA", mostar);
    let mut input = new(g, "x", Visibility::Shared);
    input.partners = vec![nis];
    let rid = RequestId::parse("idea-1").expect("rid");
    let first = s.create_project_idea(&p, mostar, input.clone(), rid.as_ref()).await.expect("first");
    let again = s.create_project_idea(&p, mostar, input.clone(), rid.as_ref()).await.expect("again");
    assert_eq!(first, again);
    let other = s.create_project_idea(&p, mostar, new(g, "y", Visibility::Shared), rid.as_ref()).await;
    assert!(matches!(other, Err(Error::RequestIdReused(_))), "{other:?}");
    let conc = RequestId::parse("conc").expect("rid");
    let concurrent =
        futures::future::join_all((0..10).map(|_| s.create_project_idea(&p, mostar, input.clone(), conc.as_ref())))
            .await;
    let ids: std::collections::HashSet<_> = concurrent.into_iter().map(|r| r.expect("concurrent create").id).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(seed::count(s, "project_ideas").await, 2);
    assert_eq!(seed::count(s, "project_idea_partners").await, 2);
    assert_eq!(seed::count(s, "events").await, 2);
}

async fn filters_select_and_reject(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let nis = seed::municipality(s, "Niš", "RS").await;
    let skopje = seed::municipality(s, "Skopje", "MK").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA"), (nis, "RS"), (skopje, "MK")]).await;
    let mut with_nis = new(g, "a", Visibility::Shared);
    with_nis.partners = vec![nis];
    let a = s.create_project_idea(&staff("BA", mostar), mostar, with_nis, None).await.expect("a");
    s.update_project_idea(
        &staff("BA", mostar),
        r(&a),
        ProjectIdeaPatch { stage: Some(ProjectStage::Consolidated), ..Default::default() },
        None,
    )
    .await
    .expect("step");
    let mut with_skopje = new(g, "b", Visibility::Shared);
    with_skopje.partners = vec![skopje];
    s.create_project_idea(&staff("RS", nis), nis, with_skopje, None).await.expect("b");
    let q = |f: &str| PageRequest { filter: f.into(), ..Default::default() };
    let n = |f: String| async move { s.list_project_ideas(&coordinator(), None, &q(&f)).await.expect(&f).items.len() };
    assert_eq!(n("stage = PROJECT_STAGE_CONSOLIDATED".into()).await, 1);
    assert_eq!(n("stage = idea".into()).await, 1);
    assert_eq!(n(format!("partner = \"municipalities/{nis}\"")).await, 1);
    assert_eq!(n(format!("partner != \"municipalities/{nis}\"")).await, 1);
    assert_eq!(n(format!("partner = \"municipalities/{mostar}\"")).await, 0);
    assert_eq!(n(r#"country = "BA""#.into()).await, 1);
    for bad in ["stage = done", "partner = 3", "partner > \"municipalities/1\"", "theme = x"] {
        assert!(
            matches!(s.list_project_ideas(&coordinator(), None, &q(bad)).await, Err(Error::InvalidInput { .. })),
            "{bad}"
        );
    }
}

peerlab_testkit::on_both_backends!(
    create_read_and_scope,
    denied_writes_change_nothing,
    links_and_partners_stay_in_the_group,
    stages_move_one_step_forward,
    creates_are_idempotent,
    filters_select_and_reject,
);
