//! How many statements [`super::record`] sends per write: on PostgreSQL
//! every statement is a network round trip inside the write's transaction,
//! and on SQLite time under the one writer's lock, so the count is part of
//! a write's cost. Counted through a connection wrapper around a
//! real transaction on a migrated SQLite file.

use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, TimeDelta};
use peerlab_migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult,
    Statement, TransactionTrait,
};

use super::record;
use crate::domain::*;
use crate::model::*;

/// A transaction that counts what goes through it.
struct Counting<'a> {
    tx: &'a DatabaseTransaction,
    statements: AtomicUsize,
}

impl Counting<'_> {
    fn take(&self) -> usize {
        self.statements.swap(0, Ordering::Relaxed)
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Counting<'_> {
    fn get_database_backend(&self) -> DbBackend {
        self.tx.get_database_backend()
    }
    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.statements.fetch_add(1, Ordering::Relaxed);
        self.tx.execute(stmt).await
    }
    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.statements.fetch_add(1, Ordering::Relaxed);
        self.tx.execute_unprepared(sql).await
    }
    async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.statements.fetch_add(1, Ordering::Relaxed);
        self.tx.query_one(stmt).await
    }
    async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.statements.fetch_add(1, Ordering::Relaxed);
        self.tx.query_all(stmt).await
    }
}

/// The challenge's create time; the recommendation comes three hours later.
const CREATED: i64 = 1_700_000_000_000_000;
const LATER: i64 = CREATED + 3 * 3_600_000_000;

fn meta(version: i64, created: i64) -> Meta {
    let at = DateTime::from_timestamp_micros(created).expect("time");
    Meta { version, create_time: at, update_time: at + TimeDelta::minutes(version), archive_time: None }
}

fn challenge(version: i64) -> Snapshot {
    Snapshot::Challenge(Challenge {
        id: ChallengeId::from_db(1),
        owner: Ownership {
            working_group: WorkingGroupId::from_db(1),
            municipality: MunicipalityId::from_db(1),
            country: CountryCode::parse("BA").expect("country"),
            visibility: Visibility::Shared,
        },
        title: "Paper archives".into(),
        description: String::new(),
        themes: vec!["archives".into(), "digitalisation".into()],
        status: ChallengeStatus::Open,
        meta: meta(version, CREATED),
    })
}

fn recommendation(version: i64, state: AnswerState, archived: bool) -> Snapshot {
    let mut meta = meta(version, LATER);
    meta.archive_time = archived.then_some(meta.update_time);
    Snapshot::Recommendation(Recommendation {
        id: RecommendationId::from_db(1),
        working_group: WorkingGroupId::from_db(1),
        municipality: MunicipalityId::from_db(2),
        country: CountryCode::parse("RS").expect("country"),
        target: Target::Challenge(ItemRef { municipality: MunicipalityId::from_db(1), id: ChallengeId::from_db(1) }),
        target_country: CountryCode::parse("BA").expect("country"),
        kind: RecommendationKind::GoodPractice,
        body: "We scanned ours.".into(),
        author_initiative: None,
        answer: Answer { state, note: String::new(), answer_time: None },
        meta,
    })
}

#[tokio::test]
async fn writes_cost_few_statements() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("r.db").display());
    // One connection, so that switching off foreign keys (the base rows
    // below stand alone) holds for the transaction.
    let db = Database::connect(ConnectOptions::new(url).max_connections(1).sqlx_logging(false).to_owned())
        .await
        .expect("db");
    Migrator::up(&db, None).await.expect("migrate");
    db.execute_unprepared("PRAGMA foreign_keys = OFF").await.expect("pragma");
    let tx = db.begin().await.expect("begin");
    let c = Counting { tx: &tx, statements: AtomicUsize::new(0) };
    let mut counts = Vec::new();
    let rec_row = format!(
        "INSERT INTO recommendations (id, working_group_id, municipality_id, country, target_kind, target_id, \
         target_municipality_id, target_country, kind, body, answer_state, answer_note, version, create_time, \
         update_time) VALUES (1, 1, 2, 'RS', 'challenge', 1, 1, 'BA', 'good_practice', '', 'unanswered', '', 1, \
         {LATER}, {LATER})"
    );
    let (challenge_name, rec_name) = ("municipalities/1/challenges/1", "municipalities/2/recommendations/1");
    let archive = format!("UPDATE recommendations SET archive_time = {LATER} WHERE id = 1");
    for (what, resource, snapshot, setup) in [
        ("create challenge", challenge_name, challenge(1), None),
        ("update challenge", challenge_name, challenge(2), None),
        ("create recommendation", rec_name, recommendation(1, AnswerState::Unanswered, false), Some(rec_row)),
        ("update recommendation", rec_name, recommendation(2, AnswerState::Unanswered, false), None),
        ("answer recommendation", rec_name, recommendation(3, AnswerState::Adopted, false), None),
        ("archive recommendation", rec_name, recommendation(4, AnswerState::Adopted, true), Some(archive)),
    ] {
        if let Some(sql) = setup {
            tx.execute_unprepared(&sql).await.expect("base row");
        }
        let mut writes = Vec::new();
        let counters = record(&c, resource, &snapshot, &mut writes).await.expect("record");
        // On SQLite these go with the group-commit batch, summed over its
        // writes; counted here as one write's share of what is left to send.
        writes.extend(counters.statements(DbBackend::Sqlite, 0));
        counts.push((what, c.take(), writes.len()));
        for w in writes {
            tx.execute(w).await.expect("report write");
        }
        // What the store's commit appends next, so the next write of the
        // resource finds its previous snapshot.
        let payload = serde_json::to_string(&snapshot).expect("payload");
        let append = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "INSERT INTO events (kind, resource, actor, create_time, payload) VALUES ('test', ?, 'test', 0, ?)",
            [resource.into(), payload.into()],
        );
        tx.execute(append).await.expect("event");
    }
    eprintln!("statements per write in report::record (sent, left to send): {counts:?}");
    // (write, statements sent by `record` itself, statements it leaves to
    // be sent with the event).
    let expected = [
        ("create challenge", 0, 3),
        ("update challenge", 1, 0),
        ("create recommendation", 1, 3),
        ("update recommendation", 1, 0),
        ("answer recommendation", 1, 2),
        ("archive recommendation", 1, 3),
    ];
    assert_eq!(counts, expected);
}
