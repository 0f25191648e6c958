//! peerlab's database migrations: frozen history, one self-contained file per
//! migration that never imports the application's entities.
//!
//! ```no_run
//! # async fn run(db: &sea_orm_migration::sea_orm::DatabaseConnection) -> Result<(), sea_orm_migration::DbErr> {
//! use sea_orm_migration::MigratorTrait;
//! peerlab_migrations::Migrator::up(db, None).await
//! # }
//! ```
#![warn(missing_docs)]

pub use sea_orm_migration::MigratorTrait;
use sea_orm_migration::{MigrationTrait, async_trait};

mod m20261122_000001_network;
mod m20261122_000002_reports;
mod m20261122_000003_delay_histogram;
mod m20261123_000004_counter_slots;

/// The ordered list of peerlab migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_network::Migration),
            Box::new(m20261122_000002_reports::Migration),
            Box::new(m20261122_000003_delay_histogram::Migration),
            Box::new(m20261123_000004_counter_slots::Migration),
        ]
    }
}
