//! The gRPC API suite: a real server on a loopback port, driven through
//! peerlab-client, on SQLite and PostgreSQL.

mod abuse;
mod challenges;
mod client_watch;
mod demo;
mod feed;
mod initiatives;
mod matrix;
mod municipalities;
mod operations;
mod project_ideas;
mod recommendations;
mod reliability;
mod reports;
mod shutdown;
mod support;
mod tokens;
mod watch;
mod web;
mod working_groups;
