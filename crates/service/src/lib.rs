//! peerlab-service: the gRPC service of the peer-learning network.
//!
//! It loads a layered [`config::Config`], verifies every caller's bearer
//! token into a [`peerlab_core::auth::Principal`] with [`auth::Verifier`],
//! and hands each call to the core.
#![warn(missing_docs)]

pub mod auth;
pub mod config;
