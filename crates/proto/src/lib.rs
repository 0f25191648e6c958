//! Generated code for the peerlab v1 gRPC contract (`proto/peerlab/v1`).
//!
//! The server halves are behind the default `server` feature; a client-only
//! build can turn it off. The server serves `FeedService` from the `feed` module, not
//! from the generated `v1::feed_service_server`: same contract, but its live
//! stream sends messages encoded once for all subscribers.

/// The `peerlab` package tree, as generated.
pub mod peerlab {
    /// `peerlab.v1`: messages, enums, clients and (with `server`) servers.
    #[allow(missing_docs, clippy::all, clippy::pedantic)]
    pub mod v1 {
        tonic::include_proto!("peerlab.v1");
    }
}

/// The vendored `google.type` package.
pub mod google {
    /// `google.type`: the calendar `Date`.
    #[allow(missing_docs, clippy::all, clippy::pedantic)]
    pub mod r#type {
        tonic::include_proto!("google.r#type");
    }
}

pub use peerlab::v1;

#[cfg(feature = "server")]
pub mod feed;

/// The serialized `FileDescriptorSet` of the whole contract, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("peerlab_v1_descriptor");
