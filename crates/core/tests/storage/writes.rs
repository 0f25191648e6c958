//! Concurrent writes: on SQLite they commit together (group commit), on
//! PostgreSQL side by side; either way each write lands whole or not at all,
//! alone, and what was confirmed is there for every other connection.

use std::sync::Arc;
use std::time::Duration;

use peerlab_core::Error;
use peerlab_core::domain::*;
use peerlab_core::model::*;
use peerlab_core::store::{RequestId, Store, StoreOptions, is_connection_error};
use peerlab_testkit::{Backend, TestDb, seed, staff};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

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

/// On PostgreSQL, creates commit on a connection the store holds between
/// them. When PostgreSQL ends the store's connections: right after, a
/// create fails at most once per connection ended, each time as a lost
/// connection (a retry with its request id is safe), then goes through,
/// once; and when the held connection has sat idle for more than a second,
/// it is checked before use, so a create after the loss goes through at
/// once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_lost_held_connection_is_replaced() {
    if !Backend::Postgres.enabled() {
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let s = &db.store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA")]).await;
    let create = |i: usize| async move {
        s.create_challenge(&staff("BA", mostar), mostar, new(g, &format!("c{i}")), Some(&rid(i))).await
    };
    create(0).await.expect("the first create");

    // Another connection ends the store's, and waits until they are gone
    // (the store's listener and pool open new ones meanwhile).
    let killer = sea_orm::Database::connect(db.url.as_str()).await.expect("connect");
    let sql = |text: &str| Statement::from_string(DatabaseBackend::Postgres, text);
    let end_the_store_s_connections = || async {
        let ended = killer
            .query_all(sql("SELECT pid, pg_terminate_backend(pid) AS ended FROM pg_stat_activity \
                            WHERE datname = current_database() AND pid <> pg_backend_pid()"))
            .await
            .expect("terminate");
        let ended: Vec<i32> = ended.iter().map(|r| r.try_get("", "pid").expect("pid")).collect();
        assert!(!ended.is_empty(), "the store had connections to end");
        let list = ended.iter().map(i32::to_string).collect::<Vec<_>>().join(", ");
        for _ in 0..100 {
            let left = killer
                .query_all(sql(&format!("SELECT pid FROM pg_stat_activity WHERE pid IN ({list})")))
                .await
                .expect("activity");
            if left.is_empty() {
                return ended.len();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the ended connections did not go away");
    };

    // Right after the loss (nothing idle long enough to be checked), each
    // ended connection the create meets fails it once, as a lost
    // connection, and is then replaced.
    let ended = end_the_store_s_connections().await;
    let mut failed = 0;
    loop {
        match create(1).await {
            Ok(_) => break,
            Err(Error::Database(e)) if is_connection_error(&e) && failed < ended => failed += 1,
            Err(e) => panic!("after {failed} lost connections of {ended}: {e:?}"),
        }
    }

    // After more than a second idle, the held connection is checked first.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    end_the_store_s_connections().await;
    create(2).await.expect("a create after an idle loss goes through at once");

    assert_eq!(seed::count(s, "challenges").await, 3, "each create once");
    assert_eq!(seed::count(s, "events").await, 3);

    // The store closes promptly with a connection held.
    let closing = tokio::time::timeout(Duration::from_secs(10), s.clone().close()).await;
    assert!(matches!(closing, Ok(Ok(()))), "the store did not close: {closing:?}");
}

/// On PostgreSQL, the connection the store holds for the creates'
/// statements goes back to the pool once held for the pool's lifetime of a
/// connection, and the pool, finding it older than that, closes it: a held
/// connection is not kept for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_held_connection_goes_back_after_its_lifetime() {
    if !Backend::Postgres.enabled() {
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let lifetime = Duration::from_secs(2);
    let options =
        StoreOptions { max_connections: 4, max_lifetime: Some(lifetime), ..StoreOptions::new(db.url.clone()) };
    let store = Store::open(options).await.expect("a store with a short connection lifetime");
    let s = &store;
    let mostar = seed::municipality(s, "Mostar", "BA").await;
    let g = seed::group(s, "Digitalisation", &[(mostar, "BA")]).await;
    let create = |i: usize| async move {
        s.create_challenge(&staff("BA", mostar), mostar, new(g, &format!("c{i}")), Some(&rid(i))).await
    };

    // The connections whose last statement was a create's (its writes'
    // clauses `w0`, …; PostgreSQL shows the start of a long statement):
    // one, the held connection.
    let watcher = sea_orm::Database::connect(db.url.as_str()).await.expect("connect");
    let creating = || async {
        let sql = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
                   AND pid <> pg_backend_pid() AND query LIKE 'WITH w0 AS (%'";
        let rows = watcher.query_all(Statement::from_string(DatabaseBackend::Postgres, sql)).await.expect("activity");
        rows.iter().map(|r| r.try_get::<i32>("", "pid").expect("pid")).collect::<Vec<_>>()
    };
    create(0).await.expect("a create");
    create(1).await.expect("a second create");
    let held = creating().await;
    assert_eq!(held.len(), 1, "both creates ran on one held connection: {held:?}");

    // Past the lifetime, the next create gives it back and takes another.
    tokio::time::sleep(lifetime + Duration::from_millis(500)).await;
    create(2).await.expect("a create after the lifetime");
    let mut gone = false;
    for _ in 0..100 {
        let sql = format!("SELECT pid FROM pg_stat_activity WHERE pid = {}", held[0]);
        let rows = watcher.query_all(Statement::from_string(DatabaseBackend::Postgres, sql)).await.expect("activity");
        if rows.is_empty() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(gone, "the connection held past its lifetime was not closed");
    assert_eq!(creating().await.len(), 1, "the next create ran on one connection");
    assert_eq!(seed::count(s, "challenges").await, 3, "each create once");

    watcher.close().await.expect("close the watcher");
    let closing = tokio::time::timeout(Duration::from_secs(10), store.close()).await;
    assert!(matches!(closing, Ok(Ok(()))), "the store did not close: {closing:?}");
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
