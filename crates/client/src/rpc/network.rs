//! Municipalities, working groups, memberships and workshops.

use futures::Stream;

use super::{request_id_or_new, standard_methods};
use crate::retry::Replay;
use crate::{Client, Error, pb};

standard_methods! {
    "municipality", Municipality, municipalities;
    get: get_municipality(GetMunicipalityRequest);
    list: list_municipalities(ListMunicipalitiesRequest) -> ListMunicipalitiesResponse,
        every page: municipalities_stream;
    update: update_municipality(UpdateMunicipalityRequest { municipality });
    delete: delete_municipality(DeleteMunicipalityRequest);
}

standard_methods! {
    "working group", WorkingGroup, working_groups;
    get: get_working_group(GetWorkingGroupRequest);
    list: list_working_groups(ListWorkingGroupsRequest) -> ListWorkingGroupsResponse,
        every page: working_groups_stream;
    update: update_working_group(UpdateWorkingGroupRequest { working_group });
    delete: delete_working_group(DeleteWorkingGroupRequest);
}

standard_methods! {
    "workshop", Workshop, workshops;
    get: get_workshop(GetWorkshopRequest);
    list: list_workshops(ListWorkshopsRequest) -> ListWorkshopsResponse, every page: workshops_stream;
    update: update_workshop(UpdateWorkshopRequest { workshop });
    delete: delete_workshop(DeleteWorkshopRequest);
}

impl Client {
    /// Add a municipality to the network. `request_id` makes the call
    /// idempotent; one is generated when `None`, and reused by retries.
    ///
    /// ```no_run
    /// # async fn run(client: peerlab_client::Client) -> Result<(), peerlab_client::Error> {
    /// use peerlab_client::pb;
    /// let mostar = pb::Municipality { display_name: "Mostar".into(), country: "BA".into(), ..Default::default() };
    /// let mostar = client.create_municipality(mostar, None).await?;
    /// println!("created {}", mostar.name);
    /// # Ok(()) }
    /// ```
    pub async fn create_municipality(
        &self,
        municipality: pb::Municipality,
        request_id: Option<String>,
    ) -> Result<pb::Municipality, Error> {
        let request = pb::CreateMunicipalityRequest {
            municipality: Some(municipality),
            request_id: request_id_or_new(request_id),
        };
        self.call(Replay::Safe, request, |c, r| async move { c.municipalities().create_municipality(r).await }).await
    }

    /// Create a working group. Idempotent through `request_id` (generated when `None`).
    pub async fn create_working_group(
        &self,
        working_group: pb::WorkingGroup,
        request_id: Option<String>,
    ) -> Result<pb::WorkingGroup, Error> {
        let request = pb::CreateWorkingGroupRequest {
            working_group: Some(working_group),
            request_id: request_id_or_new(request_id),
        };
        self.call(Replay::Safe, request, |c, r| async move { c.working_groups().create_working_group(r).await }).await
    }

    /// Add `membership.municipality` to the working group `parent`
    /// (`workingGroups/{id}`). Idempotent through `request_id` (generated when `None`).
    pub async fn create_membership(
        &self,
        parent: impl Into<String>,
        membership: pb::Membership,
        request_id: Option<String>,
    ) -> Result<pb::Membership, Error> {
        let request = pb::CreateMembershipRequest {
            parent: parent.into(),
            membership: Some(membership),
            request_id: request_id_or_new(request_id),
        };
        self.call(Replay::Safe, request, |c, r| async move { c.memberships().create_membership(r).await }).await
    }

    /// One page of a working group's members.
    pub async fn list_memberships(
        &self,
        request: pb::ListMembershipsRequest,
    ) -> Result<pb::ListMembershipsResponse, Error> {
        self.call(Replay::Safe, request, |c, r| async move { c.memberships().list_memberships(r).await }).await
    }

    /// Every member of the working group `request.parent`, following page tokens.
    pub fn memberships_stream(
        &self,
        request: pb::ListMembershipsRequest,
    ) -> impl Stream<Item = Result<pb::Membership, Error>> + Send + 'static {
        self.paginate(request)
    }

    /// Remove a municipality from a working group
    /// (`workingGroups/{g}/memberships/{m}`). Sent once: it carries no etag.
    pub async fn delete_membership(&self, name: impl Into<String>) -> Result<pb::Membership, Error> {
        let request = pb::DeleteMembershipRequest { name: name.into() };
        self.call(Replay::Never, request, |c, r| async move { c.memberships().delete_membership(r).await }).await
    }

    /// Schedule a workshop in the working group `parent`. Idempotent through
    /// `request_id` (generated when `None`).
    pub async fn create_workshop(
        &self,
        parent: impl Into<String>,
        workshop: pb::Workshop,
        request_id: Option<String>,
    ) -> Result<pb::Workshop, Error> {
        let request = pb::CreateWorkshopRequest {
            parent: parent.into(),
            workshop: Some(workshop),
            request_id: request_id_or_new(request_id),
        };
        self.call(Replay::Safe, request, |c, r| async move { c.workshops().create_workshop(r).await }).await
    }
}
