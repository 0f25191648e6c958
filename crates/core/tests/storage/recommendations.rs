//! Recommendations: targets, who answers, who edits, who reads, filters.

use peerlab_core::Error;
use peerlab_core::auth::Principal;
use peerlab_core::domain::*;
use peerlab_core::model::*;
use peerlab_core::store::{RequestId, Store};
use peerlab_testkit::{Backend, TestDb, coordinator, country_admin, observer, seed, staff};
use sea_orm::{ConnectionTrait, Statement};

/// Mostar (BA), Niš (RS) and Skopje (MK) work on digitalisation; Mostar and
/// Tbilisi (GE) on mobility.
struct Net {
    mostar: MunicipalityId,
    nis: MunicipalityId,
    skopje: MunicipalityId,
    tbilisi: MunicipalityId,
    g: WorkingGroupId,
    mobility: WorkingGroupId,
}

async fn network(s: &Store) -> Net {
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let nis = seed::municipality(s, "Niš", "RS").await;
    let skopje = seed::municipality(s, "Skopje", "MK").await;
    let tbilisi = seed::municipality(s, "Tbilisi", "GE").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA"), (nis, "RS"), (skopje, "MK")]).await;
    let mobility = seed::group(s, "Mobility", &[(mostar, "BA"), (tbilisi, "GE")]).await;
    Net { mostar, nis, skopje, tbilisi, g, mobility }
}

fn title(t: &str) -> Title {
    Title::parse("title", t).expect("title")
}

fn empty() -> Description {
    Description::parse("description", "").expect("description")
}

async fn challenge(
    s: &Store,
    p: &Principal,
    m: MunicipalityId,
    g: WorkingGroupId,
    visibility: Visibility,
) -> ItemRef<ChallengeId> {
    let input = NewChallenge {
        working_group: g,
        title: title("Low digital literacy"),
        description: empty(),
        themes: Vec::new(),
        visibility,
    };
    ItemRef { municipality: m, id: s.create_challenge(p, m, input, None).await.expect("challenge").id }
}

async fn initiative(s: &Store, p: &Principal, m: MunicipalityId, g: WorkingGroupId) -> ItemRef<InitiativeId> {
    let input = NewInitiative {
        working_group: g,
        title: title("Digital help desk"),
        description: empty(),
        status: InitiativeStatus::Implemented,
        challenges: Vec::new(),
        visibility: Visibility::Shared,
    };
    ItemRef { municipality: m, id: s.create_initiative(p, m, input, None).await.expect("initiative").id }
}

fn advice(target: Target) -> NewRecommendation {
    NewRecommendation {
        target,
        kind: RecommendationKind::GoodPractice,
        body: Body::parse("body", "We ran weekly e-service clinics in the library; see our initiative.").expect("body"),
        author_initiative: None,
    }
}

fn r(rec: &Recommendation) -> ItemRef<RecommendationId> {
    ItemRef { municipality: rec.municipality, id: rec.id }
}

fn answer(state: AnswerState, note: &str) -> NewAnswer {
    NewAnswer { state, note: Note::parse("note", note).expect("note") }
}

