//! Challenge conversions.

use peerlab_core::domain::*;
use peerlab_core::error::Violations;
use peerlab_core::model::{Challenge, ChallengePatch, NewChallenge, Ownership, names};
use peerlab_core::{Error, Result};
use peerlab_proto::v1 as pb;
use prost_types::FieldMask;

use super::common::*;
use crate::names as parse;

/// Core visibility on the wire.
pub fn visibility(v: Visibility) -> pb::Visibility {
    match v {
        Visibility::Draft => pb::Visibility::Draft,
        Visibility::Shared => pb::Visibility::Shared,
    }
}

/// Wire visibility in the core; unset means shared on create.
pub fn visibility_in(field: &str, raw: i32) -> Result<Option<Visibility>> {
    enum_in(field, raw, |v: pb::Visibility| match v {
        pb::Visibility::Unspecified => None,
        pb::Visibility::Draft => Some(Visibility::Draft),
        pb::Visibility::Shared => Some(Visibility::Shared),
    })
}

fn status(s: ChallengeStatus) -> pb::ChallengeStatus {
    match s {
        ChallengeStatus::Open => pb::ChallengeStatus::Open,
        ChallengeStatus::Addressed => pb::ChallengeStatus::Addressed,
        ChallengeStatus::Archived => pb::ChallengeStatus::Archived,
    }
}

fn status_in(field: &str, raw: i32) -> Result<Option<ChallengeStatus>> {
    enum_in(field, raw, |s: pb::ChallengeStatus| match s {
        pb::ChallengeStatus::Unspecified => None,
        pb::ChallengeStatus::Open => Some(ChallengeStatus::Open),
        pb::ChallengeStatus::Addressed => Some(ChallengeStatus::Addressed),
        pb::ChallengeStatus::Archived => Some(ChallengeStatus::Archived),
    })
}

/// A challenge on the wire.
pub fn challenge(c: Challenge) -> pb::Challenge {
    let Challenge { id, owner, title, description, themes, status: st, meta: m } = c;
    let Ownership { working_group, municipality, country, visibility: vis } = owner;
    let WireMeta { create_time, update_time, archive_time, etag } = meta(m);
    pb::Challenge {
        name: names::challenge(municipality, id),
        working_group: names::working_group(working_group),
        title,
        description,
        themes,
        status: status(st) as i32,
        visibility: visibility(vis) as i32,
        municipality: names::municipality(municipality),
        country: country.to_string(),
        create_time,
        update_time,
        archive_time,
        etag,
    }
}

/// A new challenge from a create request; output-only fields are ignored.
pub fn new_challenge(c: Option<&pb::Challenge>) -> Result<NewChallenge> {
    let c = required("challenge", c)?;
    let mut v = Violations::new();
    let working_group = v.check(parse::working_group("challenge.working_group", &c.working_group));
    let title = v.check(Title::parse("challenge.title", &c.title));
    let description = v.check(Description::parse("challenge.description", &c.description));
    let themes = v.check(Theme::parse_list("challenge.themes", &c.themes));
    let vis = v.check(visibility_in("challenge.visibility", c.visibility));
    v.finish()?;
    match (working_group, title, description, themes, vis) {
        (Some(working_group), Some(title), Some(description), Some(themes), Some(vis)) => Ok(NewChallenge {
            working_group,
            title,
            description,
            themes,
            visibility: vis.unwrap_or(Visibility::Shared),
        }),
        _ => Err(Error::Internal("validated challenge lost a field".into())),
    }
}

/// The fields clients may change on a challenge.
pub const CHALLENGE_UPDATABLE: &[&str] = &["title", "description", "themes", "visibility", "status"];

/// A patch from an update request and its mask.
pub fn challenge_patch(c: &pb::Challenge, mask: Option<&FieldMask>) -> Result<ChallengePatch> {
    let paths = update_paths(mask, CHALLENGE_UPDATABLE, |p| match p {
        "title" => !c.title.is_empty(),
        "description" => !c.description.is_empty(),
        "themes" => !c.themes.is_empty(),
        "visibility" => c.visibility != 0,
        "status" => c.status != 0,
        _ => false,
    })?;
    let mut v = Violations::new();
    let mut patch = ChallengePatch::default();
    for p in &paths {
        match p.as_str() {
            "title" => patch.title = v.check(Title::parse("challenge.title", &c.title)),
            "description" => patch.description = v.check(Description::parse("challenge.description", &c.description)),
            "themes" => patch.themes = v.check(Theme::parse_list("challenge.themes", &c.themes)),
            "visibility" => match v.check(visibility_in("challenge.visibility", c.visibility)) {
                Some(None) => v.push("challenge.visibility", "must be DRAFT or SHARED when it is in the update mask"),
                Some(Some(x)) => patch.visibility = Some(x),
                None => {}
            },
            "status" => match v.check(status_in("challenge.status", c.status)) {
                Some(None) => v.push("challenge.status", "must be set when it is in the update mask"),
                Some(Some(x)) => patch.status = Some(x),
                None => {}
            },
            _ => {}
        }
    }
    v.finish()?;
    Ok(patch)
}
