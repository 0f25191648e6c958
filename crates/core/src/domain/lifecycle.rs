//! The enumerations of the domain and the transitions they allow.

use std::fmt;

use crate::{Error, Result};

macro_rules! domain_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub enum $name { $($(#[$vdoc])* $variant,)* }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The stable text form used in storage, events and filters.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            /// Parse the text form (case-insensitive).
            pub fn parse(field: &str, s: &str) -> Result<Self> {
                let lower = s.trim().to_ascii_lowercase();
                match lower.as_str() {
                    $($text => Ok($name::$variant),)*
                    _ => Err(Error::invalid(field, format!(
                        "{s:?} is not one of: {}",
                        [$($text,)*].join(", ")
                    ))),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::parse("value", &s).map_err(serde::de::Error::custom)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

domain_enum! {
    /// Whether an item is visible to its working group.
    Visibility {
        /// Only its own municipality (and that country's admin) can read it.
        Draft = "draft",
        /// Every member municipality of the working group can read it.
        Shared = "shared",
    }
}

domain_enum! {
    /// The status of a challenge: open → addressed → archived.
    ChallengeStatus {
        /// Posted and waiting for ideas.
        Open = "open",
        /// The municipality considers it addressed.
        Addressed = "addressed",
        /// Closed for good (also what archiving a challenge does).
        Archived = "archived",
    }
}

domain_enum! {
    /// The status of an initiative: planned → in progress → implemented, or discontinued.
    InitiativeStatus {
        /// Planned, not started.
        Planned = "planned",
        /// Being carried out.
        InProgress = "in_progress",
        /// Done: a good practice others can learn from.
        Implemented = "implemented",
        /// Stopped before completion.
        Discontinued = "discontinued",
    }
}

domain_enum! {
    /// The stage of a project idea, moved forward through the workshops.
    ProjectStage {
        /// A first idea (ideation).
        Idea = "idea",
        /// Consolidated with peers' input.
        Consolidated = "consolidated",
        /// A solution is defined.
        SolutionDefined = "solution_defined",
        /// A project is defined, ready to seek funding and partners.
        ProjectDefined = "project_defined",
    }
}

domain_enum! {
    /// What a recommendation offers.
    RecommendationKind {
        /// An idea to try.
        Suggestion = "suggestion",
        /// A practice that worked elsewhere.
        GoodPractice = "good_practice",
        /// A person or body to talk to.
        Contact = "contact",
        /// A document, tool or dataset.
        Resource = "resource",
        /// A warning from experience.
        Caution = "caution",
    }
}

domain_enum! {
    /// The receiving municipality's answer to a recommendation.
    AnswerState {
        /// Not answered yet.
        Unanswered = "unanswered",
        /// Read and noted; may still be adopted or declined.
        Acknowledged = "acknowledged",
        /// Taken up.
        Adopted = "adopted",
        /// Not taken up.
        Declined = "declined",
    }
}

domain_enum! {
    /// The phase of a workshop in a working group's series.
    WorkshopPhase {
        /// The launch of the group.
        KickOff = "kick_off",
        /// Identifying challenges and first ideas.
        Ideation = "ideation",
        /// Consolidating ideas with peers.
        Consolidation = "consolidation",
        /// Defining solutions.
        Solutions = "solutions",
        /// Funding and partnership opportunities.
        Opportunities = "opportunities",
        /// Anything else.
        Other = "other",
    }
}

/// Check a move of a lifecycle along its allowed edges.
fn allow<T: fmt::Display + PartialEq + Copy>(what: &'static str, from: T, to: T, ok: bool) -> Result<()> {
    if ok { Ok(()) } else { Err(Error::InvalidTransition { what, from: from.to_string(), to: to.to_string() }) }
}

impl ChallengeStatus {
    /// open → addressed, open → archived, addressed → archived.
    pub fn check_move(self, to: Self) -> Result<()> {
        use ChallengeStatus::*;
        allow(
            "challenge.status",
            self,
            to,
            matches!((self, to), (Open, Addressed) | (Open, Archived) | (Addressed, Archived)),
        )
    }
}

impl InitiativeStatus {
    /// planned → in progress → implemented; planned or in progress → discontinued.
    pub fn check_move(self, to: Self) -> Result<()> {
        use InitiativeStatus::*;
        allow(
            "initiative.status",
            self,
            to,
            matches!(
                (self, to),
                (Planned, InProgress)
                    | (InProgress, Implemented)
                    | (Planned, Discontinued)
                    | (InProgress, Discontinued)
            ),
        )
    }
}

impl ProjectStage {
    /// One step forward at a time: idea → consolidated → solution defined → project defined.
    pub fn check_move(self, to: Self) -> Result<()> {
        use ProjectStage::*;
        allow(
            "project_idea.stage",
            self,
            to,
            matches!(
                (self, to),
                (Idea, Consolidated) | (Consolidated, SolutionDefined) | (SolutionDefined, ProjectDefined)
            ),
        )
    }
}

impl Visibility {
    /// A draft may be shared; shared content is never taken back into draft.
    pub fn check_move(self, to: Self) -> Result<()> {
        allow("visibility", self, to, self == Visibility::Draft && to == Visibility::Shared)
    }
}

impl AnswerState {
    /// unanswered → acknowledged | adopted | declined; acknowledged → adopted | declined.
    pub fn check_move(self, to: Self) -> Result<()> {
        use AnswerState::*;
        allow(
            "recommendation.answer.state",
            self,
            to,
            matches!((self, to), (Unanswered, Acknowledged | Adopted | Declined) | (Acknowledged, Adopted | Declined)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edges<T: Copy>(all: &[T], ok: impl Fn(T, T) -> bool) -> usize {
        all.iter().flat_map(|a| all.iter().map(move |b| (*a, *b))).filter(|(a, b)| ok(*a, *b)).count()
    }

    #[test]
    fn only_the_documented_edges_are_allowed() {
        assert_eq!(edges(ChallengeStatus::ALL, |a, b| a.check_move(b).is_ok()), 3);
        assert_eq!(edges(InitiativeStatus::ALL, |a, b| a.check_move(b).is_ok()), 4);
        assert_eq!(edges(ProjectStage::ALL, |a, b| a.check_move(b).is_ok()), 3);
        assert_eq!(edges(Visibility::ALL, |a, b| a.check_move(b).is_ok()), 1);
        assert_eq!(edges(AnswerState::ALL, |a, b| a.check_move(b).is_ok()), 5);
        assert!(ChallengeStatus::Archived.check_move(ChallengeStatus::Open).is_err());
        assert!(ProjectStage::Idea.check_move(ProjectStage::ProjectDefined).is_err());
        assert!(AnswerState::Adopted.check_move(AnswerState::Declined).is_err());
    }

    #[test]
    fn text_forms_round_trip() {
        for s in WorkshopPhase::ALL {
            assert_eq!(WorkshopPhase::parse("p", s.as_str()).unwrap(), *s);
        }
        assert!(RecommendationKind::parse("k", "bribe").is_err());
    }
}
