//! The event log's records.

use serde::{Deserialize, Serialize};

use super::*;
use crate::domain::*;

/// The resource as it was right after a change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Snapshot {
    /// A municipality.
    Municipality(Municipality),
    /// A working group.
    WorkingGroup(WorkingGroup),
    /// A membership.
    Membership(Membership),
    /// A workshop.
    Workshop(Workshop),
    /// A challenge.
    Challenge(Challenge),
    /// An initiative.
    Initiative(Initiative),
    /// A project idea.
    ProjectIdea(ProjectIdea),
    /// A recommendation.
    Recommendation(Recommendation),
}

/// One entry of the append-only event log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Monotonically increasing id.
    pub id: EventId,
    /// `{resource}.{verb}`, e.g. `challenge.created`.
    pub kind: String,
    /// The resource name.
    pub resource: String,
    /// The working group concerned.
    pub working_group: Option<WorkingGroupId>,
    /// The owner's country.
    pub country: Option<CountryCode>,
    /// The owning municipality.
    pub municipality: Option<MunicipalityId>,
    /// Draft or shared, for content; `None` for the public directory.
    pub visibility: Option<Visibility>,
    /// `issuer/subject` of the caller.
    pub actor: String,
    /// When.
    pub create_time: Timestamp,
    /// The resource after the change.
    pub snapshot: Snapshot,
}

/// Resource names as the API spells them; also recorded in events.
pub mod names {
    use crate::domain::*;

    /// `municipalities/{id}`
    pub fn municipality(id: MunicipalityId) -> String {
        format!("municipalities/{id}")
    }
    /// `workingGroups/{id}`
    pub fn working_group(id: WorkingGroupId) -> String {
        format!("workingGroups/{id}")
    }
    /// `workingGroups/{g}/memberships/{m}`
    pub fn membership(g: WorkingGroupId, m: MunicipalityId) -> String {
        format!("workingGroups/{g}/memberships/{m}")
    }
    /// `workingGroups/{g}/workshops/{w}`
    pub fn workshop(g: WorkingGroupId, w: WorkshopId) -> String {
        format!("workingGroups/{g}/workshops/{w}")
    }
    /// `municipalities/{m}/challenges/{c}`
    pub fn challenge(m: MunicipalityId, c: ChallengeId) -> String {
        format!("municipalities/{m}/challenges/{c}")
    }
    /// `municipalities/{m}/initiatives/{i}`
    pub fn initiative(m: MunicipalityId, i: InitiativeId) -> String {
        format!("municipalities/{m}/initiatives/{i}")
    }
    /// `municipalities/{m}/projectIdeas/{p}`
    pub fn project_idea(m: MunicipalityId, p: ProjectIdeaId) -> String {
        format!("municipalities/{m}/projectIdeas/{p}")
    }
    /// `municipalities/{m}/recommendations/{r}`
    pub fn recommendation(m: MunicipalityId, r: RecommendationId) -> String {
        format!("municipalities/{m}/recommendations/{r}")
    }
    /// `events/{id}`
    pub fn event(id: EventId) -> String {
        format!("events/{id}")
    }
}
