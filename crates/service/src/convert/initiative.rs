//! Initiative conversions.

use peerlab_core::domain::*;
use peerlab_core::error::Violations;
use peerlab_core::model::{Initiative, InitiativePatch, ItemRef, NewInitiative, Ownership, names};
use peerlab_core::{Error, Result};
use peerlab_proto::v1 as pb;
use prost_types::FieldMask;

use super::challenge::{visibility, visibility_in};
use super::common::*;
use crate::names as parse;

/// A core initiative status on the wire.
pub fn initiative_status(s: InitiativeStatus) -> pb::InitiativeStatus {
    match s {
        InitiativeStatus::Planned => pb::InitiativeStatus::Planned,
        InitiativeStatus::InProgress => pb::InitiativeStatus::InProgress,
        InitiativeStatus::Implemented => pb::InitiativeStatus::Implemented,
        InitiativeStatus::Discontinued => pb::InitiativeStatus::Discontinued,
    }
}

/// A wire initiative status in the core; unset is `None`.
pub fn initiative_status_in(field: &str, raw: i32) -> Result<Option<InitiativeStatus>> {
    enum_in(field, raw, |s: pb::InitiativeStatus| match s {
        pb::InitiativeStatus::Unspecified => None,
        pb::InitiativeStatus::Planned => Some(InitiativeStatus::Planned),
        pb::InitiativeStatus::InProgress => Some(InitiativeStatus::InProgress),
        pb::InitiativeStatus::Implemented => Some(InitiativeStatus::Implemented),
        pb::InitiativeStatus::Discontinued => Some(InitiativeStatus::Discontinued),
    })
}

/// The resource names of linked challenges.
pub fn challenge_names(refs: Vec<ItemRef<ChallengeId>>) -> Vec<String> {
    refs.into_iter().map(|r| names::challenge(r.municipality, r.id)).collect()
}

/// An initiative on the wire.
pub fn initiative(i: Initiative) -> pb::Initiative {
    let Initiative { id, owner, title, description, status, challenges, meta: m } = i;
    let Ownership { working_group, municipality, country, visibility: vis } = owner;
    let WireMeta { create_time, update_time, archive_time, etag } = meta(m);
    pb::Initiative {
        name: names::initiative(municipality, id),
        working_group: names::working_group(working_group),
        title,
        description,
        status: initiative_status(status) as i32,
        challenges: challenge_names(challenges),
        visibility: visibility(vis) as i32,
        municipality: names::municipality(municipality),
        country: country.to_string(),
        create_time,
        update_time,
        archive_time,
        etag,
    }
}

/// A new initiative from a create request; output-only fields are ignored.
/// An unset status means planned.
pub fn new_initiative(i: Option<&pb::Initiative>) -> Result<NewInitiative> {
    let i = required("initiative", i)?;
    let mut v = Violations::new();
    let working_group = v.check(parse::working_group("initiative.working_group", &i.working_group));
    let title = v.check(Title::parse("initiative.title", &i.title));
    let description = v.check(Description::parse("initiative.description", &i.description));
    let status = v.check(initiative_status_in("initiative.status", i.status));
    let challenges = v.check(parse::each("initiative.challenges", &i.challenges, parse::challenge));
    let vis = v.check(visibility_in("initiative.visibility", i.visibility));
    v.finish()?;
    match (working_group, title, description, status, challenges, vis) {
        (Some(working_group), Some(title), Some(description), Some(status), Some(challenges), Some(vis)) => {
            Ok(NewInitiative {
                working_group,
                title,
                description,
                status: status.unwrap_or(InitiativeStatus::Planned),
                challenges,
                visibility: vis.unwrap_or(Visibility::Shared),
            })
        }
        _ => Err(Error::Internal("validated initiative lost a field".into())),
    }
}

/// The fields clients may change on an initiative.
pub const INITIATIVE_UPDATABLE: &[&str] = &["title", "description", "status", "challenges", "visibility"];

/// A patch from an update request and its mask.
pub fn initiative_patch(i: &pb::Initiative, mask: Option<&FieldMask>) -> Result<InitiativePatch> {
    let paths = update_paths(mask, INITIATIVE_UPDATABLE, |p| match p {
        "title" => !i.title.is_empty(),
        "description" => !i.description.is_empty(),
        "status" => i.status != 0,
        "challenges" => !i.challenges.is_empty(),
        "visibility" => i.visibility != 0,
        _ => false,
    })?;
    let mut v = Violations::new();
    let mut patch = InitiativePatch::default();
    for p in &paths {
        match p.as_str() {
            "title" => patch.title = v.check(Title::parse("initiative.title", &i.title)),
            "description" => patch.description = v.check(Description::parse("initiative.description", &i.description)),
            "status" => match v.check(initiative_status_in("initiative.status", i.status)) {
                Some(None) => v.push("initiative.status", "must be set when it is in the update mask"),
                Some(Some(s)) => patch.status = Some(s),
                None => {}
            },
            "challenges" => {
                patch.challenges = v.check(parse::each("initiative.challenges", &i.challenges, parse::challenge))
            }
            "visibility" => match v.check(visibility_in("initiative.visibility", i.visibility)) {
                Some(None) => v.push("initiative.visibility", "must be DRAFT or SHARED when it is in the update mask"),
                Some(Some(x)) => patch.visibility = Some(x),
                None => {}
            },
            _ => {}
        }
    }
    v.finish()?;
    Ok(patch)
}
