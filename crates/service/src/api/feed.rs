//! `peerlab.v1.FeedService`: the event log as pages, and as a live stream
//! from the process's [`Hub`].

use futures::StreamExt;
use peerlab_proto::feed::FeedService;
use peerlab_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::{OrStatus, Shared, principal};
use crate::convert;
use crate::feed::{Hub, WatchRequest, WatchStream};
use crate::transport::ConnectionInfo;

/// The event feed over gRPC: the shared state and the live feed.
#[derive(Clone)]
pub struct FeedApi(pub Shared, pub Hub);

#[tonic::async_trait]
impl FeedService for FeedApi {
    type WatchEventsStream = WatchStream;

    async fn list_events(
        &self,
        req: Request<pb::ListEventsRequest>,
    ) -> Result<Response<pb::ListEventsResponse>, Status> {
        let p = principal(&req)?;
        let pb::ListEventsRequest { page_size, page_token, filter } = req.into_inner();
        let page = convert::page(page_size, page_token, filter, false);
        let page = self.0.store.list_events(&p, &page).await.or_status()?;
        Ok(Response::new(pb::ListEventsResponse {
            events: page.items.into_iter().map(convert::event).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn watch_events(
        &self,
        req: Request<pb::WatchEventsRequest>,
    ) -> Result<Response<Self::WatchEventsStream>, Status> {
        let p = principal(&req)?;
        // Each event reaches every stream at once: let the connection write
        // the frames of all its streams together (see `crate::transport`).
        let batching = req.extensions().get::<ConnectionInfo>().map(ConnectionInfo::batch_writes);
        let watch = WatchRequest::parse(p.read_scope(), req.into_inner()).or_status()?;
        let stream = self.1.watch(&p.actor(), watch)?;
        Ok(Response::new(match batching {
            Some(guard) => Box::pin(stream.inspect(move |_| {
                let _held_for_the_stream = &guard;
            })),
            None => stream,
        }))
    }
}
