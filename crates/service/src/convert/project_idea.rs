//! Project idea conversions.

use peerlab_core::domain::*;
use peerlab_core::error::Violations;
use peerlab_core::model::{NewProjectIdea, Ownership, ProjectIdea, ProjectIdeaPatch, names};
use peerlab_core::{Error, Result};
use peerlab_proto::v1 as pb;
use prost_types::FieldMask;

use super::challenge::{visibility, visibility_in};
use super::common::*;
use super::initiative::challenge_names;
use crate::names as parse;

/// A core stage on the wire.
pub fn stage(s: ProjectStage) -> pb::ProjectStage {
    match s {
        ProjectStage::Idea => pb::ProjectStage::Idea,
        ProjectStage::Consolidated => pb::ProjectStage::Consolidated,
        ProjectStage::SolutionDefined => pb::ProjectStage::SolutionDefined,
        ProjectStage::ProjectDefined => pb::ProjectStage::ProjectDefined,
    }
}

/// A wire stage in the core; unset is `None`.
pub fn stage_in(field: &str, raw: i32) -> Result<Option<ProjectStage>> {
    enum_in(field, raw, |s: pb::ProjectStage| match s {
        pb::ProjectStage::Unspecified => None,
        pb::ProjectStage::Idea => Some(ProjectStage::Idea),
        pb::ProjectStage::Consolidated => Some(ProjectStage::Consolidated),
        pb::ProjectStage::SolutionDefined => Some(ProjectStage::SolutionDefined),
        pb::ProjectStage::ProjectDefined => Some(ProjectStage::ProjectDefined),
    })
}

/// A project idea on the wire.
pub fn project_idea(p: ProjectIdea) -> pb::ProjectIdea {
    let ProjectIdea { id, owner, title, description, stage: st, challenges, initiatives, partners, meta: m } = p;
    let Ownership { working_group, municipality, country, visibility: vis } = owner;
    let WireMeta { create_time, update_time, archive_time, etag } = meta(m);
    pb::ProjectIdea {
        name: names::project_idea(municipality, id),
        working_group: names::working_group(working_group),
        title,
        description,
        stage: stage(st) as i32,
        challenges: challenge_names(challenges),
        initiatives: initiatives.into_iter().map(|r| names::initiative(r.municipality, r.id)).collect(),
        partners: partners.into_iter().map(names::municipality).collect(),
        visibility: visibility(vis) as i32,
        municipality: names::municipality(municipality),
        country: country.to_string(),
        create_time,
        update_time,
        archive_time,
        etag,
    }
}

/// A new project idea from a create request; output-only fields (including
/// the stage, which always starts at IDEA) are ignored.
pub fn new_project_idea(p: Option<&pb::ProjectIdea>) -> Result<NewProjectIdea> {
    let p = required("project_idea", p)?;
    let mut v = Violations::new();
    let working_group = v.check(parse::working_group("project_idea.working_group", &p.working_group));
    let title = v.check(Title::parse("project_idea.title", &p.title));
    let description = v.check(Description::parse("project_idea.description", &p.description));
    let challenges = v.check(parse::each("project_idea.challenges", &p.challenges, parse::challenge));
    let initiatives = v.check(parse::each("project_idea.initiatives", &p.initiatives, parse::initiative));
    let partners = v.check(parse::each("project_idea.partners", &p.partners, parse::municipality));
    let vis = v.check(visibility_in("project_idea.visibility", p.visibility));
    v.finish()?;
    match (working_group, title, description, challenges, initiatives, partners, vis) {
        (
            Some(working_group),
            Some(title),
            Some(description),
            Some(challenges),
            Some(initiatives),
            Some(partners),
            Some(vis),
        ) => Ok(NewProjectIdea {
            working_group,
            title,
            description,
            challenges,
            initiatives,
            partners,
            visibility: vis.unwrap_or(Visibility::Shared),
        }),
        _ => Err(Error::Internal("validated project idea lost a field".into())),
    }
}

/// The fields clients may change on a project idea.
pub const PROJECT_IDEA_UPDATABLE: &[&str] =
    &["title", "description", "stage", "challenges", "initiatives", "partners", "visibility"];

/// A patch from an update request and its mask.
pub fn project_idea_patch(p: &pb::ProjectIdea, mask: Option<&FieldMask>) -> Result<ProjectIdeaPatch> {
    let paths = update_paths(mask, PROJECT_IDEA_UPDATABLE, |f| match f {
        "title" => !p.title.is_empty(),
        "description" => !p.description.is_empty(),
        "stage" => p.stage != 0,
        "challenges" => !p.challenges.is_empty(),
        "initiatives" => !p.initiatives.is_empty(),
        "partners" => !p.partners.is_empty(),
        "visibility" => p.visibility != 0,
        _ => false,
    })?;
    let mut v = Violations::new();
    let mut patch = ProjectIdeaPatch::default();
    for f in &paths {
        match f.as_str() {
            "title" => patch.title = v.check(Title::parse("project_idea.title", &p.title)),
            "description" => {
                patch.description = v.check(Description::parse("project_idea.description", &p.description))
            }
            "stage" => match v.check(stage_in("project_idea.stage", p.stage)) {
                Some(None) => v.push("project_idea.stage", "must be set when it is in the update mask"),
                Some(Some(s)) => patch.stage = Some(s),
                None => {}
            },
            "challenges" => {
                patch.challenges = v.check(parse::each("project_idea.challenges", &p.challenges, parse::challenge))
            }
            "initiatives" => {
                patch.initiatives = v.check(parse::each("project_idea.initiatives", &p.initiatives, parse::initiative))
            }
            "partners" => {
                patch.partners = v.check(parse::each("project_idea.partners", &p.partners, parse::municipality))
            }
            "visibility" => match v.check(visibility_in("project_idea.visibility", p.visibility)) {
                Some(None) => {
                    v.push("project_idea.visibility", "must be DRAFT or SHARED when it is in the update mask")
                }
                Some(Some(x)) => patch.visibility = Some(x),
                None => {}
            },
            _ => {}
        }
    }
    v.finish()?;
    Ok(patch)
}
