//! Municipalities, working groups, memberships, workshops.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::Meta;
use crate::domain::*;

/// A member municipality.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Municipality {
    /// Its id.
    pub id: MunicipalityId,
    /// Its name.
    pub display_name: String,
    /// Its country.
    pub country: CountryCode,
    /// Bookkeeping.
    pub meta: Meta,
}

/// Input of a new municipality.
#[derive(Clone, Debug)]
pub struct NewMunicipality {
    /// Its name.
    pub display_name: Title,
    /// Its country.
    pub country: CountryCode,
}

/// A working group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingGroup {
    /// Its id.
    pub id: WorkingGroupId,
    /// Its name.
    pub display_name: String,
    /// What it is about.
    pub description: String,
    /// Theme tags.
    pub themes: Vec<String>,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// Number of member municipalities.
    pub member_count: i64,
    /// Bookkeeping.
    pub meta: Meta,
}

/// Input of a new working group.
#[derive(Clone, Debug)]
pub struct NewWorkingGroup {
    /// Its name.
    pub display_name: Title,
    /// What it is about.
    pub description: Description,
    /// Theme tags.
    pub themes: Vec<Theme>,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day, not before the first.
    pub end_date: NaiveDate,
}

/// Changes to a working group; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct WorkingGroupPatch {
    /// New name.
    pub display_name: Option<Title>,
    /// New description.
    pub description: Option<Description>,
    /// New themes.
    pub themes: Option<Vec<Theme>>,
    /// New first day.
    pub start_date: Option<NaiveDate>,
    /// New last day.
    pub end_date: Option<NaiveDate>,
}

/// A municipality's membership of a working group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// The group.
    pub working_group: WorkingGroupId,
    /// The member.
    pub municipality: MunicipalityId,
    /// The member's country.
    pub country: CountryCode,
    /// When it joined.
    pub create_time: super::Timestamp,
}

/// A workshop of a working group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workshop {
    /// Its id.
    pub id: WorkshopId,
    /// Its group.
    pub working_group: WorkingGroupId,
    /// Its title.
    pub display_name: String,
    /// Its phase.
    pub phase: WorkshopPhase,
    /// The day.
    pub date: NaiveDate,
    /// Length in minutes.
    pub duration_minutes: i64,
    /// Attending municipalities (members of the group).
    pub attendees: Vec<MunicipalityId>,
    /// Bookkeeping.
    pub meta: Meta,
}

/// Input of a new workshop.
#[derive(Clone, Debug)]
pub struct NewWorkshop {
    /// Its title.
    pub display_name: Title,
    /// Its phase.
    pub phase: WorkshopPhase,
    /// The day.
    pub date: NaiveDate,
    /// Length in minutes, 1 to 1440.
    pub duration_minutes: i64,
    /// Attending municipalities.
    pub attendees: Vec<MunicipalityId>,
}

/// Changes to a workshop.
#[derive(Clone, Debug, Default)]
pub struct WorkshopPatch {
    /// New title.
    pub display_name: Option<Title>,
    /// New phase.
    pub phase: Option<WorkshopPhase>,
    /// New day.
    pub date: Option<NaiveDate>,
    /// New length.
    pub duration_minutes: Option<i64>,
    /// New attendance.
    pub attendees: Option<Vec<MunicipalityId>>,
}
