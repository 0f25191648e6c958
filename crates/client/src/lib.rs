//! peerlab-client: a typed, retrying, paginating client for the peerlab gRPC API.
//!
//! - [`Client::builder`] configures the endpoint, the bearer token (fixed or
//!   refreshed by a function), deadlines, keepalive, retries and — with the
//!   `tls` feature — TLS.
//! - One typed method per RPC: [`Client::get_challenge`],
//!   [`Client::create_challenge`], [`Client::answer_recommendation`],
//!   [`Client::get_network_report`], … returning `Result<T, Error>`; every
//!   List also as a stream that follows page tokens
//!   ([`Client::challenges_stream`], or generically [`Client::paginate`]),
//!   every export as a stream of items.
//! - Calls that failed with `UNAVAILABLE` are retried with exponential
//!   backoff and jitter where replaying them is safe; see [`RetryPolicy`].
//! - [`Error`] keeps the [`tonic::Status`] and decodes its details:
//!   [`Error::field_violations`], [`Error::reason`], [`Error::retry_delay`].
//! - The generated per-service clients stay available
//!   ([`Client::challenges`], …) for anything the typed methods do not cover.
//!
//! ```no_run
//! # async fn run() -> Result<(), peerlab_client::Error> {
//! use futures::TryStreamExt;
//! use peerlab_client::{Client, pb};
//! let client = Client::builder("http://127.0.0.1:50051").bearer("<token>").connect().await?;
//! let request = pb::ListChallengesRequest {
//!     parent: "municipalities/-".into(),
//!     filter: r#"theme = "digital-literacy""#.into(),
//!     ..Default::default()
//! };
//! let challenges: Vec<pb::Challenge> = client.challenges_stream(request).try_collect().await?;
//! println!("{} challenges", challenges.len());
//! # Ok(()) }
//! ```
//!
//! # Features
//! - `tls` (off by default): `https://` endpoints through tonic's
//!   `tls-ring` backend (rustls with *ring*, already in the workspace's
//!   dependency graph through sqlx; aws-lc-rs would add a C/CMake build),
//!   trusting the web PKI roots (`tls-webpki-roots`) unless
//!   [`Builder::tls_ca_pem`](crate::Builder) names a CA. Off by default so
//!   that a plain build of the workspace, server included, does not compile
//!   TLS it does not use.
#![warn(missing_docs)]

mod builder;
mod client;
mod error;
mod paging;
mod retry;
mod rpc;
mod watch;

pub use builder::{Auth, Builder, Credentials};
pub use client::{Authed, Client};
pub use error::{Error, code_name};
pub use paging::{ListRequest, follow_pages};
/// The calendar date of working groups and workshops (`google.type.Date`).
pub use peerlab_proto::google::r#type::Date;
/// The generated `peerlab.v1` messages, enums and clients.
pub use peerlab_proto::v1 as pb;
pub use retry::RetryPolicy;

/// The README's Rust example, compiled as a doctest so it cannot rot.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
