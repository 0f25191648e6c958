//! What reports say: per-country metrics, totals, matrices, attendance.

use std::collections::BTreeMap;

use chrono::TimeDelta;

use crate::domain::*;
use crate::model::Timestamp;
use crate::{Error, Result};

/// Microseconds in a UTC day.
pub(crate) const DAY_MICROS: i64 = 86_400_000_000;

/// The UTC day (days since the epoch) of a time in microseconds.
pub(crate) fn day_of(micros: i64) -> i64 {
    micros.div_euclid(DAY_MICROS)
}

/// Which items a report counts, by their create time, in whole UTC days.
///
/// Counters are kept per UTC day, so a period is widened to whole days: it
/// starts at midnight (UTC) of `start`'s day and ends at the first midnight
/// at or after `end`.
///
/// ```
/// use peerlab_core::report::Period;
/// let start = "2024-01-01T10:00:00Z".parse().unwrap();
/// let end = "2024-01-31T00:00:00Z".parse().unwrap();
/// let p = Period::new(Some(start), Some(end)).unwrap();
/// assert_eq!(p.days(), (Some(19723), Some(19753)));
/// assert!(Period::new(Some(end), Some(start)).is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Period {
    first_day: Option<i64>,
    end_day: Option<i64>,
}

impl Period {
    /// All time.
    pub fn all() -> Period {
        Period::default()
    }

    /// Items created at or after `start` and before `end` (either open),
    /// widened to whole UTC days. `start` must be before `end`.
    pub fn new(start: Option<Timestamp>, end: Option<Timestamp>) -> Result<Period> {
        if let (Some(s), Some(e)) = (start, end)
            && s >= e
        {
            return Err(Error::invalid("end_time", "must be after start_time"));
        }
        let first_day = start.map(|s| day_of(s.timestamp_micros()));
        let end_day = end.map(|e| -(-e.timestamp_micros()).div_euclid(DAY_MICROS));
        Ok(Period { first_day, end_day })
    }

    /// The UTC days covered, as days since the epoch: `[first, end)`.
    pub fn days(&self) -> (Option<i64>, Option<i64>) {
        (self.first_day, self.end_day)
    }

    /// Whether the period is all time.
    pub fn is_all(&self) -> bool {
        self.first_day.is_none() && self.end_day.is_none()
    }

    /// The bounds in microseconds: `[first, end)`.
    pub(crate) fn micros(&self) -> (Option<i64>, Option<i64>) {
        (self.first_day.map(|d| d * DAY_MICROS), self.end_day.map(|d| d * DAY_MICROS))
    }
}

/// The metrics of one country; the fields are defined in `report.proto`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountryMetrics {
    /// The country.
    pub country: CountryCode,
    /// Active member municipalities (of the group, if one is given).
    pub municipalities: i64,
    /// Challenges by status, archived included; every status is present.
    pub challenges_by_status: BTreeMap<String, i64>,
    /// Live challenges by theme (non-zero themes only).
    pub challenges_by_theme: BTreeMap<String, i64>,
    /// Live initiatives by status; every status is present.
    pub initiatives_by_status: BTreeMap<String, i64>,
    /// Live project ideas by stage (the funnel); every stage is present.
    pub project_ideas_by_stage: BTreeMap<String, i64>,
    /// Live recommendations authored by the country's municipalities.
    pub recommendations_given: i64,
    /// Live recommendations to the country's municipalities.
    pub recommendations_received: i64,
    /// Received ones with an answer.
    pub recommendations_answered: i64,
    /// Received ones adopted.
    pub recommendations_adopted: i64,
    /// Median delay from a live challenge to its first live recommendation.
    pub median_time_to_first_recommendation: Option<TimeDelta>,
    /// Live challenges without any live recommendation.
    pub challenges_without_recommendation: i64,
}

fn zeros(keys: impl Iterator<Item = &'static str>) -> BTreeMap<String, i64> {
    keys.map(|k| (k.to_owned(), 0)).collect()
}

impl CountryMetrics {
    /// A country with nothing counted yet.
    pub fn empty(country: CountryCode) -> Self {
        CountryMetrics {
            country,
            municipalities: 0,
            challenges_by_status: zeros(ChallengeStatus::ALL.iter().map(|s| s.as_str())),
            challenges_by_theme: BTreeMap::new(),
            initiatives_by_status: zeros(InitiativeStatus::ALL.iter().map(|s| s.as_str())),
            project_ideas_by_stage: zeros(ProjectStage::ALL.iter().map(|s| s.as_str())),
            recommendations_given: 0,
            recommendations_received: 0,
            recommendations_answered: 0,
            recommendations_adopted: 0,
            median_time_to_first_recommendation: None,
            challenges_without_recommendation: 0,
        }
    }

