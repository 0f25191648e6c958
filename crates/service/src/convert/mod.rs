//! Conversions between the wire (`peerlab.v1`) and the core's types.
//!
//! Outgoing conversions destructure every field of the core record, so a new
//! field fails to compile until it is mapped. Incoming conversions collect
//! every field violation of a request before failing, and never read
//! output-only fields.

mod challenge;
mod common;

pub use challenge::*;
pub use common::*;
