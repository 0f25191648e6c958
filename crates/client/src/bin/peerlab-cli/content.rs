//! challenges, initiatives, project-ideas: what municipalities post.

use clap::{Args, Subcommand};
use peerlab_client::pb;

use crate::args::{ChallengeStatus, ContentList, Get, InitiativeStatus, ProjectStage, RequestId, Target, Visibility};
use crate::failure::CliError;
use crate::mask::Patch;
use crate::{Ctx, page_size};

/// What every create of municipal content takes.
#[derive(Debug, Args)]
pub struct NewContent {
    /// The owner, `municipalities/{id}`.
    #[arg(long)]
    pub parent: String,
    /// The working group it is shared in, `workingGroups/{id}`.
    #[arg(long)]
    pub working_group: String,
    /// Title, 1 to 200 characters.
    #[arg(long)]
    pub title: String,
    /// Longer description.
    #[arg(long)]
    pub description: Option<String>,
    /// Keep it a draft, readable only by its municipality (default: shared).
    #[arg(long)]
    pub draft: bool,
    #[command(flatten)]
    pub request_id: RequestId,
}

impl NewContent {
    fn visibility(&self) -> i32 {
        if self.draft { pb::Visibility::Draft as i32 } else { pb::Visibility::Shared as i32 }
    }
}

/// What every update of municipal content may change.
#[derive(Debug, Args)]
pub struct ContentChange {
    #[command(flatten)]
    pub target: Target,
    /// New title.
    #[arg(long)]
    pub title: Option<String>,
    /// New description.
    #[arg(long)]
    pub description: Option<String>,
    /// Share a draft (a shared item never goes back to draft).
    #[arg(long, value_enum)]
    pub visibility: Option<Visibility>,
}

/// The verbs of one kind of content.
#[derive(Debug, Subcommand)]
pub enum Verb<C: Args, U: Args> {
    /// List (default: of every municipality you may read).
    List(ContentList),
    /// Show one.
    Get(Get),
    /// Post one for a municipality.
    Create(C),
    /// Change one: only the fields whose flags are given.
    Update(U),
    /// Archive one.
    #[command(alias = "delete")]
    Archive(Target),
}

/// Verbs of `challenges`.
pub type ChallengeVerb = Verb<CreateChallenge, UpdateChallenge>;
/// Verbs of `initiatives`.
pub type InitiativeVerb = Verb<CreateInitiative, UpdateInitiative>;
/// Verbs of `project-ideas`.
pub type ProjectIdeaVerb = Verb<CreateProjectIdea, UpdateProjectIdea>;

/// `challenges create`.
#[derive(Debug, Args)]
pub struct CreateChallenge {
    #[command(flatten)]
    pub new: NewContent,
    /// A theme tag (repeat for several).
    #[arg(long = "theme", value_name = "THEME")]
    pub themes: Vec<String>,
}

/// `challenges update`.
#[derive(Debug, Args)]
pub struct UpdateChallenge {
    #[command(flatten)]
    pub change: ContentChange,
    /// The new theme tags (repeat; --theme '' clears them).
    #[arg(long = "theme", value_name = "THEME")]
    pub themes: Vec<String>,
    /// Move along open → addressed → archived.
    #[arg(long, value_enum)]
    pub status: Option<ChallengeStatus>,
}

/// `initiatives create`.
#[derive(Debug, Args)]
pub struct CreateInitiative {
    #[command(flatten)]
    pub new: NewContent,
    /// The initial status (default planned).
    #[arg(long, value_enum)]
    pub status: Option<InitiativeStatus>,
    /// A challenge it addresses (repeat for several).
    #[arg(long = "challenge", value_name = "CHALLENGE")]
    pub challenges: Vec<String>,
}

/// `initiatives update`.
#[derive(Debug, Args)]
pub struct UpdateInitiative {
    #[command(flatten)]
    pub change: ContentChange,
    /// Move along planned → in-progress → implemented, or to discontinued.
    #[arg(long, value_enum)]
    pub status: Option<InitiativeStatus>,
    /// The challenges it addresses (repeat; --challenge '' clears them).
    #[arg(long = "challenge", value_name = "CHALLENGE")]
    pub challenges: Vec<String>,
}

/// `project-ideas create`.
#[derive(Debug, Args)]
pub struct CreateProjectIdea {
    #[command(flatten)]
    pub new: NewContent,
    /// A challenge it builds on (repeat).
    #[arg(long = "challenge", value_name = "CHALLENGE")]
    pub challenges: Vec<String>,
    /// An initiative it builds on (repeat).
    #[arg(long = "initiative", value_name = "INITIATIVE")]
    pub initiatives: Vec<String>,
    /// A partner municipality (repeat).
    #[arg(long = "partner", value_name = "MUNICIPALITY")]
    pub partners: Vec<String>,
}

