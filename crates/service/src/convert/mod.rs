//! Conversions between the wire (`peerlab.v1`) and the core's types.
//!
//! Outgoing conversions destructure every field of the core record, so a new
//! field fails to compile until it is mapped. Incoming conversions collect
//! every field violation of a request before failing, and never read
//! output-only fields.

mod challenge;
mod common;
mod event;
mod initiative;
mod membership;
mod municipality;
mod project_idea;
mod recommendation;
mod report;
mod working_group;
mod workshop;

pub use challenge::*;
pub use common::*;
pub use event::*;
pub use initiative::*;
pub use membership::*;
pub use municipality::*;
pub use project_idea::*;
pub use recommendation::*;
pub use report::*;
pub use working_group::*;
pub use workshop::*;
