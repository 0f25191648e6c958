//! Challenges: ownership, visibility, transitions, idempotency, paging.

use peerlab_core::Error;
use peerlab_core::domain::*;
use peerlab_core::model::*;
use peerlab_core::store::RequestId;
use peerlab_testkit::{Backend, TestDb, coordinator, country_admin, observer, seed, staff};

fn new(group: WorkingGroupId, title: &str, visibility: Visibility) -> NewChallenge {
    NewChallenge {
        working_group: group,
        title: Title::parse("title", title).expect("title"),
        description: Description::parse("description", "").expect("description"),
        themes: Theme::parse_list("themes", &["Digital Literacy".into()]).expect("themes"),
        visibility,
    }
}

async fn create_read_and_scope(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let nis = seed::municipality(s, "Niš", "RS").await;
    let tbilisi = seed::municipality(s, "Tbilisi", "GE").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA"), (nis, "RS")]).await;

    let shared = s
        .create_challenge(&staff("BA", mostar), mostar, new(g, "Low digital literacy", Visibility::Shared), None)
        .await
        .expect("create");
    assert_eq!(shared.status, ChallengeStatus::Open);
    assert_eq!(shared.themes, vec!["digital-literacy".to_string()]);
    let draft = s
        .create_challenge(&staff("BA", mostar), mostar, new(g, "Archives", Visibility::Draft), None)
        .await
        .expect("draft");

    let r = |c: &Challenge| ItemRef { municipality: c.owner.municipality, id: c.id };
    // A peer abroad in the group reads shared content, not drafts.
    assert!(s.get_challenge(&staff("RS", nis), r(&shared)).await.is_ok());
    assert!(matches!(s.get_challenge(&staff("RS", nis), r(&draft)).await, Err(Error::PermissionDenied(_))));
    // The owner's country admin reads drafts; an observer does not.
    assert!(s.get_challenge(&country_admin("BA"), r(&draft)).await.is_ok());
    assert!(matches!(s.get_challenge(&observer("BA"), r(&draft)).await, Err(Error::PermissionDenied(_))));
    // Outside the group nothing is readable, and lists agree with gets.
    assert!(matches!(s.get_challenge(&staff("GE", tbilisi), r(&shared)).await, Err(Error::PermissionDenied(_))));
    let all = PageRequest::default();
    assert_eq!(s.list_challenges(&staff("GE", tbilisi), None, &all).await.expect("list").items.len(), 0);
    assert_eq!(s.list_challenges(&staff("RS", nis), None, &all).await.expect("list").items.len(), 1);
    assert_eq!(s.list_challenges(&staff("BA", mostar), None, &all).await.expect("list").items.len(), 2);
    assert_eq!(s.list_challenges(&coordinator(), None, &all).await.expect("list").items.len(), 2);
    // A missing challenge of one's own municipality is NOT_FOUND; of another, denied.
    let ghost = ItemRef { municipality: mostar, id: ChallengeId::parse("id", 999).expect("id") };
    assert!(matches!(s.get_challenge(&staff("BA", mostar), ghost).await, Err(Error::NotFound(_))));
    assert!(matches!(s.get_challenge(&staff("RS", nis), ghost).await, Err(Error::PermissionDenied(_))));
}

async fn writing_never_crosses_a_country(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let nis = seed::municipality(s, "Niš", "RS").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA"), (nis, "RS")]).await;
    for p in [staff("RS", nis), country_admin("RS"), observer("BA"), coordinator()] {
        let res = s.create_challenge(&p, mostar, new(g, "x", Visibility::Shared), None).await;
        assert!(matches!(res, Err(Error::PermissionDenied(_))), "{p:?}: {res:?}");
    }
    assert_eq!(seed::count(s, "challenges").await, 0);
    assert_eq!(seed::count(s, "events").await, 0);
    assert!(s.create_challenge(&country_admin("BA"), mostar, new(g, "x", Visibility::Shared), None).await.is_ok());
    assert_eq!(seed::count(s, "events").await, 1);
}

async fn only_members_post_in_a_group(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let nis = seed::municipality(s, "Niš", "RS").await;
    let g = seed::group(s, "Digitalisation", &[(nis, "RS")]).await;
    let res = s.create_challenge(&staff("BA", mostar), mostar, new(g, "x", Visibility::Shared), None).await;
    assert!(matches!(&res, Err(Error::InvalidInput { field, .. }) if field == "challenge.working_group"), "{res:?}");
}

