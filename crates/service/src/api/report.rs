//! `peerlab.v1.ReportService`: reports, and exports streamed in keyset
//! batches.
//!
//! An export fetches its first page in the handler, so a bad filter or a
//! denied caller fails the call before any message is sent. A task then
//! fetches page after page (the store's export pages, larger than a List's)
//! and sends each as messages of at most [`MESSAGE_ROWS`] into a channel of
//! [`BUFFERED`] messages: memory stays flat whatever the size, and the task
//! stops as soon as the client goes away (its receiver is dropped), even in
//! the middle of a query.

use std::future::Future;

use peerlab_core::Result as CoreResult;
use peerlab_core::domain::CountryCode;
use peerlab_core::model::{Page, PageRequest};
use peerlab_proto::v1 as pb;
use peerlab_proto::v1::report_service_server::ReportService;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::{OrStatus, Shared, principal};
use crate::convert;
use crate::names;
use crate::status::to_status;

/// Batches waiting for a slow client, at most.
const BUFFERED: usize = 2;

/// A stream of export batches.
type Batches<T> = ReceiverStream<Result<T, Status>>;

/// Stream `first` and every following page (fetched by `next` with the
/// page token), cut into messages of at most [`MESSAGE_ROWS`] items each
/// converted by `wrap`, until the last page or until the client cancels.
/// The next page is fetched while the current one is sent, so the database
/// and the conversion overlap.
fn export<T, W, F, Fut>(first: Page<T>, next: F, wrap: fn(Vec<T>) -> W) -> Batches<W>
where
    T: Send + 'static,
    W: Send + 'static,
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = CoreResult<Page<T>>> + Send,
{
    let (tx, rx) = mpsc::channel(BUFFERED);
    tokio::spawn(async move {
        let mut page = first;
        loop {
            let token = page.next_page_token.take();
            let fetch = async {
                match token {
                    Some(token) => Some(next(token).await),
                    None => None,
                }
            };
            let both = async { tokio::join!(send(&tx, page.items, wrap), fetch) };
            let (sent, fetched) = tokio::select! {
                _ = tx.closed() => return,
                both = both => both,
            };
            if !sent {
                return;
            }
            match fetched {
                None => return,
                Some(Ok(p)) => page = p,
                Some(Err(e)) => {
                    let _ = tx.send(Err(to_status(e))).await;
                    return;
                }
            }
        }
    });
    ReceiverStream::new(rx)
}

/// Send `items` as messages of at most [`MESSAGE_ROWS`]; false once the
/// client is gone.
async fn send<T, W>(tx: &mpsc::Sender<Result<W, Status>>, items: Vec<T>, wrap: fn(Vec<T>) -> W) -> bool {
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        let message: Vec<T> = items.by_ref().take(MESSAGE_ROWS).collect();
        if tx.send(Ok(wrap(message))).await.is_err() {
            return false;
        }
    }
    true
}

/// Items per message: the most a List returns, as the export messages promise.
const MESSAGE_ROWS: usize = 500;

/// The request for one export page; the store's exports choose their own
/// page size, so none is asked for.
fn batch(token: String, filter: &str, show_archived: bool) -> PageRequest {
    convert::page(0, token, filter.to_owned(), show_archived)
}

