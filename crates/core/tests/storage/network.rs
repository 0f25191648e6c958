//! The network: municipalities, working groups, memberships, workshops —
//! who may manage them, their rules, idempotency, paging and events.

use chrono::NaiveDate;
use peerlab_core::Error;
use peerlab_core::domain::*;
use peerlab_core::model::*;
use peerlab_core::store::{RequestId, Store};
use peerlab_testkit::{Backend, TestDb, cc, coordinator, country_admin, observer, seed, staff};

fn muni(name: &str, country: &str) -> NewMunicipality {
    NewMunicipality { display_name: Title::parse("display_name", name).expect("name"), country: cc(country) }
}

fn title(s: &str) -> Title {
    Title::parse("display_name", s).expect("title")
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn group(name: &str, start: &str, end: &str, themes: &[&str]) -> NewWorkingGroup {
    NewWorkingGroup {
        display_name: title(name),
        description: Description::parse("description", "").expect("description"),
        themes: Theme::parse_list("themes", &themes.iter().map(|t| t.to_string()).collect::<Vec<_>>()).expect("themes"),
        start_date: day(start),
        end_date: day(end),
    }
}

fn workshop(minutes: i64, attendees: &[MunicipalityId]) -> NewWorkshop {
    NewWorkshop {
        display_name: title("Ideation"),
        phase: WorkshopPhase::Ideation,
        date: day("2021-09-21"),
        duration_minutes: minutes,
        attendees: attendees.to_vec(),
    }
}

fn q(filter: &str) -> PageRequest {
    PageRequest { filter: filter.into(), ..Default::default() }
}

fn ids<T>(page: &Page<T>, id: impl Fn(&T) -> i64) -> Vec<i64> {
    page.items.iter().map(id).collect()
}

fn field_of<T: std::fmt::Debug>(res: &Result<T, Error>) -> String {
    match res {
        Err(Error::InvalidInput { field, .. }) => field.clone(),
        other => panic!("expected an input error, got {other:?}"),
    }
}

/// Events of one kind (`seed::count` counts rows of a table expression).
async fn events_of(s: &Store, kind: &str) -> i64 {
    seed::count(s, &format!("events WHERE kind = '{kind}'")).await
}

async fn group_of(s: &Store, g: WorkingGroupId) -> WorkingGroup {
    s.get_working_group(&coordinator(), g).await.expect("group")
}

async fn municipalities_are_managed_per_country(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let c = coordinator();
    let mostar = s.create_municipality(&c, muni("Mostar", "BA"), None).await.expect("coordinator in BA");
    s.create_municipality(&c, muni("Tbilisi", "GE"), None).await.expect("coordinator in GE");
    let nis = s.create_municipality(&country_admin("RS"), muni("Niš", "RS"), None).await.expect("RS admin in RS");
    assert_eq!((mostar.country, nis.country), (cc("BA"), cc("RS")));
    assert_eq!(mostar.meta.version, 1);
    assert_eq!(seed::count(s, "events").await, 3);

    let res = s.create_municipality(&country_admin("RS"), muni("Sarajevo", "BA"), None).await;
    assert!(matches!(res, Err(Error::PermissionDenied(_))), "{res:?}");
    for p in [staff("BA", mostar.id), observer("BA")] {
        let res = s.create_municipality(&p, muni("Sarajevo", "BA"), None).await;
        assert!(matches!(res, Err(Error::PermissionDenied(_))), "{p:?}: {res:?}");
        let res = s.update_municipality(&p, mostar.id, Some(title("x")), None).await;
        assert!(matches!(res, Err(Error::PermissionDenied(_))), "{p:?}: {res:?}");
        let res = s.archive_municipality(&p, mostar.id, None).await;
        assert!(matches!(res, Err(Error::PermissionDenied(_))), "{p:?}: {res:?}");
    }
    for res in [
        s.update_municipality(&country_admin("RS"), mostar.id, Some(title("x")), None).await,
        s.archive_municipality(&country_admin("RS"), mostar.id, None).await,
    ] {
        assert!(matches!(res, Err(Error::PermissionDenied(_))), "{res:?}");
    }
    // Denied before missing for those who manage nothing; the directory is public otherwise.
    let ghost = MunicipalityId::parse("id", 999).expect("id");
    let res = s.update_municipality(&observer("BA"), ghost, Some(title("x")), None).await;
    assert!(matches!(res, Err(Error::PermissionDenied(_))), "{res:?}");
    let res = s.update_municipality(&country_admin("BA"), ghost, Some(title("x")), None).await;
    assert!(matches!(res, Err(Error::NotFound(_))), "{res:?}");
    assert_eq!(seed::count(s, "municipalities").await, 3);
    assert_eq!(seed::count(s, "events").await, 3);

    let renamed = s
        .update_municipality(&country_admin("BA"), mostar.id, Some(title("Grad Mostar")), Some(mostar.meta.etag()))
        .await
        .expect("rename");
    assert_eq!((renamed.display_name.as_str(), renamed.meta.version), ("Grad Mostar", 2));
    // Everyone reads the directory.
    assert_eq!(s.get_municipality(&staff("RS", nis.id), mostar.id).await.expect("get"), renamed);
    assert_eq!(s.list_municipalities(&observer("GE"), &PageRequest::default()).await.expect("list").items.len(), 3);
    assert!(matches!(s.get_municipality(&observer("GE"), ghost).await, Err(Error::NotFound(_))));
    assert_eq!(seed::count(s, "events").await, 4);
    assert_eq!(events_of(s, "municipality.updated").await, 1);
}

async fn municipality_creates_are_idempotent(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let p = country_admin("BA");
    let rid = RequestId::parse("mostar-1").expect("rid");
    let first = s.create_municipality(&p, muni("Mostar", "BA"), rid.as_ref()).await.expect("first");
    let again = s.create_municipality(&p, muni("Mostar", "BA"), rid.as_ref()).await.expect("again");
    assert_eq!(first, again);
    let other = s.create_municipality(&p, muni("Tuzla", "BA"), rid.as_ref()).await;
    assert!(matches!(other, Err(Error::RequestIdReused(_))), "{other:?}");
    let conc = RequestId::parse("conc").expect("rid");
    let all =
        futures::future::join_all((0..8).map(|_| s.create_municipality(&p, muni("Zenica", "BA"), conc.as_ref()))).await;
    let ids: std::collections::HashSet<_> = all.into_iter().map(|r| r.expect("concurrent create").id).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(seed::count(s, "municipalities").await, 2);
    assert_eq!(seed::count(s, "events").await, 2);
}

async fn municipality_etags_archive_and_tombstones(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let c = coordinator();
    let mostar = s.create_municipality(&c, muni("Mostar", "BA"), None).await.expect("mostar");
    let nis = s.create_municipality(&c, muni("Niš", "RS"), None).await.expect("nis");
    let renamed = s
        .update_municipality(&c, mostar.id, Some(title("Grad Mostar")), Some(mostar.meta.etag()))
        .await
        .expect("rename");
    let stale = s.update_municipality(&c, mostar.id, Some(title("Mostar")), Some(mostar.meta.etag())).await;
    assert!(matches!(stale, Err(Error::StaleEtag(_))), "{stale:?}");
    let stale = s.archive_municipality(&c, mostar.id, Some(mostar.meta.etag())).await;
    assert!(matches!(stale, Err(Error::StaleEtag(_))), "{stale:?}");

    let archived =
        s.archive_municipality(&country_admin("BA"), mostar.id, Some(renamed.meta.etag())).await.expect("archive");
    assert!(archived.meta.archive_time.is_some());
    assert_eq!(archived.meta.version, 3);
    assert_eq!(seed::count(s, "events").await, 4);
    // Archiving again changes nothing and appends nothing.
    assert_eq!(s.archive_municipality(&c, mostar.id, None).await.expect("again"), archived);
    let res = s.update_municipality(&c, mostar.id, Some(title("Mostar")), None).await;
    assert!(matches!(res, Err(Error::FailedPrecondition(_))), "{res:?}");
    assert_eq!(seed::count(s, "events").await, 4);
    assert_eq!(events_of(s, "municipality.archived").await, 1);

    let cr = &c;
    let list = |r: PageRequest| async move { ids(&s.list_municipalities(cr, &r).await.expect("list"), |m| m.id.get()) };
    assert_eq!(list(PageRequest::default()).await, vec![nis.id.get()]);
    assert_eq!(
        list(PageRequest { show_archived: true, ..Default::default() }).await,
        vec![mostar.id.get(), nis.id.get()]
    );
    assert_eq!(list(q(r#"update_time > "2000-01-01T00:00:00Z""#)).await, vec![mostar.id.get(), nis.id.get()]);
    assert_eq!(list(q(r#"country = "RS""#)).await, vec![nis.id.get()]);
    assert_eq!(list(q("country != RS")).await, Vec::<i64>::new());
    assert_eq!(s.get_municipality(&observer("RS"), mostar.id).await.expect("archived is readable"), archived);
    for bad in ["visibility = SHARED", "colour = red", "country = XX", "create_time > yesterday"] {
        assert!(matches!(s.list_municipalities(&c, &q(bad)).await, Err(Error::InvalidInput { .. })), "{bad}");
    }
}

async fn municipality_paging_is_stable_while_rows_are_inserted(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let c = coordinator();
    let mut before = Vec::new();
    for i in 0..23 {
        before.push(seed::municipality(s, &format!("m{i}"), if i % 2 == 0 { "BA" } else { "RS" }).await);
    }
    let mut seen = Vec::new();
    let mut req = PageRequest { page_size: 5, ..Default::default() };
    loop {
        let page = s.list_municipalities(&c, &req).await.expect("page");
        assert!(page.items.len() <= 5);
        seen.extend(page.items.iter().map(|m| m.id));
        s.create_municipality(&c, muni("late", "GE"), None).await.expect("insert while paging");
        match page.next_page_token {
            Some(t) => req.page_token = t,
            None => break,
        }
    }
    for id in &before {
        assert_eq!(seen.iter().filter(|s| *s == id).count(), 1, "{id:?} seen exactly once");
    }
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "in id order");
    // A token is bound to its query.
    let first = s.list_municipalities(&c, &PageRequest { page_size: 5, ..Default::default() }).await.expect("first");
    let token = first.next_page_token.expect("more pages");
    let other = PageRequest { page_size: 5, page_token: token, filter: "country = BA".into(), ..Default::default() };
    assert!(matches!(s.list_municipalities(&c, &other).await, Err(Error::InvalidInput { .. })));
}

async fn working_group_dates_are_ordered(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let c = coordinator();
    let res = s.create_working_group(&c, group("Digitalisation", "2021-11-30", "2021-09-21", &[]), None).await;
    assert_eq!(field_of(&res), "working_group.end_date");
    assert_eq!(seed::count(s, "working_groups").await, 0);
    assert_eq!(seed::count(s, "events").await, 0);

    let g = s
        .create_working_group(&c, group("Digitalisation", "2021-09-21", "2021-09-21", &["E Services"]), None)
        .await
        .expect("one day");
    assert_eq!((g.start_date, g.end_date, g.member_count), (day("2021-09-21"), day("2021-09-21"), 0));
    assert_eq!(g.themes, vec!["e-services".to_string()]);
    let before = WorkingGroupPatch { end_date: Some(day("2021-09-20")), ..Default::default() };
    assert_eq!(field_of(&s.update_working_group(&c, g.id, before, None).await), "working_group.end_date");
    let after = WorkingGroupPatch { start_date: Some(day("2021-09-22")), ..Default::default() };
    assert_eq!(field_of(&s.update_working_group(&c, g.id, after, None).await), "working_group.start_date");
    assert_eq!(group_of(s, g.id).await, g);

    let both = WorkingGroupPatch {
        start_date: Some(day("2021-10-01")),
        end_date: Some(day("2021-11-30")),
        ..Default::default()
    };
    let moved = s.update_working_group(&c, g.id, both, Some(g.meta.etag())).await.expect("move");
    assert_eq!((moved.start_date, moved.end_date, moved.meta.version), (day("2021-10-01"), day("2021-11-30"), 2));
    let stale = s.update_working_group(&c, g.id, WorkingGroupPatch::default(), Some(g.meta.etag())).await;
    assert!(matches!(stale, Err(Error::StaleEtag(_))), "{stale:?}");
    assert_eq!(seed::count(s, "events").await, 2);
}

async fn only_coordinators_write_working_groups(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA")]).await;
    let ghost = WorkingGroupId::parse("id", 999).expect("id");
    for p in [country_admin("BA"), staff("BA", mostar), observer("BA")] {
        let res = s.create_working_group(&p, group("x", "2021-09-21", "2021-11-30", &[]), None).await;
        assert!(matches!(res, Err(Error::PermissionDenied(_))), "{p:?}: {res:?}");
        for id in [g, ghost] {
            let patch = WorkingGroupPatch { display_name: Some(title("x")), ..Default::default() };
            let res = s.update_working_group(&p, id, patch, None).await;
            assert!(matches!(res, Err(Error::PermissionDenied(_))), "{p:?}: {res:?}");
            let res = s.archive_working_group(&p, id, None).await;
            assert!(matches!(res, Err(Error::PermissionDenied(_))), "{p:?}: {res:?}");
        }
        // Reading is open to every caller.
        assert_eq!(s.get_working_group(&p, g).await.expect("read").id, g);
    }
    assert_eq!(seed::count(s, "working_groups").await, 1);
    assert_eq!(seed::count(s, "events").await, 0);

    let c = coordinator();
    let archived = s.archive_working_group(&c, g, None).await.expect("archive");
    assert!(archived.meta.archive_time.is_some());
    assert_eq!(s.archive_working_group(&c, g, None).await.expect("again"), archived);
    let res = s
        .update_working_group(&c, g, WorkingGroupPatch { display_name: Some(title("y")), ..Default::default() }, None)
        .await;
    assert!(matches!(res, Err(Error::FailedPrecondition(_))), "{res:?}");
    assert!(matches!(
        s.update_working_group(&c, ghost, WorkingGroupPatch::default(), None).await,
        Err(Error::NotFound(_))
    ));
    assert!(s.list_working_groups(&observer("BA"), &PageRequest::default()).await.expect("list").items.is_empty());
    let all = PageRequest { show_archived: true, ..Default::default() };
    assert_eq!(s.list_working_groups(&observer("BA"), &all).await.expect("list").items.len(), 1);
    assert_eq!(seed::count(s, "events").await, 1);
    assert_eq!(events_of(s, "working_group.archived").await, 1);
}

async fn memberships_keep_member_count(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let c = coordinator();
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let nis = seed::municipality(s, "Niš", "RS").await;
    let tbilisi = seed::municipality(s, "Tbilisi", "GE").await;
    let g = s
        .create_working_group(&c, group("Digitalisation", "2021-09-21", "2021-11-30", &[]), None)
        .await
        .expect("group");

    let m = s.create_membership(&c, g.id, mostar, None).await.expect("join");
    assert_eq!((m.working_group, m.municipality, m.country), (g.id, mostar, cc("BA")));
    let after = group_of(s, g.id).await;
    assert_eq!((after.member_count, after.meta.version), (1, 2));
    assert!(after.meta.update_time >= g.meta.update_time);
    let rid = RequestId::parse("join-nis").expect("rid");
    let first = s.create_membership(&c, g.id, nis, rid.as_ref()).await.expect("nis");
    assert_eq!(s.create_membership(&c, g.id, nis, rid.as_ref()).await.expect("replay"), first);
    assert_eq!(group_of(s, g.id).await.member_count, 2);
    assert_eq!(seed::count(s, "events").await, 3);

    let dup = s.create_membership(&c, g.id, mostar, None).await;
    assert!(matches!(dup, Err(Error::AlreadyExists(_))), "{dup:?}");
    let ghost_group = WorkingGroupId::parse("id", 999).expect("id");
    assert!(matches!(s.create_membership(&c, ghost_group, mostar, None).await, Err(Error::NotFound(_))));
    let ghost = MunicipalityId::parse("id", 999).expect("id");
    assert_eq!(field_of(&s.create_membership(&c, g.id, ghost, None).await), "membership.municipality");
    s.archive_municipality(&c, tbilisi, None).await.expect("archive tbilisi");
    assert_eq!(field_of(&s.create_membership(&c, g.id, tbilisi, None).await), "membership.municipality");
    for p in [country_admin("GE"), staff("BA", mostar), observer("RS")] {
        let res = s.create_membership(&p, ghost_group, tbilisi, None).await;
        assert!(matches!(res, Err(Error::PermissionDenied(_))), "{p:?}: {res:?}");
        let res = s.delete_membership(&p, g.id, mostar).await;
        assert!(matches!(res, Err(Error::PermissionDenied(_))), "{p:?}: {res:?}");
    }
    assert_eq!(group_of(s, g.id).await.member_count, 2);
    assert_eq!(seed::count(s, "memberships").await, 2);
    assert_eq!(seed::count(s, "events").await, 4);

    let members = s.list_memberships(&observer("GE"), g.id, &PageRequest::default()).await.expect("list");
    assert_eq!(ids(&members, |m| m.municipality.get()), vec![mostar.get(), nis.get()]);
    let rs = s.list_memberships(&c, g.id, &q("country = RS")).await.expect("country");
    assert_eq!(ids(&rs, |m| m.municipality.get()), vec![nis.get()]);
    let paged =
        s.list_memberships(&c, g.id, &PageRequest { page_size: 1, ..Default::default() }).await.expect("page 1");
    let next =
        PageRequest { page_size: 1, page_token: paged.next_page_token.clone().expect("token"), ..Default::default() };
    assert_eq!(
        ids(&s.list_memberships(&c, g.id, &next).await.expect("page 2"), |m| m.municipality.get()),
        vec![nis.get()]
    );
    assert!(matches!(s.list_memberships(&c, g.id, &q("theme = x")).await, Err(Error::InvalidInput { .. })));
    assert!(matches!(s.list_memberships(&c, ghost_group, &PageRequest::default()).await, Err(Error::NotFound(_))));

    let gone = s.delete_membership(&c, g.id, mostar).await.expect("leave");
    assert_eq!(gone, m);
    assert_eq!(group_of(s, g.id).await.member_count, 1);
    assert!(matches!(s.delete_membership(&c, g.id, mostar).await, Err(Error::NotFound(_))));
    assert_eq!(group_of(s, g.id).await.member_count, 1);
    assert_eq!(seed::count(s, "memberships").await, 1);

    // An archived group is frozen.
    s.archive_working_group(&c, g.id, None).await.expect("archive group");
    assert!(matches!(s.create_membership(&c, g.id, mostar, None).await, Err(Error::FailedPrecondition(_))));
    assert!(matches!(s.delete_membership(&c, g.id, nis).await, Err(Error::FailedPrecondition(_))));
    assert_eq!(group_of(s, g.id).await.member_count, 1);
    assert_eq!(seed::count(s, "events").await, 6);
    assert_eq!((events_of(s, "membership.created").await, events_of(s, "membership.deleted").await), (2, 1));
}

async fn working_groups_filter_by_member_and_theme(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let c = coordinator();
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let nis = seed::municipality(s, "Niš", "RS").await;
    let new = |name, themes| group(name, "2021-09-21", "2021-11-30", themes);
    let g1 = s
        .create_working_group(&c, new("Digitalisation", &["e-services", "digital-literacy"]), None)
        .await
        .expect("g1")
        .id;
    let g2 = s.create_working_group(&c, new("Archives", &["archives"]), None).await.expect("g2").id;
    let g3 = s.create_working_group(&c, new("Services", &["e-services-2"]), None).await.expect("g3").id;
    for (g, m) in [(g1, mostar), (g2, mostar), (g2, nis)] {
        s.create_membership(&c, g, m, None).await.expect("join");
    }
    let list = |f: String| async move {
        ids(&s.list_working_groups(&observer("GE"), &q(&f)).await.expect(&f), |g| g.id.get())
    };
    assert_eq!(list(format!("member = \"municipalities/{mostar}\"")).await, vec![g1.get(), g2.get()]);
    assert_eq!(list(format!("member = municipalities/{nis}")).await, vec![g2.get()]);
    assert_eq!(list(format!("member != \"municipalities/{nis}\"")).await, vec![g1.get(), g3.get()]);
    // A theme matches whole tags only: `e-services` is not `e-services-2`.
    assert_eq!(list("theme = e-services".into()).await, vec![g1.get()]);
    assert_eq!(list("theme = \"Digital Literacy\"".into()).await, vec![g1.get()]);
    assert_eq!(list("theme != archives".into()).await, vec![g1.get(), g3.get()]);
    assert_eq!(list(format!("theme = archives AND member = municipalities/{nis}")).await, vec![g2.get()]);
    assert_eq!(list(format!("theme = e-services AND member = municipalities/{nis}")).await, Vec::<i64>::new());
    for bad in ["country = BA", "member = mostar", "theme > a", "theme = a/b", "colour = red"] {
        assert!(matches!(s.list_working_groups(&c, &q(bad)).await, Err(Error::InvalidInput { .. })), "{bad}");
    }
}

async fn workshops_follow_their_group(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let c = coordinator();
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let nis = seed::municipality(s, "Niš", "RS").await;
    let tbilisi = seed::municipality(s, "Tbilisi", "GE").await;
    let a = seed::group(s, "Digitalisation", &[(mostar, "BA"), (nis, "RS")]).await;
    let b = seed::group(s, "Archives", &[(tbilisi, "GE")]).await;

    assert_eq!(field_of(&s.create_workshop(&c, a, workshop(90, &[tbilisi]), None).await), "workshop.attendees[0]");
    assert_eq!(
        field_of(&s.create_workshop(&c, a, workshop(90, &[mostar, tbilisi]), None).await),
        "workshop.attendees[1]"
    );
    for minutes in [0, -5, 1441] {
        assert_eq!(
            field_of(&s.create_workshop(&c, a, workshop(minutes, &[]), None).await),
            "workshop.duration_minutes",
            "{minutes}"
        );
    }
    for p in [country_admin("BA"), staff("BA", mostar), observer("BA")] {
        let res = s.create_workshop(&p, a, workshop(90, &[]), None).await;
        assert!(matches!(res, Err(Error::PermissionDenied(_))), "{p:?}: {res:?}");
    }
    assert_eq!(seed::count(s, "workshops").await, 0);
    assert_eq!(seed::count(s, "events").await, 0);

    let shortest = s.create_workshop(&c, a, workshop(1, &[]), None).await.expect("1 minute");
    let longest = s.create_workshop(&c, a, workshop(1440, &[]), None).await.expect("1440 minutes");
    let ws = s.create_workshop(&c, a, workshop(180, &[nis, mostar, nis]), None).await.expect("workshop");
    assert_eq!(ws.attendees, vec![mostar, nis]);
    assert_eq!(seed::count(s, "workshop_attendees").await, 2);
    assert_eq!(s.get_workshop(&observer("GE"), a, ws.id).await.expect("get"), ws);

    // A workshop of group A does not exist under group B.
    assert!(matches!(s.get_workshop(&c, b, ws.id).await, Err(Error::NotFound(_))));
    let rename = || WorkshopPatch { display_name: Some(title("Consolidation")), ..Default::default() };
    assert!(matches!(s.update_workshop(&c, b, ws.id, rename(), None).await, Err(Error::NotFound(_))));
    assert!(matches!(s.archive_workshop(&c, b, ws.id, None).await, Err(Error::NotFound(_))));
    assert!(s.list_workshops(&c, b, &PageRequest::default()).await.expect("list b").items.is_empty());

    let outsider = WorkshopPatch { attendees: Some(vec![tbilisi]), ..Default::default() };
    assert_eq!(field_of(&s.update_workshop(&c, a, ws.id, outsider, None).await), "workshop.attendees[0]");
    let too_long = WorkshopPatch { duration_minutes: Some(1441), ..Default::default() };
    assert_eq!(field_of(&s.update_workshop(&c, a, ws.id, too_long, None).await), "workshop.duration_minutes");
    let res = s.update_workshop(&staff("BA", mostar), a, ws.id, rename(), None).await;
    assert!(matches!(res, Err(Error::PermissionDenied(_))), "{res:?}");
    let patch = WorkshopPatch { attendees: Some(vec![nis]), phase: Some(WorkshopPhase::Consolidation), ..rename() };
    let updated = s.update_workshop(&c, a, ws.id, patch, Some(ws.meta.etag())).await.expect("update");
    assert_eq!(
        (updated.attendees.clone(), updated.phase, updated.meta.version),
        (vec![nis], WorkshopPhase::Consolidation, 2)
    );
    assert_eq!(updated.display_name, "Consolidation");
    let stale = s.update_workshop(&c, a, ws.id, rename(), Some(ws.meta.etag())).await;
    assert!(matches!(stale, Err(Error::StaleEtag(_))), "{stale:?}");
    assert_eq!(seed::count(s, "workshop_attendees").await, 1);

    let archived = s.archive_workshop(&c, a, shortest.id, None).await.expect("archive");
    assert!(archived.meta.archive_time.is_some());
    assert_eq!(s.archive_workshop(&c, a, shortest.id, None).await.expect("again"), archived);
    assert!(matches!(s.update_workshop(&c, a, shortest.id, rename(), None).await, Err(Error::FailedPrecondition(_))));
    let cr = &c;
    let list = |r: PageRequest| async move { ids(&s.list_workshops(cr, a, &r).await.expect("list"), |w| w.id.get()) };
    assert_eq!(list(PageRequest::default()).await, vec![longest.id.get(), ws.id.get()]);
    let everything = vec![shortest.id.get(), longest.id.get(), ws.id.get()];
    assert_eq!(list(PageRequest { show_archived: true, ..Default::default() }).await, everything);
    assert_eq!(list(q(r#"update_time >= "2000-01-01T00:00:00Z""#)).await, everything);
    assert!(matches!(s.list_workshops(&c, a, &q("phase = IDEATION")).await, Err(Error::InvalidInput { .. })));
    assert_eq!(seed::count(s, "events").await, 5);
    assert_eq!(
        (
            events_of(s, "workshop.created").await,
            events_of(s, "workshop.updated").await,
            events_of(s, "workshop.archived").await
        ),
        (3, 1, 1)
    );
}

async fn every_write_appends_exactly_one_event(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let c = coordinator();
    let mut expected = 0;
    let mostar = s.create_municipality(&c, muni("Mostar", "BA"), None).await.expect("municipality");
    let nis = s.create_municipality(&country_admin("RS"), muni("Niš", "RS"), None).await.expect("municipality");
    expected += 2;
    assert_eq!(seed::count(s, "events").await, expected);
    let g = s
        .create_working_group(&c, group("Digitalisation", "2021-09-21", "2021-11-30", &["e-services"]), None)
        .await
        .expect("group");
    s.update_working_group(
        &c,
        g.id,
        WorkingGroupPatch {
            description: Some(Description::parse("d", "Four workshops").expect("d")),
            ..Default::default()
        },
        None,
    )
    .await
    .expect("update group");
    expected += 2;
    assert_eq!(seed::count(s, "events").await, expected);
    s.create_membership(&c, g.id, mostar.id, None).await.expect("join");
    s.create_membership(&c, g.id, nis.id, None).await.expect("join");
    expected += 2;
    assert_eq!(seed::count(s, "events").await, expected);
    let ws = s.create_workshop(&c, g.id, workshop(240, &[mostar.id, nis.id]), None).await.expect("workshop");
    s.update_workshop(&c, g.id, ws.id, WorkshopPatch { date: Some(day("2021-10-05")), ..Default::default() }, None)
        .await
        .expect("update");
    s.archive_workshop(&c, g.id, ws.id, None).await.expect("archive workshop");
    expected += 3;
    assert_eq!(seed::count(s, "events").await, expected);
    s.delete_membership(&c, g.id, nis.id).await.expect("leave");
    s.update_municipality(&c, nis.id, Some(title("Grad Niš")), None).await.expect("rename");
    s.archive_municipality(&c, nis.id, None).await.expect("archive municipality");
    s.archive_working_group(&c, g.id, None).await.expect("archive group");
    expected += 4;
    assert_eq!(seed::count(s, "events").await, expected);
    for kind in [
        "municipality.created",
        "working_group.created",
        "working_group.updated",
        "working_group.archived",
        "membership.deleted",
        "workshop.created",
        "workshop.updated",
        "workshop.archived",
        "municipality.updated",
        "municipality.archived",
    ] {
        assert!(events_of(s, kind).await >= 1, "{kind}");
    }
    assert_eq!(events_of(s, "membership.created").await, 2);
    // Failed writes append nothing.
    assert!(s.create_membership(&c, g.id, mostar.id, None).await.is_err());
    assert!(s.update_workshop(&c, g.id, ws.id, WorkshopPatch::default(), None).await.is_err());
    assert_eq!(seed::count(s, "events").await, expected);
}

peerlab_testkit::on_both_backends!(
    municipalities_are_managed_per_country,
    municipality_creates_are_idempotent,
    municipality_etags_archive_and_tombstones,
    municipality_paging_is_stable_while_rows_are_inserted,
    working_group_dates_are_ordered,
    only_coordinators_write_working_groups,
    memberships_keep_member_count,
    working_groups_filter_by_member_and_theme,
    workshops_follow_their_group,
    every_write_appends_exactly_one_event,
);
