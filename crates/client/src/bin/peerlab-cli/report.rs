//! report: the network and country reports.

use clap::Subcommand;
use peerlab_client::pb;
use serde_json::{Value, json};

use crate::Ctx;
use crate::args::Format;
use crate::failure::CliError;
use crate::output::Record;
use crate::records::time;

/// Verbs of `report`.
#[derive(Debug, Subcommand)]
pub enum ReportVerb {
    /// The whole network, country by country (coordinators).
    Network {
        /// Only this working group.
        #[arg(long)]
        working_group: Option<String>,
    },
    /// One country in detail.
    Country {
        /// ISO 3166-1 alpha-2 code, e.g. MD.
        country: String,
        /// Only this working group.
        #[arg(long)]
        working_group: Option<String>,
    },
}

/// `report …`: JSON prints the whole report; table and CSV a row per country.
pub async fn report(ctx: &Ctx, verb: ReportVerb) -> Result<(), CliError> {
    let (json, countries) = match verb {
        ReportVerb::Network { working_group } => {
            let request =
                pb::GetNetworkReportRequest { working_group: working_group.unwrap_or_default(), ..Default::default() };
            let report = ctx.client.get_network_report(request).await?;
            let json = json!({
                "working_group": report.working_group,
                "countries": report.countries.iter().map(Record::to_json).collect::<Vec<_>>(),
                "totals": report.totals.as_ref().map(totals),
                "theme_matrix": report.theme_matrix.iter().map(|c| json!({ "theme": c.theme, "country": c.country, "challenges": c.challenges })).collect::<Vec<_>>(),
                "recommendation_flows": report.recommendation_flows.iter().map(flow).collect::<Vec<_>>(),
                "workshop_attendance": report.workshop_attendance.iter().map(|w| json!({ "workshop": w.workshop, "country": w.country, "municipalities": w.municipalities })).collect::<Vec<_>>(),
                "generate_time": time(report.generate_time.as_ref()),
            });
            (json, report.countries)
        }
        ReportVerb::Country { country, working_group } => {
            let request = pb::GetCountryReportRequest {
                country,
                working_group: working_group.unwrap_or_default(),
                ..Default::default()
            };
            let report = ctx.client.get_country_report(request).await?;
            let json = json!({
                "country": report.country.as_ref().map(Record::to_json),
                "rest_of_network": report.rest_of_network.as_ref().map(totals),
                "recommendation_flows": report.recommendation_flows.iter().map(flow).collect::<Vec<_>>(),
                "generate_time": time(report.generate_time.as_ref()),
            });
            (json, report.country.into_iter().collect())
        }
    };
    if ctx.format == Format::Json {
        println!("{json}");
        return Ok(());
    }
    let mut sink = ctx.sink();
    countries.iter().try_for_each(|c| sink.push(c))?;
    sink.finish()?;
    Ok(())
}

fn totals(t: &pb::NetworkTotals) -> Value {
    json!({
        "municipalities": t.municipalities, "challenges": t.challenges, "initiatives": t.initiatives,
        "project_ideas": t.project_ideas, "recommendations": t.recommendations,
        "recommendations_answered": t.recommendations_answered,
    })
}

fn flow(f: &pb::RecommendationFlow) -> Value {
    json!({ "from_country": f.from_country, "to_country": f.to_country, "recommendations": f.recommendations })
}

impl Record for pb::CountryMetrics {
    const COLUMNS: &'static [&'static str] = &[
        "country",
        "municipalities",
        "challenges",
        "initiatives",
        "project_ideas",
        "recommendations_given",
        "recommendations_received",
        "recommendations_answered",
        "recommendations_adopted",
        "response_rate",
        "adoption_rate",
        "median_time_to_first_recommendation",
        "challenges_without_recommendation",
    ];
    const TABLE: &'static [&'static str] = &[
        "country",
        "municipalities",
        "challenges",
        "initiatives",
        "project_ideas",
        "recommendations_given",
        "recommendations_received",
        "response_rate",
        "adoption_rate",
    ];
    fn to_json(&self) -> Value {
        let sum = |counts: &std::collections::HashMap<String, i64>| counts.values().sum::<i64>();
        json!({
            "country": self.country, "municipalities": self.municipalities,
            "challenges": sum(&self.challenges_by_status) - self.challenges_by_status.get("archived").copied().unwrap_or(0),
            "initiatives": sum(&self.initiatives_by_status), "project_ideas": sum(&self.project_ideas_by_stage),
            "challenges_by_status": self.challenges_by_status, "challenges_by_theme": self.challenges_by_theme,
            "initiatives_by_status": self.initiatives_by_status, "project_ideas_by_stage": self.project_ideas_by_stage,
            "recommendations_given": self.recommendations_given, "recommendations_received": self.recommendations_received,
            "recommendations_answered": self.recommendations_answered, "recommendations_adopted": self.recommendations_adopted,
            "response_rate": self.response_rate, "adoption_rate": self.adoption_rate,
            "median_time_to_first_recommendation": self.median_time_to_first_recommendation.as_ref().map(|d| d.to_string()),
            "challenges_without_recommendation": self.challenges_without_recommendation,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn country_rows_count_live_challenges_and_keep_the_breakdowns() {
        let metrics = pb::CountryMetrics {
            country: "MD".into(),
            challenges_by_status: HashMap::from([("open".into(), 3), ("addressed".into(), 1), ("archived".into(), 2)]),
            response_rate: 0.5,
            ..Default::default()
        };
        let json = metrics.to_json();
        assert_eq!(json["challenges"], json!(4));
        assert_eq!(json["challenges_by_status"]["archived"], json!(2));
        assert_eq!(json["median_time_to_first_recommendation"], Value::Null);
    }
}
