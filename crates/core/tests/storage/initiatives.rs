//! Initiatives: ownership, links to the group's challenges, status edges,
//! idempotency, reading scope, filters.

use peerlab_core::Error;
use peerlab_core::domain::*;
use peerlab_core::model::*;
use peerlab_core::store::{RequestId, Store};
use peerlab_testkit::{Backend, TestDb, coordinator, country_admin, observer, seed, staff};

fn new(group: WorkingGroupId, title: &str, visibility: Visibility) -> NewInitiative {
    NewInitiative {
        working_group: group,
        title: Title::parse("title", title).expect("title"),
        description: Description::parse("description", "An e-services help desk in the library").expect("description"),
        status: InitiativeStatus::Planned,
        challenges: Vec::new(),
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
        title: Title::parse("title", "Low digital literacy").expect("title"),
        description: Description::parse("description", "").expect("description"),
        themes: Vec::new(),
        visibility,
    };
    let c = s.create_challenge(&staff(country, m), m, input, None).await.expect("challenge");
    ItemRef { municipality: m, id: c.id }
}

fn r(i: &Initiative) -> ItemRef<InitiativeId> {
    ItemRef { municipality: i.owner.municipality, id: i.id }
}

fn field_of<T: std::fmt::Debug>(res: &Result<T, Error>) -> Option<(String, String)> {
    match res {
        Err(Error::InvalidInput { field, reason }) => Some((field.clone(), reason.clone())),
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
    seed::group(s, "Mobility", &[(banja_luka, "BA"), (tbilisi, "GE")]).await;

    let shared = s
        .create_initiative(&staff("BA", mostar), mostar, new(g, "Help desk", Visibility::Shared), None)
        .await
        .expect("create");
    assert_eq!(shared.status, InitiativeStatus::Planned);
    assert_eq!(shared.owner.country.as_str(), "BA");
    let draft = s
        .create_initiative(&staff("BA", mostar), mostar, new(g, "Archive scan", Visibility::Draft), None)
        .await
        .expect("draft");

    // A peer abroad in the group reads shared content, not drafts.
    assert_eq!(s.get_initiative(&staff("RS", nis), r(&shared)).await.expect("peer reads"), shared);
    assert!(matches!(s.get_initiative(&staff("RS", nis), r(&draft)).await, Err(Error::PermissionDenied(_))));
    // The owner's country admin reads drafts; an observer does not.
    assert!(s.get_initiative(&country_admin("BA"), r(&draft)).await.is_ok());
    assert!(matches!(s.get_initiative(&observer("BA"), r(&draft)).await, Err(Error::PermissionDenied(_))));
    // Outside the group nothing is readable, not even from the owner's own country.
    for outsider in [staff("GE", tbilisi), staff("BA", banja_luka)] {
        assert!(
            matches!(s.get_initiative(&outsider, r(&shared)).await, Err(Error::PermissionDenied(_))),
            "{outsider:?}"
        );
        assert!(
            matches!(s.get_initiative(&outsider, r(&draft)).await, Err(Error::PermissionDenied(_))),
            "{outsider:?}"
        );
    }
    let all = &PageRequest::default();
    let count = |p| async move { s.list_initiatives(&p, None, all).await.expect("list").items.len() };
    assert_eq!(count(staff("GE", tbilisi)).await, 0);
    assert_eq!(count(staff("BA", banja_luka)).await, 0);
    assert_eq!(count(staff("RS", nis)).await, 1);
    assert_eq!(count(observer("BA")).await, 1);
    assert_eq!(count(country_admin("BA")).await, 2);
    assert_eq!(count(staff("BA", mostar)).await, 2);
    assert_eq!(count(coordinator()).await, 2);
    assert_eq!(s.list_initiatives(&staff("RS", nis), Some(nis), all).await.expect("parent").items.len(), 0);
    // Missing: NOT_FOUND for the owner, denied for others.
    let ghost = ItemRef { municipality: mostar, id: InitiativeId::parse("id", 999).expect("id") };
    assert!(matches!(s.get_initiative(&staff("BA", mostar), ghost).await, Err(Error::NotFound(_))));
    assert!(matches!(s.get_initiative(&staff("RS", nis), ghost).await, Err(Error::PermissionDenied(_))));
    // The name must match the owner.
    let misnamed = ItemRef { municipality: nis, id: shared.id };
    assert!(s.get_initiative(&coordinator(), misnamed).await.is_err());
}

async fn writing_never_crosses_a_country(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let nis = seed::municipality(s, "Niš", "RS").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA"), (nis, "RS")]).await;
    let c = challenge(s, nis, "RS", g, Visibility::Shared).await;
    let events = seed::count(s, "events").await;
    let mut input = new(g, "x", Visibility::Shared);
    input.challenges = vec![c];
    for p in [staff("RS", nis), country_admin("RS"), observer("BA"), coordinator()] {
        let res = s.create_initiative(&p, mostar, input.clone(), None).await;
        assert!(matches!(res, Err(Error::PermissionDenied(_))), "{p:?}: {res:?}");
    }
    assert_eq!(seed::count(s, "initiatives").await, 0);
    assert_eq!(seed::count(s, "initiative_challenges").await, 0);
    assert_eq!(seed::count(s, "events").await, events);

    let mine = s
        .create_initiative(&country_admin("BA"), mostar, input, None)
        .await
        .expect("admin writes for its municipality");
    assert_eq!(seed::count(s, "events").await, events + 1);
    // Capability is decided before existence: a peer learns nothing.
    let ghost = ItemRef { municipality: mostar, id: InitiativeId::parse("id", 999).expect("id") };
    let patch = || InitiativePatch { title: Some(Title::parse("t", "y").expect("t")), ..Default::default() };
    assert!(matches!(
        s.update_initiative(&staff("RS", nis), ghost, patch(), None).await,
        Err(Error::PermissionDenied(_))
    ));
    assert!(matches!(
        s.update_initiative(&staff("RS", nis), r(&mine), patch(), None).await,
        Err(Error::PermissionDenied(_))
    ));
    assert!(matches!(s.archive_initiative(&staff("RS", nis), r(&mine), None).await, Err(Error::PermissionDenied(_))));
    assert!(matches!(s.update_initiative(&staff("BA", mostar), ghost, patch(), None).await, Err(Error::NotFound(_))));
    assert_eq!(s.get_initiative(&coordinator(), r(&mine)).await.expect("get").meta.version, 1);
    assert_eq!(seed::count(s, "events").await, events + 1);
}

async fn only_members_post_and_links_stay_in_the_group(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let nis = seed::municipality(s, "Niš", "RS").await;
    let tbilisi = seed::municipality(s, "Tbilisi", "GE").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA"), (nis, "RS")]).await;
    let other = seed::group(s, "Mobility", &[(mostar, "BA"), (tbilisi, "GE")]).await;
    let p = staff("BA", mostar);

    let res = s.create_initiative(&staff("GE", tbilisi), tbilisi, new(g, "x", Visibility::Shared), None).await;
    assert_eq!(field_of(&res).map(|f| f.0).as_deref(), Some("initiative.working_group"), "{res:?}");

    let peer_shared = challenge(s, nis, "RS", g, Visibility::Shared).await;
    let peer_draft = challenge(s, nis, "RS", g, Visibility::Draft).await;
    let own_draft = challenge(s, mostar, "BA", g, Visibility::Draft).await;
    let elsewhere = challenge(s, tbilisi, "GE", other, Visibility::Shared).await;
    let missing = ItemRef { municipality: nis, id: ChallengeId::parse("id", 999).expect("id") };
    let misnamed = ItemRef { municipality: tbilisi, id: peer_shared.id };
    let with = |links: Vec<ItemRef<ChallengeId>>| {
        let mut i = new(g, "Help desk", Visibility::Shared);
        i.challenges = links;
        i
    };
    let mut reasons = Vec::new();
    for bad in [peer_draft, missing, misnamed, elsewhere] {
        let res = s.create_initiative(&p, mostar, with(vec![peer_shared, bad]), None).await;
        let (field, reason) = field_of(&res).unwrap_or_else(|| panic!("{bad:?}: {res:?}"));
        assert_eq!(field, "initiative.challenges[1]");
        reasons.push(reason);
    }
    // A peer's draft is indistinguishable from a missing challenge.
    assert!(reasons.windows(2).all(|w| w[0] == w[1]), "{reasons:?}");
    assert_eq!(seed::count(s, "initiatives").await, 0);

    let ok =
        s.create_initiative(&p, mostar, with(vec![own_draft, peer_shared, peer_shared]), None).await.expect("links");
    let mut linked = ok.challenges.clone();
    linked.sort_by_key(|c| c.id);
    assert_eq!(linked, vec![peer_shared, own_draft]);
    assert_eq!(s.get_initiative(&staff("RS", nis), r(&ok)).await.expect("get").challenges.len(), 2);
    // Updates check new links the same way.
    let relink = |c| InitiativePatch { challenges: Some(vec![c]), ..Default::default() };
    let res = s.update_initiative(&p, r(&ok), relink(peer_draft), None).await;
    assert_eq!(field_of(&res).map(|f| f.0).as_deref(), Some("initiative.challenges[0]"), "{res:?}");
    let relinked = s.update_initiative(&p, r(&ok), relink(peer_shared), None).await.expect("relink");
    assert_eq!(relinked.challenges, vec![peer_shared]);
}

async fn status_and_visibility_move_along_their_edges(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA")]).await;
    let p = staff("BA", mostar);
    let mut stopped = new(g, "x", Visibility::Draft);
    stopped.status = InitiativeStatus::Discontinued;
    let res = s.create_initiative(&p, mostar, stopped, None).await;
    assert_eq!(field_of(&res).map(|f| f.0).as_deref(), Some("initiative.status"), "{res:?}");
    let mut done = new(g, "done", Visibility::Shared);
    done.status = InitiativeStatus::Implemented;
    assert_eq!(
        s.create_initiative(&p, mostar, done, None).await.expect("implemented").status,
        InitiativeStatus::Implemented
    );

    let i = s.create_initiative(&p, mostar, new(g, "x", Visibility::Draft), None).await.expect("create");
    let to = |st| InitiativePatch { status: Some(st), ..Default::default() };
    let jump = s.update_initiative(&p, r(&i), to(InitiativeStatus::Implemented), None).await;
    assert!(matches!(jump, Err(Error::InvalidTransition { what: "initiative.status", .. })), "{jump:?}");
    let going = s
        .update_initiative(&p, r(&i), to(InitiativeStatus::InProgress), Some(i.meta.etag()))
        .await
        .expect("in progress");
    assert_eq!(going.meta.version, 2);
    let stale = s.update_initiative(&p, r(&i), to(InitiativeStatus::Implemented), Some(i.meta.etag())).await;
    assert!(matches!(stale, Err(Error::StaleEtag(_))), "{stale:?}");
    let shared = s
        .update_initiative(
            &p,
            r(&i),
            InitiativePatch { visibility: Some(Visibility::Shared), ..Default::default() },
            Some(going.meta.etag()),
        )
        .await
        .expect("share");
    let unshare = s
        .update_initiative(
            &p,
            r(&i),
            InitiativePatch { visibility: Some(Visibility::Draft), ..Default::default() },
            None,
        )
        .await;
    assert!(matches!(unshare, Err(Error::InvalidTransition { what: "visibility", .. })), "{unshare:?}");
    let implemented = s
        .update_initiative(&p, r(&i), to(InitiativeStatus::Implemented), Some(shared.meta.etag()))
        .await
        .expect("implemented");
    assert_eq!(implemented.status, InitiativeStatus::Implemented);

    let archived = s.archive_initiative(&coordinator(), r(&i), Some(implemented.meta.etag())).await.expect("archive");
    assert!(archived.meta.archive_time.is_some());
    let events = seed::count(s, "events").await;
    let again = s.archive_initiative(&p, r(&i), None).await.expect("archive twice");
    assert_eq!(again, archived);
    assert_eq!(seed::count(s, "events").await, events, "a second archive appends nothing");
    let res = s
        .update_initiative(
            &p,
            r(&i),
            InitiativePatch { title: Some(Title::parse("t", "y").expect("t")), ..Default::default() },
            None,
        )
        .await;
    assert!(matches!(res, Err(Error::FailedPrecondition(_))), "{res:?}");
    // Archived initiatives leave default lists but stay as tombstones in updated-since lists.
    assert_eq!(s.list_initiatives(&p, None, &PageRequest::default()).await.expect("list").items.len(), 1);
    let since = PageRequest { filter: r#"update_time > "2000-01-01T00:00:00Z""#.into(), ..Default::default() };
    assert_eq!(s.list_initiatives(&p, None, &since).await.expect("list").items.len(), 2);

    let kinds: Vec<String> = s
        .list_events(&coordinator(), &PageRequest::default())
        .await
        .expect("events")
        .items
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "initiative.created",
            "initiative.created",
            "initiative.updated",
            "initiative.updated",
            "initiative.updated",
            "initiative.archived"
        ]
    );
}

