//! The event log as readers see it: who sees what, order, paging, filters,
//! and the live feed's query.

use peerlab_core::Error;
use peerlab_core::auth::Principal;
use peerlab_core::domain::*;
use peerlab_core::model::*;
use peerlab_core::store::Store;
use peerlab_testkit::{Backend, TestDb, coordinator, country_admin, observer, seed, staff};
use sea_orm::{ConnectionTrait, Statement};

async fn challenge(
    s: &Store,
    country: &str,
    m: MunicipalityId,
    g: WorkingGroupId,
    visibility: Visibility,
) -> Challenge {
    let input = NewChallenge {
        working_group: g,
        title: Title::parse("title", "Low digital literacy").expect("title"),
        description: Description::parse("description", "").expect("description"),
        themes: Vec::new(),
        visibility,
    };
    s.create_challenge(&staff(country, m), m, input, None).await.expect("challenge")
}

/// A municipality's snapshot as an event payload, quoted for SQL.
fn directory_payload(m: MunicipalityId, country: &str) -> String {
    let at = chrono::DateTime::from_timestamp(1_632_182_400, 0).expect("time");
    let snapshot = Snapshot::Municipality(Municipality {
        id: m,
        display_name: "Tbilisi".into(),
        country: CountryCode::parse(country).expect("country"),
        meta: Meta { version: 1, create_time: at, update_time: at, archive_time: None },
    });
    serde_json::to_string(&snapshot).expect("payload").replace('\'', "''")
}

/// A directory event as the municipality service will append it; written
/// directly because the directory's writes live elsewhere.
async fn directory_event(s: &Store, m: MunicipalityId, country: &str) {
    let payload = directory_payload(m, country);
    let db = s.connection();
    db.execute(Statement::from_string(
        db.get_database_backend(),
        format!(
            "INSERT INTO events (kind, resource, working_group_id, country, municipality_id, visibility, actor, create_time, payload) \
             VALUES ('municipality.created', 'municipalities/{m}', NULL, '{country}', {m}, NULL, 'test/seed', 0, '{payload}')"
        ),
    ))
    .await
    .expect("directory event");
}

async fn kinds_seen(s: &Store, p: &Principal) -> Vec<String> {
    s.list_events(p, &PageRequest::default())
        .await
        .expect("events")
        .items
        .into_iter()
        .map(|e| format!("{} {}", e.kind, e.resource))
        .collect()
}

async fn outsiders_see_the_directory_but_not_group_content(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let nis = seed::municipality(s, "Niš", "RS").await;
    let tbilisi = seed::municipality(s, "Tbilisi", "GE").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA"), (nis, "RS")]).await;
    directory_event(s, tbilisi, "GE").await;
    let c = challenge(s, "BA", mostar, g, Visibility::Shared).await;
    let directory = format!("municipality.created municipalities/{tbilisi}");
    let content = format!("challenge.created municipalities/{mostar}/challenges/{}", c.id);

    for p in [staff("GE", tbilisi), observer("GE"), country_admin("GE")] {
        assert_eq!(kinds_seen(s, &p).await, vec![directory.clone()], "{p:?}");
    }
    for p in [staff("RS", nis), observer("RS"), staff("BA", mostar), observer("BA"), coordinator()] {
        assert_eq!(kinds_seen(s, &p).await, vec![directory.clone(), content.clone()], "{p:?}");
    }
    // The snapshot is the resource as written.
    let events = s.list_events(&staff("RS", nis), &PageRequest::default()).await.expect("events").items;
    assert_eq!(events[1].snapshot, Snapshot::Challenge(c.clone()));
    assert_eq!(
        (events[1].working_group, events[1].municipality, events[1].visibility),
        (Some(g), Some(mostar), Some(Visibility::Shared))
    );
    assert_eq!(events[1].country.map(|c| c.to_string()).as_deref(), Some("BA"));
    assert!(matches!(&events[0].snapshot, Snapshot::Municipality(m) if m.id == tbilisi));
    assert_eq!(events[0].visibility, None);
}

