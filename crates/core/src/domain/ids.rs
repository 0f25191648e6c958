//! Typed identifiers. Every id is a positive 64-bit integer assigned by the
//! database; the types keep a challenge id from being used as an initiative id.

use std::fmt;

use crate::{Error, Result};

macro_rules! typed_id {
    ($(#[$doc:meta] $name:ident = $what:literal;)*) => {$(
        #[$doc]
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// Check that `raw` is a valid (positive) id; `field` names it in errors.
            pub fn parse(field: &str, raw: i64) -> Result<Self> {
                if raw > 0 {
                    Ok(Self(raw))
                } else {
                    Err(Error::invalid(field, concat!("must be a positive ", $what, " id")))
                }
            }

            /// Parse the decimal text form (as found in a resource name).
            /// Only the canonical spelling is accepted (digits, no sign, no
            /// leading zero), so each resource has exactly one name.
            pub fn parse_str(field: &str, raw: &str) -> Result<Self> {
                let canonical = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) && !raw.starts_with('0');
                match raw.parse::<i64>().ok().filter(|_| canonical).ok_or(()) {
                    Ok(n) => Self::parse(field, n),
                    Err(_) => Err(Error::invalid(field, concat!("must be a ", $what, " id (a positive number)"))),
                }
            }

            /// The raw value, for storage.
            pub fn get(self) -> i64 {
                self.0
            }

            /// Wrap a value read back from our own database.
            pub(crate) fn from_db(raw: i64) -> Self {
                Self(raw)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }
    )*};
}

typed_id! {
    /// Identifies a municipality.
    MunicipalityId = "municipality";
    /// Identifies a working group.
    WorkingGroupId = "working group";
    /// Identifies a workshop of a working group.
    WorkshopId = "workshop";
    /// Identifies a challenge.
    ChallengeId = "challenge";
    /// Identifies an initiative.
    InitiativeId = "initiative";
    /// Identifies a project idea.
    ProjectIdeaId = "project idea";
    /// Identifies a recommendation.
    RecommendationId = "recommendation";
    /// Identifies an event of the event log; ids only grow.
    EventId = "event";
}