async fn concurrent_updates_with_one_etag_let_one_through(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA")]).await;
    let p = staff("BA", mostar);
    let i = s.create_initiative(&p, mostar, new(g, "x", Visibility::Shared), None).await.expect("create");
    let updates = (0..8).map(|n| {
        let patch =
            InitiativePatch { title: Some(Title::parse("t", &format!("title {n}")).expect("t")), ..Default::default() };
        s.update_initiative(&p, r(&i), patch, Some(i.meta.etag()))
    });
    let results = futures::future::join_all(updates).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    assert!(results.iter().all(|r| r.is_ok() || matches!(r, Err(Error::StaleEtag(_)))), "{results:?}");
    assert_eq!(s.get_initiative(&p, r(&i)).await.expect("get").meta.version, 2);
    assert_eq!(seed::count(s, "events").await, 2);
}

async fn creates_are_idempotent(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA")]).await;
    let p = staff("BA", mostar);
    let rid = RequestId::parse("7f1d-retry").expect("rid");
    let first = s.create_initiative(&p, mostar, new(g, "x", Visibility::Shared), rid.as_ref()).await.expect("first");
    let again = s.create_initiative(&p, mostar, new(g, "x", Visibility::Shared), rid.as_ref()).await.expect("again");
    assert_eq!(first, again);
    let other = s.create_initiative(&p, mostar, new(g, "y", Visibility::Shared), rid.as_ref()).await;
    assert!(matches!(other, Err(Error::RequestIdReused(_))), "{other:?}");
    let conc = RequestId::parse("conc").expect("rid");
    let concurrent = futures::future::join_all(
        (0..10).map(|_| s.create_initiative(&p, mostar, new(g, "z", Visibility::Shared), conc.as_ref())),
    )
    .await;
    let ids: std::collections::HashSet<_> = concurrent.into_iter().map(|r| r.expect("concurrent create").id).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(seed::count(s, "initiatives").await, 2);
    assert_eq!(seed::count(s, "events").await, 2);
}

