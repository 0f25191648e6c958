//! Concurrent writes: on SQLite they commit together (group commit), on
//! PostgreSQL side by side; either way each write lands whole or not at all,
//! alone, and what was confirmed is there for every other connection.

use std::sync::Arc;

use peerlab_core::Error;
use peerlab_core::domain::*;
use peerlab_core::model::*;
use peerlab_core::store::{RequestId, Store, StoreOptions};
use peerlab_testkit::{Backend, TestDb, seed, staff};

fn new(group: WorkingGroupId, title: &str) -> NewChallenge {
    NewChallenge {
        working_group: group,
        title: Title::parse("title", title).expect("title"),
        description: Description::parse("description", "").expect("description"),
        themes: Theme::parse_list("themes", &["Open Data".into()]).expect("themes"),
        visibility: Visibility::Shared,
    }
}

fn rid(i: usize) -> RequestId {
    RequestId::parse(&format!("req-{i}")).expect("request id").expect("some")
}

/// 48 writes at once, a third of which fail inside their transaction after
/// claiming their request id: every success is there (also for a new
/// connection), every failure left nothing behind — not even its claim, so
/// the same request id with a good payload then succeeds.
async fn a_failing_write_does_not_take_its_batch_with_it(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let member = seed::group(s, "Digitalisation", &[(mostar, "BA")]).await;
    let other = seed::group(s, "Energy", &[]).await;

    let mut tasks = Vec::new();
    for i in 0..48 {
        let s = s.clone();
        // Not a member of `other`: refused after the claim row is written.
        let group = if i % 3 == 0 { other } else { member };
        tasks.push(tokio::spawn(async move {
            let r = rid(i);
            (i, s.create_challenge(&staff("BA", mostar), mostar, new(group, &format!("c{i}")), Some(&r)).await)
        }));
    }
    let mut created = Vec::new();
    for t in tasks {
        let (i, res) = t.await.expect("task");
        match res {
            Ok(c) => {
                assert_ne!(i % 3, 0, "write {i} should have been refused");
                created.push(c);
            }
            Err(e) => {
                assert_eq!(i % 3, 0, "write {i} failed: {e}");
                assert!(matches!(e, Error::InvalidInput { .. } | Error::FailedPrecondition(_)), "{e:?}");
            }
        }
    }
    assert_eq!(created.len(), 32);

    // A separate store on the same database sees every confirmed write.
    let fresh = Store::connect(StoreOptions::new(db.url.clone())).await.expect("second store");
    assert_eq!(seed::count(&fresh, "challenges").await, 32);
    for c in &created {
        let r = ItemRef { municipality: mostar, id: c.id };
        assert_eq!(fresh.get_challenge(&staff("BA", mostar), r).await.expect("durable").title, c.title);
    }
    assert_eq!(seed::count(&fresh, "events").await, 32, "one event per confirmed write, none for failures");
    assert_eq!(seed::count(&fresh, "request_ids").await, 32, "failed writes left no claim");

    // The refused request ids are free again.
    for i in (0..48).filter(|i| i % 3 == 0) {
        s.create_challenge(&staff("BA", mostar), mostar, new(member, &format!("c{i}")), Some(&rid(i)))
            .await
            .expect("retry with a good payload");
    }
    assert_eq!(seed::count(&fresh, "challenges").await, 48);
    fresh.close().await.expect("close");
}

/// Writes cut off at random points (their callers went away) leave either
/// the whole write or nothing, and the store keeps accepting writes; a
/// replayed request id always answers with a committed item.
async fn writes_cut_off_midway_leave_whole_writes_only(backend: Backend) {
    let db = TestDb::new(backend).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA")]).await;

    let confirmed = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for i in 0..64 {
        let (s, confirmed) = (s.clone(), confirmed.clone());
        tasks.push(tokio::spawn(async move {
            let r = rid(i);
            if let Ok(c) = s.create_challenge(&staff("BA", mostar), mostar, new(g, &format!("c{i}")), Some(&r)).await {
                confirmed.lock().expect("lock").push((i, c.id));
            }
        }));
    }
    // Cut every other write off after a few scheduling rounds.
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
    for (i, t) in tasks.iter().enumerate() {
        if i % 2 == 1 {
            t.abort();
        }
    }
    for t in tasks {
        let _ = t.await;
    }

    let events = seed::count(s, "events").await;
    let challenges = seed::count(s, "challenges").await;
    assert_eq!(events, challenges, "a challenge without its event, or the reverse");
    assert_eq!(seed::count(s, "request_ids").await, challenges);
    let confirmed = confirmed.lock().expect("lock").clone();
    assert!(confirmed.len() >= 32, "the writes nobody cut off all finish: {}", confirmed.len());
    // Every request, replayed, gives exactly what was confirmed (or creates it
    // now if it had been cut off before committing).
    for i in 0..64 {
        let again = s
            .create_challenge(&staff("BA", mostar), mostar, new(g, &format!("c{i}")), Some(&rid(i)))
            .await
            .expect("replay");
        if let Some((_, id)) = confirmed.iter().find(|(j, _)| *j == i) {
            assert_eq!(again.id, *id, "request {i} replayed to another item");
        }
    }
    assert_eq!(seed::count(s, "challenges").await, 64);
    assert_eq!(seed::count(s, "events").await, 64);
}

peerlab_testkit::on_both_backends!(
    a_failing_write_does_not_take_its_batch_with_it,
    writes_cut_off_midway_leave_whole_writes_only,
);

/// peerlab's own connections (the writer, the direct readers) open the
/// database file beside sqlx's pool, so a SQLite database must be a file: an
/// in-memory one is refused up front, naming the setting.
#[tokio::test]
async fn an_in_memory_sqlite_database_is_refused() {
    let refused = Store::open(StoreOptions::new("sqlite::memory:")).await.err().expect("refused");
    match refused {
        Error::InvalidInput { field, reason } => {
            assert_eq!(field, "database.url");
            assert!(reason.contains("SQLite file"), "{reason}");
        }
        other => panic!("expected an input error, got {other:?}"),
    }
}
