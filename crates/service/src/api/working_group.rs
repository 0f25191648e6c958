//! `peerlab.v1.WorkingGroupService`.

use peerlab_core::store::RequestId;
use peerlab_proto::v1 as pb;
use peerlab_proto::v1::working_group_service_server::WorkingGroupService;
use tonic::{Request, Response, Status};

use super::{OrStatus, Shared, principal};
use crate::convert;
use crate::names;

/// Working groups over gRPC.
#[derive(Clone)]
pub struct WorkingGroupApi(pub Shared);

#[tonic::async_trait]
impl WorkingGroupService for WorkingGroupApi {
    async fn get_working_group(
        &self,
        req: Request<pb::GetWorkingGroupRequest>,
    ) -> Result<Response<pb::WorkingGroup>, Status> {
        let p = principal(&req)?;
        let id = names::working_group("name", &req.get_ref().name).or_status()?;
        let g = self.0.store.get_working_group(&p, id).await.or_status()?;
        Ok(Response::new(convert::working_group(g)))
    }

    async fn list_working_groups(
        &self,
        req: Request<pb::ListWorkingGroupsRequest>,
    ) -> Result<Response<pb::ListWorkingGroupsResponse>, Status> {
        let p = principal(&req)?;
        let pb::ListWorkingGroupsRequest { page_size, page_token, filter, show_archived } = req.into_inner();
        let page = convert::page(page_size, page_token, filter, show_archived);
        let page = self.0.store.list_working_groups(&p, &page).await.or_status()?;
        Ok(Response::new(pb::ListWorkingGroupsResponse {
            working_groups: page.items.into_iter().map(convert::working_group).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn create_working_group(
        &self,
        req: Request<pb::CreateWorkingGroupRequest>,
    ) -> Result<Response<pb::WorkingGroup>, Status> {
        let p = principal(&req)?;
        let r = req.get_ref();
        let input = convert::new_working_group(r.working_group.as_ref()).or_status()?;
        let rid = RequestId::parse(&r.request_id).or_status()?;
        let g = self.0.store.create_working_group(&p, input, rid.as_ref()).await.or_status()?;
        Ok(Response::new(convert::working_group(g)))
    }

    async fn update_working_group(
        &self,
        req: Request<pb::UpdateWorkingGroupRequest>,
    ) -> Result<Response<pb::WorkingGroup>, Status> {
        let p = principal(&req)?;
        let r = req.get_ref();
        let g = convert::required("working_group", r.working_group.as_ref()).or_status()?;
        let id = names::working_group("working_group.name", &g.name).or_status()?;
        let etag = convert::etag_in("working_group.etag", &g.etag).or_status()?;
        let patch = convert::working_group_patch(g, r.update_mask.as_ref()).or_status()?;
        let g = self.0.store.update_working_group(&p, id, patch, etag).await.or_status()?;
        Ok(Response::new(convert::working_group(g)))
    }

    async fn delete_working_group(
        &self,
        req: Request<pb::DeleteWorkingGroupRequest>,
    ) -> Result<Response<pb::WorkingGroup>, Status> {
        let p = principal(&req)?;
        let r = req.get_ref();
        let id = names::working_group("name", &r.name).or_status()?;
        let etag = convert::etag_in("etag", &r.etag).or_status()?;
        let g = self.0.store.archive_working_group(&p, id, etag).await.or_status()?;
        Ok(Response::new(convert::working_group(g)))
    }
}
