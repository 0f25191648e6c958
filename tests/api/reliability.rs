//! Reliability at the API's edge: retried creates write once, abusive input
//! is refused before it costs anything, and database failures reach callers
//! as a plain "internal error" (or "unavailable") that tells them nothing of
//! the SQL, the tables or the files behind it.

use futures::future::join_all;
use peerlab_client::{Client, RetryPolicy, pb};
use peerlab_core::domain::{MunicipalityId, WorkingGroupId};
use peerlab_core::store::Store;
use peerlab_testkit::{Backend, seed};
use sea_orm::{ConnectionTrait, Statement};
use tonic::Code;
use tonic::metadata::{AsciiMetadataValue, KeyAndValueRef};

use crate::support::{TestApp, spawn_app};

async fn execute(store: &Store, sql: &str) {
    let db = store.connection();
    db.execute(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn count(store: &Store, sql: &str) -> i64 {
    let db = store.connection();
    let row = db
        .query_one(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap_or_else(|| panic!("{sql}: no row"));
    row.try_get::<i64>("", "n").unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Rows of every table a challenge create writes to.
async fn written(store: &Store) -> [i64; 4] {
    let mut counts = [0; 4];
    for (n, table) in counts.iter_mut().zip(["challenges", "challenge_themes", "events", "request_ids"]) {
        *n = seed::count(store, table).await;
    }
    counts
}

/// Mostar (BA) in a working group, and a BA staff client acting for it.
async fn mostar(app: &TestApp) -> (MunicipalityId, WorkingGroupId, Client) {
    let s = &app.db.store;
    let m = seed::municipality(s, "Mostar", "BA").await;
    let g = seed::group(s, "Digitalisation", &[(m, "BA")]).await;
    (m, g, app.client(&app.staff_token("BA", m)).await)
}

fn challenge(g: WorkingGroupId, title: &str) -> pb::Challenge {
    pb::Challenge {
        working_group: format!("workingGroups/{g}"),
        title: title.into(),
        themes: vec!["digital-literacy".into()],
        ..Default::default()
    }
}

fn fields(err: &peerlab_client::Error) -> Vec<String> {
    err.field_violations().into_iter().map(|(field, _)| field).collect()
}

/// How many rows and `challenge.created` events the challenge `name`, titled `title`, has.
async fn copies(store: &Store, title: &str, name: &str) -> (i64, i64) {
    let rows = count(store, &format!("SELECT COUNT(*) AS n FROM challenges WHERE title = '{title}'")).await;
    let events = format!("SELECT COUNT(*) AS n FROM events WHERE kind = 'challenge.created' AND resource = '{name}'");
    (rows, count(store, &events).await)
}

async fn one_request_id_writes_one_challenge(backend: Backend) {
    let app = spawn_app(backend).await;
    let (m, g, ba) = mostar(&app).await;
    let parent = format!("municipalities/{m}");

    let mut names = Vec::new();
    for _ in 0..10 {
        let created =
            ba.create_challenge(&parent, challenge(g, "In sequence"), Some("seq-1".into())).await.expect("create");
        names.push(created.name);
    }
    names.dedup();
    assert_eq!(names.len(), 1, "every retry answers with the first result: {names:?}");
    assert_eq!(copies(&app.db.store, "In sequence", &names[0]).await, (1, 1));

    let attempts = (0..10).map(|_| {
        let (ba, parent) = (ba.clone(), parent.clone());
        async move { ba.create_challenge(parent, challenge(g, "Concurrently"), Some("conc-1".into())).await }
    });
    let mut names: Vec<String> =
        join_all(attempts).await.into_iter().map(|r| r.expect("concurrent create").name).collect();
    names.dedup();
    assert_eq!(names.len(), 1, "concurrent retries answer with one result: {names:?}");
    assert_eq!(copies(&app.db.store, "Concurrently", &names[0]).await, (1, 1));

    let before = written(&app.db.store).await;
    let err = ba
        .create_challenge(&parent, challenge(g, "Something else"), Some("seq-1".into()))
        .await
        .expect_err("reused id");
    assert_eq!(err.code(), Code::InvalidArgument, "{err}");
    assert_eq!(fields(&err), vec!["request_id"]);
    assert_eq!(written(&app.db.store).await, before, "a reused request id writes nothing");
}

/// A retry of a create that succeeded still answers with what it created
/// once the checks it passed no longer hold (its group was archived since),
/// and still refuses another request under the same id; a new create fails
/// the check.
async fn a_retry_replays_after_its_group_is_archived(backend: Backend) {
    let app = spawn_app(backend).await;
    let (m, g, ba) = mostar(&app).await;
    let parent = format!("municipalities/{m}");
    let created = ba.create_challenge(&parent, challenge(g, "Before"), Some("late-1".into())).await.expect("create");

    let coordinator = app.client(&app.coordinator_token()).await;
    let mut groups = coordinator.working_groups();
    let group = groups.get_working_group(pb::GetWorkingGroupRequest { name: format!("workingGroups/{g}") }).await;
    let etag = group.expect("group").into_inner().etag;
    let request = pb::DeleteWorkingGroupRequest { name: format!("workingGroups/{g}"), etag };
    groups.delete_working_group(request).await.expect("archive the group");

    let before = written(&app.db.store).await;
    let retried = ba.create_challenge(&parent, challenge(g, "Before"), Some("late-1".into())).await.expect("retry");
    assert_eq!(retried.name, created.name);
    let err = ba.create_challenge(&parent, challenge(g, "Other"), Some("late-1".into())).await.expect_err("reused");
    assert_eq!((err.code(), fields(&err)), (Code::InvalidArgument, vec!["request_id".to_owned()]), "{err}");
    let err = ba.create_challenge(&parent, challenge(g, "After"), Some("late-2".into())).await.expect_err("archived");
    assert_eq!(
        (err.code(), fields(&err)),
        (Code::InvalidArgument, vec!["challenge.working_group".to_owned()]),
        "{err}"
    );
    assert_eq!(written(&app.db.store).await, before, "none of them wrote anything");
}

/// A burst of creates, far more than commit at once: on PostgreSQL they
/// queue and commit together, several in one statement. Each still gets
/// its own answer (its challenge, the replay of its request id's first
/// result, or its own error), the failing ones write nothing and do not
/// take the others down, and the report counts every challenge once.
async fn a_burst_of_creates_commits_each_once_with_its_own_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let (m, g, ba) = mostar(&app).await;
    let s = &app.db.store;
    let parent = format!("municipalities/{m}");
    let archived = seed::group(s, "Archived", &[(m, "BA")]).await;
    execute(s, &format!("UPDATE working_groups SET archive_time = 1 WHERE id = {archived}")).await;
    let first = ba.create_challenge(&parent, challenge(g, "First"), Some("burst-0".into())).await.expect("create");

    enum Expect {
        Created,
        SameAs(usize),
        Refused(&'static str),
    }
    // First creates that all succeed (on PostgreSQL, statements carrying
    // several of them commit), then a burst where some fail or repeat
    // another (a statement carrying one of those fails whole, and each of
    // its creates commits alone).
    let mut all = Vec::new();
    let mut calls = Vec::new();
    for i in 0..24 {
        calls.push((challenge(g, &format!("Distinct {i}")), Some(format!("burst-d{i}")), Expect::Created));
    }
    all.push(calls);
    let mut calls = Vec::new();
    for i in 0..4 {
        calls.push((challenge(g, &format!("Pair {i}")), Some(format!("burst-p{i}")), Expect::Created));
        calls.push((challenge(g, &format!("Pair {i}")), Some(format!("burst-p{i}")), Expect::SameAs(24 + 4 * i)));
        calls.push((challenge(g, &format!("Plain {i}")), None, Expect::Created));
        calls.push((challenge(archived, &format!("Archived {i}")), None, Expect::Refused("challenge.working_group")));
    }
    calls.push((challenge(g, "Reused"), Some("burst-0".into()), Expect::Refused("request_id")));
    all.push(calls);
    let mut answers = Vec::new();
    for calls in &all {
        let sent = calls.iter().map(|(c, rid, _)| {
            let (ba, parent, c, rid) = (ba.clone(), parent.clone(), c.clone(), rid.clone());
            async move { ba.create_challenge(parent, c, rid).await }
        });
        answers.extend(join_all(sent).await);
    }
    let calls: Vec<_> = all.into_iter().flatten().collect();

    let mut names = Vec::new();
    for (i, ((c, _, expect), answer)) in calls.iter().zip(&answers).enumerate() {
        match (expect, answer) {
            (Expect::Created, Ok(created)) => {
                assert_eq!(created.title, c.title, "call {i}");
                names.push(created.name.clone());
            }
            (Expect::SameAs(at), Ok(created)) => {
                let earlier = answers[*at].as_ref().expect("the pair's other create");
                assert_eq!(created.name, earlier.name, "call {i} replays call {at}");
            }
            (Expect::Refused(field), Err(err)) => {
                assert_eq!((err.code(), fields(err)), (Code::InvalidArgument, vec![(*field).to_owned()]), "call {i}");
            }
            (_, answer) => panic!("call {i} ({}): unexpected answer {answer:?}", c.title),
        }
    }
    names.push(first.name);
    let distinct: std::collections::HashSet<_> = names.iter().collect();
    assert_eq!(distinct.len(), 33, "every create made its own challenge");
    for name in &names {
        let title = &answers.iter().flatten().find(|c| &c.name == name).map_or("First".into(), |c| c.title.clone());
        assert_eq!(copies(s, title, name).await, (1, 1), "{name} ({title})");
    }
    // The client gives a create without a request id one of its own.
    assert_eq!(written(s).await, [33, 33, 33, 33], "challenges, themes, events, request ids");

    let coordinator = app.client(&app.coordinator_token()).await;
    let report = coordinator.reports().get_network_report(pb::GetNetworkReportRequest::default()).await;
    let report = report.expect("network report").into_inner();
    assert_eq!(report.totals.expect("totals").challenges, 33);
    let ba_report = report.countries.iter().find(|c| c.country == "BA").expect("BA");
    assert_eq!(ba_report.challenges_by_theme.get("digital-literacy"), Some(&33));
    assert_eq!(ba_report.challenges_by_status.get("open"), Some(&33));
}

/// `n` shared challenges of `m`, inserted in one statement per 100.
async fn insert_challenges(store: &Store, m: MunicipalityId, g: WorkingGroupId, n: usize) {
    for start in (0..n).step_by(100) {
        let rows: Vec<String> = (start..n.min(start + 100))
            .map(|i| format!("({g}, {m}, 'BA', 'Bulk {i}', '', 'shared', 'open', 1, {i}, {i})"))
            .collect();
        let sql = format!(
            "INSERT INTO challenges (working_group_id, municipality_id, country, title, description, visibility, status, version, create_time, update_time) VALUES {}",
            rows.join(", ")
        );
        execute(store, &sql).await;
    }
}

fn list(page_size: i32, page_token: &str, filter: &str) -> pb::ListChallengesRequest {
    pb::ListChallengesRequest {
        parent: "municipalities/-".into(),
        page_size,
        page_token: page_token.into(),
        filter: filter.into(),
        show_archived: false,
    }
}

async fn abusive_list_requests_are_bounded_or_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let (m, g, ba) = mostar(&app).await;
    insert_challenges(&app.db.store, m, g, 520).await;

    let page = ba.list_challenges(list(1_000_000_000, "", "")).await.expect("a huge page size is coerced");
    assert_eq!(page.challenges.len(), 500, "at most 500 per page");
    assert!(!page.next_page_token.is_empty(), "and a token for the rest");
    let rest = ba.list_challenges(list(1_000_000_000, &page.next_page_token, "")).await.expect("next page");
    assert_eq!(rest.challenges.len(), 20);
    assert!(rest.next_page_token.is_empty());

    for (request, field) in [
        (list(-1, "", ""), "page_size"),
        (list(10, "garbage!!", ""), "page_token"),
        (list(10, "", &format!("country = \"{}\"", "B".repeat(5_000))), "filter"),
        (list(10, "", &"x".repeat(5_000)), "filter"),
    ] {
        let err = ba.list_challenges(request).await.expect_err("refused");
        assert_eq!(err.code(), Code::InvalidArgument, "{field}: {err}");
        assert_eq!(fields(&err), vec![field]);
    }
}

async fn ten_thousand_themes_are_refused_and_nothing_is_written(backend: Backend) {
    let app = spawn_app(backend).await;
    let (m, g, ba) = mostar(&app).await;
    let before = written(&app.db.store).await;
    let themes = (0..10_000).map(|i| format!("theme-{i}")).collect();
    let c = pb::Challenge { themes, ..challenge(g, "Too many themes") };
    let err =
        ba.create_challenge(format!("municipalities/{m}"), c, Some("themes-1".into())).await.expect_err("refused");
    assert_eq!(err.code(), Code::InvalidArgument, "{err}");
    let violations = err.field_violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].0, "challenge.themes");
    assert!(violations[0].1.contains("at most 10"), "{violations:?}");
    assert_eq!(written(&app.db.store).await, before, "nothing written");
}

async fn a_token_of_invalid_bytes_is_unauthenticated_and_harms_no_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, _, ba) = mostar(&app).await;
    let mut raw = pb::challenge_service_client::ChallengeServiceClient::new(ba.channel());
    for bytes in [&b"Bearer \xff\xfe"[..], b"Bearer \x80", b"\xff"] {
        let mut request = tonic::Request::new(list(10, "", ""));
        let value = AsciiMetadataValue::try_from(bytes).expect("HTTP allows these bytes in a header");
        request.metadata_mut().insert("authorization", value);
        let err = raw.list_challenges(request).await.expect_err("not a token");
        assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    }
    ba.list_challenges(list(10, "", "")).await.expect("the same connection still serves");
    let other = app.client(&app.coordinator_token()).await;
    other.list_challenges(list(10, "", "")).await.expect("another client is still served");
}

