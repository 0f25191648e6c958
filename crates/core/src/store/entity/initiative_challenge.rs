//! `initiative_challenges` rows.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "initiative_challenges")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub initiative_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub challenge_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