async fn drafts_events_reach_the_owner_and_its_country_admin_only(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let banja_luka = seed::municipality(s, "Banja Luka", "BA").await;
    let nis = seed::municipality(s, "Niš", "RS").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA"), (banja_luka, "BA"), (nis, "RS")]).await;
    let draft = challenge(s, "BA", mostar, g, Visibility::Draft).await;
    let created = format!("challenge.created municipalities/{mostar}/challenges/{}", draft.id);
    for p in [staff("BA", mostar), country_admin("BA"), coordinator()] {
        assert_eq!(kinds_seen(s, &p).await, vec![created.clone()], "{p:?}");
    }
    for p in [staff("RS", nis), staff("BA", banja_luka), observer("BA"), country_admin("RS")] {
        assert!(kinds_seen(s, &p).await.is_empty(), "{p:?}");
    }
    // Once shared, what follows is the group's; the draft's history stays private.
    let patch = ChallengePatch { visibility: Some(Visibility::Shared), ..Default::default() };
    s.update_challenge(&staff("BA", mostar), ItemRef { municipality: mostar, id: draft.id }, patch, None)
        .await
        .expect("share");
    let updated = format!("challenge.updated municipalities/{mostar}/challenges/{}", draft.id);
    assert_eq!(kinds_seen(s, &staff("RS", nis)).await, vec![updated.clone()]);
    assert_eq!(kinds_seen(s, &staff("BA", banja_luka)).await, vec![updated.clone()]);
    assert_eq!(kinds_seen(s, &observer("BA")).await, vec![updated.clone()]);
    assert_eq!(kinds_seen(s, &staff("BA", mostar)).await, vec![created, updated]);
}

async fn pages_run_oldest_first_and_filters_apply(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let nis = seed::municipality(s, "Niš", "RS").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA"), (nis, "RS")]).await;
    let h = seed::group(s, "Mobility", &[(mostar, "BA"), (nis, "RS")]).await;
    for i in 0..7 {
        let (country, m) = if i % 2 == 0 { ("BA", mostar) } else { ("RS", nis) };
        challenge(s, country, m, if i < 5 { g } else { h }, Visibility::Shared).await;
    }
    let p = staff("RS", nis);
    let mut req = PageRequest { page_size: 3, ..Default::default() };
    let mut ids = Vec::new();
    loop {
        let page = s.list_events(&p, &req).await.expect("page");
        assert!(page.items.len() <= 3);
        ids.extend(page.items.iter().map(|e| e.id));
        match page.next_page_token {
            Some(t) => req.page_token = t,
            None => break,
        }
    }
    assert_eq!(ids.len(), 7);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

    let q = |f: String| PageRequest { filter: f, ..Default::default() };
    let n = |f: String| {
        let p = p.clone();
        async move { s.list_events(&p, &q(f.clone())).await.expect(&f).items.len() }
    };
    assert_eq!(n(format!("working_group = \"workingGroups/{h}\"")).await, 2);
    assert_eq!(n("country = BA".into()).await, 4);
    assert_eq!(n("country != BA".into()).await, 3);
    assert_eq!(n("kind = challenge.created".into()).await, 7);
    assert_eq!(n("kind = \"initiative.created\"".into()).await, 0);
    assert_eq!(n(format!("id > {}", ids[4])).await, 2);
    assert_eq!(n(format!("id >= \"events/{}\"", ids[4])).await, 3);
    assert_eq!(n(format!("id > {} AND country = RS", ids[0])).await, 3);
    for bad in [
        "id = 3".to_string(),
        "id < 3".into(),
        "id > x".into(),
        "actor = me".into(),
        "working_group = 3".into(),
        "kind > a".into(),
    ] {
        assert!(matches!(s.list_events(&p, &q(bad.clone())).await, Err(Error::InvalidInput { .. })), "{bad}");
    }
}

