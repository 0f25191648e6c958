//! Workshop conversions.

use peerlab_core::domain::{Title, WorkshopPhase};
use peerlab_core::error::Violations;
use peerlab_core::model::{NewWorkshop, Workshop, WorkshopPatch, names};
use peerlab_core::{Error, Result};
use peerlab_proto::v1 as pb;
use prost_types::FieldMask;

use super::common::*;
use crate::names as parse;

/// A core phase on the wire.
pub fn phase(p: WorkshopPhase) -> pb::WorkshopPhase {
    match p {
        WorkshopPhase::KickOff => pb::WorkshopPhase::KickOff,
        WorkshopPhase::Ideation => pb::WorkshopPhase::Ideation,
        WorkshopPhase::Consolidation => pb::WorkshopPhase::Consolidation,
        WorkshopPhase::Solutions => pb::WorkshopPhase::Solutions,
        WorkshopPhase::Opportunities => pb::WorkshopPhase::Opportunities,
        WorkshopPhase::Other => pb::WorkshopPhase::Other,
    }
}

/// A wire phase in the core; unset is `None`.
pub fn phase_in(field: &str, raw: i32) -> Result<Option<WorkshopPhase>> {
    enum_in(field, raw, |p: pb::WorkshopPhase| match p {
        pb::WorkshopPhase::Unspecified => None,
        pb::WorkshopPhase::KickOff => Some(WorkshopPhase::KickOff),
        pb::WorkshopPhase::Ideation => Some(WorkshopPhase::Ideation),
        pb::WorkshopPhase::Consolidation => Some(WorkshopPhase::Consolidation),
        pb::WorkshopPhase::Solutions => Some(WorkshopPhase::Solutions),
        pb::WorkshopPhase::Opportunities => Some(WorkshopPhase::Opportunities),
        pb::WorkshopPhase::Other => Some(WorkshopPhase::Other),
    })
}

/// A set phase: unset is an error naming `field`.
fn required_phase(field: &str, raw: i32) -> Result<WorkshopPhase> {
    phase_in(field, raw)?.ok_or_else(|| Error::invalid(field, "is required"))
}

/// A workshop on the wire.
pub fn workshop(w: Workshop) -> pb::Workshop {
    let Workshop { id, working_group, display_name, phase: ph, date: d, duration_minutes, attendees, meta: m } = w;
    let WireMeta { create_time, update_time, archive_time, etag } = meta(m);
    pb::Workshop {
        name: names::workshop(working_group, id),
        display_name,
        phase: phase(ph) as i32,
        date: Some(date(d)),
        duration_minutes: i32::try_from(duration_minutes).unwrap_or(i32::MAX),
        attendees: attendees.into_iter().map(names::municipality).collect(),
        create_time,
        update_time,
        archive_time,
        etag,
    }
}

/// A new workshop from a create request; output-only fields are ignored.
pub fn new_workshop(w: Option<&pb::Workshop>) -> Result<NewWorkshop> {
    let w = required("workshop", w)?;
    let mut v = Violations::new();
    let display_name = v.check(Title::parse("workshop.display_name", &w.display_name));
    let ph = v.check(required_phase("workshop.phase", w.phase));
    let day = v.check(date_in("workshop.date", w.date.as_ref()));
    let attendees = v.check(parse::each("workshop.attendees", &w.attendees, parse::municipality));
    v.finish()?;
    match (display_name, ph, day, attendees) {
        (Some(display_name), Some(phase), Some(date), Some(attendees)) => {
            Ok(NewWorkshop { display_name, phase, date, duration_minutes: i64::from(w.duration_minutes), attendees })
        }
        _ => Err(Error::Internal("validated workshop lost a field".into())),
    }
}

/// The fields clients may change on a workshop.
pub const WORKSHOP_UPDATABLE: &[&str] = &["display_name", "phase", "date", "duration_minutes", "attendees"];

/// A patch from an update request and its mask.
pub fn workshop_patch(w: &pb::Workshop, mask: Option<&FieldMask>) -> Result<WorkshopPatch> {
    let paths = update_paths(mask, WORKSHOP_UPDATABLE, |p| match p {
        "display_name" => !w.display_name.is_empty(),
        "phase" => w.phase != 0,
        "date" => w.date.is_some(),
        "duration_minutes" => w.duration_minutes != 0,
        "attendees" => !w.attendees.is_empty(),
        _ => false,
    })?;
    let mut v = Violations::new();
    let mut patch = WorkshopPatch::default();
    for p in &paths {
        match p.as_str() {
            "display_name" => patch.display_name = v.check(Title::parse("workshop.display_name", &w.display_name)),
            "phase" => patch.phase = v.check(required_phase("workshop.phase", w.phase)),
            "date" => patch.date = v.check(date_in("workshop.date", w.date.as_ref())),
            "duration_minutes" => patch.duration_minutes = Some(i64::from(w.duration_minutes)),
            "attendees" => {
                patch.attendees = v.check(parse::each("workshop.attendees", &w.attendees, parse::municipality))
            }
            _ => {}
        }
    }
    v.finish()?;
    Ok(patch)
}
