//! events, watch, export: the event log, the live feed, and bulk exports.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use futures::{Stream, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use peerlab_client::{Error, pb};
use serde_json::{Value, json};

use crate::args::{Format, Paging};
use crate::failure::CliError;
use crate::output::{Record, Sink};
use crate::records::time;
use crate::{Ctx, page_size};

/// Verbs of `events`.
#[derive(Debug, Subcommand)]
pub enum EventVerb {
    /// List the event log, oldest first.
    List(EventList),
}

/// `events list`.
#[derive(Debug, Args)]
pub struct EventList {
    /// Only events after this id.
    #[arg(long, value_name = "ID")]
    pub after: Option<i64>,
    /// Filter, e.g. 'kind = "challenge.created"' or 'country = "MD"'.
    #[arg(long)]
    pub filter: Option<String>,
    #[command(flatten)]
    pub paging: Paging,
}

/// `events …`.
pub async fn events(ctx: &Ctx, verb: EventVerb) -> Result<(), CliError> {
    let EventVerb::List(list) = verb;
    let filter = [list.after.map(|id| format!("id > {id}")), list.filter].into_iter().flatten();
    let request = pb::ListEventsRequest {
        page_size: page_size(&list.paging),
        filter: filter.collect::<Vec<_>>().join(" AND "),
        ..Default::default()
    };
    ctx.list(request, &list.paging).await
}

/// `watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Start after this event id (0: from the beginning of the log).
    #[arg(long, value_name = "ID", default_value_t = 0)]
    pub after: i64,
    /// Only events of this working group.
    #[arg(long)]
    pub working_group: Option<String>,
    /// Only events of this kind, e.g. challenge.created (repeat).
    #[arg(long = "kind", value_name = "KIND")]
    pub kinds: Vec<String>,
}

/// `watch`: print events as they happen, until interrupted.
pub async fn watch(ctx: &Ctx, args: WatchArgs) -> Result<(), CliError> {
    let request = pb::WatchEventsRequest {
        after_id: args.after,
        working_group: args.working_group.unwrap_or_default(),
        kinds: args.kinds,
    };
    let mut sink = Sink::live(ctx.format, io::stdout());
    sink.drain(ctx.client.watch_events(request)).await?;
    sink.finish()?;
    Ok(())
}

impl Record for pb::Event {
    const COLUMNS: &'static [&'static str] =
        &["name", "id", "kind", "resource", "working_group", "country", "municipality", "actor", "create_time"];
    const TABLE: &'static [&'static str] = &["id", "create_time", "kind", "resource", "country", "actor"];
    fn to_json(&self) -> Value {
        use pb::event::Snapshot;
        let (key, snapshot) = match &self.snapshot {
            Some(Snapshot::MunicipalitySnapshot(s)) => ("municipality_snapshot", s.to_json()),
            Some(Snapshot::WorkingGroupSnapshot(s)) => ("working_group_snapshot", s.to_json()),
            Some(Snapshot::MembershipSnapshot(s)) => ("membership_snapshot", s.to_json()),
            Some(Snapshot::WorkshopSnapshot(s)) => ("workshop_snapshot", s.to_json()),
            Some(Snapshot::ChallengeSnapshot(s)) => ("challenge_snapshot", s.to_json()),
            Some(Snapshot::InitiativeSnapshot(s)) => ("initiative_snapshot", s.to_json()),
            Some(Snapshot::ProjectIdeaSnapshot(s)) => ("project_idea_snapshot", s.to_json()),
            Some(Snapshot::RecommendationSnapshot(s)) => ("recommendation_snapshot", s.to_json()),
            None => ("snapshot", Value::Null),
        };
        let mut json = json!({
            "name": self.name, "id": self.id, "kind": self.kind, "resource": self.resource,
            "working_group": self.working_group, "country": self.country, "municipality": self.municipality,
            "actor": self.actor, "create_time": time(self.create_time.as_ref()),
        });
        if let Some(object) = json.as_object_mut() {
            object.insert(key.to_owned(), snapshot);
        }
        json
    }
}

