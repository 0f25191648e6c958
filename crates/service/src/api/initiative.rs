//! `peerlab.v1.InitiativeService`.

use peerlab_core::store::RequestId;
use peerlab_proto::v1 as pb;
use peerlab_proto::v1::initiative_service_server::InitiativeService;
use tonic::{Request, Response, Status};

use super::{OrStatus, Shared, principal};
use crate::convert;
use crate::names;

/// Initiatives over gRPC.
#[derive(Clone)]
pub struct InitiativeApi(pub Shared);

#[tonic::async_trait]
impl InitiativeService for InitiativeApi {
    async fn get_initiative(&self, req: Request<pb::GetInitiativeRequest>) -> Result<Response<pb::Initiative>, Status> {
        let p = principal(&req)?;
        let r = names::initiative("name", &req.get_ref().name).or_status()?;
        let i = self.0.store.get_initiative(&p, r).await.or_status()?;
        Ok(Response::new(convert::initiative(i)))
    }

    async fn list_initiatives(
        &self,
        req: Request<pb::ListInitiativesRequest>,
    ) -> Result<Response<pb::ListInitiativesResponse>, Status> {
        let p = principal(&req)?;
        let pb::ListInitiativesRequest { parent, page_size, page_token, filter, show_archived } = req.into_inner();
        let parent = names::municipality_or_all("parent", &parent).or_status()?;
        let page = convert::page(page_size, page_token, filter, show_archived);
        let page = self.0.store.list_initiatives(&p, parent, &page).await.or_status()?;
        Ok(Response::new(pb::ListInitiativesResponse {
            initiatives: page.items.into_iter().map(convert::initiative).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn create_initiative(
        &self,
        req: Request<pb::CreateInitiativeRequest>,
    ) -> Result<Response<pb::Initiative>, Status> {
        let p = principal(&req)?;
        let r = req.get_ref();
        let parent = names::municipality("parent", &r.parent).or_status()?;
        let input = convert::new_initiative(r.initiative.as_ref()).or_status()?;
        let rid = RequestId::parse(&r.request_id).or_status()?;
        let i = self.0.store.create_initiative(&p, parent, input, rid.as_ref()).await.or_status()?;
        Ok(Response::new(convert::initiative(i)))
    }

    async fn update_initiative(
        &self,
        req: Request<pb::UpdateInitiativeRequest>,
    ) -> Result<Response<pb::Initiative>, Status> {
        let p = principal(&req)?;
        let r = req.get_ref();
        let i = convert::required("initiative", r.initiative.as_ref()).or_status()?;
        let name = names::initiative("initiative.name", &i.name).or_status()?;
        let etag = convert::etag_in("initiative.etag", &i.etag).or_status()?;
        let patch = convert::initiative_patch(i, r.update_mask.as_ref()).or_status()?;
        let i = self.0.store.update_initiative(&p, name, patch, etag).await.or_status()?;
        Ok(Response::new(convert::initiative(i)))
    }

    async fn delete_initiative(
        &self,
        req: Request<pb::DeleteInitiativeRequest>,
    ) -> Result<Response<pb::Initiative>, Status> {
        let p = principal(&req)?;
        let r = req.get_ref();
        let name = names::initiative("name", &r.name).or_status()?;
        let etag = convert::etag_in("etag", &r.etag).or_status()?;
        let i = self.0.store.archive_initiative(&p, name, etag).await.or_status()?;
        Ok(Response::new(convert::initiative(i)))
    }
}