/// Words a status must never carry: SQL, table names, paths, driver names.
const LEAKS: &[&str] = &[
    "select",
    "insert",
    "delete from",
    "update ",
    "where",
    "table",
    "relation",
    "challenge",
    "sqlite",
    "postgres",
    "sqlx",
    "database error",
    ".db",
    "/tmp",
];

/// INTERNAL "internal error" or UNAVAILABLE "...retry later", and nothing more.
fn assert_tells_nothing(status: &tonic::Status, call: &str) {
    let clean = matches!(
        (status.code(), status.message()),
        (Code::Internal, "internal error") | (Code::Unavailable, "the database is unavailable; retry later")
    );
    assert!(clean, "{call}: {:?} {:?}", status.code(), status.message());
    let mut said = String::from_utf8_lossy(status.details()).to_lowercase();
    for entry in status.metadata().iter() {
        if let KeyAndValueRef::Ascii(key, value) = entry {
            said.push_str(&format!(" {key}={}", value.to_str().unwrap_or_default().to_lowercase()));
        }
    }
    for word in LEAKS {
        assert!(!said.contains(word), "{call} leaks {word:?}: {said}");
    }
}

fn status(err: peerlab_client::Error, call: &str) -> tonic::Status {
    err.status().cloned().unwrap_or_else(|| panic!("{call}: no status: {err}"))
}

