//! `peerlab.v1.ChallengeService`.

use peerlab_core::store::RequestId;
use peerlab_proto::v1 as pb;
use peerlab_proto::v1::challenge_service_server::ChallengeService;
use tonic::{Request, Response, Status};

use super::{OrStatus, Shared, principal};
use crate::convert;
use crate::names;

/// Challenges over gRPC.
#[derive(Clone)]
pub struct ChallengeApi(pub Shared);

#[tonic::async_trait]
impl ChallengeService for ChallengeApi {
    async fn get_challenge(&self, req: Request<pb::GetChallengeRequest>) -> Result<Response<pb::Challenge>, Status> {
        let p = principal(&req)?;
        let r = names::challenge("name", &req.get_ref().name).or_status()?;
        let c = self.0.store.get_challenge(&p, r).await.or_status()?;
        Ok(Response::new(convert::challenge(c)))
    }

    async fn list_challenges(
        &self,
        req: Request<pb::ListChallengesRequest>,
    ) -> Result<Response<pb::ListChallengesResponse>, Status> {
        let p = principal(&req)?;
        let pb::ListChallengesRequest { parent, page_size, page_token, filter, show_archived } = req.into_inner();
        let parent = names::municipality_or_all("parent", &parent).or_status()?;
        let page = convert::page(page_size, page_token, filter, show_archived);
        let page = self.0.store.list_challenges(&p, parent, &page).await.or_status()?;
        Ok(Response::new(pb::ListChallengesResponse {
            challenges: page.items.into_iter().map(convert::challenge).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn create_challenge(
        &self,
        req: Request<pb::CreateChallengeRequest>,
    ) -> Result<Response<pb::Challenge>, Status> {
        let p = principal(&req)?;
        let r = req.get_ref();
        let parent = names::municipality("parent", &r.parent).or_status()?;
        let input = convert::new_challenge(r.challenge.as_ref()).or_status()?;
        let rid = RequestId::parse(&r.request_id).or_status()?;
        let c = self.0.store.create_challenge(&p, parent, input, rid.as_ref()).await.or_status()?;
        Ok(Response::new(convert::challenge(c)))
    }

    async fn update_challenge(
        &self,
        req: Request<pb::UpdateChallengeRequest>,
    ) -> Result<Response<pb::Challenge>, Status> {
        let p = principal(&req)?;
        let r = req.get_ref();
        let c = convert::required("challenge", r.challenge.as_ref()).or_status()?;
        let name = names::challenge("challenge.name", &c.name).or_status()?;
        let etag = convert::etag_in("challenge.etag", &c.etag).or_status()?;
        let patch = convert::challenge_patch(c, r.update_mask.as_ref()).or_status()?;
        let c = self.0.store.update_challenge(&p, name, patch, etag).await.or_status()?;
        Ok(Response::new(convert::challenge(c)))
    }

    async fn delete_challenge(
        &self,
        req: Request<pb::DeleteChallengeRequest>,
    ) -> Result<Response<pb::Challenge>, Status> {
        let p = principal(&req)?;
        let r = req.get_ref();
        let name = names::challenge("name", &r.name).or_status()?;
        let etag = convert::etag_in("etag", &r.etag).or_status()?;
        let c = self.0.store.archive_challenge(&p, name, etag).await.or_status()?;
        Ok(Response::new(convert::challenge(c)))
    }
}
