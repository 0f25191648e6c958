//! Following `next_page_token` through every page of a List call.

use std::future::Future;

use futures::future::BoxFuture;
use futures::{Stream, TryStreamExt, stream};

use crate::{Client, Error, pb};

/// A List request whose response holds one page of items and a
/// `next_page_token`; [`Client::paginate`] turns it into a stream of items.
///
/// Implemented for every `List*Request` of the API.
pub trait ListRequest: Clone + Send + 'static {
    /// The response of one page.
    type Response: Send + 'static;
    /// What a page holds.
    type Item: Send + 'static;

    /// The token this request starts from (empty: the first page).
    fn page_token(&self) -> &str;
    /// Ask for the page `token` points to.
    fn set_page_token(&mut self, token: String);
    /// Split a page into its items and the next token (empty on the last page).
    fn into_page(response: Self::Response) -> (Vec<Self::Item>, String);
    /// Fetch one page, with the client's retries.
    fn fetch(client: Client, request: Self) -> BoxFuture<'static, Result<Self::Response, Error>>;
}

/// A stream of the items of every page, starting at `first_token`, asking
/// `fetch(page_token)` for `(items, next_page_token)` until the token is
/// empty. Pages are fetched lazily, one at a time, as the stream is polled.
///
/// A server that hands back the token it was given would loop forever; the
/// stream ends with [`Error::InvalidResponse`] instead.
///
/// ```
/// # futures::executor::block_on(async {
/// use futures::TryStreamExt;
/// let pages = |token: String| async move {
///     Ok::<_, peerlab_client::Error>(match token.as_str() {
///         "" => (vec![1, 2], "p2".to_owned()),
///         _ => (vec![3], String::new()),
///     })
/// };
/// let all: Vec<i32> = peerlab_client::follow_pages(String::new(), pages).try_collect().await?;
/// assert_eq!(all, [1, 2, 3]);
/// # Ok::<_, peerlab_client::Error>(()) }).unwrap();
/// ```
pub fn follow_pages<T, F, Fut>(first_token: String, fetch: F) -> impl Stream<Item = Result<T, Error>> + Send
where
    T: Send,
    F: FnMut(String) -> Fut + Send,
    Fut: Future<Output = Result<(Vec<T>, String), Error>> + Send,
{
    enum Next {
        Page(String),
        Stuck(String),
        Done,
    }
    stream::try_unfold((fetch, Next::Page(first_token)), |(mut fetch, next)| async move {
        let token = match next {
            Next::Page(token) => token,
            Next::Stuck(token) => {
                return Err(Error::InvalidResponse(format!("the server returned page token {token:?} again")));
            }
            Next::Done => return Ok(None),
        };
        let (items, next_token) = fetch(token.clone()).await?;
        let next = match next_token {
            t if t.is_empty() => Next::Done,
            t if t == token => Next::Stuck(t),
            t => Next::Page(t),
        };
        Ok(Some((stream::iter(items.into_iter().map(Ok)), (fetch, next))))
    })
    .try_flatten()
}

impl Client {
    /// Every item of a List call, following page tokens; see [`ListRequest`].
    ///
    /// ```no_run
    /// # async fn run(client: peerlab_client::Client) -> Result<(), peerlab_client::Error> {
    /// use futures::TryStreamExt;
    /// use peerlab_client::pb;
    /// let request = pb::ListWorkingGroupsRequest { page_size: 100, ..Default::default() };
    /// let groups: Vec<pb::WorkingGroup> = client.paginate(request).try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn paginate<R: ListRequest>(&self, request: R) -> impl Stream<Item = Result<R::Item, Error>> + Send + 'static {
        let client = self.clone();
        let first = request.page_token().to_owned();
        follow_pages(first, move |token| {
            let mut request = request.clone();
            request.set_page_token(token);
            let page = R::fetch(client.clone(), request);
            async move { page.await.map(R::into_page) }
        })
    }
}

