//! Direct inserts of the network's skeleton (municipalities, groups,
//! memberships) so content tests do not depend on the network's own API.

use peerlab_core::domain::{MunicipalityId, WorkingGroupId};
use peerlab_core::store::Store;
use sea_orm::{ConnectionTrait, Statement};

async fn insert(store: &Store, sql: String) -> i64 {
    let db = store.connection();
    let backend = db.get_database_backend();
    let row = db
        .query_one(Statement::from_string(backend, format!("{sql} RETURNING id")))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap_or_else(|| panic!("{sql}: no row"));
    row.try_get::<i64>("", "id").unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Insert a municipality of `country`.
pub async fn municipality(store: &Store, name: &str, country: &str) -> MunicipalityId {
    let id = insert(
        store,
        format!(
            "INSERT INTO municipalities (display_name, country, version, create_time, update_time) VALUES ('{name}', '{country}', 1, 0, 0)"
        ),
    )
    .await;
    MunicipalityId::parse("seed", id).unwrap_or_else(|e| panic!("{e}"))
}

/// Insert a working group with `members` (municipality, country).
pub async fn group(store: &Store, name: &str, members: &[(MunicipalityId, &str)]) -> WorkingGroupId {
    let id = insert(
        store,
        format!(
            "INSERT INTO working_groups (display_name, description, themes, start_date, end_date, member_count, version, create_time, update_time) \
             VALUES ('{name}', '', '[]', '2021-09-21', '2021-11-30', {}, 1, 0, 0)",
            members.len()
        ),
    )
    .await;
    let db = store.connection();
    for (m, c) in members {
        db.execute(Statement::from_string(
            db.get_database_backend(),
            format!("INSERT INTO memberships (working_group_id, municipality_id, country, create_time) VALUES ({id}, {m}, '{c}', 0)"),
        ))
        .await
        .unwrap_or_else(|e| panic!("membership: {e}"));
    }
    WorkingGroupId::parse("seed", id).unwrap_or_else(|e| panic!("{e}"))
}

/// Count rows of a table (to assert that a denied write changed nothing).
pub async fn count(store: &Store, table: &str) -> i64 {
    let db = store.connection();
    let row = db
        .query_one(Statement::from_string(db.get_database_backend(), format!("SELECT COUNT(*) AS n FROM {table}")))
        .await
        .unwrap_or_else(|e| panic!("count {table}: {e}"))
        .unwrap_or_else(|| panic!("count {table}: no row"));
    row.try_get::<i64>("", "n").unwrap_or_else(|e| panic!("count {table}: {e}"))
}
