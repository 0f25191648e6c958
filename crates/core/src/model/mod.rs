//! The records the store returns and the inputs it takes. Records are what
//! was stored; inputs are built from checked domain types only.

mod content;
mod event;
mod network;
mod recommendation;

pub use content::*;
pub use event::*;
pub use network::*;
pub use recommendation::*;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A point in time, UTC, microsecond precision.
pub type Timestamp = DateTime<Utc>;

/// Bookkeeping every mutable resource carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// Grows by one with every change; the etag is derived from it.
    pub version: i64,
    /// When it was created.
    pub create_time: Timestamp,
    /// When it last changed.
    pub update_time: Timestamp,
    /// When it was archived (soft-deleted), if it was.
    pub archive_time: Option<Timestamp>,
}

impl Meta {
    /// The etag clients send back on update.
    pub fn etag(&self) -> Etag {
        Etag(self.version)
    }
}

/// An opaque concurrency token: a stale one on update is `ABORTED`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Etag(i64);

impl Etag {
    /// Parse the text form; an empty string means "no etag given".
    pub fn parse(field: &str, s: &str) -> Result<Option<Etag>> {
        let t = s.trim().trim_matches('"');
        if t.is_empty() {
            return Ok(None);
        }
        t.strip_prefix('v')
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| *n > 0)
            .map(|n| Some(Etag(n)))
            .ok_or_else(|| Error::invalid(field, "is not an etag returned by this service"))
    }

    /// The version it stands for.
    pub fn version(self) -> i64 {
        self.0
    }
}

impl std::fmt::Display for Etag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// One page of a listing.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// The items, in order.
    pub items: Vec<T>,
    /// Token for the next page; `None` on the last page.
    pub next_page_token: Option<String>,
}

/// The paging part of a List request, unchecked.
#[derive(Clone, Debug, Default)]
pub struct PageRequest {
    /// Requested size (0 means the default).
    pub page_size: i32,
    /// Opaque token from the previous page.
    pub page_token: String,
    /// AIP-160 filter text.
    pub filter: String,
    /// Include archived items.
    pub show_archived: bool,
}