macro_rules! list_request {
    ($($request:ident => $response:ident { $items:ident: $item:ident } via $list:ident;)*) => {$(
        impl ListRequest for pb::$request {
            type Response = pb::$response;
            type Item = pb::$item;
            fn page_token(&self) -> &str {
                &self.page_token
            }
            fn set_page_token(&mut self, token: String) {
                self.page_token = token;
            }
            fn into_page(response: pb::$response) -> (Vec<pb::$item>, String) {
                (response.$items, response.next_page_token)
            }
            fn fetch(client: Client, request: Self) -> BoxFuture<'static, Result<pb::$response, Error>> {
                Box::pin(async move { client.$list(request).await })
            }
        }
    )*};
}

list_request! {
    ListMunicipalitiesRequest => ListMunicipalitiesResponse { municipalities: Municipality } via list_municipalities;
    ListWorkingGroupsRequest => ListWorkingGroupsResponse { working_groups: WorkingGroup } via list_working_groups;
    ListMembershipsRequest => ListMembershipsResponse { memberships: Membership } via list_memberships;
    ListWorkshopsRequest => ListWorkshopsResponse { workshops: Workshop } via list_workshops;
    ListChallengesRequest => ListChallengesResponse { challenges: Challenge } via list_challenges;
    ListInitiativesRequest => ListInitiativesResponse { initiatives: Initiative } via list_initiatives;
    ListProjectIdeasRequest => ListProjectIdeasResponse { project_ideas: ProjectIdea } via list_project_ideas;
    ListRecommendationsRequest => ListRecommendationsResponse { recommendations: Recommendation } via list_recommendations;
    ListEventsRequest => ListEventsResponse { events: Event } via list_events;
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use futures::StreamExt;

    use super::*;

    /// A fake server: three pages keyed by token, recording the tokens asked for.
    fn fake(
        asked: Arc<Mutex<Vec<String>>>,
    ) -> impl FnMut(String) -> BoxFuture<'static, Result<(Vec<u32>, String), Error>> {
        move |token| {
            asked.lock().map(|mut a| a.push(token.clone())).ok();
            Box::pin(async move {
                match token.as_str() {
                    "" => Ok((vec![1, 2], "b".to_owned())),
                    "b" => Ok((vec![], "c".to_owned())),
                    "c" => Ok((vec![3], String::new())),
                    "loop" => Ok((vec![9], "loop".to_owned())),
                    _ => Err(Error::from(tonic::Status::invalid_argument("bad page token"))),
                }
            })
        }
    }

    #[tokio::test]
    async fn follows_tokens_through_empty_pages_to_the_end() {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let items: Vec<u32> = follow_pages(String::new(), fake(asked.clone())).try_collect().await.unwrap_or_default();
        assert_eq!(items, [1, 2, 3]);
        assert_eq!(*asked.lock().unwrap_or_else(|e| e.into_inner()), ["", "b", "c"]);
    }

    #[tokio::test]
    async fn fetches_lazily_and_resumes_from_a_given_token() {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let first: Vec<_> = follow_pages("c".to_owned(), fake(asked.clone())).take(1).collect().await;
        assert_eq!(first.len(), 1);
        assert_eq!(*asked.lock().unwrap_or_else(|e| e.into_inner()), ["c"]);
    }

    #[tokio::test]
    async fn an_error_ends_the_stream_after_the_items_before_it() {
        let results: Vec<_> = follow_pages("x".to_owned(), fake(Arc::default())).collect().await;
        assert_eq!(results.len(), 1);
        assert!(matches!(&results[0], Err(e) if e.code() == tonic::Code::InvalidArgument));
    }

    #[tokio::test]
    async fn a_token_that_does_not_advance_is_an_error_not_a_loop() {
        let results: Vec<_> = follow_pages("loop".to_owned(), fake(Arc::default())).collect().await;
        assert!(matches!(results.as_slice(), [Ok(9), Err(Error::InvalidResponse(_))]), "{results:?}");
    }

    #[test]
    fn list_requests_keep_and_set_their_token() {
        let mut request = pb::ListChallengesRequest { parent: "municipalities/-".into(), ..Default::default() };
        request.set_page_token("t2".into());
        assert_eq!(request.page_token(), "t2");
        let (items, next) = pb::ListChallengesRequest::into_page(pb::ListChallengesResponse {
            challenges: vec![pb::Challenge::default()],
            next_page_token: "t3".into(),
        });
        assert_eq!((items.len(), next.as_str()), (1, "t3"));
    }
}
