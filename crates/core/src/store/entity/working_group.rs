//! `working_groups` rows.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "working_groups")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub display_name: String,
    pub description: String,
    /// JSON array of theme tags.
    pub themes: String,
    pub start_date: String,
    pub end_date: String,
    pub member_count: i64,
    pub version: i64,
    pub create_time: i64,
    pub update_time: i64,
    pub archive_time: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
