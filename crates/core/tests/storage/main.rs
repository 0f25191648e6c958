//! The storage suite: peerlab-core's rules and storage, on SQLite and PostgreSQL.

mod challenges;
mod events;
mod feed;
mod initiatives;
mod migrations;
mod network;
mod project_ideas;
mod recommendations;
mod reports;
mod writes;
