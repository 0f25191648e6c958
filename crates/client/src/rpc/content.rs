//! Challenges, initiatives, project ideas and recommendations.

use super::{request_id_or_new, standard_methods};
use crate::retry::Replay;
use crate::{Client, Error, pb};

standard_methods! {
    "challenge", Challenge, challenges;
    get: get_challenge(GetChallengeRequest);
    list: list_challenges(ListChallengesRequest) -> ListChallengesResponse, every page: challenges_stream;
    update: update_challenge(UpdateChallengeRequest { challenge });
    delete: delete_challenge(DeleteChallengeRequest);
}

standard_methods! {
    "initiative", Initiative, initiatives;
    get: get_initiative(GetInitiativeRequest);
    list: list_initiatives(ListInitiativesRequest) -> ListInitiativesResponse, every page: initiatives_stream;
    update: update_initiative(UpdateInitiativeRequest { initiative });
    delete: delete_initiative(DeleteInitiativeRequest);
}

standard_methods! {
    "project idea", ProjectIdea, project_ideas;
    get: get_project_idea(GetProjectIdeaRequest);
    list: list_project_ideas(ListProjectIdeasRequest) -> ListProjectIdeasResponse,
        every page: project_ideas_stream;
    update: update_project_idea(UpdateProjectIdeaRequest { project_idea });
    delete: delete_project_idea(DeleteProjectIdeaRequest);
}

standard_methods! {
    "recommendation", Recommendation, recommendations;
    get: get_recommendation(GetRecommendationRequest);
    list: list_recommendations(ListRecommendationsRequest) -> ListRecommendationsResponse,
        every page: recommendations_stream;
    update: update_recommendation(UpdateRecommendationRequest { recommendation });
    delete: delete_recommendation(DeleteRecommendationRequest);
}

impl Client {
    /// Post a challenge for the municipality `parent` (`municipalities/{id}`).
    ///
    /// `request_id` makes the call idempotent: a retry with the same id
    /// returns the first result. When `None`, a UUID v4 is generated once and
    /// reused by the client's own retries.
    ///
    /// ```no_run
    /// # async fn run(client: peerlab_client::Client) -> Result<(), peerlab_client::Error> {
    /// use peerlab_client::pb;
    /// let challenge = pb::Challenge {
    ///     working_group: "workingGroups/1".into(),
    ///     title: "City archives are not compatible".into(),
    ///     themes: vec!["archives".into(), "interoperability".into()],
    ///     ..Default::default()
    /// };
    /// match client.create_challenge("municipalities/3", challenge, None).await {
    ///     Ok(created) => println!("posted {}", created.name),
    ///     Err(e) => {
    ///         for (field, problem) in e.field_violations() {
    ///             eprintln!("{field}: {problem}");
    ///         }
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn create_challenge(
        &self,
        parent: impl Into<String>,
        challenge: pb::Challenge,
        request_id: Option<String>,
    ) -> Result<pb::Challenge, Error> {
        let request = pb::CreateChallengeRequest {
            parent: parent.into(),
            challenge: Some(challenge),
            request_id: request_id_or_new(request_id),
        };
        self.call(Replay::Safe, request, |c, r| async move { c.challenges().create_challenge(r).await }).await
    }

    /// Share an initiative for the municipality `parent`. Idempotent through
    /// `request_id` (generated when `None`).
    pub async fn create_initiative(
        &self,
        parent: impl Into<String>,
        initiative: pb::Initiative,
        request_id: Option<String>,
    ) -> Result<pb::Initiative, Error> {
        let request = pb::CreateInitiativeRequest {
            parent: parent.into(),
            initiative: Some(initiative),
            request_id: request_id_or_new(request_id),
        };
        self.call(Replay::Safe, request, |c, r| async move { c.initiatives().create_initiative(r).await }).await
    }

    /// Start a project idea for the municipality `parent`. Idempotent through
    /// `request_id` (generated when `None`).
    pub async fn create_project_idea(
        &self,
        parent: impl Into<String>,
        project_idea: pb::ProjectIdea,
        request_id: Option<String>,
    ) -> Result<pb::ProjectIdea, Error> {
        let request = pb::CreateProjectIdeaRequest {
            parent: parent.into(),
            project_idea: Some(project_idea),
            request_id: request_id_or_new(request_id),
        };
        self.call(Replay::Safe, request, |c, r| async move { c.project_ideas().create_project_idea(r).await }).await
    }

    /// Recommend something, as the municipality `parent`, to a peer's
    /// challenge, initiative or project idea (`recommendation.target`).
    /// Idempotent through `request_id` (generated when `None`).
    pub async fn create_recommendation(
        &self,
        parent: impl Into<String>,
        recommendation: pb::Recommendation,
        request_id: Option<String>,
    ) -> Result<pb::Recommendation, Error> {
        let request = pb::CreateRecommendationRequest {
            parent: parent.into(),
            recommendation: Some(recommendation),
            request_id: request_id_or_new(request_id),
        };
        self.call(Replay::Safe, request, |c, r| async move { c.recommendations().create_recommendation(r).await }).await
    }

    /// Answer a recommendation made to one of your municipality's items:
    /// acknowledged, adopted or declined, with a note. Retried only with an
    /// `etag` (a replay then fails `ABORTED` rather than answering twice).
    ///
    /// ```no_run
    /// # async fn run(client: peerlab_client::Client) -> Result<(), peerlab_client::Error> {
    /// use peerlab_client::pb::AnswerState;
    /// let name = "municipalities/5/recommendations/2";
    /// let current = client.get_recommendation(name).await?;
    /// let answered = client
    ///     .answer_recommendation(name, AnswerState::Adopted, "Piloting it in 2025", Some(current.etag))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn answer_recommendation(
        &self,
        name: impl Into<String>,
        state: pb::AnswerState,
        note: impl Into<String>,
        etag: Option<String>,
    ) -> Result<pb::Recommendation, Error> {
        let etag = etag.unwrap_or_default();
        let replay = Replay::guarded_by(&etag);
        let request =
            pb::AnswerRecommendationRequest { name: name.into(), state: state as i32, note: note.into(), etag };
        self.call(replay, request, |c, r| async move { c.recommendations().answer_recommendation(r).await }).await
    }
}
