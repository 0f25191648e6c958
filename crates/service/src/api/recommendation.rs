//! `peerlab.v1.RecommendationService`.

use peerlab_core::store::RequestId;
use peerlab_proto::v1 as pb;
use peerlab_proto::v1::recommendation_service_server::RecommendationService;
use tonic::{Request, Response, Status};

use super::{OrStatus, Shared, principal};
use crate::convert;
use crate::names;

/// Recommendations over gRPC.
#[derive(Clone)]
pub struct RecommendationApi(pub Shared);

#[tonic::async_trait]
impl RecommendationService for RecommendationApi {
    async fn get_recommendation(
        &self,
        req: Request<pb::GetRecommendationRequest>,
    ) -> Result<Response<pb::Recommendation>, Status> {
        let p = principal(&req)?;
        let r = names::recommendation("name", &req.get_ref().name).or_status()?;
        let rec = self.0.store.get_recommendation(&p, r).await.or_status()?;
        Ok(Response::new(convert::recommendation(rec)))
    }

    async fn list_recommendations(
        &self,
        req: Request<pb::ListRecommendationsRequest>,
    ) -> Result<Response<pb::ListRecommendationsResponse>, Status> {
        let p = principal(&req)?;
        let pb::ListRecommendationsRequest { parent, page_size, page_token, filter, show_archived } = req.into_inner();
        let parent = names::municipality_or_all("parent", &parent).or_status()?;
        let page = convert::page(page_size, page_token, filter, show_archived);
        let page = self.0.store.list_recommendations(&p, parent, &page).await.or_status()?;
        Ok(Response::new(pb::ListRecommendationsResponse {
            recommendations: page.items.into_iter().map(convert::recommendation).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn create_recommendation(
        &self,
        req: Request<pb::CreateRecommendationRequest>,
    ) -> Result<Response<pb::Recommendation>, Status> {
        let p = principal(&req)?;
        let r = req.get_ref();
        let parent = names::municipality("parent", &r.parent).or_status()?;
        let input = convert::new_recommendation(r.recommendation.as_ref()).or_status()?;
        let rid = RequestId::parse(&r.request_id).or_status()?;
        let rec = self.0.store.create_recommendation(&p, parent, input, rid.as_ref()).await.or_status()?;
        Ok(Response::new(convert::recommendation(rec)))
    }

    async fn update_recommendation(
        &self,
        req: Request<pb::UpdateRecommendationRequest>,
    ) -> Result<Response<pb::Recommendation>, Status> {
        let p = principal(&req)?;
        let r = req.get_ref();
        let rec = convert::required("recommendation", r.recommendation.as_ref()).or_status()?;
        let name = names::recommendation("recommendation.name", &rec.name).or_status()?;
        let etag = convert::etag_in("recommendation.etag", &rec.etag).or_status()?;
        let patch = convert::recommendation_patch(rec, r.update_mask.as_ref()).or_status()?;
        let rec = self.0.store.update_recommendation(&p, name, patch, etag).await.or_status()?;
        Ok(Response::new(convert::recommendation(rec)))
    }

    async fn delete_recommendation(
        &self,
        req: Request<pb::DeleteRecommendationRequest>,
    ) -> Result<Response<pb::Recommendation>, Status> {
        let p = principal(&req)?;
        let r = req.get_ref();
        let name = names::recommendation("name", &r.name).or_status()?;
        let etag = convert::etag_in("etag", &r.etag).or_status()?;
        let rec = self.0.store.archive_recommendation(&p, name, etag).await.or_status()?;
        Ok(Response::new(convert::recommendation(rec)))
    }

    async fn answer_recommendation(
        &self,
        req: Request<pb::AnswerRecommendationRequest>,
    ) -> Result<Response<pb::Recommendation>, Status> {
        let p = principal(&req)?;
        let r = req.get_ref();
        let name = names::recommendation("name", &r.name).or_status()?;
        let answer = convert::new_answer(r).or_status()?;
        let etag = convert::etag_in("etag", &r.etag).or_status()?;
        let rec = self.0.store.answer_recommendation(&p, name, answer, etag).await.or_status()?;
        Ok(Response::new(convert::recommendation(rec)))
    }
}
