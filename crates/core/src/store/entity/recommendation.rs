//! `recommendations` rows.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recommendations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub working_group_id: i64,
    pub municipality_id: i64,
    pub country: String,
    pub target_kind: String,
    pub target_id: i64,
    pub target_municipality_id: i64,
    pub target_country: String,
    pub kind: String,
    pub body: String,
    pub author_initiative_id: Option<i64>,
    pub answer_state: String,
    pub answer_note: String,
    pub answer_time: Option<i64>,
    pub version: i64,
    pub create_time: i64,
    pub update_time: i64,
    pub archive_time: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
