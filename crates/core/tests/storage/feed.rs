//! The live feed's side of the store: an [`Audience`] decides in memory
//! exactly what the log's SQL rule decides, follows membership changes, and
//! the committed-id signal moves on every commit (across stores on PostgreSQL).

use std::time::Duration;

use peerlab_core::auth::Principal;
use peerlab_core::domain::*;
use peerlab_core::model::*;
use peerlab_core::store::{Store, StoreOptions};
use peerlab_testkit::{Backend, TestDb, cc, coordinator, country_admin, observer, staff};
use sea_orm::ConnectionTrait;

async fn town(s: &Store, name: &str, country: &str) -> MunicipalityId {
    let input = NewMunicipality { display_name: Title::parse("name", name).expect("name"), country: cc(country) };
    s.create_municipality(&coordinator(), input, None).await.expect("municipality").id
}

async fn group(s: &Store, name: &str, members: &[MunicipalityId]) -> WorkingGroupId {
    let input = NewWorkingGroup {
        display_name: Title::parse("name", name).expect("name"),
        description: Description::parse("description", "").expect("description"),
        themes: Vec::new(),
        start_date: chrono::NaiveDate::from_ymd_opt(2021, 9, 21).expect("date"),
        end_date: chrono::NaiveDate::from_ymd_opt(2021, 11, 30).expect("date"),
    };
    let g = s.create_working_group(&coordinator(), input, None).await.expect("group").id;
    for m in members {
        s.create_membership(&coordinator(), g, *m, None).await.expect("membership");
    }
    g
}

async fn challenge(s: &Store, country: &str, m: MunicipalityId, g: WorkingGroupId, visibility: Visibility) {
    let input = NewChallenge {
        working_group: g,
        title: Title::parse("title", "Low digital literacy").expect("title"),
        description: Description::parse("description", "").expect("description"),
        themes: Vec::new(),
        visibility,
    };
    s.create_challenge(&staff(country, m), m, input, None).await.expect("challenge");
}

struct Net {
    mostar: MunicipalityId,
    banja_luka: MunicipalityId,
    nis: MunicipalityId,
    tbilisi: MunicipalityId,
    digital: WorkingGroupId,
    mobility: WorkingGroupId,
}

/// Two groups across BA, RS and GE, with shared content and drafts in both.
async fn net(s: &Store) -> Net {
    let mostar = town(s, "Mostar", "BA").await;
    let banja_luka = town(s, "Banja Luka", "BA").await;
    let nis = town(s, "Niš", "RS").await;
    let tbilisi = town(s, "Tbilisi", "GE").await;
    let digital = group(s, "Digitalisation", &[mostar, nis]).await;
    let mobility = group(s, "Mobility", &[banja_luka, tbilisi]).await;
    for (country, m, g) in
        [("BA", mostar, digital), ("RS", nis, digital), ("BA", banja_luka, mobility), ("GE", tbilisi, mobility)]
    {
        challenge(s, country, m, g, Visibility::Shared).await;
        challenge(s, country, m, g, Visibility::Draft).await;
    }
    Net { mostar, banja_luka, nis, tbilisi, digital, mobility }
}

fn principals(n: &Net) -> Vec<Principal> {
    let mut all = vec![staff("BA", n.mostar), staff("BA", n.banja_luka), staff("RS", n.nis), staff("GE", n.tbilisi)];
    for c in ["BA", "RS", "GE", "MK"] {
        all.extend([observer(c), country_admin(c)]);
    }
    all.push(coordinator());
    all
}

/// The ids `p` reads from the log by SQL, and those its audience picks out of everything.
async fn both_ways(s: &Store, p: &Principal) -> (Vec<i64>, Vec<i64>) {
    let ids = |events: &[Event]| events.iter().map(|e| e.id.get()).collect::<Vec<_>>();
    let by_sql = s.events_after(p.read_scope(), 0, 1000, None, &[]).await.expect("scoped");
    let everything = s.events_after(coordinator().read_scope(), 0, 1000, None, &[]).await.expect("all");
    let audience = s.audience(p.read_scope()).await.expect("audience");
    let seen: Vec<Event> = everything.into_iter().filter(|e| audience.sees(e)).collect();
    (ids(&by_sql), ids(&seen))
}

async fn the_audience_agrees_with_the_log(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let n = net(s).await;
    for p in principals(&n) {
        let (sql, memory) = both_ways(s, &p).await;
        assert_eq!(memory, sql, "{p:?}");
    }
    // Membership changes move both the same way.
    s.create_membership(&coordinator(), n.mobility, n.nis, None).await.expect("join");
    s.delete_membership(&coordinator(), n.digital, n.mostar).await.expect("leave");
    for p in principals(&n) {
        let (sql, memory) = both_ways(s, &p).await;
        assert_eq!(memory, sql, "{p:?} after membership changes");
    }
    let (sql, _) = both_ways(s, &staff("BA", n.mostar)).await;
    let all = s.events_after(coordinator().read_scope(), 0, 1000, None, &[]).await.expect("all");
    assert!(sql.len() < all.len(), "mostar no longer reads Niš's shared challenge");
}