async fn database_errors_reach_callers_as_internal_error(backend: Backend) {
    let app = spawn_app(backend).await;
    let (m, g, ba) = mostar(&app).await;
    let ba = ba.with_retry(RetryPolicy::never());
    let parent = format!("municipalities/{m}");
    let first = ba.create_challenge(&parent, challenge(g, "Before"), None).await.expect("create");
    let store = &app.db.store;

    execute(store, "DROP TABLE challenge_themes").await;
    let before = [
        seed::count(store, "challenges").await,
        seed::count(store, "events").await,
        seed::count(store, "request_ids").await,
    ];
    let err =
        ba.create_challenge(&parent, challenge(g, "After"), Some("after-1".into())).await.expect_err("themes are gone");
    assert_tells_nothing(&status(err, "CreateChallenge"), "CreateChallenge");
    let after = [
        seed::count(store, "challenges").await,
        seed::count(store, "events").await,
        seed::count(store, "request_ids").await,
    ];
    assert_eq!(after, before, "the failed create rolled back whole");
    let err = ba.list_challenges(list(10, "", "")).await.expect_err("themes are gone");
    assert_tells_nothing(&status(err, "ListChallenges"), "ListChallenges");

    execute(store, "ALTER TABLE challenges RENAME TO challenges_elsewhere").await;
    let err = ba.get_challenge(&first.name).await.expect_err("challenges are gone");
    assert_tells_nothing(&status(err, "GetChallenge"), "GetChallenge");
    let err = ba.list_challenges(list(10, "", "theme = \"x\"")).await.expect_err("challenges are gone");
    assert_tells_nothing(&status(err, "ListChallenges"), "ListChallenges");
}

