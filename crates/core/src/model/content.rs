//! Challenges, initiatives and project ideas: content a municipality owns in
//! a working group.

use serde::{Deserialize, Serialize};

use super::Meta;
use crate::domain::*;

/// Who owns an item and where it lives; the same for every kind of content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ownership {
    /// The working group it was posted in.
    pub working_group: WorkingGroupId,
    /// The owning municipality.
    pub municipality: MunicipalityId,
    /// The owner's country.
    pub country: CountryCode,
    /// Draft or shared.
    pub visibility: Visibility,
}

/// A challenge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// Its id.
    pub id: ChallengeId,
    /// Owner and group.
    pub owner: Ownership,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Theme tags.
    pub themes: Vec<String>,
    /// Status.
    pub status: ChallengeStatus,
    /// Bookkeeping.
    pub meta: Meta,
}

/// Input of a new challenge (it starts open).
#[derive(Clone, Debug)]
pub struct NewChallenge {
    /// The group; the owner must be a member.
    pub working_group: WorkingGroupId,
    /// Title.
    pub title: Title,
    /// Description.
    pub description: Description,
    /// Theme tags.
    pub themes: Vec<Theme>,
    /// Draft or shared.
    pub visibility: Visibility,
}

/// Changes to a challenge.
#[derive(Clone, Debug, Default)]
pub struct ChallengePatch {
    /// New title.
    pub title: Option<Title>,
    /// New description.
    pub description: Option<Description>,
    /// New themes.
    pub themes: Option<Vec<Theme>>,
    /// Share a draft.
    pub visibility: Option<Visibility>,
    /// Move the status.
    pub status: Option<ChallengeStatus>,
}

/// An initiative.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Initiative {
    /// Its id.
    pub id: InitiativeId,
    /// Owner and group.
    pub owner: Ownership,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Status.
    pub status: InitiativeStatus,
    /// Challenges it addresses (with their owners, for resource names).
    pub challenges: Vec<ItemRef<ChallengeId>>,
    /// Bookkeeping.
    pub meta: Meta,
}

/// A reference to an item together with its owning municipality.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemRef<Id> {
    /// The owner.
    pub municipality: MunicipalityId,
    /// The item.
    pub id: Id,
}

/// Input of a new initiative.
#[derive(Clone, Debug)]
pub struct NewInitiative {
    /// The group.
    pub working_group: WorkingGroupId,
    /// Title.
    pub title: Title,
    /// Description.
    pub description: Description,
    /// Initial status.
    pub status: InitiativeStatus,
    /// Challenges of the same group it addresses.
    pub challenges: Vec<ItemRef<ChallengeId>>,
    /// Draft or shared.
    pub visibility: Visibility,
}

/// Changes to an initiative.
#[derive(Clone, Debug, Default)]
pub struct InitiativePatch {
    /// New title.
    pub title: Option<Title>,
    /// New description.
    pub description: Option<Description>,
    /// Move the status.
    pub status: Option<InitiativeStatus>,
    /// Replace the linked challenges.
    pub challenges: Option<Vec<ItemRef<ChallengeId>>>,
    /// Share a draft.
    pub visibility: Option<Visibility>,
}

/// A project idea.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectIdea {
    /// Its id.
    pub id: ProjectIdeaId,
    /// Owner and group.
    pub owner: Ownership,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Stage.
    pub stage: ProjectStage,
    /// Challenges it builds on.
    pub challenges: Vec<ItemRef<ChallengeId>>,
    /// Initiatives it builds on.
    pub initiatives: Vec<ItemRef<InitiativeId>>,
    /// Partner municipalities.
    pub partners: Vec<MunicipalityId>,
    /// Bookkeeping.
    pub meta: Meta,
}

/// Input of a new project idea (it starts at the idea stage).
#[derive(Clone, Debug)]
pub struct NewProjectIdea {
    /// The group.
    pub working_group: WorkingGroupId,
    /// Title.
    pub title: Title,
    /// Description.
    pub description: Description,
    /// Challenges of the same group.
    pub challenges: Vec<ItemRef<ChallengeId>>,
    /// Initiatives of the same group.
    pub initiatives: Vec<ItemRef<InitiativeId>>,
    /// Partner members of the group.
    pub partners: Vec<MunicipalityId>,
    /// Draft or shared.
    pub visibility: Visibility,
}

/// Changes to a project idea.
#[derive(Clone, Debug, Default)]
pub struct ProjectIdeaPatch {
    /// New title.
    pub title: Option<Title>,
    /// New description.
    pub description: Option<Description>,
    /// Move the stage one step.
    pub stage: Option<ProjectStage>,
    /// Replace linked challenges.
    pub challenges: Option<Vec<ItemRef<ChallengeId>>>,
    /// Replace linked initiatives.
    pub initiatives: Option<Vec<ItemRef<InitiativeId>>>,
    /// Replace partners.
    pub partners: Option<Vec<MunicipalityId>>,
    /// Share a draft.
    pub visibility: Option<Visibility>,
}
