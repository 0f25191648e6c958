//! Working group conversions.

use peerlab_core::domain::{Description, Theme, Title};
use peerlab_core::error::Violations;
use peerlab_core::model::{NewWorkingGroup, WorkingGroup, WorkingGroupPatch, names};
use peerlab_core::{Error, Result};
use peerlab_proto::v1 as pb;
use prost_types::FieldMask;

use super::common::*;

/// A working group on the wire.
pub fn working_group(g: WorkingGroup) -> pb::WorkingGroup {
    let WorkingGroup { id, display_name, description, themes, start_date, end_date, member_count, meta: m } = g;
    let WireMeta { create_time, update_time, archive_time, etag } = meta(m);
    pb::WorkingGroup {
        name: names::working_group(id),
        display_name,
        description,
        themes,
        start_date: Some(date(start_date)),
        end_date: Some(date(end_date)),
        member_count: i32::try_from(member_count).unwrap_or(i32::MAX),
        create_time,
        update_time,
        archive_time,
        etag,
    }
}

/// A new working group from a create request; output-only fields are ignored.
pub fn new_working_group(g: Option<&pb::WorkingGroup>) -> Result<NewWorkingGroup> {
    let g = required("working_group", g)?;
    let mut v = Violations::new();
    let display_name = v.check(Title::parse("working_group.display_name", &g.display_name));
    let description = v.check(Description::parse("working_group.description", &g.description));
    let themes = v.check(Theme::parse_list("working_group.themes", &g.themes));
    let start_date = v.check(date_in("working_group.start_date", g.start_date.as_ref()));
    let end_date = v.check(date_in("working_group.end_date", g.end_date.as_ref()));
    v.finish()?;
    match (display_name, description, themes, start_date, end_date) {
        (Some(display_name), Some(description), Some(themes), Some(start_date), Some(end_date)) => {
            Ok(NewWorkingGroup { display_name, description, themes, start_date, end_date })
        }
        _ => Err(Error::Internal("validated working group lost a field".into())),
    }
}

/// The fields clients may change on a working group.
pub const WORKING_GROUP_UPDATABLE: &[&str] = &["display_name", "description", "themes", "start_date", "end_date"];

/// A patch from an update request and its mask.
pub fn working_group_patch(g: &pb::WorkingGroup, mask: Option<&FieldMask>) -> Result<WorkingGroupPatch> {
    let paths = update_paths(mask, WORKING_GROUP_UPDATABLE, |p| match p {
        "display_name" => !g.display_name.is_empty(),
        "description" => !g.description.is_empty(),
        "themes" => !g.themes.is_empty(),
        "start_date" => g.start_date.is_some(),
        "end_date" => g.end_date.is_some(),
        _ => false,
    })?;
    let mut v = Violations::new();
    let mut patch = WorkingGroupPatch::default();
    for p in &paths {
        match p.as_str() {
            "display_name" => patch.display_name = v.check(Title::parse("working_group.display_name", &g.display_name)),
            "description" => {
                patch.description = v.check(Description::parse("working_group.description", &g.description))
            }
            "themes" => patch.themes = v.check(Theme::parse_list("working_group.themes", &g.themes)),
            "start_date" => patch.start_date = v.check(date_in("working_group.start_date", g.start_date.as_ref())),
            "end_date" => patch.end_date = v.check(date_in("working_group.end_date", g.end_date.as_ref())),
            _ => {}
        }
    }
    v.finish()?;
    Ok(patch)
}
