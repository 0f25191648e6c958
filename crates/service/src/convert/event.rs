//! Event conversions: the snapshot reuses each resource's conversion.

use peerlab_core::model::{Event, Snapshot, names};
use peerlab_proto::v1 as pb;
use peerlab_proto::v1::event::Snapshot as Wire;

use super::*;

fn snapshot(s: Snapshot) -> Wire {
    match s {
        Snapshot::Municipality(m) => Wire::MunicipalitySnapshot(municipality(m)),
        Snapshot::WorkingGroup(g) => Wire::WorkingGroupSnapshot(working_group(g)),
        Snapshot::Membership(m) => Wire::MembershipSnapshot(membership(m)),
        Snapshot::Workshop(w) => Wire::WorkshopSnapshot(workshop(w)),
        Snapshot::Challenge(c) => Wire::ChallengeSnapshot(challenge(c)),
        Snapshot::Initiative(i) => Wire::InitiativeSnapshot(initiative(i)),
        Snapshot::ProjectIdea(p) => Wire::ProjectIdeaSnapshot(project_idea(p)),
        Snapshot::Recommendation(r) => Wire::RecommendationSnapshot(recommendation(r)),
    }
}

/// An event on the wire. Its visibility decides who receives it and is not
/// itself part of the contract.
pub fn event(e: Event) -> pb::Event {
    let Event {
        id,
        kind,
        resource,
        working_group,
        country,
        municipality,
        visibility: _,
        actor,
        create_time,
        snapshot: s,
    } = e;
    pb::Event {
        name: names::event(id),
        id: id.get(),
        kind,
        resource,
        working_group: working_group.map(names::working_group).unwrap_or_default(),
        country: country.map(|c| c.to_string()).unwrap_or_default(),
        municipality: municipality.map(names::municipality).unwrap_or_default(),
        actor,
        create_time: Some(timestamp(create_time)),
        snapshot: Some(snapshot(s)),
    }
}
