//! recommendations: advice between municipalities, and its answers.

use clap::{Args, Subcommand};
use peerlab_client::pb;

use crate::args::{AnswerState, ContentList, Get, RecommendationKind, RequestId, Target};
use crate::failure::CliError;
use crate::mask::Patch;
use crate::{Ctx, page_size};

/// Verbs of `recommendations`.
#[derive(Debug, Subcommand)]
pub enum RecommendationVerb {
    /// List recommendations (filter e.g. 'answer_state = UNANSWERED').
    List(ContentList),
    /// Show one recommendation.
    Get(Get),
    /// Recommend something to a peer's challenge, initiative or project idea.
    Create(CreateRecommendation),
    /// Change an unanswered recommendation's kind, body or initiative.
    Update(UpdateRecommendation),
    /// Answer a recommendation made to your municipality.
    Answer(AnswerRecommendation),
    /// Archive a recommendation.
    #[command(alias = "delete")]
    Archive(Target),
}

/// `recommendations create`.
#[derive(Debug, Args)]
pub struct CreateRecommendation {
    /// The author, `municipalities/{id}`.
    #[arg(long)]
    pub parent: String,
    /// The peer's challenge, initiative or project idea, by name.
    #[arg(long)]
    pub target: String,
    /// What it offers.
    #[arg(long, value_enum)]
    pub kind: RecommendationKind,
    /// The advice, 1 to 10,000 characters.
    #[arg(long)]
    pub body: String,
    /// One of the author's own initiatives ("we solved this, see here").
    #[arg(long)]
    pub author_initiative: Option<String>,
    #[command(flatten)]
    pub request_id: RequestId,
}

/// `recommendations update`.
#[derive(Debug, Args)]
pub struct UpdateRecommendation {
    #[command(flatten)]
    pub target: Target,
    /// New kind.
    #[arg(long, value_enum)]
    pub kind: Option<RecommendationKind>,
    /// New advice.
    #[arg(long)]
    pub body: Option<String>,
    /// Another of the author's initiatives ('' removes it).
    #[arg(long)]
    pub author_initiative: Option<String>,
}

impl UpdateRecommendation {
    /// The fields given, and their mask.
    pub fn patch(&self) -> Result<Patch<pb::Recommendation>, CliError> {
        let mut patch = Patch::<pb::Recommendation>::new();
        patch.set("kind", self.kind.map(i32::from), |r| &mut r.kind);
        patch.set("body", self.body.clone(), |r| &mut r.body);
        patch.set("author_initiative", self.author_initiative.clone(), |r| &mut r.author_initiative);
        patch.finish("--kind, --body, --author-initiative")
    }
}

/// `recommendations answer`.
#[derive(Debug, Args)]
pub struct AnswerRecommendation {
    #[command(flatten)]
    pub target: Target,
    /// The answer.
    #[arg(long, value_enum)]
    pub state: AnswerState,
    /// A note for the author, up to 5,000 characters.
    #[arg(long)]
    pub note: Option<String>,
}

/// `recommendations …`.
pub async fn run(ctx: &Ctx, verb: RecommendationVerb) -> Result<(), CliError> {
    let client = &ctx.client;
    match verb {
        RecommendationVerb::List(list) => {
            let request = pb::ListRecommendationsRequest {
                parent: list.parent,
                page_size: page_size(&list.list.paging),
                filter: list.list.filter.unwrap_or_default(),
                show_archived: list.list.show_archived,
                ..Default::default()
            };
            ctx.list(request, &list.list.paging).await
        }
        RecommendationVerb::Get(get) => ctx.print(&client.get_recommendation(get.name).await?),
        RecommendationVerb::Create(new) => {
            let recommendation = pb::Recommendation {
                target: new.target,
                kind: new.kind.into(),
                body: new.body,
                author_initiative: new.author_initiative.unwrap_or_default(),
                ..Default::default()
            };
            ctx.print(&client.create_recommendation(new.parent, recommendation, new.request_id.request_id).await?)
        }
        RecommendationVerb::Update(update) => {
            let Patch { resource, mask } = update.patch()?;
            let Target { name, etag } = update.target;
            let etag = match etag {
                Some(etag) => etag,
                None => client.get_recommendation(&name).await?.etag,
            };
            ctx.print(&client.update_recommendation(pb::Recommendation { name, etag, ..resource }, mask).await?)
        }
        RecommendationVerb::Answer(answer) => {
            let Target { name, etag } = answer.target;
            // With an etag the answer is safe to retry, and cannot overwrite
            // an answer given meanwhile by a colleague.
            let etag = match etag {
                Some(etag) => etag,
                None => client.get_recommendation(&name).await?.etag,
            };
            let state = pb::AnswerState::try_from(i32::from(answer.state)).unwrap_or_default();
            ctx.print(&client.answer_recommendation(name, state, answer.note.unwrap_or_default(), Some(etag)).await?)
        }
        RecommendationVerb::Archive(target) => {
            ctx.print(&client.delete_recommendation(target.name, target.etag).await?)
        }
    }
}
