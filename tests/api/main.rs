//! The gRPC API suite: a real server on a loopback port, driven through
//! peerlab-client, on SQLite and PostgreSQL.

mod challenges;
mod demo;
mod operations;
mod support;
mod tokens;
mod web;