async fn the_feed_query_shares_the_rule(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let nis = seed::municipality(s, "Niš", "RS").await;
    let tbilisi = seed::municipality(s, "Tbilisi", "GE").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA"), (nis, "RS")]).await;
    let h = seed::group(s, "Mobility", &[(tbilisi, "GE"), (nis, "RS")]).await;
    directory_event(s, tbilisi, "GE").await;
    challenge(s, "BA", mostar, g, Visibility::Shared).await;
    challenge(s, "BA", mostar, g, Visibility::Draft).await;
    challenge(s, "GE", tbilisi, h, Visibility::Shared).await;
    let initiative = NewInitiative {
        working_group: g,
        title: Title::parse("title", "Help desk").expect("title"),
        description: Description::parse("description", "").expect("description"),
        status: InitiativeStatus::Planned,
        challenges: Vec::new(),
        visibility: Visibility::Shared,
    };
    s.create_initiative(&staff("RS", nis), nis, initiative, None).await.expect("initiative");

    let ids = |events: Vec<Event>| events.into_iter().map(|e| e.id.get()).collect::<Vec<_>>();
    let all = ids(s.events_after(coordinator().read_scope(), 0, 100, None, &[]).await.expect("all"));
    assert_eq!(all.len(), 5);
    let as_feed =
        |p: Principal| async move { ids(s.events_after(p.read_scope(), 0, 100, None, &[]).await.expect("feed")) };
    let as_list =
        |p: Principal| async move { ids(s.list_events(&p, &PageRequest::default()).await.expect("list").items) };
    for p in [
        staff("BA", mostar),
        staff("RS", nis),
        staff("GE", tbilisi),
        observer("BA"),
        country_admin("BA"),
        country_admin("GE"),
    ] {
        assert_eq!(as_feed(p.clone()).await, as_list(p.clone()).await, "{p:?}");
    }
    assert_eq!(as_feed(staff("GE", tbilisi)).await, vec![all[0], all[3]]);
    assert_eq!(as_feed(staff("BA", mostar)).await, vec![all[0], all[1], all[2], all[4]]);
    assert_eq!(as_feed(staff("RS", nis)).await, vec![all[0], all[1], all[3], all[4]]);

    let scope = staff("RS", nis).read_scope();
    assert_eq!(ids(s.events_after(scope, all[1], 100, None, &[]).await.expect("after")), vec![all[3], all[4]]);
    assert_eq!(ids(s.events_after(scope, 0, 2, None, &[]).await.expect("limit")), vec![all[0], all[1]]);
    assert_eq!(ids(s.events_after(scope, 0, 100, Some(g), &[]).await.expect("group")), vec![all[1], all[4]]);
    let kinds = ["initiative.created".to_string(), "municipality.created".to_string()];
    assert_eq!(ids(s.events_after(scope, 0, 100, None, &kinds).await.expect("kinds")), vec![all[0], all[4]]);
}

peerlab_testkit::on_both_backends!(
    outsiders_see_the_directory_but_not_group_content,
    drafts_events_reach_the_owner_and_its_country_admin_only,
    pages_run_oldest_first_and_filters_apply,
    the_feed_query_shares_the_rule,
);

/// An event appended by a transaction that has not ended yet, as a write
/// holds it just before its commit: with its share of the log's append lock
/// (`APPEND_LOCK` in `crates/core/src/store/live.rs`). Returns the open
/// transaction and the event's id.
async fn append_in_flight(url: &str, m: MunicipalityId) -> (sea_orm::DatabaseTransaction, i64) {
    use sea_orm::TransactionTrait;
    let conn = sea_orm::Database::connect(url).await.expect("connect");
    let tx = conn.begin().await.expect("begin");
    tx.execute_unprepared("SELECT pg_advisory_xact_lock_shared(7305041)").await.expect("append lock");
    let sql = format!(
        "INSERT INTO events (kind, resource, actor, create_time, payload) \
         VALUES ('test.in_flight', 'municipalities/{m}', 'test', 0, '{}') RETURNING id",
        directory_payload(m, "BA")
    );
    let row = tx.query_one(Statement::from_string(sea_orm::DatabaseBackend::Postgres, sql)).await.expect("append");
    let id = row.expect("row").try_get::<i64>("", "id").expect("id");
    (tx, id)
}

