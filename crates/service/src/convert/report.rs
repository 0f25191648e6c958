//! Report conversions: the period in, the reports out.

use chrono::TimeDelta;
use peerlab_core::Result;
use peerlab_core::error::Violations;
use peerlab_core::model::names;
use peerlab_core::report::*;
use peerlab_proto::v1 as pb;

use super::common::*;

/// The period of a report request; either bound may be unset.
pub fn period_in(start: Option<&prost_types::Timestamp>, end: Option<&prost_types::Timestamp>) -> Result<Period> {
    let mut v = Violations::new();
    let start = start.and_then(|t| v.check(timestamp_in("start_time", t)));
    let end = end.and_then(|t| v.check(timestamp_in("end_time", t)));
    v.finish()?;
    Period::new(start, end)
}

fn duration(d: TimeDelta) -> prost_types::Duration {
    prost_types::Duration { seconds: d.num_seconds(), nanos: d.subsec_nanos() }
}

fn country_metrics(m: CountryMetrics) -> pb::CountryMetrics {
    let response_rate = m.response_rate();
    let adoption_rate = m.adoption_rate();
    let CountryMetrics {
        country,
        municipalities,
        challenges_by_status,
        challenges_by_theme,
        initiatives_by_status,
        project_ideas_by_stage,
        recommendations_given,
        recommendations_received,
        recommendations_answered,
        recommendations_adopted,
        median_time_to_first_recommendation,
        challenges_without_recommendation,
    } = m;
    pb::CountryMetrics {
        country: country.to_string(),
        municipalities,
        challenges_by_status: challenges_by_status.into_iter().collect(),
        challenges_by_theme: challenges_by_theme.into_iter().collect(),
        initiatives_by_status: initiatives_by_status.into_iter().collect(),
        project_ideas_by_stage: project_ideas_by_stage.into_iter().collect(),
        recommendations_given,
        recommendations_received,
        recommendations_answered,
        recommendations_adopted,
        response_rate,
        adoption_rate,
        median_time_to_first_recommendation: median_time_to_first_recommendation.map(duration),
        challenges_without_recommendation,
    }
}

fn totals(t: NetworkTotals) -> pb::NetworkTotals {
    let NetworkTotals {
        municipalities,
        challenges,
        initiatives,
        project_ideas,
        recommendations,
        recommendations_answered,
    } = t;
    pb::NetworkTotals {
        municipalities,
        challenges,
        initiatives,
        project_ideas,
        recommendations,
        recommendations_answered,
    }
}

fn flow(f: RecommendationFlow) -> pb::RecommendationFlow {
    let RecommendationFlow { from_country, to_country, recommendations } = f;
    pb::RecommendationFlow {
        from_country: from_country.to_string(),
        to_country: to_country.to_string(),
        recommendations,
    }
}

fn theme_cell(c: ThemeCell) -> pb::ThemeCountryCell {
    let ThemeCell { theme, country, challenges } = c;
    pb::ThemeCountryCell { theme, country: country.to_string(), challenges }
}

fn attendance(a: WorkshopAttendance) -> pb::WorkshopAttendance {
    let WorkshopAttendance { working_group, workshop, country, municipalities } = a;
    pb::WorkshopAttendance {
        workshop: names::workshop(working_group, workshop),
        country: country.to_string(),
        municipalities,
    }
}

/// The network report on the wire.
pub fn network_report(r: NetworkReport) -> pb::NetworkReport {
    let NetworkReport {
        working_group,
        countries,
        totals: t,
        theme_matrix,
        recommendation_flows,
        workshop_attendance,
        generate_time,
    } = r;
    pb::NetworkReport {
        working_group: working_group.map(names::working_group).unwrap_or_default(),
        countries: countries.into_iter().map(country_metrics).collect(),
        totals: Some(totals(t)),
        theme_matrix: theme_matrix.into_iter().map(theme_cell).collect(),
        recommendation_flows: recommendation_flows.into_iter().map(flow).collect(),
        workshop_attendance: workshop_attendance.into_iter().map(attendance).collect(),
        generate_time: Some(timestamp(generate_time)),
    }
}

/// A country report on the wire.
pub fn country_report(r: CountryReport) -> pb::CountryReport {
    let CountryReport { country, rest_of_network, recommendation_flows, generate_time } = r;
    pb::CountryReport {
        country: Some(country_metrics(country)),
        rest_of_network: Some(totals(rest_of_network)),
        recommendation_flows: recommendation_flows.into_iter().map(flow).collect(),
        generate_time: Some(timestamp(generate_time)),
    }
}
