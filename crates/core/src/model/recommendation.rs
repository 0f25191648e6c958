//! Recommendations and their answers.

use serde::{Deserialize, Serialize};

use super::{ItemRef, Meta, Timestamp};
use crate::domain::*;

/// What a recommendation is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// A challenge.
    Challenge(ItemRef<ChallengeId>),
    /// An initiative.
    Initiative(ItemRef<InitiativeId>),
    /// A project idea.
    ProjectIdea(ItemRef<ProjectIdeaId>),
}

impl Target {
    /// The stored kind text.
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Challenge(_) => "challenge",
            Target::Initiative(_) => "initiative",
            Target::ProjectIdea(_) => "project_idea",
        }
    }

    /// The raw id of the target item.
    pub fn raw_id(&self) -> i64 {
        match self {
            Target::Challenge(r) => r.id.get(),
            Target::Initiative(r) => r.id.get(),
            Target::ProjectIdea(r) => r.id.get(),
        }
    }

    /// The municipality named in the target's resource name.
    pub fn municipality(&self) -> MunicipalityId {
        match self {
            Target::Challenge(r) => r.municipality,
            Target::Initiative(r) => r.municipality,
            Target::ProjectIdea(r) => r.municipality,
        }
    }
}

/// The receiving municipality's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// Its state.
    pub state: AnswerState,
    /// The note.
    pub note: String,
    /// When it was answered.
    pub answer_time: Option<Timestamp>,
}

/// A recommendation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recommendation {
    /// Its id.
    pub id: RecommendationId,
    /// The target's group.
    pub working_group: WorkingGroupId,
    /// The author municipality.
    pub municipality: MunicipalityId,
    /// The author's country.
    pub country: CountryCode,
    /// What it answers.
    pub target: Target,
    /// The receiving municipality's country.
    pub target_country: CountryCode,
    /// What it offers.
    pub kind: RecommendationKind,
    /// The advice.
    pub body: String,
    /// The author's own initiative it points to.
    pub author_initiative: Option<ItemRef<InitiativeId>>,
    /// The answer.
    pub answer: Answer,
    /// Bookkeeping.
    pub meta: Meta,
}

/// Input of a new recommendation.
#[derive(Clone, Debug)]
pub struct NewRecommendation {
    /// What it answers.
    pub target: Target,
    /// What it offers.
    pub kind: RecommendationKind,
    /// The advice.
    pub body: Body,
    /// One of the author's initiatives.
    pub author_initiative: Option<ItemRef<InitiativeId>>,
}

/// Changes to an unanswered recommendation.
#[derive(Clone, Debug, Default)]
pub struct RecommendationPatch {
    /// New kind.
    pub kind: Option<RecommendationKind>,
    /// New body.
    pub body: Option<Body>,
    /// New (or removed, with `Some(None)`) author initiative.
    pub author_initiative: Option<Option<ItemRef<InitiativeId>>>,
}

/// An answer to give.
#[derive(Clone, Debug)]
pub struct NewAnswer {
    /// Acknowledged, adopted or declined.
    pub state: AnswerState,
    /// The note.
    pub note: Note,
}