/// `project-ideas update`.
#[derive(Debug, Args)]
pub struct UpdateProjectIdea {
    #[command(flatten)]
    pub change: ContentChange,
    /// Move one step along idea → consolidated → solution-defined → project-defined.
    #[arg(long, value_enum)]
    pub stage: Option<ProjectStage>,
    /// The challenges it builds on (repeat; '' clears).
    #[arg(long = "challenge", value_name = "CHALLENGE")]
    pub challenges: Vec<String>,
    /// The initiatives it builds on (repeat; '' clears).
    #[arg(long = "initiative", value_name = "INITIATIVE")]
    pub initiatives: Vec<String>,
    /// The partner municipalities (repeat; '' clears).
    #[arg(long = "partner", value_name = "MUNICIPALITY")]
    pub partners: Vec<String>,
}

macro_rules! content_patch {
    ($update:ty => $resource:ident, $flags:literal, |$self_:ident, $patch:ident| $extra:block) => {
        impl $update {
            /// The fields given, and their mask.
            pub fn patch(&self) -> Result<Patch<pb::$resource>, CliError> {
                let mut $patch = Patch::<pb::$resource>::new();
                $patch.set("title", self.change.title.clone(), |x| &mut x.title);
                $patch.set("description", self.change.description.clone(), |x| &mut x.description);
                let $self_ = self;
                $extra
                $patch.set("visibility", self.change.visibility.map(i32::from), |x| &mut x.visibility);
                $patch.finish(concat!("--title, --description, ", $flags, ", --visibility"))
            }
        }
    };
}

content_patch!(UpdateChallenge => Challenge, "--theme, --status", |me, patch| {
    patch.set_list("themes", me.themes.clone(), |c| &mut c.themes);
    patch.set("status", me.status.map(i32::from), |c| &mut c.status);
});
content_patch!(UpdateInitiative => Initiative, "--status, --challenge", |me, patch| {
    patch.set("status", me.status.map(i32::from), |i| &mut i.status);
    patch.set_list("challenges", me.challenges.clone(), |i| &mut i.challenges);
});
content_patch!(UpdateProjectIdea => ProjectIdea, "--stage, --challenge, --initiative, --partner", |me, patch| {
    patch.set("stage", me.stage.map(i32::from), |p| &mut p.stage);
    patch.set_list("challenges", me.challenges.clone(), |p| &mut p.challenges);
    patch.set_list("initiatives", me.initiatives.clone(), |p| &mut p.initiatives);
    patch.set_list("partners", me.partners.clone(), |p| &mut p.partners);
});

/// One content command, with the per-resource parts named.
macro_rules! content_command {
    ($fn_name:ident, $verb:ty, $resource:ident, $list_request:ident,
     $get:ident, $create:ident, $update:ident, $delete:ident,
     |$new:ident| $build:expr) => {
        #[doc = concat!("`", stringify!($fn_name), " …`.")]
        pub async fn $fn_name(ctx: &Ctx, verb: $verb) -> Result<(), CliError> {
            let client = &ctx.client;
            match verb {
                Verb::List(list) => {
                    let request = pb::$list_request {
                        parent: list.parent,
                        page_size: page_size(&list.list.paging),
                        filter: list.list.filter.unwrap_or_default(),
                        show_archived: list.list.show_archived,
                        ..Default::default()
                    };
                    ctx.list(request, &list.list.paging).await
                }
                Verb::Get(get) => ctx.print(&client.$get(get.name).await?),
                Verb::Create($new) => {
                    let visibility = $new.new.visibility();
                    let item = pb::$resource { visibility, ..$build };
                    ctx.print(&client.$create($new.new.parent, item, $new.new.request_id.request_id).await?)
                }
                Verb::Update(update) => {
                    let Patch { resource, mask } = update.patch()?;
                    let Target { name, etag } = update.change.target;
                    let etag = match etag {
                        Some(etag) => etag,
                        None => client.$get(&name).await?.etag,
                    };
                    ctx.print(&client.$update(pb::$resource { name, etag, ..resource }, mask).await?)
                }
                Verb::Archive(target) => ctx.print(&client.$delete(target.name, target.etag).await?),
            }
        }
    };
}

content_command!(
    challenges,
    ChallengeVerb,
    Challenge,
    ListChallengesRequest,
    get_challenge,
    create_challenge,
    update_challenge,
    delete_challenge,
    |c| pb::Challenge {
        working_group: c.new.working_group,
        title: c.new.title,
        description: c.new.description.unwrap_or_default(),
        themes: c.themes,
        ..Default::default()
    }
);
content_command!(
    initiatives,
    InitiativeVerb,
    Initiative,
    ListInitiativesRequest,
    get_initiative,
    create_initiative,
    update_initiative,
    delete_initiative,
    |i| pb::Initiative {
        working_group: i.new.working_group,
        title: i.new.title,
        description: i.new.description.unwrap_or_default(),
        status: i.status.map(i32::from).unwrap_or_default(),
        challenges: i.challenges,
        ..Default::default()
    }
);
content_command!(
    project_ideas,
    ProjectIdeaVerb,
    ProjectIdea,
    ListProjectIdeasRequest,
    get_project_idea,
    create_project_idea,
    update_project_idea,
    delete_project_idea,
    |p| pb::ProjectIdea {
        working_group: p.new.working_group,
        title: p.new.title,
        description: p.new.description.unwrap_or_default(),
        challenges: p.challenges,
        initiatives: p.initiatives,
        partners: p.partners,
        ..Default::default()
    }
);