    /// answered / received (0 when none received).
    pub fn response_rate(&self) -> f64 {
        ratio(self.recommendations_answered, self.recommendations_received)
    }

    /// adopted / received (0 when none received).
    pub fn adoption_rate(&self) -> f64 {
        ratio(self.recommendations_adopted, self.recommendations_received)
    }

    /// This country's share of the network totals.
    pub fn totals(&self) -> NetworkTotals {
        let archived = self.challenges_by_status.get(ChallengeStatus::Archived.as_str()).copied().unwrap_or(0);
        NetworkTotals {
            municipalities: self.municipalities,
            challenges: self.challenges_by_status.values().sum::<i64>() - archived,
            initiatives: self.initiatives_by_status.values().sum(),
            project_ideas: self.project_ideas_by_stage.values().sum(),
            recommendations: self.recommendations_given,
            recommendations_answered: self.recommendations_answered,
        }
    }
}

fn ratio(part: i64, whole: i64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

/// Totals over a set of countries. Recommendations are counted on the
/// author's side, answers on the receiver's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetworkTotals {
    /// Active member municipalities.
    pub municipalities: i64,
    /// Live challenges.
    pub challenges: i64,
    /// Live initiatives.
    pub initiatives: i64,
    /// Live project ideas.
    pub project_ideas: i64,
    /// Live recommendations (by their authors' countries).
    pub recommendations: i64,
    /// Live recommendations answered (by their receivers' countries).
    pub recommendations_answered: i64,
}

impl std::iter::Sum for NetworkTotals {
    fn sum<I: Iterator<Item = NetworkTotals>>(iter: I) -> Self {
        iter.fold(NetworkTotals::default(), |a, b| NetworkTotals {
            municipalities: a.municipalities + b.municipalities,
            challenges: a.challenges + b.challenges,
            initiatives: a.initiatives + b.initiatives,
            project_ideas: a.project_ideas + b.project_ideas,
            recommendations: a.recommendations + b.recommendations,
            recommendations_answered: a.recommendations_answered + b.recommendations_answered,
        })
    }
}

/// Live challenges of one country with one theme.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThemeCell {
    /// The theme tag.
    pub theme: String,
    /// The country.
    pub country: CountryCode,
    /// How many.
    pub challenges: i64,
}

/// Live recommendations from one country's municipalities to another's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecommendationFlow {
    /// The authors' country.
    pub from_country: CountryCode,
    /// The receivers' country.
    pub to_country: CountryCode,
    /// How many.
    pub recommendations: i64,
}

/// How many municipalities of one country attended one live workshop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkshopAttendance {
    /// The workshop's group.
    pub working_group: WorkingGroupId,
    /// The workshop.
    pub workshop: WorkshopId,
    /// The country.
    pub country: CountryCode,
    /// Attending municipalities of that country.
    pub municipalities: i64,
}

/// The network report: every country, the matrices and attendance.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkReport {
    /// The group reported on; `None` for the network.
    pub working_group: Option<WorkingGroupId>,
    /// Per country, ordered by code.
    pub countries: Vec<CountryMetrics>,
    /// Totals over all countries.
    pub totals: NetworkTotals,
    /// Non-zero cells of the theme × country matrix, by theme then country.
    pub theme_matrix: Vec<ThemeCell>,
    /// Non-zero country → country flows, by origin then destination.
    pub recommendation_flows: Vec<RecommendationFlow>,
    /// Attendance per live workshop (whose date is in the period) and country.
    pub workshop_attendance: Vec<WorkshopAttendance>,
    /// When it was computed.
    pub generate_time: Timestamp,
}

/// One country in detail, the rest of the network as totals.
#[derive(Clone, Debug, PartialEq)]
pub struct CountryReport {
    /// The country.
    pub country: CountryMetrics,
    /// The other countries, summed.
    pub rest_of_network: NetworkTotals,
    /// Flows into and out of the country.
    pub recommendation_flows: Vec<RecommendationFlow>,
    /// When it was computed.
    pub generate_time: Timestamp,
}

impl CountryReport {
    /// Cut `country`'s report out of a network report.
    pub fn from_network(net: NetworkReport, country: CountryCode) -> CountryReport {
        let mut own = CountryMetrics::empty(country);
        let mut rest = Vec::new();
        for m in net.countries {
            if m.country == country {
                own = m;
            } else {
                rest.push(m.totals());
            }
        }
        CountryReport {
            country: own,
            rest_of_network: rest.into_iter().sum(),
            recommendation_flows: net
                .recommendation_flows
                .into_iter()
                .filter(|f| f.from_country == country || f.to_country == country)
                .collect(),
            generate_time: net.generate_time,
        }
    }
}