async fn observing_membership_events_keeps_the_audience_current(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let n = net(s).await;
    let scopes = principals(&n).iter().map(Principal::read_scope).collect::<Vec<_>>();
    let mut audiences = Vec::new();
    for scope in &scopes {
        audiences.push(s.audience(*scope).await.expect("audience"));
    }
    let from = s.last_event_id().await.expect("last");
    s.create_membership(&coordinator(), n.digital, n.banja_luka, None).await.expect("join");
    s.create_membership(&coordinator(), n.mobility, n.nis, None).await.expect("join");
    // Mostar leaves, but BA stays in the group through Banja Luka.
    s.delete_membership(&coordinator(), n.digital, n.mostar).await.expect("leave");
    s.delete_membership(&coordinator(), n.mobility, n.tbilisi).await.expect("leave");
    challenge(s, "RS", n.nis, n.mobility, Visibility::Shared).await;
    let news = s.events_after(coordinator().read_scope(), from, 1000, None, &[]).await.expect("news");
    assert_eq!(news.len(), 5);
    for (scope, audience) in scopes.iter().zip(&mut audiences) {
        for e in &news {
            audience.observe(e);
            audience.observe(e);
        }
        assert_eq!(*audience, s.audience(*scope).await.expect("fresh"), "{scope:?}");
    }
    let ba = s.audience(country_admin("BA").read_scope()).await.expect("BA");
    assert_eq!(ba.groups().collect::<Vec<_>>(), vec![n.digital, n.mobility]);
    let ge = s.audience(observer("GE").read_scope()).await.expect("GE");
    assert_eq!(ge.groups().count(), 0);
}

async fn committed_moves_on_every_commit(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = town(s, "Mostar", "BA").await;
    let mut committed = s.committed();
    assert_eq!(*committed.borrow_and_update(), s.last_event_id().await.expect("last"));
    let nis = town(s, "Niš", "RS").await;
    assert!(committed.has_changed().expect("open"), "a commit moves the signal");
    let last = s.last_event_id().await.expect("last");
    assert_eq!(*committed.borrow_and_update(), last);
    assert!(last > 0 && mostar != nis);

    // Another store on the same database (another replica) hears of it too.
    let replica = Store::connect(StoreOptions::new(db.url.clone())).await.expect("replica");
    let listening = tokio::spawn({
        let replica = replica.clone();
        async move { replica.listen_for_events().await }
    });
    if backend == Backend::Sqlite {
        assert!(listening.await.is_ok(), "returns at once on SQLite");
        return;
    }
    let mut heard = replica.committed();
    // The replica learns of commits once its LISTEN is up and it has re-read the log.
    let caught_up = heard.wait_for(|id| *id >= last);
    tokio::time::timeout(Duration::from_secs(10), caught_up).await.expect("resync").expect("open");
    town(s, "Tbilisi", "GE").await;
    let next = s.last_event_id().await.expect("last");
    let notified = heard.wait_for(|id| *id >= next);
    tokio::time::timeout(Duration::from_secs(10), notified).await.expect("notified").expect("open");

    // The listening connection dies; the replica reconnects and catches up.
    let kill = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                WHERE datname = current_database() AND query ILIKE 'LISTEN%'";
    let killed = s.connection().execute_unprepared(kill).await.expect("terminate");
    assert_eq!(killed.rows_affected(), 1, "one listening connection");
    town(s, "Kyiv", "UA").await;
    let after = s.last_event_id().await.expect("last");
    let recovered = heard.wait_for(|id| *id >= after);
    tokio::time::timeout(Duration::from_secs(10), recovered).await.expect("after reconnecting").expect("open");
    listening.abort();
}

/// Every event `p` may read, through the API's pages.
async fn paged(s: &Store, p: &Principal) -> Vec<Event> {
    let mut req = PageRequest { page_size: 5, ..Default::default() };
    let mut all = Vec::new();
    loop {
        let page = s.list_events(p, &req).await.expect("page");
        all.extend(page.items);
        match page.next_page_token {
            Some(token) => req.page_token = token,
            None => return all,
        }
    }
}

/// The live feed reads the log a few events at a time (on SQLite, on the
/// calling thread, by a path of its own); whatever the step, it reads the
/// same events, field for field, as the API's pages, and as one large read.
async fn reading_the_log_a_few_events_at_a_time_reads_what_the_pages_read(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let n = net(s).await;
    for p in principals(&n) {
        let pages = paged(s, &p).await;
        assert!(!pages.is_empty(), "{p:?} reads the directory at least");
        for step in [1, 2, 16, 17, 1000] {
            let mut walked: Vec<Event> = Vec::new();
            loop {
                let after = walked.last().map_or(0, |e| e.id.get());
                let batch = s.events_after(p.read_scope(), after, step, None, &[]).await.expect("batch");
                assert!(batch.len() as u64 <= step, "{p:?}: at most {step}");
                if batch.is_empty() {
                    break;
                }
                walked.extend(batch);
            }
            assert_eq!(walked, pages, "{p:?}, {step} at a time");
        }
        // One group's events of one kind, a few at a time.
        let kind = "challenge.created".to_string();
        let wanted: Vec<Event> =
            pages.iter().filter(|e| e.working_group == Some(n.digital) && e.kind == kind).cloned().collect();
        let mut walked: Vec<Event> = Vec::new();
        loop {
            let after = walked.last().map_or(0, |e| e.id.get());
            let batch = s
                .events_after(p.read_scope(), after, 1, Some(n.digital), std::slice::from_ref(&kind))
                .await
                .expect("one");
            if batch.is_empty() {
                break;
            }
            walked.extend(batch);
        }
        assert_eq!(walked, wanted, "{p:?}, one group's challenges");
    }
    let all = paged(s, &coordinator()).await;
    assert!(all.iter().any(|e| e.kind == "challenge.created"), "the fixture posts challenges");
}

peerlab_testkit::on_both_backends!(
    reading_the_log_a_few_events_at_a_time_reads_what_the_pages_read,
    the_audience_agrees_with_the_log,
    observing_membership_events_keeps_the_audience_current,
    committed_moves_on_every_commit,
);
