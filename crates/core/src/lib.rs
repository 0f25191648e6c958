//! peerlab-core: the peer-learning network's domain, rules and storage.
//!
//! Nothing here knows about gRPC. The service crate converts its wire types
//! into the checked types of [`domain`], asks a [`auth::Principal`] for the
//! capability it needs, and makes exactly one call into [`store::Store`].
//!
//! ```
//! use peerlab_core::domain::CountryCode;
//! let ba = CountryCode::parse("BA").unwrap();
//! assert_eq!(ba.as_str(), "BA");
//! assert!(CountryCode::parse("XX").is_err());
//! ```
#![warn(missing_docs)]

pub mod auth;
pub mod domain;
pub mod error;
pub mod feed;
pub mod model;
pub mod report;
pub mod store;

pub use error::{Error, Result};