peerlab_testkit::on_both_backends!(
    one_request_id_writes_one_challenge,
    a_retry_replays_after_its_group_is_archived,
    a_burst_of_creates_commits_each_once_with_its_own_answer,
    abusive_list_requests_are_bounded_or_refused,
    ten_thousand_themes_are_refused_and_nothing_is_written,
    a_token_of_invalid_bytes_is_unauthenticated_and_harms_no_one,
    database_errors_reach_callers_as_internal_error,
);

/// Calls in flight while PostgreSQL drops the server's connections, and the
/// calls right after: each fails cleanly or succeeds.
async fn calls_under_connection_loss(ba: &Client, parent: &str, g: WorkingGroupId, round: usize) -> (usize, usize) {
    let callers = (0..8).map(|caller| {
        let (ba, parent) = (ba.clone(), parent.to_owned());
        async move {
            let mut results = Vec::new();
            for i in 0..10 {
                let title = format!("Load {round}.{caller}.{i}");
                results.push(ba.create_challenge(&parent, challenge(g, &title), None).await.map(drop));
                results.push(ba.list_challenges(list(50, "", "")).await.map(drop));
            }
            results
        }
    });
    let results: Vec<_> = join_all(callers).await.into_iter().flatten().collect();
    let failed = results.iter().filter(|r| r.is_err()).count();
    for err in results.iter().filter_map(|r| r.as_ref().err()) {
        let call = format!("round {round}: a call under connection loss");
        assert_tells_nothing(err.status().unwrap_or_else(|| panic!("{call}: {err}")), &call);
    }
    (results.len(), failed)
}

