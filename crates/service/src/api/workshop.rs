//! `peerlab.v1.WorkshopService`.

use peerlab_core::store::RequestId;
use peerlab_proto::v1 as pb;
use peerlab_proto::v1::workshop_service_server::WorkshopService;
use tonic::{Request, Response, Status};

use super::{OrStatus, Shared, principal};
use crate::convert;
use crate::names;

/// Workshops over gRPC.
#[derive(Clone)]
pub struct WorkshopApi(pub Shared);

#[tonic::async_trait]
impl WorkshopService for WorkshopApi {
    async fn get_workshop(&self, req: Request<pb::GetWorkshopRequest>) -> Result<Response<pb::Workshop>, Status> {
        let p = principal(&req)?;
        let (group, id) = names::workshop("name", &req.get_ref().name).or_status()?;
        let w = self.0.store.get_workshop(&p, group, id).await.or_status()?;
        Ok(Response::new(convert::workshop(w)))
    }

    async fn list_workshops(
        &self,
        req: Request<pb::ListWorkshopsRequest>,
    ) -> Result<Response<pb::ListWorkshopsResponse>, Status> {
        let p = principal(&req)?;
        let pb::ListWorkshopsRequest { parent, page_size, page_token, show_archived } = req.into_inner();
        let group = names::working_group("parent", &parent).or_status()?;
        let page = convert::page(page_size, page_token, String::new(), show_archived);
        let page = self.0.store.list_workshops(&p, group, &page).await.or_status()?;
        Ok(Response::new(pb::ListWorkshopsResponse {
            workshops: page.items.into_iter().map(convert::workshop).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn create_workshop(&self, req: Request<pb::CreateWorkshopRequest>) -> Result<Response<pb::Workshop>, Status> {
        let p = principal(&req)?;
        let r = req.get_ref();
        let group = names::working_group("parent", &r.parent).or_status()?;
        let input = convert::new_workshop(r.workshop.as_ref()).or_status()?;
        let rid = RequestId::parse(&r.request_id).or_status()?;
        let w = self.0.store.create_workshop(&p, group, input, rid.as_ref()).await.or_status()?;
        Ok(Response::new(convert::workshop(w)))
    }

    async fn update_workshop(&self, req: Request<pb::UpdateWorkshopRequest>) -> Result<Response<pb::Workshop>, Status> {
        let p = principal(&req)?;
        let r = req.get_ref();
        let w = convert::required("workshop", r.workshop.as_ref()).or_status()?;
        let (group, id) = names::workshop("workshop.name", &w.name).or_status()?;
        let etag = convert::etag_in("workshop.etag", &w.etag).or_status()?;
        let patch = convert::workshop_patch(w, r.update_mask.as_ref()).or_status()?;
        let w = self.0.store.update_workshop(&p, group, id, patch, etag).await.or_status()?;
        Ok(Response::new(convert::workshop(w)))
    }

    async fn delete_workshop(&self, req: Request<pb::DeleteWorkshopRequest>) -> Result<Response<pb::Workshop>, Status> {
        let p = principal(&req)?;
        let r = req.get_ref();
        let (group, id) = names::workshop("name", &r.name).or_status()?;
        let etag = convert::etag_in("etag", &r.etag).or_status()?;
        let w = self.0.store.archive_workshop(&p, group, id, etag).await.or_status()?;
        Ok(Response::new(convert::workshop(w)))
    }
}
