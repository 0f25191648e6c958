//! The command line: global options, resources, and the arguments verbs share.

use clap::{Args, Parser, Subcommand, ValueEnum};
use peerlab_client::{Date, pb};

use crate::content::{ChallengeVerb, InitiativeVerb, ProjectIdeaVerb};
use crate::feed::{EventVerb, ExportArgs, WatchArgs};
use crate::groups::{MembershipVerb, WorkshopVerb};
use crate::network::{MunicipalityVerb, WorkingGroupVerb};
use crate::recommendations::RecommendationVerb;
use crate::report::ReportVerb;

/// Coordinate a peerlab network: municipalities, working groups, workshops,
/// challenges, initiatives, project ideas, recommendations, reports.
#[derive(Debug, Parser)]
#[command(name = "peerlab-cli", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// The peerlab server.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "PEERLAB_ENDPOINT",
        default_value = "http://127.0.0.1:50051"
    )]
    pub endpoint: String,
    /// Bearer token (a JWT) to call with.
    #[arg(long, global = true, help_heading = "Global options", env = "PEERLAB_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// How to print results.
    #[arg(long, short, global = true, help_heading = "Global options", value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Deadline of each call attempt, in seconds.
    #[arg(long, global = true, help_heading = "Global options", default_value_t = 30, value_name = "SECONDS")]
    pub timeout: u64,
    /// PEM file of the CA that signed the server's certificate (https endpoints).
    #[cfg(feature = "tls")]
    #[arg(long, global = true, help_heading = "Global options", env = "PEERLAB_CA_CERT", value_name = "FILE")]
    pub ca_cert: Option<std::path::PathBuf>,
    /// What to act on.
    #[command(subcommand)]
    pub command: Command,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns of the most useful fields.
    Table,
    /// One JSON object per line, every field.
    Json,
    /// A header and one row per item.
    Csv,
}

/// Resources and the other commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Member cities and communities.
    #[command(subcommand)]
    Municipalities(MunicipalityVerb),
    /// Themed, time-boxed groups of municipalities.
    #[command(subcommand)]
    WorkingGroups(WorkingGroupVerb),
    /// Which municipalities belong to which working group.
    #[command(subcommand)]
    Memberships(MembershipVerb),
    /// The meetings of a working group.
    #[command(subcommand)]
    Workshops(WorkshopVerb),
    /// Problems municipalities face.
    #[command(subcommand)]
    Challenges(ChallengeVerb),
    /// Measures municipalities have planned or implemented.
    #[command(subcommand)]
    Initiatives(InitiativeVerb),
    /// Future projects elaborated through the workshops.
    #[command(subcommand)]
    ProjectIdeas(ProjectIdeaVerb),
    /// Advice from one municipality to another.
    #[command(subcommand)]
    Recommendations(RecommendationVerb),
    /// The event log.
    #[command(subcommand)]
    Events(EventVerb),
    /// Cross-country reports.
    #[command(subcommand)]
    Report(ReportVerb),
    /// Stream everything of one kind you may read to a file or stdout.
    Export(ExportArgs),
    /// Follow the live event feed.
    Watch(WatchArgs),
}

/// Paging options of every list.
#[derive(Debug, Args)]
pub struct Paging {
    /// Results per page (server default 50, maximum 500).
    #[arg(long)]
    pub page_size: Option<i32>,
    /// Start at this page (the `next page` token a previous list printed).
    #[arg(long)]
    pub page_token: Option<String>,
    /// Follow page tokens and print every result, not only the first page.
    #[arg(long)]
    pub all: bool,
}

/// `list` of a top-level resource.
#[derive(Debug, Args)]
pub struct List {
    /// Filter, e.g. 'country = "BA"' (see the API docs of each resource).
    #[arg(long)]
    pub filter: Option<String>,
    /// Include archived items.
    #[arg(long)]
    pub show_archived: bool,
    #[command(flatten)]
    pub paging: Paging,
}

/// `list` of content owned by municipalities.
#[derive(Debug, Args)]
pub struct ContentList {
    /// The owner, `municipalities/{id}`; default every municipality you may read.
    #[arg(long, default_value = "municipalities/-")]
    pub parent: String,
    #[command(flatten)]
    pub list: List,
}

/// `get NAME`.
#[derive(Debug, Args)]
pub struct Get {
    /// Resource name, e.g. municipalities/3/challenges/7.
    pub name: String,
}

/// The item an update or archive acts on.
#[derive(Debug, Args)]
pub struct Target {
    /// Resource name, e.g. municipalities/3/challenges/7.
    pub name: String,
    /// Act only if the item is still at this version. An update without it
    /// first reads the item and uses its current etag.
    #[arg(long)]
    pub etag: Option<String>,
}

/// `--request-id` of creates.
#[derive(Debug, Args)]
pub struct RequestId {
    /// Idempotency key: running the same create again with it writes nothing
    /// twice (default: a fresh UUID).
    #[arg(long)]
    pub request_id: Option<String>,
}

/// Parse `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<Date, String> {
    let bad = || format!("{text:?} is not a date like 2021-09-21");
    let mut parts = text.splitn(3, '-').map(|p| p.parse::<i32>().map_err(|_| bad()));
    let (year, month, day) = match (parts.next(), parts.next(), parts.next()) {
        (Some(y), Some(m), Some(d)) => (y?, m?, d?),
        _ => return Err(bad()),
    };
    if !(1..=9999).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(bad());
    }
    Ok(Date { year, month, day })
}

/// CLI choices mapped onto the API's enums (`i32` on the wire).
macro_rules! choices {
    ($($(#[$doc:meta])* $name:ident => $pb:ident { $($variant:ident),* $(,)? })*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
        pub enum $name { $($variant),* }

        impl From<$name> for i32 {
            fn from(choice: $name) -> i32 {
                match choice { $($name::$variant => pb::$pb::$variant as i32),* }
            }
        }
    )*};
}

choices! {
    /// Who can read an item.
    Visibility => Visibility { Draft, Shared }
    /// Challenge status.
    ChallengeStatus => ChallengeStatus { Open, Addressed, Archived }
    /// Initiative status.
    InitiativeStatus => InitiativeStatus { Planned, InProgress, Implemented, Discontinued }
    /// Project idea stage.
    ProjectStage => ProjectStage { Idea, Consolidated, SolutionDefined, ProjectDefined }
    /// What a recommendation offers.
    RecommendationKind => RecommendationKind { Suggestion, GoodPractice, Contact, Resource, Caution }
    /// An answer to a recommendation.
    AnswerState => AnswerState { Acknowledged, Adopted, Declined }
    /// The phase a workshop serves.
    WorkshopPhase => WorkshopPhase { KickOff, Ideation, Consolidation, Solutions, Opportunities, Other }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn dates_parse_strictly() {
        assert_eq!(parse_date("2021-09-21"), Ok(Date { year: 2021, month: 9, day: 21 }));
        for bad in ["2021-13-01", "2021-09", "21.09.2021", "2021-09-x"] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn choices_map_onto_the_wire_values() {
        assert_eq!(i32::from(InitiativeStatus::InProgress), pb::InitiativeStatus::InProgress as i32);
        assert_eq!(i32::from(AnswerState::Adopted), pb::AnswerState::Adopted as i32);
        assert_eq!(WorkshopPhase::from_str("kick-off", false), Ok(WorkshopPhase::KickOff));
    }
}
