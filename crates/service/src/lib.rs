//! peerlab-service: the gRPC service of the peer-learning network.
//!
//! It loads a layered [`config::Config`], verifies every caller's bearer
//! token into a [`peerlab_core::auth::Principal`] with [`auth::Verifier`],
//! and hands each call to the core.
#![warn(missing_docs)]

pub mod api;
pub mod auth;
pub mod config;
pub mod convert;
pub mod edge;
pub mod feed;
pub mod names;
pub mod startup;
pub mod status;
pub mod trace;
pub mod transport;

pub use startup::{Application, SERVICES, Shutdown};
pub mod demo;
pub mod signals;