/// What `export` streams.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportKind {
    /// Challenges.
    Challenges,
    /// Initiatives.
    Initiatives,
    /// Project ideas.
    ProjectIdeas,
    /// Recommendations.
    Recommendations,
    /// Events.
    Events,
}

/// File formats of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// A header and one row per item.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to export.
    #[arg(value_enum)]
    pub kind: ExportKind,
    /// File format (default: csv for an --out ending in .csv, else jsonl).
    #[arg(long, value_enum)]
    pub format: Option<ExportFormat>,
    /// Write here instead of stdout; the file appears only when complete.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Same filter as the matching list.
    #[arg(long)]
    pub filter: Option<String>,
    /// Include archived items (not for events).
    #[arg(long)]
    pub show_archived: bool,
}

/// `export …`.
pub async fn export(ctx: &Ctx, args: ExportArgs) -> Result<(), CliError> {
    let csv_file = args.out.as_ref().is_some_and(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")));
    let format = match args.format.unwrap_or(if csv_file { ExportFormat::Csv } else { ExportFormat::Jsonl }) {
        ExportFormat::Csv => Format::Csv,
        ExportFormat::Jsonl => Format::Json,
    };
    let (filter, show_archived, client) = (args.filter.unwrap_or_default(), args.show_archived, &ctx.client);
    let partial = args.out.as_ref().map(|p| {
        let mut partial = p.as_os_str().to_owned();
        partial.push(".part");
        PathBuf::from(partial)
    });
    let to_file = partial.is_some();
    let out: Box<dyn Write> = match &partial {
        Some(path) => Box::new(BufWriter::new(File::create(path)?)),
        None => Box::new(BufWriter::new(io::stdout())),
    };
    let count = match args.kind {
        ExportKind::Challenges => {
            write(format, out, client.export_challenges(pb::ExportChallengesRequest { filter, show_archived }), to_file)
                .await
        }
        ExportKind::Initiatives => {
            write(
                format,
                out,
                client.export_initiatives(pb::ExportInitiativesRequest { filter, show_archived }),
                to_file,
            )
            .await
        }
        ExportKind::ProjectIdeas => {
            let request = pb::ExportProjectIdeasRequest { filter, show_archived };
            write(format, out, client.export_project_ideas(request), to_file).await
        }
        ExportKind::Recommendations => {
            let request = pb::ExportRecommendationsRequest { filter, show_archived };
            write(format, out, client.export_recommendations(request), to_file).await
        }
        ExportKind::Events if show_archived => Err(CliError::Usage("events are never archived".into())),
        ExportKind::Events => {
            write(format, out, client.export_events(pb::ExportEventsRequest { filter }), to_file).await
        }
    };
    match (count, partial, args.out) {
        (Ok(count), Some(partial), Some(out)) => {
            std::fs::rename(&partial, &out)?;
            eprintln!("exported {count} to {}", out.display());
            Ok(())
        }
        (Err(e), Some(partial), _) => {
            std::fs::remove_file(partial).ok();
            Err(e)
        }
        (result, _, _) => result.map(|_| ()),
    }
}

async fn write<R: Record>(
    format: Format,
    out: Box<dyn Write>,
    items: impl Stream<Item = Result<R, Error>>,
    to_file: bool,
) -> Result<usize, CliError> {
    // A progress line on the terminal while writing to a file; hidden when
    // stderr is not a terminal (scripts, CI) or the items go to stdout.
    let progress = if to_file { ProgressBar::new_spinner() } else { ProgressBar::hidden() };
    progress.set_style(
        ProgressStyle::with_template("{spinner} {human_pos} exported ({per_sec}, {elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    progress.enable_steady_tick(std::time::Duration::from_millis(200));
    let items = items.inspect(|_| progress.inc(1));
    let mut sink = Sink::new(format, out);
    let count = sink.drain(items).await;
    progress.finish_and_clear();
    let count = count?;
    sink.finish()?;
    Ok(count)
}