async fn filters_select_and_reject(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let nis = seed::municipality(s, "Niš", "RS").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA"), (nis, "RS")]).await;
    let c = challenge(s, nis, "RS", g, Visibility::Shared).await;
    let mut linked = new(g, "a", Visibility::Shared);
    linked.challenges = vec![c];
    s.create_initiative(&staff("BA", mostar), mostar, linked, None).await.expect("a");
    let mut going = new(g, "b", Visibility::Shared);
    going.status = InitiativeStatus::InProgress;
    s.create_initiative(&staff("RS", nis), nis, going, None).await.expect("b");
    let q = |f: &str| PageRequest { filter: f.into(), ..Default::default() };
    let n = |f: String| async move { s.list_initiatives(&coordinator(), None, &q(&f)).await.expect(&f).items.len() };
    assert_eq!(n(r#"country = "RS""#.into()).await, 1);
    assert_eq!(n("status = INITIATIVE_STATUS_IN_PROGRESS".into()).await, 1);
    assert_eq!(n("status != planned".into()).await, 1);
    assert_eq!(n(format!("challenge = \"municipalities/{nis}/challenges/{}\"", c.id)).await, 1);
    assert_eq!(n(format!("challenge != \"municipalities/{nis}/challenges/{}\"", c.id)).await, 1);
    assert_eq!(n(format!("challenge = \"municipalities/{mostar}/challenges/{}\"", c.id)).await, 0);
    assert_eq!(n(format!("working_group = \"workingGroups/{g}\" AND visibility = VISIBILITY_SHARED")).await, 2);
    for bad in [
        "colour = red",
        "status = SOLVED",
        "challenge = 5",
        "challenge = \"municipalities/1/initiatives/2\"",
        "status > planned",
    ] {
        assert!(
            matches!(s.list_initiatives(&coordinator(), None, &q(bad)).await, Err(Error::InvalidInput { .. })),
            "{bad}"
        );
    }
}

peerlab_testkit::on_both_backends!(
    create_read_and_scope,
    writing_never_crosses_a_country,
    only_members_post_and_links_stay_in_the_group,
    status_and_visibility_move_along_their_edges,
    concurrent_updates_with_one_etag_let_one_through,
    creates_are_idempotent,
    filters_select_and_reject,
);
