//! The gRPC services: each handler validates, takes the caller's principal,
//! makes one core call and converts the result.

mod challenge;
mod feed;
mod initiative;
mod membership;
mod municipality;
mod project_idea;
mod recommendation;
mod report;
mod working_group;
mod workshop;

pub use challenge::ChallengeApi;
pub use feed::FeedApi;
pub use initiative::InitiativeApi;
pub use membership::MembershipApi;
pub use municipality::MunicipalityApi;
pub use project_idea::ProjectIdeaApi;
pub use recommendation::RecommendationApi;
pub use report::ReportApi;
pub use working_group::WorkingGroupApi;
pub use workshop::WorkshopApi;

use peerlab_core::auth::Principal;
use peerlab_core::store::Store;
use tonic::{Request, Status};

use crate::status::to_status;

/// The verified caller of a request (put there by the auth interceptor).
pub(crate) fn principal<T>(req: &Request<T>) -> Result<Principal, Status> {
    req.extensions().get::<Principal>().cloned().ok_or_else(|| Status::unauthenticated("no verified caller"))
}

/// What every service holds.
#[derive(Clone)]
pub struct Shared {
    /// The network's data.
    pub store: Store,
}

/// `?` for core results inside handlers.
pub(crate) trait OrStatus<T> {
    fn or_status(self) -> Result<T, Status>;
}

impl<T> OrStatus<T> for peerlab_core::Result<T> {
    fn or_status(self) -> Result<T, Status> {
        self.map_err(to_status)
    }
}
