//! Migrations apply and roll back cleanly on both databases.

use peerlab_migrations::{Migrator, MigratorTrait};
use peerlab_testkit::{Backend, TestDb, seed};
use sea_orm::{ConnectionTrait, Statement};

async fn user_tables(db: &TestDb) -> Vec<String> {
    let conn = db.store.connection();
    let sql = match conn.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => {
            "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        _ => "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    };
    let rows = conn.query_all(Statement::from_string(conn.get_database_backend(), sql)).await.expect("tables");
    rows.iter().map(|r| r.try_get::<String>("", "t").expect("name")).collect()
}

async fn migrations_go_down_and_up_again(backend: Backend) {
    let db = TestDb::new(backend).await;
    let conn = db.store.connection();
    let all = user_tables(&db).await;
    for table in ["municipalities", "working_groups", "challenges", "events", "request_ids", "seaql_migrations"] {
        assert!(all.contains(&table.to_string()), "{table} in {all:?}");
    }
    assert!(Migrator::get_pending_migrations(conn).await.expect("pending").is_empty());

    Migrator::down(conn, None).await.expect("down");
    assert_eq!(user_tables(&db).await, vec!["seaql_migrations".to_string()]);

    Migrator::up(conn, None).await.expect("up again");
    assert_eq!(user_tables(&db).await, all);
    // The schema works after the round trip.
    seed::municipality(&db.store, "Mostar", "BA").await;
    assert_eq!(seed::count(&db.store, "municipalities").await, 1);
}

peerlab_testkit::on_both_backends!(migrations_go_down_and_up_again);
