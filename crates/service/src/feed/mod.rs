//! The live event feed behind `FeedService.WatchEvents`.
//!
//! One [`Hub`] per process reads each new event from the log once and puts
//! it into the outbox of every stream following live events; each stream
//! ([`Hub::watch`]) first replays the backlog it may read from the log, then
//! has the hub deliver the live events its caller may read, with heartbeats
//! while idle. Nothing is ever dropped silently: a stream whose outbox is
//! full catches up from the log, and one whose client stops reading is ended
//! with a status naming the cursor to resume from.

mod hub;
mod limit;
mod watch;

use std::time::Duration;

use peerlab_core::auth::ReadScope;
use peerlab_core::domain::WorkingGroupId;
use peerlab_core::error::FieldViolation;
use peerlab_core::{Error, Result};
use peerlab_proto::v1 as pb;

pub use hub::Hub;
pub use watch::WatchStream;

use crate::config::ServerConfig;
use crate::names;

/// At most this many `kinds` in one request.
pub const MAX_KINDS: usize = 20;
/// At most this long, each kind.
pub const MAX_KIND_LEN: usize = 64;

/// The feed's timings.
#[derive(Clone, Copy, Debug)]
pub struct FeedSettings {
    /// A heartbeat is sent after this long without a message.
    pub heartbeat: Duration,
    /// A stream whose client reads nothing for this long is ended.
    pub stall_timeout: Duration,
    /// Open streams allowed per caller.
    pub max_streams_per_caller: usize,
}

impl From<&ServerConfig> for FeedSettings {
    fn from(c: &ServerConfig) -> Self {
        FeedSettings {
            heartbeat: Duration::from_millis(c.feed_heartbeat_ms),
            stall_timeout: Duration::from_millis(c.feed_stall_timeout_ms),
            max_streams_per_caller: c.feed_max_streams_per_caller,
        }
    }
}

/// A checked WatchEvents request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchRequest {
    /// What the caller may read.
    pub scope: ReadScope,
    /// Deliver events after this id.
    pub after: i64,
    /// Only this group's events.
    pub working_group: Option<WorkingGroupId>,
    /// Only these kinds (empty: all).
    pub kinds: Vec<String>,
}

impl WatchRequest {
    /// Check every field of `req`, reporting all violations at once.
    pub fn parse(scope: ReadScope, req: pb::WatchEventsRequest) -> Result<WatchRequest> {
        let pb::WatchEventsRequest { after_id, working_group, kinds } = req;
        let mut violations = Vec::new();
        let mut violate =
            |field: String, reason: &str| violations.push(FieldViolation { field, reason: reason.into() });
        if after_id < 0 {
            violate("after_id".into(), "must be 0 (from the beginning) or the id of an event received");
        }
        let group = match working_group.as_str() {
            "" => None,
            name => match names::working_group("working_group", name) {
                Ok(g) => Some(g),
                Err(e) => {
                    for v in e.field_violations() {
                        violate(v.field, &v.reason);
                    }
                    None
                }
            },
        };
        if kinds.len() > MAX_KINDS {
            violate("kinds".into(), "at most 20 kinds may be given");
        }
        for (i, kind) in kinds.iter().enumerate() {
            let shaped = kind.contains('.')
                && kind.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
            if kind.is_empty() {
                violate(format!("kinds[{i}]"), "must not be empty");
            } else if kind.len() > MAX_KIND_LEN {
                violate(format!("kinds[{i}]"), "must be at most 64 characters");
            } else if !shaped {
                violate(format!("kinds[{i}]"), "must be an event kind like challenge.created");
            }
        }
        if !violations.is_empty() {
            return Err(Error::InvalidFields(violations));
        }
        Ok(WatchRequest { scope, after: after_id, working_group: group, kinds })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(req: pb::WatchEventsRequest) -> Vec<String> {
        match WatchRequest::parse(ReadScope::All, req) {
            Ok(_) => Vec::new(),
            Err(e) => e.field_violations().into_iter().map(|v| v.field).collect(),
        }
    }

    #[test]
    fn every_bad_field_is_named() {
        let ok = pb::WatchEventsRequest {
            after_id: 7,
            working_group: "workingGroups/3".into(),
            kinds: vec!["challenge.created".into()],
        };
        assert!(fields(ok).is_empty());
        let bad = pb::WatchEventsRequest {
            after_id: -1,
            working_group: "groups/3".into(),
            kinds: vec!["challenge.created".into(), String::new(), "x".repeat(65), "Challenge Created".into()],
        };
        assert_eq!(fields(bad), ["after_id", "working_group", "kinds[1]", "kinds[2]", "kinds[3]"]);
        let many = pb::WatchEventsRequest { kinds: vec!["a.b".into(); 21], ..Default::default() };
        assert_eq!(fields(many), ["kinds"]);
    }
}
