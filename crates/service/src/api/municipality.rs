//! `peerlab.v1.MunicipalityService`.

use peerlab_core::store::RequestId;
use peerlab_proto::v1 as pb;
use peerlab_proto::v1::municipality_service_server::MunicipalityService;
use tonic::{Request, Response, Status};

use super::{OrStatus, Shared, principal};
use crate::convert;
use crate::names;

/// Municipalities over gRPC.
#[derive(Clone)]
pub struct MunicipalityApi(pub Shared);

#[tonic::async_trait]
impl MunicipalityService for MunicipalityApi {
    async fn get_municipality(
        &self,
        req: Request<pb::GetMunicipalityRequest>,
    ) -> Result<Response<pb::Municipality>, Status> {
        let p = principal(&req)?;
        let id = names::municipality("name", &req.get_ref().name).or_status()?;
        let m = self.0.store.get_municipality(&p, id).await.or_status()?;
        Ok(Response::new(convert::municipality(m)))
    }

    async fn list_municipalities(
        &self,
        req: Request<pb::ListMunicipalitiesRequest>,
    ) -> Result<Response<pb::ListMunicipalitiesResponse>, Status> {
        let p = principal(&req)?;
        let pb::ListMunicipalitiesRequest { page_size, page_token, filter, show_archived } = req.into_inner();
        let page = convert::page(page_size, page_token, filter, show_archived);
        let page = self.0.store.list_municipalities(&p, &page).await.or_status()?;
        Ok(Response::new(pb::ListMunicipalitiesResponse {
            municipalities: page.items.into_iter().map(convert::municipality).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn create_municipality(
        &self,
        req: Request<pb::CreateMunicipalityRequest>,
    ) -> Result<Response<pb::Municipality>, Status> {
        let p = principal(&req)?;
        let r = req.get_ref();
        let input = convert::new_municipality(r.municipality.as_ref()).or_status()?;
        let rid = RequestId::parse(&r.request_id).or_status()?;
        let m = self.0.store.create_municipality(&p, input, rid.as_ref()).await.or_status()?;
        Ok(Response::new(convert::municipality(m)))
    }

    async fn update_municipality(
        &self,
        req: Request<pb::UpdateMunicipalityRequest>,
    ) -> Result<Response<pb::Municipality>, Status> {
        let p = principal(&req)?;
        let r = req.get_ref();
        let m = convert::required("municipality", r.municipality.as_ref()).or_status()?;
        let id = names::municipality("municipality.name", &m.name).or_status()?;
        let etag = convert::etag_in("municipality.etag", &m.etag).or_status()?;
        let display_name = convert::municipality_patch(m, r.update_mask.as_ref()).or_status()?;
        let m = self.0.store.update_municipality(&p, id, display_name, etag).await.or_status()?;
        Ok(Response::new(convert::municipality(m)))
    }

    async fn delete_municipality(
        &self,
        req: Request<pb::DeleteMunicipalityRequest>,
    ) -> Result<Response<pb::Municipality>, Status> {
        let p = principal(&req)?;
        let r = req.get_ref();
        let id = names::municipality("name", &r.name).or_status()?;
        let etag = convert::etag_in("etag", &r.etag).or_status()?;
        let m = self.0.store.archive_municipality(&p, id, etag).await.or_status()?;
        Ok(Response::new(convert::municipality(m)))
    }
}