fn invalid<T: std::fmt::Debug>(res: &Result<T, Error>) -> (String, String) {
    match res {
        Err(Error::InvalidInput { field, reason }) => (field.clone(), reason.clone()),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

async fn flows_between_countries(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let n = network(s).await;
    let c = challenge(s, &staff("RS", n.nis), n.nis, n.g, Visibility::Shared).await;
    let rec = s
        .create_recommendation(&staff("BA", n.mostar), n.mostar, advice(Target::Challenge(c)), None)
        .await
        .expect("recommend");
    assert_eq!((rec.working_group, rec.country.as_str(), rec.target_country.as_str()), (n.g, "BA", "RS"));
    assert_eq!(rec.target.municipality(), n.nis);
    assert_eq!(rec.answer, Answer { state: AnswerState::Unanswered, note: String::new(), answer_time: None });

    let events = seed::count(s, "events").await;
    let ack = || answer(AnswerState::Acknowledged, "Thank you, we will look at it");
    // The author, its admin, another member, an outsider and the coordinator cannot answer.
    for p in [
        staff("BA", n.mostar),
        country_admin("BA"),
        staff("MK", n.skopje),
        staff("GE", n.tbilisi),
        observer("RS"),
        coordinator(),
    ] {
        let res = s.answer_recommendation(&p, r(&rec), ack(), None).await;
        assert!(matches!(res, Err(Error::PermissionDenied(_))), "{p:?}: {res:?}");
    }
    // Someone who cannot read the recommendation does not even learn who receives it.
    match s.answer_recommendation(&staff("GE", n.tbilisi), r(&rec), ack(), None).await {
        Err(Error::PermissionDenied(msg)) => assert!(!msg.contains(&format!("municipalities/{}", n.nis)), "{msg}"),
        other => panic!("{other:?}"),
    }
    let res = s.answer_recommendation(&staff("RS", n.nis), r(&rec), answer(AnswerState::Unanswered, ""), None).await;
    assert_eq!(invalid(&res).0, "state");
    assert_eq!(seed::count(s, "events").await, events);

    let acked = s
        .answer_recommendation(&staff("RS", n.nis), r(&rec), ack(), Some(rec.meta.etag()))
        .await
        .expect("receiver answers");
    assert_eq!(acked.answer.state, AnswerState::Acknowledged);
    assert_eq!(acked.answer.note, "Thank you, we will look at it");
    assert!(acked.answer.answer_time.is_some());
    let stale = s
        .answer_recommendation(&country_admin("RS"), r(&rec), answer(AnswerState::Adopted, ""), Some(rec.meta.etag()))
        .await;
    assert!(matches!(stale, Err(Error::StaleEtag(_))), "{stale:?}");
    let adopted = s
        .answer_recommendation(&country_admin("RS"), r(&rec), answer(AnswerState::Adopted, "Piloting it"), None)
        .await
        .expect("admin answers");
    assert_eq!(adopted.answer.state, AnswerState::Adopted);
    let declined = s.answer_recommendation(&staff("RS", n.nis), r(&rec), answer(AnswerState::Declined, ""), None).await;
    assert!(matches!(declined, Err(Error::InvalidTransition { .. })), "{declined:?}");
    assert_eq!(s.get_recommendation(&staff("BA", n.mostar), r(&rec)).await.expect("author reads the answer"), adopted);

    let q = PageRequest { filter: "kind = recommendation.answered".into(), ..Default::default() };
    assert_eq!(s.list_events(&staff("BA", n.mostar), &q).await.expect("events").items.len(), 2);
    assert_eq!(seed::count(s, "events").await, events + 2);
}

async fn targets_are_shared_items_of_a_peer_in_the_group(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let n = network(s).await;
    let (ba, rs, mk) = (staff("BA", n.mostar), staff("RS", n.nis), staff("MK", n.skopje));
    let shared = challenge(s, &rs, n.nis, n.g, Visibility::Shared).await;
    let draft = challenge(s, &rs, n.nis, n.g, Visibility::Draft).await;
    let own = challenge(s, &ba, n.mostar, n.g, Visibility::Shared).await;
    let skopjes = challenge(s, &mk, n.skopje, n.g, Visibility::Shared).await;
    let nis_initiative = initiative(s, &rs, n.nis, n.g).await;
    let missing = ItemRef { municipality: n.nis, id: ChallengeId::parse("id", 999).expect("id") };
    let misnamed = ItemRef { municipality: n.skopje, id: shared.id };
    let (recs, events) = (seed::count(s, "recommendations").await, seed::count(s, "events").await);

    // Drafts, missing and misnamed items, and items the author cannot read all look the same.
    let mut reasons = Vec::new();
    for (p, author, target) in [
        (&ba, n.mostar, draft),
        (&ba, n.mostar, missing),
        (&ba, n.mostar, misnamed),
        (&staff("GE", n.tbilisi), n.tbilisi, shared),
    ] {
        let res = s.create_recommendation(p, author, advice(Target::Challenge(target)), None).await;
        let (field, reason) = invalid(&res);
        assert_eq!(field, "recommendation.target");
        reasons.push(reason);
    }
    assert!(reasons.iter().all(|r| r == "does not name a shared item the author can read"), "{reasons:?}");
    let res = s.create_recommendation(&ba, n.mostar, advice(Target::Challenge(own)), None).await;
    assert_eq!(invalid(&res), ("recommendation.target".into(), "a municipality cannot recommend to itself".into()));

    // The target's owner must still be a member of the group.
    let db_conn = s.connection();
    db_conn
        .execute(Statement::from_string(
            db_conn.get_database_backend(),
            format!("DELETE FROM memberships WHERE working_group_id = {} AND municipality_id = {}", n.g, n.skopje),
        ))
        .await
        .expect("leave the group");
    let res = s.create_recommendation(&ba, n.mostar, advice(Target::Challenge(skopjes)), None).await;
    assert_eq!(invalid(&res).0, "recommendation.target");

    // Archived targets take no more advice.
    s.archive_initiative(&rs, nis_initiative, None).await.expect("archive");
    let res = s.create_recommendation(&ba, n.mostar, advice(Target::Initiative(nis_initiative)), None).await;
    assert_eq!(invalid(&res), ("recommendation.target".into(), "is archived".into()));

    // The author's initiative is its own and live.
    let mine = initiative(s, &ba, n.mostar, n.mobility).await;
    let old = initiative(s, &ba, n.mostar, n.mobility).await;
    s.archive_initiative(&ba, old, None).await.expect("archive");
    let theirs = initiative(s, &rs, n.nis, n.g).await;
    for bad in [theirs, ItemRef { municipality: n.mostar, id: theirs.id }, old] {
        let mut input = advice(Target::Challenge(shared));
        input.author_initiative = Some(bad);
        let res = s.create_recommendation(&ba, n.mostar, input, None).await;
        assert_eq!(invalid(&res).0, "recommendation.author_initiative", "{bad:?}");
    }
    assert_eq!(seed::count(s, "recommendations").await, recs);
    let events = events + 5; // the challenges, initiatives and archives made above
    assert_eq!(seed::count(s, "events").await, events);

    let mut input = advice(Target::Challenge(shared));
    input.author_initiative = Some(mine);
    let rec = s
        .create_recommendation(&country_admin("BA"), n.mostar, input, None)
        .await
        .expect("admin recommends for Mostar");
    assert_eq!(rec.author_initiative, Some(mine));
    assert_eq!(rec.target, Target::Challenge(shared));
    let on_initiative = s
        .create_recommendation(&ba, n.mostar, advice(Target::Initiative(theirs)), None)
        .await
        .expect("initiative target");
    assert_eq!(on_initiative.target.kind(), "initiative");
    let idea = s
        .create_project_idea(
            &rs,
            n.nis,
            NewProjectIdea {
                working_group: n.g,
                title: title("Joint e-archive"),
                description: empty(),
                challenges: vec![shared],
                initiatives: Vec::new(),
                partners: vec![n.mostar],
                visibility: Visibility::Shared,
            },
            None,
        )
        .await
        .expect("idea");
    let on_idea = s
        .create_recommendation(
            &ba,
            n.mostar,
            advice(Target::ProjectIdea(ItemRef { municipality: n.nis, id: idea.id })),
            None,
        )
        .await
        .expect("project idea target");
    assert_eq!(on_idea.target.kind(), "project_idea");
    assert_eq!(seed::count(s, "recommendations").await, recs + 3);
}

async fn only_the_author_edits_and_only_until_answered(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let n = network(s).await;
    let (ba, rs) = (staff("BA", n.mostar), staff("RS", n.nis));
    let c = challenge(s, &rs, n.nis, n.g, Visibility::Shared).await;
    let mine = initiative(s, &ba, n.mostar, n.g).await;
    let mut input = advice(Target::Challenge(c));
    input.author_initiative = Some(mine);
    let rec = s.create_recommendation(&ba, n.mostar, input, None).await.expect("recommend");
    let events = seed::count(s, "events").await;

    let patch = || RecommendationPatch { kind: Some(RecommendationKind::Caution), ..Default::default() };
    for p in [rs.clone(), country_admin("RS"), staff("MK", n.skopje), coordinator()] {
        let res = s.update_recommendation(&p, r(&rec), patch(), None).await;
        assert!(matches!(res, Err(Error::PermissionDenied(_))), "{p:?}: {res:?}");
    }
    let edited = s
        .update_recommendation(
            &ba,
            r(&rec),
            RecommendationPatch {
                kind: Some(RecommendationKind::Caution),
                body: Some(Body::parse("body", "Mind the data protection office").expect("body")),
                author_initiative: Some(None),
            },
            Some(rec.meta.etag()),
        )
        .await
        .expect("author edits");
    assert_eq!((edited.kind, edited.author_initiative, edited.meta.version), (RecommendationKind::Caution, None, 2));
    let stale = s.update_recommendation(&ba, r(&rec), patch(), Some(rec.meta.etag())).await;
    assert!(matches!(stale, Err(Error::StaleEtag(_))), "{stale:?}");

    s.answer_recommendation(&rs, r(&rec), answer(AnswerState::Acknowledged, ""), None).await.expect("answer");
    let late = s.update_recommendation(&ba, r(&rec), patch(), None).await;
    assert!(matches!(late, Err(Error::FailedPrecondition(_))), "{late:?}");

    let other = s.create_recommendation(&ba, n.mostar, advice(Target::Challenge(c)), None).await.expect("second");
    assert!(matches!(s.archive_recommendation(&rs, r(&other), None).await, Err(Error::PermissionDenied(_))));
    let archived = s.archive_recommendation(&coordinator(), r(&other), None).await.expect("coordinator moderates");
    assert!(archived.meta.archive_time.is_some());
    let count = seed::count(s, "events").await;
    assert_eq!(s.archive_recommendation(&ba, r(&other), None).await.expect("twice"), archived);
    assert_eq!(seed::count(s, "events").await, count);
    let res = s.update_recommendation(&ba, r(&other), patch(), None).await;
    assert!(matches!(res, Err(Error::FailedPrecondition(_))), "{res:?}");
    let res = s.answer_recommendation(&rs, r(&other), answer(AnswerState::Adopted, ""), None).await;
    assert!(matches!(res, Err(Error::FailedPrecondition(_))), "{res:?}");
    // edited, answered, created, archived
    assert_eq!(seed::count(s, "events").await, events + 4);
    let kinds: Vec<String> = s
        .list_events(&coordinator(), &PageRequest::default())
        .await
        .expect("events")
        .items
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds[kinds.len() - 5..],
        [
            "recommendation.created",
            "recommendation.updated",
            "recommendation.answered",
            "recommendation.created",
            "recommendation.archived"
        ]
    );
}

async fn the_parties_and_the_group_read(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let n = network(s).await;
    let c = challenge(s, &staff("RS", n.nis), n.nis, n.g, Visibility::Shared).await;
    let rec = s
        .create_recommendation(&staff("BA", n.mostar), n.mostar, advice(Target::Challenge(c)), None)
        .await
        .expect("recommend");
    let readers = [
        staff("BA", n.mostar),
        staff("RS", n.nis),
        staff("MK", n.skopje),
        observer("BA"),
        observer("RS"),
        observer("MK"),
        country_admin("RS"),
        coordinator(),
    ];
    let all = &PageRequest::default();
    for p in &readers {
        assert_eq!(s.get_recommendation(p, r(&rec)).await.expect("reads"), rec, "{p:?}");
        assert_eq!(s.list_recommendations(p, None, all).await.expect("list").items, vec![rec.clone()], "{p:?}");
    }
    for p in [staff("GE", n.tbilisi), observer("GE"), country_admin("GE")] {
        assert!(matches!(s.get_recommendation(&p, r(&rec)).await, Err(Error::PermissionDenied(_))), "{p:?}");
        assert!(s.list_recommendations(&p, None, all).await.expect("list").items.is_empty(), "{p:?}");
    }
    let ghost = ItemRef { municipality: n.mostar, id: RecommendationId::parse("id", 999).expect("id") };
    assert!(matches!(s.get_recommendation(&staff("BA", n.mostar), ghost).await, Err(Error::NotFound(_))));
    assert!(matches!(s.get_recommendation(&staff("RS", n.nis), ghost).await, Err(Error::PermissionDenied(_))));
    assert!(matches!(
        s.answer_recommendation(&staff("RS", n.nis), ghost, answer(AnswerState::Adopted, ""), None).await,
        Err(Error::PermissionDenied(_))
    ));
    let misnamed = ItemRef { municipality: n.nis, id: rec.id };
    assert!(s.get_recommendation(&coordinator(), misnamed).await.is_err());
}

async fn filters_select_and_reject(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let n = network(s).await;
    let (ba, rs, mk) = (staff("BA", n.mostar), staff("RS", n.nis), staff("MK", n.skopje));
    let nis_challenge = challenge(s, &rs, n.nis, n.g, Visibility::Shared).await;
    let nis_initiative = initiative(s, &rs, n.nis, n.g).await;
    let mostar_challenge = challenge(s, &ba, n.mostar, n.g, Visibility::Shared).await;
    let a = s.create_recommendation(&ba, n.mostar, advice(Target::Challenge(nis_challenge)), None).await.expect("a");
    let mut caution = advice(Target::Initiative(nis_initiative));
    caution.kind = RecommendationKind::Caution;
    s.create_recommendation(&mk, n.skopje, caution, None).await.expect("b");
    let mut suggestion = advice(Target::Challenge(mostar_challenge));
    suggestion.kind = RecommendationKind::Suggestion;
    s.create_recommendation(&rs, n.nis, suggestion, None).await.expect("c");
    s.answer_recommendation(&rs, r(&a), answer(AnswerState::Declined, "We already do this"), None)
        .await
        .expect("answer");

    let q = |f: &str| PageRequest { filter: f.into(), ..Default::default() };
    let count =
        |f: String| async move { s.list_recommendations(&coordinator(), None, &q(&f)).await.expect(&f).items.len() };
    assert_eq!(count(format!("target_municipality = \"municipalities/{}\"", n.nis)).await, 2);
    assert_eq!(count(format!("target_municipality = \"municipalities/{}\"", n.mostar)).await, 1);
    assert_eq!(count(format!("target_municipality != \"municipalities/{}\"", n.nis)).await, 1);
    assert_eq!(count(format!("target = \"municipalities/{}/challenges/{}\"", n.nis, nis_challenge.id)).await, 1);
    assert_eq!(count(format!("target != \"municipalities/{}/challenges/{}\"", n.nis, nis_challenge.id)).await, 2);
    assert_eq!(count(format!("target = \"municipalities/{}/initiatives/{}\"", n.nis, nis_initiative.id)).await, 1);
    assert_eq!(count(format!("target = \"municipalities/{}/challenges/{}\"", n.mostar, nis_challenge.id)).await, 0);
    assert_eq!(count("target_country = RS".into()).await, 2);
    assert_eq!(count(r#"country = "MK""#.into()).await, 1);
    assert_eq!(count("kind = RECOMMENDATION_KIND_CAUTION".into()).await, 1);
    assert_eq!(count("answer_state = ANSWER_STATE_UNANSWERED".into()).await, 2);
    assert_eq!(count("answer_state = declined".into()).await, 1);
    assert_eq!(count(format!("working_group = \"workingGroups/{}\"", n.g)).await, 3);
    assert_eq!(count(r#"create_time > "2000-01-01T00:00:00Z""#.into()).await, 3);
    assert_eq!(
        s.list_recommendations(&coordinator(), Some(n.skopje), &PageRequest::default())
            .await
            .expect("parent")
            .items
            .len(),
        1
    );
    for bad in [
        "visibility = shared",
        "target = \"municipalities/1/workshops/2\"",
        "target = \"challenges/2\"",
        "kind = bribe",
        "answer_state = maybe",
        "target_municipality = 5",
        "target_country > RS",
    ] {
        assert!(
            matches!(s.list_recommendations(&coordinator(), None, &q(bad)).await, Err(Error::InvalidInput { .. })),
            "{bad}"
        );
    }
}

async fn denied_and_repeated_creates_change_nothing(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let n = network(s).await;
    let c = challenge(s, &staff("RS", n.nis), n.nis, n.g, Visibility::Shared).await;
    let events = seed::count(s, "events").await;
    let ghost = ItemRef { municipality: n.nis, id: ChallengeId::parse("id", 999).expect("id") };
    for p in [staff("RS", n.nis), country_admin("RS"), observer("BA"), coordinator()] {
        for target in [c, ghost] {
            let res = s.create_recommendation(&p, n.mostar, advice(Target::Challenge(target)), None).await;
            assert!(matches!(res, Err(Error::PermissionDenied(_))), "{p:?}: {res:?}");
        }
    }
    assert_eq!(seed::count(s, "recommendations").await, 0);
    assert_eq!(seed::count(s, "events").await, events);

    let p = staff("BA", n.mostar);
    let rid = RequestId::parse("rec-1").expect("rid");
    let first = s.create_recommendation(&p, n.mostar, advice(Target::Challenge(c)), rid.as_ref()).await.expect("first");
    let again = s.create_recommendation(&p, n.mostar, advice(Target::Challenge(c)), rid.as_ref()).await.expect("again");
    assert_eq!(first, again);
    let mut different = advice(Target::Challenge(c));
    different.kind = RecommendationKind::Contact;
    let reused = s.create_recommendation(&p, n.mostar, different, rid.as_ref()).await;
    assert!(matches!(reused, Err(Error::RequestIdReused(_))), "{reused:?}");
    let conc = RequestId::parse("conc").expect("rid");
    let concurrent = futures::future::join_all(
        (0..10).map(|_| s.create_recommendation(&p, n.mostar, advice(Target::Challenge(c)), conc.as_ref())),
    )
    .await;
    let ids: std::collections::HashSet<_> = concurrent.into_iter().map(|r| r.expect("concurrent create").id).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(seed::count(s, "recommendations").await, 2);
    assert_eq!(seed::count(s, "events").await, events + 2);
}

peerlab_testkit::on_both_backends!(
    flows_between_countries,
    targets_are_shared_items_of_a_peer_in_the_group,
    only_the_author_edits_and_only_until_answered,
    the_parties_and_the_group_read,
    filters_select_and_reject,
    denied_and_repeated_creates_change_nothing,
);
