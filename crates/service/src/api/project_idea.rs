//! `peerlab.v1.ProjectIdeaService`.

use peerlab_core::store::RequestId;
use peerlab_proto::v1 as pb;
use peerlab_proto::v1::project_idea_service_server::ProjectIdeaService;
use tonic::{Request, Response, Status};

use super::{OrStatus, Shared, principal};
use crate::convert;
use crate::names;

/// Project ideas over gRPC.
#[derive(Clone)]
pub struct ProjectIdeaApi(pub Shared);

#[tonic::async_trait]
impl ProjectIdeaService for ProjectIdeaApi {
    async fn get_project_idea(
        &self,
        req: Request<pb::GetProjectIdeaRequest>,
    ) -> Result<Response<pb::ProjectIdea>, Status> {
        let p = principal(&req)?;
        let r = names::project_idea("name", &req.get_ref().name).or_status()?;
        let i = self.0.store.get_project_idea(&p, r).await.or_status()?;
        Ok(Response::new(convert::project_idea(i)))
    }

    async fn list_project_ideas(
        &self,
        req: Request<pb::ListProjectIdeasRequest>,
    ) -> Result<Response<pb::ListProjectIdeasResponse>, Status> {
        let p = principal(&req)?;
        let pb::ListProjectIdeasRequest { parent, page_size, page_token, filter, show_archived } = req.into_inner();
        let parent = names::municipality_or_all("parent", &parent).or_status()?;
        let page = convert::page(page_size, page_token, filter, show_archived);
        let page = self.0.store.list_project_ideas(&p, parent, &page).await.or_status()?;
        Ok(Response::new(pb::ListProjectIdeasResponse {
            project_ideas: page.items.into_iter().map(convert::project_idea).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn create_project_idea(
        &self,
        req: Request<pb::CreateProjectIdeaRequest>,
    ) -> Result<Response<pb::ProjectIdea>, Status> {
        let p = principal(&req)?;
        let r = req.get_ref();
        let parent = names::municipality("parent", &r.parent).or_status()?;
        let input = convert::new_project_idea(r.project_idea.as_ref()).or_status()?;
        let rid = RequestId::parse(&r.request_id).or_status()?;
        let i = self.0.store.create_project_idea(&p, parent, input, rid.as_ref()).await.or_status()?;
        Ok(Response::new(convert::project_idea(i)))
    }

    async fn update_project_idea(
        &self,
        req: Request<pb::UpdateProjectIdeaRequest>,
    ) -> Result<Response<pb::ProjectIdea>, Status> {
        let p = principal(&req)?;
        let r = req.get_ref();
        let i = convert::required("project_idea", r.project_idea.as_ref()).or_status()?;
        let name = names::project_idea("project_idea.name", &i.name).or_status()?;
        let etag = convert::etag_in("project_idea.etag", &i.etag).or_status()?;
        let patch = convert::project_idea_patch(i, r.update_mask.as_ref()).or_status()?;
        let i = self.0.store.update_project_idea(&p, name, patch, etag).await.or_status()?;
        Ok(Response::new(convert::project_idea(i)))
    }

    async fn delete_project_idea(
        &self,
        req: Request<pb::DeleteProjectIdeaRequest>,
    ) -> Result<Response<pb::ProjectIdea>, Status> {
        let p = principal(&req)?;
        let r = req.get_ref();
        let name = names::project_idea("name", &r.name).or_status()?;
        let etag = convert::etag_in("etag", &r.etag).or_status()?;
        let i = self.0.store.archive_project_idea(&p, name, etag).await.or_status()?;
        Ok(Response::new(convert::project_idea(i)))
    }
}
