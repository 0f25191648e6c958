//! What the bench, its echo server and its examples share: the echo ceiling
//! of scenario S1, and what the bench reads of processes and the machine.
//!
//! The bench itself is the `peerlab-bench` binary (`src/main.rs`).

pub mod echo;
pub mod proc;
