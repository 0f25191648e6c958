//! `workshops` rows.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workshops")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub working_group_id: i64,
    pub display_name: String,
    pub phase: String,
    pub date: String,
    pub duration_minutes: i64,
    pub version: i64,
    pub create_time: i64,
    pub update_time: i64,
    pub archive_time: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