/// An export: the first page now (so errors fail the call), the rest from
/// [`export`]. `fetch` lists one page of what the caller may read.
async fn start<T, W, F, Fut>(
    filter: String,
    show_archived: bool,
    fetch: F,
    wrap: fn(Vec<T>) -> W,
) -> Result<Response<Batches<W>>, Status>
where
    T: Send + 'static,
    W: Send + 'static,
    F: Fn(PageRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = CoreResult<Page<T>>> + Send,
{
    let first = fetch(batch(String::new(), &filter, show_archived)).await.or_status()?;
    let next = move |token| fetch(batch(token, &filter, show_archived));
    Ok(Response::new(export(first, next, wrap)))
}

/// Reports and exports over gRPC.
#[derive(Clone)]
pub struct ReportApi(pub Shared);

#[tonic::async_trait]
impl ReportService for ReportApi {
    type ExportChallengesStream = Batches<pb::ExportChallengesResponse>;
    type ExportInitiativesStream = Batches<pb::ExportInitiativesResponse>;
    type ExportProjectIdeasStream = Batches<pb::ExportProjectIdeasResponse>;
    type ExportRecommendationsStream = Batches<pb::ExportRecommendationsResponse>;
    type ExportEventsStream = Batches<pb::ExportEventsResponse>;

    async fn get_network_report(
        &self,
        req: Request<pb::GetNetworkReportRequest>,
    ) -> Result<Response<pb::NetworkReport>, Status> {
        let p = principal(&req)?;
        let pb::GetNetworkReportRequest { working_group, start_time, end_time } = req.into_inner();
        let group = optional_group("working_group", &working_group).or_status()?;
        let period = convert::period_in(start_time.as_ref(), end_time.as_ref()).or_status()?;
        let report = self.0.store.network_report(&p, group, period).await.or_status()?;
        Ok(Response::new(convert::network_report(report)))
    }

    async fn get_country_report(
        &self,
        req: Request<pb::GetCountryReportRequest>,
    ) -> Result<Response<pb::CountryReport>, Status> {
        let p = principal(&req)?;
        let pb::GetCountryReportRequest { country, working_group, start_time, end_time } = req.into_inner();
        let country = CountryCode::parse(&country)
            .map_err(|e| peerlab_core::Error::invalid("country", e.to_string()))
            .or_status()?;
        let group = optional_group("working_group", &working_group).or_status()?;
        let period = convert::period_in(start_time.as_ref(), end_time.as_ref()).or_status()?;
        let report = self.0.store.country_report(&p, country, group, period).await.or_status()?;
        Ok(Response::new(convert::country_report(report)))
    }

    async fn export_challenges(
        &self,
        req: Request<pb::ExportChallengesRequest>,
    ) -> Result<Response<Self::ExportChallengesStream>, Status> {
        let p = principal(&req)?;
        let store = self.0.store.clone();
        let pb::ExportChallengesRequest { filter, show_archived } = req.into_inner();
        let fetch = move |page: PageRequest| {
            let (store, p) = (store.clone(), p.clone());
            async move { store.export_challenges(&p, &page).await }
        };
        start(filter, show_archived, fetch, |items| pb::ExportChallengesResponse {
            challenges: items.into_iter().map(convert::challenge).collect(),
        })
        .await
    }

    async fn export_initiatives(
        &self,
        req: Request<pb::ExportInitiativesRequest>,
    ) -> Result<Response<Self::ExportInitiativesStream>, Status> {
        let p = principal(&req)?;
        let store = self.0.store.clone();
        let pb::ExportInitiativesRequest { filter, show_archived } = req.into_inner();
        let fetch = move |page: PageRequest| {
            let (store, p) = (store.clone(), p.clone());
            async move { store.export_initiatives(&p, &page).await }
        };
        start(filter, show_archived, fetch, |items| pb::ExportInitiativesResponse {
            initiatives: items.into_iter().map(convert::initiative).collect(),
        })
        .await
    }

    async fn export_project_ideas(
        &self,
        req: Request<pb::ExportProjectIdeasRequest>,
    ) -> Result<Response<Self::ExportProjectIdeasStream>, Status> {
        let p = principal(&req)?;
        let store = self.0.store.clone();
        let pb::ExportProjectIdeasRequest { filter, show_archived } = req.into_inner();
        let fetch = move |page: PageRequest| {
            let (store, p) = (store.clone(), p.clone());
            async move { store.export_project_ideas(&p, &page).await }
        };
        start(filter, show_archived, fetch, |items| pb::ExportProjectIdeasResponse {
            project_ideas: items.into_iter().map(convert::project_idea).collect(),
        })
        .await
    }

    async fn export_recommendations(
        &self,
        req: Request<pb::ExportRecommendationsRequest>,
    ) -> Result<Response<Self::ExportRecommendationsStream>, Status> {
        let p = principal(&req)?;
        let store = self.0.store.clone();
        let pb::ExportRecommendationsRequest { filter, show_archived } = req.into_inner();
        let fetch = move |page: PageRequest| {
            let (store, p) = (store.clone(), p.clone());
            async move { store.export_recommendations(&p, &page).await }
        };
        start(filter, show_archived, fetch, |items| pb::ExportRecommendationsResponse {
            recommendations: items.into_iter().map(convert::recommendation).collect(),
        })
        .await
    }

    async fn export_events(
        &self,
        req: Request<pb::ExportEventsRequest>,
    ) -> Result<Response<Self::ExportEventsStream>, Status> {
        let p = principal(&req)?;
        let store = self.0.store.clone();
        let pb::ExportEventsRequest { filter } = req.into_inner();
        let fetch = move |page: PageRequest| {
            let (store, p) = (store.clone(), p.clone());
            async move { store.export_events(&p, &page).await }
        };
        start(filter, false, fetch, |items| pb::ExportEventsResponse {
            events: items.into_iter().map(convert::event).collect(),
        })
        .await
    }
}

/// `workingGroups/{g}`, or none when empty.
fn optional_group(field: &str, name: &str) -> CoreResult<Option<peerlab_core::domain::WorkingGroupId>> {
    if name.is_empty() { Ok(None) } else { names::working_group(field, name).map(Some) }
}
