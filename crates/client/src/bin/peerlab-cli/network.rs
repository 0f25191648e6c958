//! municipalities, working-groups.

use clap::{Args, Subcommand};
use peerlab_client::{Date, pb};

use crate::args::{Get, List, RequestId, Target, parse_date};
use crate::failure::CliError;
use crate::mask::Patch;
use crate::{Ctx, page_size};

/// Verbs of `municipalities`.
#[derive(Debug, Subcommand)]
pub enum MunicipalityVerb {
    /// List municipalities (filter e.g. 'country = "BA"').
    List(List),
    /// Show one municipality.
    Get(Get),
    /// Add a municipality to the network.
    Create(CreateMunicipality),
    /// Rename a municipality.
    Update(UpdateMunicipality),
    /// Archive a municipality; it stays readable as a tombstone.
    #[command(alias = "delete")]
    Archive(Target),
}

/// `municipalities create`.
#[derive(Debug, Args)]
pub struct CreateMunicipality {
    /// The name, e.g. Mostar.
    #[arg(long)]
    pub display_name: String,
    /// ISO 3166-1 alpha-2 code, e.g. BA.
    #[arg(long)]
    pub country: String,
    #[command(flatten)]
    pub request_id: RequestId,
}

/// `municipalities update`.
#[derive(Debug, Args)]
pub struct UpdateMunicipality {
    #[command(flatten)]
    pub target: Target,
    /// New name.
    #[arg(long)]
    pub display_name: Option<String>,
}

impl UpdateMunicipality {
    /// The fields given, and their mask.
    pub fn patch(&self) -> Result<Patch<pb::Municipality>, CliError> {
        let mut patch = Patch::<pb::Municipality>::new();
        patch.set("display_name", self.display_name.clone(), |m| &mut m.display_name);
        patch.finish("--display-name")
    }
}

/// `municipalities …`.
pub async fn municipalities(ctx: &Ctx, verb: MunicipalityVerb) -> Result<(), CliError> {
    let client = &ctx.client;
    match verb {
        MunicipalityVerb::List(list) => {
            let request = pb::ListMunicipalitiesRequest {
                page_size: page_size(&list.paging),
                filter: list.filter.unwrap_or_default(),
                show_archived: list.show_archived,
                ..Default::default()
            };
            ctx.list(request, &list.paging).await
        }
        MunicipalityVerb::Get(get) => ctx.print(&client.get_municipality(get.name).await?),
        MunicipalityVerb::Create(new) => {
            let municipality =
                pb::Municipality { display_name: new.display_name, country: new.country, ..Default::default() };
            ctx.print(&client.create_municipality(municipality, new.request_id.request_id).await?)
        }
        MunicipalityVerb::Update(update) => {
            let Patch { resource, mask } = update.patch()?;
            let Target { name, etag } = update.target;
            let etag = match etag {
                Some(etag) => etag,
                None => client.get_municipality(&name).await?.etag,
            };
            ctx.print(&client.update_municipality(pb::Municipality { name, etag, ..resource }, mask).await?)
        }
        MunicipalityVerb::Archive(target) => ctx.print(&client.delete_municipality(target.name, target.etag).await?),
    }
}

/// Verbs of `working-groups`.
#[derive(Debug, Subcommand)]
pub enum WorkingGroupVerb {
    /// List working groups (filter e.g. 'member = "municipalities/7"').
    List(List),
    /// Show one working group.
    Get(Get),
    /// Create a working group.
    Create(CreateWorkingGroup),
    /// Change a working group's name, description, themes or dates.
    Update(UpdateWorkingGroup),
    /// Archive a working group.
    #[command(alias = "delete")]
    Archive(Target),
}

/// `working-groups create`.
#[derive(Debug, Args)]
pub struct CreateWorkingGroup {
    /// The name, e.g. Digitalisation.
    #[arg(long)]
    pub display_name: String,
    /// What the group is about.
    #[arg(long)]
    pub description: Option<String>,
    /// A theme tag (repeat for several).
    #[arg(long = "theme", value_name = "THEME")]
    pub themes: Vec<String>,
    /// First day, YYYY-MM-DD.
    #[arg(long, value_parser = parse_date)]
    pub start_date: Date,
    /// Last day, YYYY-MM-DD.
    #[arg(long, value_parser = parse_date)]
    pub end_date: Date,
    #[command(flatten)]
    pub request_id: RequestId,
}

/// `working-groups update`.
#[derive(Debug, Args)]
pub struct UpdateWorkingGroup {
    #[command(flatten)]
    pub target: Target,
    /// New name.
    #[arg(long)]
    pub display_name: Option<String>,
    /// New description.
    #[arg(long)]
    pub description: Option<String>,
    /// The new theme tags (repeat; --theme '' clears them).
    #[arg(long = "theme", value_name = "THEME")]
    pub themes: Vec<String>,
    /// New first day, YYYY-MM-DD.
    #[arg(long, value_parser = parse_date)]
    pub start_date: Option<Date>,
    /// New last day, YYYY-MM-DD.
    #[arg(long, value_parser = parse_date)]
    pub end_date: Option<Date>,
}

impl UpdateWorkingGroup {
    /// The fields given, and their mask.
    pub fn patch(&self) -> Result<Patch<pb::WorkingGroup>, CliError> {
        let mut patch = Patch::<pb::WorkingGroup>::new();
        patch.set("display_name", self.display_name.clone(), |g| &mut g.display_name);
        patch.set("description", self.description.clone(), |g| &mut g.description);
        patch.set_list("themes", self.themes.clone(), |g| &mut g.themes);
        patch.set("start_date", self.start_date.map(Some), |g| &mut g.start_date);
        patch.set("end_date", self.end_date.map(Some), |g| &mut g.end_date);
        patch.finish("--display-name, --description, --theme, --start-date, --end-date")
    }
}

/// `working-groups …`.
pub async fn working_groups(ctx: &Ctx, verb: WorkingGroupVerb) -> Result<(), CliError> {
    let client = &ctx.client;
    match verb {
        WorkingGroupVerb::List(list) => {
            let request = pb::ListWorkingGroupsRequest {
                page_size: page_size(&list.paging),
                filter: list.filter.unwrap_or_default(),
                show_archived: list.show_archived,
                ..Default::default()
            };
            ctx.list(request, &list.paging).await
        }
        WorkingGroupVerb::Get(get) => ctx.print(&client.get_working_group(get.name).await?),
        WorkingGroupVerb::Create(new) => {
            let group = pb::WorkingGroup {
                display_name: new.display_name,
                description: new.description.unwrap_or_default(),
                themes: new.themes,
                start_date: Some(new.start_date),
                end_date: Some(new.end_date),
                ..Default::default()
            };
            ctx.print(&client.create_working_group(group, new.request_id.request_id).await?)
        }
        WorkingGroupVerb::Update(update) => {
            let Patch { resource, mask } = update.patch()?;
            let Target { name, etag } = update.target;
            let etag = match etag {
                Some(etag) => etag,
                None => client.get_working_group(&name).await?.etag,
            };
            ctx.print(&client.update_working_group(pb::WorkingGroup { name, etag, ..resource }, mask).await?)
        }
        WorkingGroupVerb::Archive(target) => ctx.print(&client.delete_working_group(target.name, target.etag).await?),
    }
}
