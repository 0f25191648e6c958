//! What belongs to a working group: memberships and workshops.

use clap::{Args, Subcommand};
use peerlab_client::{Date, pb};

use crate::args::{Get, Paging, RequestId, Target, WorkshopPhase, parse_date};
use crate::failure::CliError;
use crate::mask::Patch;
use crate::{Ctx, page_size};

/// `list` of a working group's memberships or workshops.
#[derive(Debug, Args)]
pub struct GroupList {
    /// The working group, `workingGroups/{id}`.
    #[arg(long)]
    pub parent: String,
    /// Filter (memberships only), e.g. 'country = "RS"'.
    #[arg(long)]
    pub filter: Option<String>,
    /// Include cancelled workshops.
    #[arg(long)]
    pub show_archived: bool,
    #[command(flatten)]
    pub paging: Paging,
}

/// Verbs of `memberships`.
#[derive(Debug, Subcommand)]
pub enum MembershipVerb {
    /// List the members of a working group.
    List(GroupList),
    /// Add a municipality to a working group.
    Create(CreateMembership),
    /// Remove a municipality from a working group (its content stays).
    #[command(alias = "delete", alias = "remove")]
    Archive(Get),
}

/// `memberships create`.
#[derive(Debug, Args)]
pub struct CreateMembership {
    /// The working group, `workingGroups/{id}`.
    #[arg(long)]
    pub parent: String,
    /// The municipality joining, `municipalities/{id}`.
    #[arg(long)]
    pub municipality: String,
    #[command(flatten)]
    pub request_id: RequestId,
}

/// `memberships …`.
pub async fn memberships(ctx: &Ctx, verb: MembershipVerb) -> Result<(), CliError> {
    let client = &ctx.client;
    match verb {
        MembershipVerb::List(list) => {
            if list.show_archived {
                return Err(CliError::Usage("memberships have no archive: --show-archived does not apply".into()));
            }
            let request = pb::ListMembershipsRequest {
                parent: list.parent,
                page_size: page_size(&list.paging),
                filter: list.filter.unwrap_or_default(),
                ..Default::default()
            };
            ctx.list(request, &list.paging).await
        }
        MembershipVerb::Create(new) => {
            let membership = pb::Membership { municipality: new.municipality, ..Default::default() };
            ctx.print(&client.create_membership(new.parent, membership, new.request_id.request_id).await?)
        }
        MembershipVerb::Archive(get) => ctx.print(&client.delete_membership(get.name).await?),
    }
}

/// Verbs of `workshops`.
#[derive(Debug, Subcommand)]
pub enum WorkshopVerb {
    /// List a working group's workshops in date order.
    List(GroupList),
    /// Show one workshop.
    Get(Get),
    /// Schedule a workshop.
    Create(CreateWorkshop),
    /// Change a workshop, e.g. record its attendance.
    Update(UpdateWorkshop),
    /// Cancel a workshop.
    #[command(alias = "delete", alias = "cancel")]
    Archive(Target),
}

/// `workshops create`.
#[derive(Debug, Args)]
pub struct CreateWorkshop {
    /// The working group, `workingGroups/{id}`.
    #[arg(long)]
    pub parent: String,
    /// The name, e.g. "Workshop I: Ideation".
    #[arg(long)]
    pub display_name: String,
    /// The phase it serves.
    #[arg(long, value_enum)]
    pub phase: WorkshopPhase,
    /// The day, YYYY-MM-DD.
    #[arg(long, value_parser = parse_date)]
    pub date: Date,
    /// Length in minutes (1 to 1440).
    #[arg(long)]
    pub duration_minutes: i32,
    /// An attending member municipality (repeat for several).
    #[arg(long = "attendee", value_name = "MUNICIPALITY")]
    pub attendees: Vec<String>,
    #[command(flatten)]
    pub request_id: RequestId,
}

/// `workshops update`.
#[derive(Debug, Args)]
pub struct UpdateWorkshop {
    #[command(flatten)]
    pub target: Target,
    /// New name.
    #[arg(long)]
    pub display_name: Option<String>,
    /// New phase.
    #[arg(long, value_enum)]
    pub phase: Option<WorkshopPhase>,
    /// New day, YYYY-MM-DD.
    #[arg(long, value_parser = parse_date)]
    pub date: Option<Date>,
    /// New length in minutes.
    #[arg(long)]
    pub duration_minutes: Option<i32>,
    /// The attending municipalities (repeat; --attendee '' clears them).
    #[arg(long = "attendee", value_name = "MUNICIPALITY")]
    pub attendees: Vec<String>,
}

impl UpdateWorkshop {
    /// The fields given, and their mask.
    pub fn patch(&self) -> Result<Patch<pb::Workshop>, CliError> {
        let mut patch = Patch::<pb::Workshop>::new();
        patch.set("display_name", self.display_name.clone(), |w| &mut w.display_name);
        patch.set("phase", self.phase.map(i32::from), |w| &mut w.phase);
        patch.set("date", self.date.map(Some), |w| &mut w.date);
        patch.set("duration_minutes", self.duration_minutes, |w| &mut w.duration_minutes);
        patch.set_list("attendees", self.attendees.clone(), |w| &mut w.attendees);
        patch.finish("--display-name, --phase, --date, --duration-minutes, --attendee")
    }
}

/// `workshops …`.
pub async fn workshops(ctx: &Ctx, verb: WorkshopVerb) -> Result<(), CliError> {
    let client = &ctx.client;
    match verb {
        WorkshopVerb::List(list) => {
            if list.filter.is_some() {
                return Err(CliError::Usage("workshops cannot be filtered; list them by --parent".into()));
            }
            let request = pb::ListWorkshopsRequest {
                parent: list.parent,
                page_size: page_size(&list.paging),
                show_archived: list.show_archived,
                ..Default::default()
            };
            ctx.list(request, &list.paging).await
        }
        WorkshopVerb::Get(get) => ctx.print(&client.get_workshop(get.name).await?),
        WorkshopVerb::Create(new) => {
            let workshop = pb::Workshop {
                display_name: new.display_name,
                phase: new.phase.into(),
                date: Some(new.date),
                duration_minutes: new.duration_minutes,
                attendees: new.attendees,
                ..Default::default()
            };
            ctx.print(&client.create_workshop(new.parent, workshop, new.request_id.request_id).await?)
        }
        WorkshopVerb::Update(update) => {
            let Patch { resource, mask } = update.patch()?;
            let Target { name, etag } = update.target;
            let etag = match etag {
                Some(etag) => etag,
                None => client.get_workshop(&name).await?.etag,
            };
            ctx.print(&client.update_workshop(pb::Workshop { name, etag, ..resource }, mask).await?)
        }
        WorkshopVerb::Archive(target) => ctx.print(&client.delete_workshop(target.name, target.etag).await?),
    }
}
