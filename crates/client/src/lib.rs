//! peerlab-client: a typed client for the peerlab gRPC API.
//!
//! ```no_run
//! # async fn run() -> Result<(), peerlab_client::Error> {
//! use peerlab_client::{Client, pb};
//! let client = Client::builder("http://127.0.0.1:50051").bearer("<token>").connect().await?;
//! let page = client
//!     .challenges()
//!     .list_challenges(pb::ListChallengesRequest { parent: "municipalities/-".into(), ..Default::default() })
//!     .await?;
//! println!("{} challenges", page.into_inner().challenges.len());
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod builder;
mod error;

pub use builder::{Builder, Client, Credentials};
pub use error::Error;
/// The generated `peerlab.v1` messages and clients.
pub use peerlab_proto::v1 as pb;
