//! What the bench and its echo server share: the echo ceiling of scenario S1.
//!
//! The bench itself is the `peerlab-bench` binary (`src/main.rs`).

pub mod echo;