/// On PostgreSQL concurrent writes commit in any order, so a reader of the
/// log must never be shown an id while a smaller one may still appear: it
/// waits for the appends in flight, then sees them all, in order, or (if one
/// rolled back) the gap for good. Writes do not wait for each other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_readers_never_see_an_id_before_the_smaller_ones_are_final() {
    if !Backend::Postgres.enabled() {
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA")]).await;
    let wait = std::time::Duration::from_secs(10);

    for commit in [true, false] {
        let before = s.last_event_id().await.expect("last");
        let (tx, early) = append_in_flight(&db.url, mostar).await;
        // A later write commits while the earlier append is still open.
        let later = tokio::time::timeout(wait, challenge(s, "BA", mostar, g, Visibility::Shared))
            .await
            .expect("a write does not wait for another write's commit");
        let readers = (
            tokio::spawn({
                let s = s.clone();
                async move { s.list_events(&coordinator(), &PageRequest::default()).await }
            }),
            tokio::spawn({
                let s = s.clone();
                async move { s.events_after(coordinator().read_scope(), before, 100, None, &[]).await }
            }),
            tokio::spawn({
                let s = s.clone();
                async move { s.last_event_id().await }
            }),
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(!readers.0.is_finished() && !readers.1.is_finished() && !readers.2.is_finished(), "they wait");
        if commit {
            tx.commit().await.expect("commit");
        } else {
            tx.rollback().await.expect("rollback");
        }
        let listed = tokio::time::timeout(wait, readers.0).await.expect("listed").expect("task").expect("list");
        let after = tokio::time::timeout(wait, readers.1).await.expect("read").expect("task").expect("after");
        let last = tokio::time::timeout(wait, readers.2).await.expect("last").expect("task").expect("last");
        let ids: Vec<i64> = listed.items.iter().map(|e| e.id.get()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        let tail: Vec<&str> = after.iter().map(|e| e.kind.as_str()).collect();
        let latest = ids.last().copied().expect("events");
        assert_eq!(latest, last, "the newest listed event is the newest final one");
        if commit {
            assert_eq!(tail, vec!["test.in_flight", "challenge.created"]);
            assert!(ids.contains(&early));
        } else {
            assert_eq!(tail, vec!["challenge.created"], "the rolled-back append is a gap");
            assert!(!ids.contains(&early));
        }
        assert!(listed.items.iter().any(|e| e.resource.ends_with(&format!("/challenges/{}", later.id))));
    }
}

/// The service awaits these on a multi-threaded runtime, so their futures
/// must be `Send`; this only has to compile.
#[allow(dead_code)]
fn store_futures_are_send(s: &Store, p: &Principal, m: MunicipalityId, g: WorkingGroupId) {
    fn send<T: Send>(_: T) {}
    let all = PageRequest::default();
    let i = ItemRef { municipality: m, id: InitiativeId::parse("id", 1).expect("id") };
    let idea = ItemRef { municipality: m, id: ProjectIdeaId::parse("id", 1).expect("id") };
    let rec = ItemRef { municipality: m, id: RecommendationId::parse("id", 1).expect("id") };
    let title = || Title::parse("t", "t").expect("t");
    let body = || Body::parse("b", "b").expect("b");
    let note = || Note::parse("n", "").expect("n");
    let d = || Description::parse("d", "").expect("d");
    send(s.create_initiative(
        p,
        m,
        NewInitiative {
            working_group: g,
            title: title(),
            description: d(),
            status: InitiativeStatus::Planned,
            challenges: vec![],
            visibility: Visibility::Draft,
        },
        None,
    ));
    send(s.get_initiative(p, i));
    send(s.list_initiatives(p, None, &all));
    send(s.update_initiative(p, i, InitiativePatch::default(), None));
    send(s.archive_initiative(p, i, None));
    send(s.create_project_idea(
        p,
        m,
        NewProjectIdea {
            working_group: g,
            title: title(),
            description: d(),
            challenges: vec![],
            initiatives: vec![],
            partners: vec![],
            visibility: Visibility::Draft,
        },
        None,
    ));
    send(s.get_project_idea(p, idea));
    send(s.list_project_ideas(p, None, &all));
    send(s.update_project_idea(p, idea, ProjectIdeaPatch::default(), None));
    send(s.archive_project_idea(p, idea, None));
    let target = Target::Initiative(i);
    send(s.create_recommendation(
        p,
        m,
        NewRecommendation { target, kind: RecommendationKind::Contact, body: body(), author_initiative: None },
        None,
    ));
    send(s.get_recommendation(p, rec));
    send(s.list_recommendations(p, None, &all));
    send(s.update_recommendation(p, rec, RecommendationPatch::default(), None));
    send(s.archive_recommendation(p, rec, None));
    send(s.answer_recommendation(p, rec, NewAnswer { state: AnswerState::Adopted, note: note() }, None));
    send(s.list_events(p, &all));
    send(s.events_after(p.read_scope(), 0, 10, None, &[]));
}
