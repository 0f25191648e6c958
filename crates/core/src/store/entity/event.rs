//! `events` rows: the append-only log.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    pub resource: String,
    pub working_group_id: Option<i64>,
    pub country: Option<String>,
    pub municipality_id: Option<i64>,
    pub visibility: Option<String>,
    pub actor: String,
    pub create_time: i64,
    pub payload: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
