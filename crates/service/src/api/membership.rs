//! `peerlab.v1.MembershipService`.

use peerlab_core::store::RequestId;
use peerlab_proto::v1 as pb;
use peerlab_proto::v1::membership_service_server::MembershipService;
use tonic::{Request, Response, Status};

use super::{OrStatus, Shared, principal};
use crate::convert;
use crate::names;

/// Memberships over gRPC.
#[derive(Clone)]
pub struct MembershipApi(pub Shared);

#[tonic::async_trait]
impl MembershipService for MembershipApi {
    async fn list_memberships(
        &self,
        req: Request<pb::ListMembershipsRequest>,
    ) -> Result<Response<pb::ListMembershipsResponse>, Status> {
        let p = principal(&req)?;
        let pb::ListMembershipsRequest { parent, page_size, page_token, filter } = req.into_inner();
        let group = names::working_group("parent", &parent).or_status()?;
        let page = convert::page(page_size, page_token, filter, false);
        let page = self.0.store.list_memberships(&p, group, &page).await.or_status()?;
        Ok(Response::new(pb::ListMembershipsResponse {
            memberships: page.items.into_iter().map(convert::membership).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn create_membership(
        &self,
        req: Request<pb::CreateMembershipRequest>,
    ) -> Result<Response<pb::Membership>, Status> {
        let p = principal(&req)?;
        let r = req.get_ref();
        let group = names::working_group("parent", &r.parent).or_status()?;
        let municipality = convert::new_membership(r.membership.as_ref()).or_status()?;
        let rid = RequestId::parse(&r.request_id).or_status()?;
        let m = self.0.store.create_membership(&p, group, municipality, rid.as_ref()).await.or_status()?;
        Ok(Response::new(convert::membership(m)))
    }

    async fn delete_membership(
        &self,
        req: Request<pb::DeleteMembershipRequest>,
    ) -> Result<Response<pb::Membership>, Status> {
        let p = principal(&req)?;
        let (group, municipality) = names::membership("name", &req.get_ref().name).or_status()?;
        let m = self.0.store.delete_membership(&p, group, municipality).await.or_status()?;
        Ok(Response::new(convert::membership(m)))
    }
}
