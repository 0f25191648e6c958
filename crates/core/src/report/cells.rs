//! The counters reports are made of, and how a set of them becomes a report.
//! Both the maintained aggregates and the from-scratch recomputation yield
//! [`Cell`]s, so the two differ only in where the numbers come from.

use std::collections::BTreeMap;

use chrono::TimeDelta;

use super::model::*;
use super::sql::country;
use crate::domain::CountryCode;
use crate::model::Timestamp;
use crate::{Error, Result};

macro_rules! metrics {
    ($($variant:ident = $text:literal,)*) => {
        /// A counted metric; its text is stored in `report_counts.metric`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub(crate) enum Metric { $($variant,)* }

        impl Metric {
            pub fn as_str(self) -> &'static str {
                match self { $(Metric::$variant => $text,)* }
            }

            pub fn parse(s: &str) -> Result<Metric> {
                match s {
                    $($text => Ok(Metric::$variant),)*
                    other => Err(Error::Internal(format!("stored report metric {other:?} is unknown"))),
                }
            }
        }
    };
}

metrics! {
    // Active municipalities, in working group 0 (they belong to none).
    Municipalities = "municipalities",
    ChallengeStatus = "challenge_status",
    ChallengeTheme = "challenge_theme",
    InitiativeStatus = "initiative_status",
    IdeaStage = "idea_stage",
    RecGiven = "rec_given",
    RecReceived = "rec_received",
    RecAnswered = "rec_answered",
    RecAdopted = "rec_adopted",
    // Key: the receiving country; the cell's country is the author's.
    Flow = "flow",
    // Live challenges with and without a live recommendation.
    ChallengeRecommended = "challenge_recommended",
    ChallengeUnrecommended = "challenge_unrecommended",
    // Live recommended challenges by bucket of their delay to the first
    // recommendation (key: the zero-padded bucket); all time only.
    DelayBucket = "delay_bucket",
}

impl Metric {
    /// Whether it is also counted per day in `report_counts`, for periods.
    /// The delay histogram is not: per day it would hold a row for nearly
    /// every recommended challenge, and a period's median walks the delays.
    pub fn daily(self) -> bool {
        self != Metric::DelayBucket
    }
}

/// One counter, summed over groups and days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Cell {
    pub country: CountryCode,
    pub metric: Metric,
    pub key: String,
    pub n: i64,
}

impl Cell {
    /// A cell read from a row of `(country, metric, key, n)`.
    pub fn from_row(country_text: &str, metric: &str, key: String, n: i64) -> Result<Cell> {
        Ok(Cell { country: country(country_text)?, metric: Metric::parse(metric)?, key, n })
    }
}

/// The median of sorted values' middle pair (equal for an odd count), in
/// whole microseconds.
pub(crate) fn middle(lower: i64, upper: i64) -> TimeDelta {
    TimeDelta::microseconds(lower + (upper - lower) / 2)
}

/// What both paths computed, before it is shaped into a report.
pub(crate) struct Parts {
    pub cells: Vec<Cell>,
    pub medians: BTreeMap<CountryCode, TimeDelta>,
    pub workshop_attendance: Vec<WorkshopAttendance>,
}

/// Shape computed parts into the network report.
pub(crate) fn network_report(
    group: Option<crate::domain::WorkingGroupId>,
    parts: Parts,
    now: Timestamp,
) -> Result<NetworkReport> {
    let mut countries: BTreeMap<CountryCode, CountryMetrics> = BTreeMap::new();
    let mut themes: BTreeMap<(String, CountryCode), i64> = BTreeMap::new();
    let mut flows: BTreeMap<(CountryCode, CountryCode), i64> = BTreeMap::new();
    for Cell { country: c, metric, key, n } in parts.cells.into_iter().filter(|c| c.n != 0) {
        let m = countries.entry(c).or_insert_with(|| CountryMetrics::empty(c));
        match metric {
            Metric::Municipalities => m.municipalities += n,
            Metric::ChallengeStatus => *m.challenges_by_status.entry(key).or_default() += n,
            Metric::ChallengeTheme => {
                *themes.entry((key.clone(), c)).or_default() += n;
                *m.challenges_by_theme.entry(key).or_default() += n;
            }
            Metric::InitiativeStatus => *m.initiatives_by_status.entry(key).or_default() += n,
            Metric::IdeaStage => *m.project_ideas_by_stage.entry(key).or_default() += n,
            Metric::RecGiven => m.recommendations_given += n,
            Metric::RecReceived => m.recommendations_received += n,
            Metric::RecAnswered => m.recommendations_answered += n,
            Metric::RecAdopted => m.recommendations_adopted += n,
            Metric::Flow => *flows.entry((c, country(&key)?)).or_default() += n,
            Metric::ChallengeRecommended | Metric::DelayBucket => {}
            Metric::ChallengeUnrecommended => m.challenges_without_recommendation += n,
        }
    }
    for (c, median) in parts.medians {
        countries.entry(c).or_insert_with(|| CountryMetrics::empty(c)).median_time_to_first_recommendation =
            Some(median);
    }
    let countries: Vec<CountryMetrics> = countries.into_values().collect();
    Ok(NetworkReport {
        working_group: group,
        totals: countries.iter().map(CountryMetrics::totals).sum(),
        countries,
        theme_matrix: themes
            .into_iter()
            .filter(|(_, n)| *n != 0)
            .map(|((theme, country), challenges)| ThemeCell { theme, country, challenges })
            .collect(),
        recommendation_flows: flows
            .into_iter()
            .filter(|(_, n)| *n != 0)
            .map(|((from_country, to_country), recommendations)| RecommendationFlow {
                from_country,
                to_country,
                recommendations,
            })
            .collect(),
        workshop_attendance: parts.workshop_attendance,
        generate_time: now,
    })
}