async fn status_moves_along_its_edges_and_etags_guard_updates(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA")]).await;
    let p = staff("BA", mostar);
    let c = s.create_challenge(&p, mostar, new(g, "x", Visibility::Draft), None).await.expect("create");
    let r = ItemRef { municipality: mostar, id: c.id };
    let to = |st| ChallengePatch { status: Some(st), ..Default::default() };

    let addressed =
        s.update_challenge(&p, r, to(ChallengeStatus::Addressed), Some(c.meta.etag())).await.expect("addressed");
    assert_eq!(addressed.meta.version, 2);
    // The first etag is now stale.
    let stale = s.update_challenge(&p, r, ChallengePatch::default(), Some(c.meta.etag())).await;
    assert!(matches!(stale, Err(Error::StaleEtag(_))), "{stale:?}");
    let back = s.update_challenge(&p, r, to(ChallengeStatus::Open), None).await;
    assert!(matches!(back, Err(Error::InvalidTransition { .. })), "{back:?}");
    // Shared content never goes back to draft.
    let shared = s
        .update_challenge(&p, r, ChallengePatch { visibility: Some(Visibility::Shared), ..Default::default() }, None)
        .await
        .expect("share");
    assert_eq!(shared.owner.visibility, Visibility::Shared);
    let unshare = s
        .update_challenge(&p, r, ChallengePatch { visibility: Some(Visibility::Draft), ..Default::default() }, None)
        .await;
    assert!(matches!(unshare, Err(Error::InvalidTransition { .. })), "{unshare:?}");
    let archived = s.archive_challenge(&coordinator(), r, None).await.expect("archive");
    assert_eq!(archived.status, ChallengeStatus::Archived);
    assert!(archived.meta.archive_time.is_some());
    // Archived challenges leave default lists but stay as tombstones in updated-since lists.
    let all = PageRequest::default();
    assert!(s.list_challenges(&p, None, &all).await.expect("list").items.is_empty());
    let since = PageRequest { filter: r#"update_time > "2000-01-01T00:00:00Z""#.into(), ..Default::default() };
    assert_eq!(s.list_challenges(&p, None, &since).await.expect("list").items.len(), 1);
    // Every write appended exactly one event; failed writes none.
    assert_eq!(seed::count(s, "events").await, 4);
}

async fn creates_are_idempotent(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA")]).await;
    let p = staff("BA", mostar);
    let rid = RequestId::parse("7f1d-retry").expect("rid");
    let first = s.create_challenge(&p, mostar, new(g, "x", Visibility::Shared), rid.as_ref()).await.expect("first");
    let again = s.create_challenge(&p, mostar, new(g, "x", Visibility::Shared), rid.as_ref()).await.expect("again");
    assert_eq!(first.id, again.id);
    let other = s.create_challenge(&p, mostar, new(g, "y", Visibility::Shared), rid.as_ref()).await;
    assert!(matches!(other, Err(Error::RequestIdReused(_))), "{other:?}");
    let conc = RequestId::parse("conc").expect("rid");
    let concurrent = futures::future::join_all(
        (0..10).map(|_| s.create_challenge(&p, mostar, new(g, "z", Visibility::Shared), conc.as_ref())),
    )
    .await;
    let ids: std::collections::HashSet<_> = concurrent.into_iter().map(|r| r.expect("concurrent create").id).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(seed::count(s, "challenges").await, 2);
    assert_eq!(seed::count(s, "events").await, 2);
}

async fn paging_is_stable_while_rows_are_inserted(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA")]).await;
    let p = staff("BA", mostar);
    let mut before = Vec::new();
    for i in 0..23 {
        before.push(
            s.create_challenge(&p, mostar, new(g, &format!("c{i}"), Visibility::Shared), None)
                .await
                .expect("create")
                .id,
        );
    }
    let mut seen = Vec::new();
    let mut req = PageRequest { page_size: 5, ..Default::default() };
    loop {
        let page = s.list_challenges(&p, Some(mostar), &req).await.expect("page");
        assert!(page.items.len() <= 5);
        seen.extend(page.items.iter().map(|c| c.id));
        // Someone posts while we page.
        s.create_challenge(&p, mostar, new(g, "late", Visibility::Shared), None).await.expect("insert while paging");
        match page.next_page_token {
            Some(t) => req.page_token = t,
            None => break,
        }
    }
    for id in &before {
        assert_eq!(seen.iter().filter(|s| *s == id).count(), 1, "{id:?} seen exactly once");
    }
    let bad = PageRequest {
        page_size: 5,
        page_token: req.page_token.clone(),
        filter: "status = OPEN".into(),
        ..Default::default()
    };
    if !req.page_token.is_empty() {
        assert!(matches!(s.list_challenges(&p, Some(mostar), &bad).await, Err(Error::InvalidInput { .. })));
    }
}

async fn filters_select_and_reject(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let nis = seed::municipality(s, "Niš", "RS").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA"), (nis, "RS")]).await;
    s.create_challenge(&staff("BA", mostar), mostar, new(g, "a", Visibility::Shared), None).await.expect("a");
    let mut other = new(g, "b", Visibility::Shared);
    other.themes = Theme::parse_list("themes", &["archives".into()]).expect("themes");
    s.create_challenge(&staff("RS", nis), nis, other, None).await.expect("b");
    let q = |f: &str| PageRequest { filter: f.into(), ..Default::default() };
    let c = coordinator();
    assert_eq!(s.list_challenges(&c, None, &q(r#"country = "RS""#)).await.expect("country").items.len(), 1);
    assert_eq!(s.list_challenges(&c, None, &q("theme = archives")).await.expect("theme").items.len(), 1);
    assert_eq!(
        s.list_challenges(&c, None, &q("status = CHALLENGE_STATUS_OPEN AND theme = digital-literacy"))
            .await
            .expect("and")
            .items
            .len(),
        1
    );
    assert_eq!(
        s.list_challenges(&c, None, &q(&format!("working_group = \"workingGroups/{g}\"")))
            .await
            .expect("group")
            .items
            .len(),
        2
    );
    for bad in ["colour = red", "status = SOLVED", "country = XX", "update_time > yesterday"] {
        assert!(matches!(s.list_challenges(&c, None, &q(bad)).await, Err(Error::InvalidInput { .. })), "{bad}");
    }
}

async fn reads_bring_themes_and_tell_missing_from_denied(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let nis = seed::municipality(s, "Niš", "RS").await;
    let tbilisi = seed::municipality(s, "Tbilisi", "GE").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA"), (nis, "RS")]).await;
    let mut themed = new(g, "themed", Visibility::Shared);
    themed.themes = Theme::parse_list("themes", &["water".into(), "archives".into(), "mobility".into()]).expect("t");
    let themed = s.create_challenge(&staff("BA", mostar), mostar, themed, None).await.expect("themed");
    let mut bare = new(g, "bare", Visibility::Shared);
    bare.themes = Vec::new();
    let bare = s.create_challenge(&staff("BA", mostar), mostar, bare, None).await.expect("bare");
    let sorted = vec!["archives".to_string(), "mobility".into(), "water".into()];

    let r = |c: &Challenge| ItemRef { municipality: c.owner.municipality, id: c.id };
    // Single reads, lists and exports agree on every field, themes sorted.
    for p in [staff("RS", nis), country_admin("RS"), observer("RS"), coordinator()] {
        let got = s.get_challenge(&p, r(&themed)).await.expect("get");
        assert_eq!(got.themes, sorted, "{p:?}");
        assert_eq!(got, themed, "{p:?}");
        assert_eq!(s.get_challenge(&p, r(&bare)).await.expect("get bare"), bare, "{p:?}");
    }
    let listed = s.list_challenges(&coordinator(), None, &PageRequest::default()).await.expect("list").items;
    assert_eq!(listed, vec![themed.clone(), bare.clone()]);
    let exported = s.export_challenges(&staff("RS", nis), &PageRequest::default()).await.expect("export");
    assert_eq!(exported.items, listed);
    assert_eq!(exported.next_page_token, None);
    let first = PageRequest { page_size: 1, ..Default::default() };
    assert!(s.list_challenges(&coordinator(), None, &first).await.expect("page").next_page_token.is_some());

    // Outside the group: denied, in country and municipality scopes alike.
    for p in [staff("GE", tbilisi), observer("GE"), country_admin("GE")] {
        assert!(matches!(s.get_challenge(&p, r(&themed)).await, Err(Error::PermissionDenied(_))), "{p:?}");
    }
    // Named under the wrong municipality, the challenge is missing for that
    // municipality's own readers and denied to everyone else.
    let misnamed = ItemRef { municipality: nis, id: themed.id };
    assert!(matches!(s.get_challenge(&staff("RS", nis), misnamed).await, Err(Error::NotFound(_))));
    assert!(matches!(s.get_challenge(&country_admin("RS"), misnamed).await, Err(Error::NotFound(_))));
    assert!(matches!(s.get_challenge(&staff("BA", mostar), misnamed).await, Err(Error::PermissionDenied(_))));
    // Under a municipality that does not exist, it is missing for everyone.
    let nowhere = ItemRef { municipality: MunicipalityId::parse("id", 9_999).expect("id"), id: themed.id };
    assert!(matches!(s.get_challenge(&staff("BA", mostar), nowhere).await, Err(Error::NotFound(_))));
}

peerlab_testkit::on_both_backends!(
    create_read_and_scope,
    writing_never_crosses_a_country,
    only_members_post_in_a_group,
    status_moves_along_its_edges_and_etags_guard_updates,
    creates_are_idempotent,
    paging_is_stable_while_rows_are_inserted,
    filters_select_and_reject,
    reads_bring_themes_and_tell_missing_from_denied,
);