/// PostgreSQL ends every connection of the server, under load: calls fail
/// cleanly or succeed, and the pool recovers within a few calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_lost_connections_fail_cleanly_and_recover() {
    if !Backend::Postgres.enabled() {
        return;
    }
    let app = spawn_app(Backend::Postgres).await;
    let (m, g, ba) = mostar(&app).await;
    let ba = ba.with_retry(RetryPolicy::never());
    let parent = format!("municipalities/{m}");
    let first = ba.create_challenge(&parent, challenge(g, "Before"), None).await.expect("create");
    let terminate = "SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity \
                     WHERE datname = current_database() AND pid <> pg_backend_pid()";

    for round in 0..3 {
        let load = calls_under_connection_loss(&ba, &parent, g, round);
        let end_connections = async {
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            // The store's own connections were ended last round too, and
            // one handed out right after is not pinged first: each fails once.
            let db = app.db.store.connection();
            let mut attempts = 0;
            loop {
                match db.query_all(Statement::from_string(db.get_database_backend(), terminate)).await {
                    Ok(ended) => break ended,
                    Err(e) if attempts == 20 => panic!("terminate: {e}"),
                    Err(_) => attempts += 1,
                }
            }
        };
        let ((calls, failed), ended) = tokio::join!(load, end_connections);
        assert!(!ended.is_empty(), "round {round}: the server had connections to end");
        eprintln!("round {round}: {} connections ended; {failed} of {calls} calls in flight failed", ended.len());

        let mut recovered = false;
        for attempt in 0..5 {
            let call = format!("round {round}, attempt {attempt} after the loss");
            let results = [
                ba.get_challenge(&first.name).await.map(drop),
                ba.list_challenges(list(10, "", "")).await.map(drop),
                ba.create_challenge(&parent, challenge(g, &format!("After {round}.{attempt}")), None).await.map(drop),
            ];
            recovered = results.iter().all(Result::is_ok);
            for err in results.into_iter().filter_map(Result::err) {
                assert_tells_nothing(&status(err, &call), &call);
            }
            if recovered {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        assert!(recovered, "round {round}: the pool never recovered");
    }
}
